"""Reads a source in other processes, so that parsing and building rows overlap with the store's writes.

Processes rather than threads: both halves are partly Python, and the GIL would take turns between them. A reader
sends finished batches as Arrow tables (in shared memory where there is some: see :mod:`handoff`) through a queue,
and the queues hold at most QUEUE_DEPTH batches in all, so memory stays bounded whatever the input size; the writer
side is the one that calls the store. A source that can be cut into parts (a snapshot: ``parts()``) is read by
READERS processes, each reading every READERS-th part, and the writer takes the parts in the file's order, so the
graph is the one a single reader gives (a later line of a model still wins).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import pickle
import shutil
import sys
import traceback
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from queue import Empty, Full
from typing import Any

from ptmgraph import errors
from ptmgraph.graph.batch import Batch, merged_tables
from ptmgraph.ingest import handoff

WORTH_IT_BYTES = 16 << 20  # below this, starting a process (~1 s) costs more than it saves
# Deep enough that the reader keeps going while the store checkpoints (2.5-4 s midway through a 1M-model ingest):
# with 2 batches of 100k records it could run only ~1.4 s of reading ahead, and bench_ingest took 22.7-23.2 s against
# 21.6-22.0 s with 8. A snapshot's batches are now 2**17 models (~250k records, ~1.8 s of reading each): 4 of them
# are as far ahead (1M-model CLI ingest, interleaved: 19.6-24.8 s with 4, 22.8-25.6 s with 8) and hold ~280 MB of
# Arrow tables (71 MB each), against ~220 MB for eight 100k-record batches. The CLI ingest peaked at 1.26-1.29 GB
# either way.
QUEUE_DEPTH = 4
# A writer that finds several batches waiting (after a checkpoint, mostly) writes them as one: LadybugDB's COPY
# costs much less per row in few large statements. In a 1M-model ingest eight 100k-record batches written as one took
# 2.6 s of statements, one batch 0.63 s; the store alone, without checkpoints in between, took 12.7 s in 400k-record
# batches and 16.1 s in 100k ones, and its final checkpoint 3.5-3.7 s after one write of the second half against
# 4.7-5.0 s after ten.
MERGE_BATCHES = QUEUE_DEPTH
# A snapshot read in parts (``parts()``) by two readers, niced so that the writer, the ingest's critical path, gets a
# core whenever it wants one and the readers take what it leaves: bench_ingest's 1M-model ingest on 2 cores took less
# time than with one reader in each of nine interleaved pairs (in a quick hour 18.2-20.1 s against 19.0-21.0 s). One
# niced reader was slower (20.3 s against 19.8): it is the critical path while the writer waits for its batches. Not
# niced, two readers were slower too (CLI: 21.3-22.0 s against 20.7-20.8): they slowed the writer's COPYs.
READERS = 2
READER_NICENESS = 19


def cores() -> int:
    """The cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worth_it(items: Iterable[Any]) -> bool:
    """A worker pays off for a large input file on a machine with a second core; the source must be picklable
    (file sources are: they are a path and a position)."""
    size = getattr(items, "size", None)
    if not isinstance(size, int) or size < WORTH_IT_BYTES or cores() < 2:
        return False
    try:
        pickle.dumps(items)
    except Exception:  # noqa: BLE001 - any reason not to pickle means: read it here
        return False
    return True


def batches(items: Iterable[Any], strict: bool, records_per_batch: int | None) -> Iterator[tuple[Batch, Any]]:
    """The same (batch, counts) stream as :func:`pipeline.collect`, produced in reader processes: READERS of
    them for a source that can be read in parts (``parts()``) when batches follow its own rule, one otherwise."""
    readers = min(READERS, cores())
    by_parts = readers > 1 and records_per_batch is None and callable(getattr(items, "parts", None))
    parts = items.parts() if by_parts else None  # a scan of the whole file: only where parts will be read apart
    readers = min(readers, len(parts)) if parts else 1
    with handoff.folder() as where:
        yield from _batches(items, strict, records_per_batch, where, parts if readers > 1 else None, readers)


