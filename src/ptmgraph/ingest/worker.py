"""Reads a source in a second process, so that parsing and building rows overlap with the store's writes.

A process rather than a thread: both halves are partly Python, and the GIL would take turns between them. The
worker sends finished batches as Arrow tables (in shared memory where there is some: see :mod:`handoff`) through a
queue of at most QUEUE_DEPTH batches, so memory stays bounded whatever the input size; the writer side is the one
that calls the store.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import traceback
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


def worth_it(items: Iterable[Any]) -> bool:
    """A worker pays off for a large input file on a machine with a second core; the source must be picklable
    (file sources are: they are a path and a position)."""
    size = getattr(items, "size", None)
    if not isinstance(size, int) or size < WORTH_IT_BYTES or (os.cpu_count() or 1) < 2:
        return False
    try:
        pickle.dumps(items)
    except Exception:  # noqa: BLE001 - any reason not to pickle means: read it here
        return False
    return True


def batches(items: Iterable[Any], strict: bool, records_per_batch: int | None) -> Iterator[tuple[Batch, Any]]:
    """The same (batch, counts) stream as :func:`pipeline.collect`, produced in a worker process."""
    with handoff.folder() as where:
        yield from _batches(items, strict, records_per_batch, where)


def _batches(items: Iterable[Any], strict: bool, records_per_batch: int | None,
             where: Path | None) -> Iterator[tuple[Batch, Any]]:
    context = multiprocessing.get_context("spawn")  # not fork: the parent holds an open database
    queue = context.Queue(maxsize=QUEUE_DEPTH)
    process = context.Process(target=_work, args=(items, strict, records_per_batch, queue, where), daemon=True,
                              name="ptmgraph-ingest-reader")
    process.start()
    try:
        held = None  # a message read while draining the queue, not yet acted on
        while True:
            message, held = held or _next(queue, process), None
            if message[0] == "batch":
                parts, held = _waiting(queue, [message])
                counts = parts[0][2]
                for part in parts[1:]:
                    part[2].add_to(counts)
                yield Batch.prebuilt(*merged_tables([handoff.unpack(part[1]) for part in parts])), counts
            elif message[0] == "error":
                _, name, text = message
                error = getattr(errors, name, None)
                if isinstance(error, type) and issubclass(error, errors.PtmgraphError):
                    raise error(text)
                raise RuntimeError(f"the ingest reader process failed:\n{text}")
            else:
                return
    finally:
        if process.is_alive():
            process.terminate()
        process.join()


def _waiting(queue: Any, parts: list[tuple]) -> tuple[list[tuple], tuple | None]:
    """``parts`` and the batches waiting behind them (up to MERGE_BATCHES), and the first other message met."""
    while len(parts) < MERGE_BATCHES:
        try:
            following = queue.get_nowait()
        except Empty:
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


def _work(items: Iterable[Any], strict: bool, records_per_batch: int | None, queue: Any, where: Path | None) -> None:
    from ptmgraph.ingest.pipeline import collect, fewer_collections

    try:
        with fewer_collections():
            for number, (batch, counts) in enumerate(collect(items, strict, records_per_batch)):
                _put(queue, ("batch", handoff.pack(batch.tables(), where, number), counts), where)
    except errors.PtmgraphError as exc:
        _put(queue, ("error", type(exc).__name__, str(exc)), where)
    except Exception:  # noqa: BLE001 - a bug: the writer side shows its traceback
        _put(queue, ("error", "", traceback.format_exc()), where)
    else:
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
