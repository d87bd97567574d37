"""Moves a source's record stream into a store: in bulk batches, counting and locating what had to be skipped.

A source yields records, or :class:`Skipped` for input it could not use (a malformed line, a missing field). The
pipeline never holds more than one batch, so memory stays flat whatever the input size; each batch is one atomic,
idempotent write, so an interrupted ingest re-run from the start converges on the same graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord, PtmgraphError
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.store import GraphStore, WriteStats

RECORDS_PER_BATCH = 50_000
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
        records_per_batch: int = RECORDS_PER_BATCH,
        on_batch: Callable[[IngestReport], None] | None = None) -> IngestReport:
    report = IngestReport(source)
    started = time.perf_counter()
    batch = Batch()
    pending = 0
    for item in items:
        if isinstance(item, Skipped):
            if strict:
                raise InvalidRecord(f"{item} (--strict stops at the first bad record; drop it to skip and count)")
            report.skipped += 1
            if len(report.problems) < MAX_REPORTED_PROBLEMS:
                report.problems.append(str(item))
            continue
        if isinstance(item, d.Lineage):
            report.lineage_edges += 1
            if d.node_key(item.child) == d.node_key(item.parent):
                report.self_loops.append(item.child)  # kept, as the source declared it, but reported
        batch.add(item)
        pending += 1
        if pending >= records_per_batch:
            _flush(store, batch, pending, report, started, on_batch)
            batch, pending = Batch(), 0
    if pending:
        _flush(store, batch, pending, report, started, on_batch)
    if report.lineage_edges:
        report.cycles = store.lineage_cycles()  # kept as declared; reported so that nobody trusts them blindly
    report.seconds = time.perf_counter() - started
    return report


def _flush(store: GraphStore, batch: Batch, pending: int, report: IngestReport, started: float,
           on_batch: Callable[[IngestReport], None] | None) -> None:
    report.written.add(store.write(batch))
    report.records += pending
    report.seconds = time.perf_counter() - started
    if on_batch is not None:
        on_batch(report)


def guarded(location: str, make: Callable[[], Iterable[d.Record]]) -> list[d.Record | Skipped]:
    """Build one input unit's records; a bad unit becomes one :class:`Skipped`, never a half-built set."""
    try:
        return list(make())
    except (PtmgraphError, KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = str(exc) if isinstance(exc, PtmgraphError) else f"{type(exc).__name__}: {exc}"
        return [Skipped(location, reason.splitlines()[0] if reason else type(exc).__name__)]
