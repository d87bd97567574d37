"""Batches handed from the reader process to the writer through shared-memory files: the same tables arrive, no
file outlives its ingest (or a killed one), and without room the tables go through the queue."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from ptmgraph.graph.batch import Batch
from ptmgraph.ingest import handoff
from ptmgraph.ingest.sources import HfJsonl
from tests.ingest.test_worker import write_mixed_snapshot


@pytest.fixture
def tables(tmp_path):
    snapshot = tmp_path / "snapshot.jsonl"
    write_mixed_snapshot(snapshot)
    batch, _ = next(HfJsonl(snapshot).batches(False, 10_000))
    return batch.tables()


def test_tables_arrive_whole_and_the_file_is_gone(tmp_path, tables):
    with handoff.folder(tmp_path) as where:
        assert where is not None and where.parent == tmp_path
        packed = handoff.pack(tables, where, 0)
        assert packed[0] == "file" and list(where.iterdir())
        nodes, edges = handoff.unpack(packed)
        assert not list(where.iterdir())  # deleted once mapped
    assert not where.exists()
    assert set(nodes) == set(tables[0]) and set(edges) == set(tables[1])
    assert len(edges) >= 3  # edge groups are keyed by tuples
    for arrived, sent in ((nodes, tables[0]), (edges, tables[1])):
        for name, table in sent.items():
            assert arrived[name].equals(table), name
    assert Batch.prebuilt(nodes, edges).tables()[0]["Model"].num_rows == tables[0]["Model"].num_rows


def test_without_room_the_tables_go_through_the_queue(tmp_path, tables, monkeypatch):
    with handoff.folder(tmp_path / "absent") as where:
        assert where is None
    monkeypatch.setattr(handoff, "MIN_FREE_BYTES", 1 << 62)
    with handoff.folder(tmp_path) as where:
        assert where is None
    packed = handoff.pack(tables, None, 0)
    assert packed == ("tables", tables) and handoff.unpack(packed) is tables


def test_a_failed_file_write_sends_the_batch_through_the_queue(tmp_path, tables):
    gone = tmp_path / "removed-under-us"
    packed = handoff.pack(tables, gone, 3)
    assert packed[0] == "tables" and packed[1] is tables
    assert not gone.exists()


def test_folders_of_killed_ingests_are_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    left = tmp_path / f"{handoff.PREFIX}{int(dead.stdout)}-abc"
    left.mkdir()
    (left / "batch-0.arrow").write_bytes(b"x" * 100)
    live = tmp_path / f"{handoff.PREFIX}{handoff.os.getpid()}-def"
    live.mkdir()
    other = tmp_path / "someone-else"
    other.mkdir()
    with handoff.folder(tmp_path):
        pass
    assert not left.exists()
    assert live.exists() and other.exists()


def test_a_table_with_no_rows_survives(tmp_path):
    empty = pa.table({"key": pa.array([], pa.string())})
    with handoff.folder(tmp_path) as where:
        nodes, edges = handoff.unpack(handoff.pack(({"Author": empty}, {}), where, 0))
    assert nodes["Author"].equals(empty) and edges == {}
