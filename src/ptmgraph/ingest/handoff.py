"""Hands a batch's Arrow tables from the ingest's reader process to its writer through a file in shared memory.

Through the queue, a 100k-record batch (~55 MB pickled) was copied into a pipe by the reader, then out of it and
unpickled by the writer: 50-70 ms of the writer's time per batch, and the writer is the ingest's slower half. Written
once as Arrow IPC streams to a tmpfs file, the tables are mapped by the writer without a copy. Where there is no
tmpfs with room (macOS; a container's 64 MB /dev/shm) the tables go through the queue as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Hashable, Iterator
from pathlib import Path

import pyarrow as pa

from ptmgraph.graph.batch import Tables

SHARED_MEMORY = Path("/dev/shm")
# Room for the queue's batches and the one being written: below this, a full /dev/shm would fail batches.
MIN_FREE_BYTES = 1 << 30
PREFIX = "ptmgraph-ingest-"

Entry = tuple[int, Hashable, int, int]  # (0 for nodes, 1 for edges; table name; start; length)


@contextlib.contextmanager
def folder(base: Path | None = None) -> Iterator[Path | None]:
    """A private folder for one ingest's batch files (in shared memory unless ``base`` says otherwise), removed when
    the ingest ends; None where there is no room."""
    base = SHARED_MEMORY if base is None else base
    if not _roomy(base):
        yield None
        return
    _sweep(base)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def pack(tables: Tables, where: Path | None, number: str) -> tuple:
    """What the reader puts in the queue for one batch: the file it wrote the tables to, or the tables themselves."""
    if where is None:
        return ("tables", tables)
    path = where / f"batch-{number}.arrow"
    entries: list[Entry] = []
    try:
        with pa.OSFile(str(path), "wb") as sink:
            for side, named in enumerate(tables):
                for name, table in named.items():
                    start = sink.tell()
                    with pa.ipc.new_stream(sink, table.schema) as writer:
                        writer.write_table(table)
                    entries.append((side, name, start, sink.tell() - start))
    except OSError:  # shared memory filled up after all: this batch goes through the queue
        path.unlink(missing_ok=True)
        return ("tables", tables)
    return ("file", str(path), entries)


def unpack(packed: tuple) -> Tables:
    """The writer's side of :func:`pack`. The file is deleted at once: its memory stays mapped while the tables
    live, and nothing is left behind if the writer is killed later."""
    if packed[0] == "tables":
        return packed[1]
    _, path, entries = packed
    mapped = pa.memory_map(path)
    os.unlink(path)
    whole = mapped.read_buffer()  # zero-copy: the tables below point into the mapping
    tables: Tables = ({}, {})
    for side, name, start, length in entries:
        tables[side][name] = pa.ipc.open_stream(whole.slice(start, length)).read_all()
    return tables


def _roomy(base: Path) -> bool:
    try:
        stats = os.statvfs(base)
    except (OSError, AttributeError):  # no such folder; no statvfs (Windows)
        return False
    return stats.f_bavail * stats.f_frsize >= MIN_FREE_BYTES and os.access(base, os.W_OK)


def _sweep(base: Path) -> None:
    """Remove folders of ingests that were killed (kill -9 runs no clean-up): they hold memory until removed."""
    for path in base.glob(f"{PREFIX}*-*"):
        owner = path.name[len(PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
