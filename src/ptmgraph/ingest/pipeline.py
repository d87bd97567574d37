"""Moves a source's record stream into a store: in bulk batches, counting and locating what had to be skipped.

A source yields records, or :class:`Skipped` for input it could not use (a malformed line, a missing field). The
pipeline never holds more than one batch, so memory stays flat whatever the input size; each batch is one
idempotent write, so an interrupted ingest re-run from the start converges on the same graph. Batches are written
as bulk (``durable=False``: the store decides when they are made crash-proof) and synced at the end.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord, PtmgraphError
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.store import GraphStore, WriteStats
from ptmgraph.ingest import worker

# The batch size of a source that has no better rule of its own (hf-jsonl has: sources.MODELS_PER_BATCH). 100k beat
# 50k and 200k on a 1M-model ingest (23.0-24.0 s, against 23.9-24.4 and 24.2-24.6): the reader and the writer take
# turns in smaller steps, and the last write, which nothing overlaps, is smaller.
RECORDS_PER_BATCH = 100_000
# What building one unit's records raises when the unit is bad (a bug raises anything else, and stops the ingest).
BAD_UNIT = (PtmgraphError, KeyError, TypeError, ValueError, AttributeError)
MAX_REPORTED_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class Skipped:
    """Input that could not become a record: where it was and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class IngestReport:
    source: str
    records: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    self_loops: list[str] = field(default_factory=list)
    lineage_edges: int = 0
    cycles: list[list[str]] = field(default_factory=list)
    written: WriteStats = field(default_factory=WriteStats)
    seconds: float = 0.0
    position: int | None = None  # bytes of the input read so far, where the source knows

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        return {"source": self.source, "records": self.records, "skipped": self.skipped,
                "problems": self.problems, "self_loops": self.self_loops[:MAX_REPORTED_PROBLEMS],
                "self_loop_count": len(self.self_loops), "lineage_edges": self.lineage_edges,
                "cycles": self.cycles, "written": vars(self.written),
                "seconds": round(self.seconds, 2), "records_per_second": round(self.records_per_second)}


def run(store: GraphStore, items: Iterable[d.Record | Skipped], source: str, *, strict: bool = False,
        records_per_batch: int | None = None,
        on_batch: Callable[[IngestReport], None] | None = None, parallel: bool | None = None) -> IngestReport:
    """Write ``items`` into ``store`` batch by batch, of ``records_per_batch`` records each (by default, as many as
    the source's own rule says, else RECORDS_PER_BATCH). With ``parallel`` (by default: for a large input file on a
    machine with two cores or more) a worker process reads the source and builds each batch's tables while this
    process writes the previous one; the graph written is the same either way."""
    with fewer_collections():
        return _run(store, items, source, strict, records_per_batch, on_batch, parallel)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """An ingest allocates millions of short-lived objects that form no cycles, while a batch keeps a hundred
    thousand alive: at the default thresholds the collector re-scans those so often that it took 40 % of the
    time (measured on a 200,000-model snapshot). Collections still run, a hundred times less often."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run(store: GraphStore, items: Iterable[d.Record | Skipped], source: str, strict: bool,
         records_per_batch: int | None,
         on_batch: Callable[[IngestReport], None] | None, parallel: bool | None) -> IngestReport:
    report = IngestReport(source)
    started = time.perf_counter()
    if parallel is None:
        parallel = worker.worth_it(items)
    batches = worker.batches(items, strict, records_per_batch) if parallel else collect(items, strict,
                                                                                          records_per_batch)
    for batch, counts in batches:
        counts.add_to(report)
        if len(batch):
            report.written.add(store.write(batch, durable=False))
        report.seconds = time.perf_counter() - started
        if on_batch is not None:
            on_batch(report)
    store.sync()
    if report.lineage_edges:
        report.cycles = store.lineage_cycles()  # kept as declared; reported so that nobody trusts them blindly
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class Counts:
    """What one batch adds to the report (sent back by the worker process, so it is plain data)."""

    records: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    self_loops: list[str] = field(default_factory=list)
    lineage_edges: int = 0
    position: int | None = None

    def add_to(self, report: IngestReport | Counts) -> None:
        """Add these counts to a report, or to another batch's counts (batches written together)."""
        report.records += self.records
        report.skipped += self.skipped
        report.problems.extend(self.problems[:MAX_REPORTED_PROBLEMS - len(report.problems)])
        report.self_loops.extend(self.self_loops)
        report.lineage_edges += self.lineage_edges
        if self.position is not None:
            report.position = self.position


def collect(items: Iterable[d.Record | Skipped], strict: bool,
            records_per_batch: int | None) -> Iterator[tuple[Batch, Counts]]:
    """Group the stream into batches of ``records_per_batch`` records (None: RECORDS_PER_BATCH), counting what was
    skipped and why. A source that builds its batches itself (``batches(strict, records_per_batch)``, the same
    stream; None there means the source's own rule) is left to it."""
    own = getattr(items, "batches", None)
    if callable(own):
        yield from own(strict, records_per_batch)
        return
    if records_per_batch is None:
        records_per_batch = RECORDS_PER_BATCH
    batch, counts = Batch(), Counts()
    for item in items:
        take(item, batch, counts, strict)
        if counts.records >= records_per_batch:
            counts.position = getattr(items, "position", None)
            yield batch, counts
            batch, counts = Batch(), Counts()
    if counts.records or counts.skipped:
        counts.position = getattr(items, "position", None)
        yield batch, counts


def take(item: d.Record | Skipped, batch: Batch, counts: Counts, strict: bool) -> None:
    """Add one item of a stream to ``batch``, or count it as skipped."""
    if isinstance(item, Skipped):
        if strict:
            raise InvalidRecord(f"{item} (--strict stops at the first bad record; drop it to skip and count)")
        counts.skipped += 1
        if len(counts.problems) < MAX_REPORTED_PROBLEMS:
            counts.problems.append(str(item))
        return
    if isinstance(item, d.Lineage):
        counts.lineage_edges += 1
        if d.node_key(item.child) == d.node_key(item.parent):
            counts.self_loops.append(item.child)  # kept, as the source declared it, but reported
    batch.add(item)
    counts.records += 1


def guarded(location: str, make: Callable[[], Iterable[d.Record]]) -> list[d.Record | Skipped]:
    """Build one input unit's records; a bad unit becomes one :class:`Skipped`, never a half-built set."""
    try:
        return list(make())
    except BAD_UNIT as exc:
        reason = str(exc) if isinstance(exc, PtmgraphError) else f"{type(exc).__name__}: {exc}"
        return [Skipped(location, reason.splitlines()[0] if reason else type(exc).__name__)]