def _batches(items: Iterable[Any], strict: bool, records_per_batch: int | None, where: Path | None,
             parts: list[Any] | None, readers: int) -> Iterator[tuple[Batch, Any]]:
    context = multiprocessing.get_context("spawn")  # not fork: the parent holds an open database
    queues = [context.Queue(maxsize=max(1, QUEUE_DEPTH // readers)) for _ in range(readers)]
    processes = [context.Process(target=_work, args=(items, strict, records_per_batch, queue, where,
                                                     None if parts is None else parts[i::readers], i),
                                 daemon=True, name=f"ptmgraph-ingest-reader-{i}")
                 for i, queue in enumerate(queues)]
    with _main_left_out(items):
        for process in processes:
            process.start()
    messages = _InOrder(queues, processes, None if parts is None else len(parts))
    try:
        held = None  # a message read while draining the queues, not yet acted on
        while True:
            message, held = held or messages.next(), None
            if message[0] == "batch":
                waiting, held = _waiting(messages, [message])
                counts = waiting[0][2]
                for part in waiting[1:]:
                    part[2].add_to(counts)
                yield Batch.prebuilt(*merged_tables([handoff.unpack(part[1]) for part in waiting])), counts
            elif message[0] == "error":
                _, name, text = message
                error = getattr(errors, name, None)
                if isinstance(error, type) and issubclass(error, errors.PtmgraphError):
                    raise error(text)
                raise RuntimeError(f"the ingest reader process failed:\n{text}")
            else:
                return
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()


@contextlib.contextmanager
def _main_left_out(items: Any) -> Iterator[None]:
    """A spawned process runs the parent's main script again (as ``__mp_main__``) before anything else, in case
    what it was given lives there: for the CLI, typer, rich and every command's module, 0.6 s before a reader reads a
    line, while the writer, the ingest's critical path, waits for its first batch. The readers' code lives in
    ptmgraph, so the main script is left out, unless the source itself was defined there."""
    main = sys.modules.get("__main__")
    if main is None or type(items).__module__ == "__main__":
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")  # no file, no spec: nothing for the child to run
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class _InOrder:
    """The readers' messages in the input's order. With ``parts`` parts, reader i reads parts i, i + n, ... (n
    readers) and ends each with a "part-end" message; else the one reader reads everything and ends with "done"."""

    def __init__(self, queues: list[Any], processes: list[Any], parts: int | None) -> None:
        self.queues, self.processes, self.parts = queues, processes, parts
        self.part = 0

    def next(self, block: bool = True) -> tuple | None:
        """The next message; None when ``block`` is false and it is not there yet."""
        while True:
            if self.parts is not None and self.part == self.parts:
                return ("done",)
            reader = 0 if self.parts is None else self.part % len(self.queues)
            if block:
                message = _next(self.queues[reader], self.processes[reader])
            else:
                try:
                    message = self.queues[reader].get_nowait()
                except Empty:
                    return None
            if message[0] != "part-end":
                return message
            self.part += 1


def _waiting(messages: _InOrder, parts: list[tuple]) -> tuple[list[tuple], tuple | None]:
    """``parts`` and the batches waiting behind them (up to MERGE_BATCHES), and the first other message met."""
    while len(parts) < MERGE_BATCHES:
        following = messages.next(block=False)
        if following is None:
            break
        if following[0] != "batch":
            return parts, following
        parts.append(following)
    return parts, None


def _next(queue: Any, process: Any) -> tuple:
    while True:
        try:
            return queue.get(timeout=1.0)
        except Empty:
            if not process.is_alive():
                raise errors.PtmgraphError(
                    f"the ingest reader process ended without finishing (exit code {process.exitcode}): "
                    "run the command again; batches written so far are complete and will not be duplicated"
                ) from None


def _work(items: Iterable[Any], strict: bool, records_per_batch: int | None, queue: Any, where: Path | None,
          parts: list[Any] | None = None, reader: int = 0) -> None:
    from ptmgraph.ingest.pipeline import collect, fewer_collections

    def send(batches: Iterable[tuple[Batch, Any]]) -> None:
        for batch, counts in batches:
            number = next(numbers)
            _put(queue, ("batch", handoff.pack(batch.tables(), where, f"{reader}-{number}"), counts), where)

    numbers = itertools.count()
    if parts is not None and hasattr(os, "nice"):
        os.nice(READER_NICENESS)
    try:
        with fewer_collections():
            if parts is None:
                send(collect(items, strict, records_per_batch))
            else:
                for part in parts:
                    send(items.batches(strict, records_per_batch, part))
                    _put(queue, ("part-end",), where)
    except errors.PtmgraphError as exc:
        _put(queue, ("error", type(exc).__name__, str(exc)), where)
    except Exception:  # noqa: BLE001 - a bug: the writer side shows its traceback
        _put(queue, ("error", "", traceback.format_exc()), where)
    else:
        if parts is None:
            _put(queue, ("done",), where)
    queue.close()
    queue.join_thread()


def _put(queue: Any, message: tuple, where: Path | None) -> None:
    """Wait for room in the queue, but not for a writer that was killed (kill -9 leaves no one to read, nor to
    remove the batch files it would have read)."""
    while True:
        try:
            queue.put(message, timeout=1.0)
            return
        except Full:
            parent = multiprocessing.parent_process()
            if parent is not None and not parent.is_alive():
                if where is not None:
                    shutil.rmtree(where, ignore_errors=True)
                os._exit(1)
