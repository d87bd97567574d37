"""What only the embedded store has: a folder on disk, a lock, a version marker, the lineage-index cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ptmgraph import domain as d
from ptmgraph.errors import StoreError, StoreLocked, StoreNotFound, StoreVersionMismatch
from ptmgraph.graph import embedded
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.graph.open import open_store, reset_store

RECORDS = [d.Model("a/base", license="mit"), d.Lineage("a/child", "a/base", "finetune"),
           d.Repo("o/r"), d.Uses("o/r", "a/child")]


def test_a_batch_that_fails_before_changing_anything_leaves_the_store_usable(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "s")
    store.write(Batch.of([d.Model("keep/me")]))
    generations = store._generation(), store._generation("lineage_generation")
    real = store._conn.execute

    def fails_on_lookup(statement, *args, **kwargs):
        if statement.startswith("LOAD FROM"):
            raise RuntimeError("disk full")
        return real(statement, *args, **kwargs)

    monkeypatch.setattr(store._conn, "execute", fails_on_lookup)
    with pytest.raises(StoreError, match="failed before it changed anything: disk full"):
        store.write(Batch.of(RECORDS))  # the lookup of the batch's stored nodes comes before any change
    monkeypatch.undo()
    assert (store._generation(), store._generation("lineage_generation")) == generations
    assert store.stats().nodes["Model"] == 1
    assert store.model("a/base") is None
    store.write(Batch.of(RECORDS))  # and the same batch goes through once the cause is gone
    assert store.stats().nodes["Model"] == 3
    store.close()


def test_second_writer_is_told_the_store_is_locked(tmp_path):
    path = tmp_path / "s"
    holder = EmbeddedStore(path)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "from ptmgraph.graph.embedded import EmbeddedStore; import sys\n"
             f"try: EmbeddedStore({str(path)!r})\nexcept Exception as e: print(type(e).__name__, e); sys.exit(3)"],
            capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert probe.returncode == 3, probe.stderr
    assert probe.stdout.startswith("StoreLocked")
    assert "one writer at a time" in probe.stdout
    assert StoreLocked.__name__ in probe.stdout


def test_store_from_another_version_is_refused_then_reset(tmp_path):
    path = tmp_path / "s"
    EmbeddedStore(path).close()
    (path / embedded.MARKER).write_text(json.dumps({"format": 99, "schema_version": 1}))
    with pytest.raises(StoreVersionMismatch, match="store reset"):
        EmbeddedStore(path)
    reset_store(str(path))
    EmbeddedStore(path).close()


def test_folder_holding_a_foreign_database_is_refused(tmp_path):
    path = tmp_path / "s"
    path.mkdir()
    (path / embedded.DB_FILE).write_bytes(b"not a database" * 100)
    with pytest.raises(StoreVersionMismatch, match="did not create"):
        EmbeddedStore(path)


def test_the_marker_is_written_before_the_database(tmp_path, monkeypatch):
    """A process killed while creating a store leaves the marker without a database, and the next run finishes
    creating it (the other order left a database that no ptmgraph would open again)."""
    path = tmp_path / "s"

    def killed(*args, **kwargs):
        assert (path / embedded.MARKER).exists(), "the database was created before the marker"
        raise KeyboardInterrupt

    real = embedded.ladybug.Database
    monkeypatch.setattr(embedded.ladybug, "Database", killed)
    with pytest.raises(KeyboardInterrupt):
        EmbeddedStore(path)
    monkeypatch.setattr(embedded.ladybug, "Database", real)
    with EmbeddedStore(path) as store:
        store.write(Batch.of([d.Model("org/m")]))
        assert store.model("org/m") is not None


def test_a_bad_checkpoint_interval_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PTMGRAPH_CHECKPOINT_ROWS", "lots")
    with pytest.raises(StoreError, match="PTMGRAPH_CHECKPOINT_ROWS='lots' is not a positive whole number"):
        EmbeddedStore(tmp_path / "s")


def test_bulk_writes_are_checkpointed_after_the_interval(tmp_path, monkeypatch):
    monkeypatch.setenv("PTMGRAPH_CHECKPOINT_ROWS", "3")
    checkpoints = []
    with EmbeddedStore(tmp_path / "s") as store:
        real = store.close
        monkeypatch.setattr(store, "close", lambda: (checkpoints.append(1), real()))
        store.write(Batch.of([d.Model("org/a")]), durable=False)
        assert not checkpoints
        store.write(Batch.of([d.Model("org/b"), d.Model("org/c")]), durable=False)
        assert checkpoints, "3 rows written and no checkpoint"
        assert store.model("org/a") and store.model("org/c")


def test_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "s"
    EmbeddedStore(path).close()
    (path / embedded.DB_FILE).write_bytes(b"garbage" * 1000)
    (path / (embedded.DB_FILE + ".wal")).unlink(missing_ok=True)
    with pytest.raises(StoreError, match=r"run `ptmgraph --store \S+ store reset`"):
        EmbeddedStore(path)


def test_read_only_open_of_a_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreNotFound, match="ptmgraph demo"):
        open_store(str(tmp_path / "nothing"), read_only=True)
    assert not (tmp_path / "nothing").exists()


def test_store_path_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        EmbeddedStore(target)


def test_lineage_index_is_cached_on_disk_and_follows_writes(tmp_path):
    path = tmp_path / "s"
    with EmbeddedStore(path) as store:
        store.write(Batch.of(RECORDS))
        assert [h.id for h in store.lineage("a/base", "down")] == ["a/child"]
    assert (path / embedded.INDEX_DIR / "stamp.json").exists()
    with EmbeddedStore(path, read_only=True) as reader:
        assert [h.id for h in reader.lineage("a/base", "down")] == ["a/child"]
    with EmbeddedStore(path) as store:
        store.write(Batch.of([d.Lineage("a/grandchild", "a/child", "quantized")]))
        assert [(h.id, h.depth) for h in store.lineage("a/base", "down")] == [("a/child", 1), ("a/grandchild", 2)]
        assert [r.repo for r in store.affected_repos("a/base")] == ["o/r"]


def test_a_store_on_a_read_only_file_system_answers_without_caching_its_lineage_index(tmp_path, monkeypatch):
    path = tmp_path / "s"
    with EmbeddedStore(path) as store:
        store.write(Batch.of(RECORDS))

    def read_only_file_system(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("tempfile.mkdtemp", read_only_file_system)
    with EmbeddedStore(path, read_only=True) as reader:
        assert [h.id for h in reader.lineage("a/base", "down")] == ["a/child"]
        assert [r.repo for r in reader.affected_repos("a/base")] == ["o/r"]
    assert not (path / embedded.INDEX_DIR).exists()


def test_default_location_follows_xdg(tmp_path):
    assert embedded.default_path() == tmp_path / "xdg" / "ptmgraph" / "graph"


def test_writing_flags_alone_keeps_the_lineage_index(tmp_path):
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of(RECORDS))
        store.lineage("a/base", "down")
        index = store._index
        store.write(Batch.of([d.Flag("F", "a/base", "naming"), d.InheritedFlag("F", "a/child", "a/base",
                                                                              "finetune", 1)]))
        store.lineage("a/base", "down")
        assert store._index is index  # not rebuilt
        store.write(Batch.of([d.Flag("G", "a/new-model", "naming")]))  # creates a stub model: index must follow
        assert [h.id for h in store.lineage("a/base", "down")] == ["a/child"]
        assert store._index is not index


def test_lineage_hits_carry_downloads_from_the_index_and_follow_updates(tmp_path):
    from ptmgraph.graph.analyses import affected_report

    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of([*RECORDS, d.Model("a/child", downloads=7), d.Lineage("a/other", "a/base", "finetune"),
                              d.Model("a/other", downloads=900)]))
        assert {h.id: h.downloads for h in store.lineage("a/base", "down")} == {"a/child": 7, "a/other": 900}
        store.write(Batch.of([d.Model("a/child", downloads=5000)]))  # new counts: the index must not be stale
        report = affected_report(store, "a/base")
        assert [(m["id"], m["downloads"]) for m in report["models"]] == [("a/child", 5000), ("a/other", 900)]


_INTERRUPTED_INGEST = """
import os, signal, sys
from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore

def batch(org):
    return Batch.of([d.Model(f"{org}/m{i}", author=org, license="mit") for i in range(300)])

store = EmbeddedStore(sys.argv[1])
store.write(batch("a"), durable=False)  # committed, not yet checkpointed: the state a rollback corrupted
upsert_edges = store._upsert_edges

def interrupted(*args, **kwargs):  # Ctrl-C in the middle of the next write's transaction
    os.kill(os.getpid(), signal.SIGINT)
    return upsert_edges(*args, **kwargs)

store._upsert_edges = interrupted
try:
    store.write(batch("b"), durable=False)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted after the write", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
store.close()
print("closed")
"""


def test_ctrl_c_during_a_bulk_write_waits_for_it_and_the_store_closes_cleanly(tmp_path):
    """LadybugDB 0.22 segfaulted at close when an interrupted write was rolled back after uncheckpointed commits."""
    path = tmp_path / "s"
    run = subprocess.run([sys.executable, "-c", _INTERRUPTED_INGEST, str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:2] == ["interrupted after the write True", "closed"]
    with EmbeddedStore(path, read_only=True) as store:
        stats = store.stats()
    assert stats.nodes["Model"] == 600 and stats.edges["AUTHORED_BY"] == 600  # both batches, whole


_FAILED_BULK_WRITE = """
import sys
from ptmgraph import domain as d
from ptmgraph.errors import StoreError
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore

def batch(org):
    return Batch.of([d.Model(f"{org}/m{i}", author=org, license="mit") for i in range(300)])

def full_disk(*args, **kwargs):
    raise RuntimeError("IO exception: Cannot write to file. Error: No space left on device")

store = EmbeddedStore(sys.argv[1])
store.write(batch("a"))  # checkpointed
store.write(batch("b"), durable=sys.argv[2] == "write after a checkpoint")  # else committed, not checkpointed
if sys.argv[2].startswith("write"):
    store._upsert_edges = full_disk  # after the batch's nodes were copied
    failing = lambda: store.write(batch("c"), durable=False)
else:
    store._conn.execute = full_disk
    failing = store.sync
try:
    failing()
except StoreError as exc:
    print("error:", exc)
try:
    store.model("a/m1")
except StoreError as exc:
    print("then:", exc)
store.close()
print("closed")
"""


@pytest.mark.parametrize("failing", ["write", "checkpoint", "write after a checkpoint"])
def test_a_failed_bulk_write_or_checkpoint_says_re_run_and_the_store_keeps_its_last_checkpoint(tmp_path, failing):
    """LadybugDB 0.22 segfaulted on the next statement, at close or at exit when a write was rolled back while earlier
    commits waited for a checkpoint; a disk that fills up during an ingest does that."""
    path = tmp_path / "s"
    run = subprocess.run([sys.executable, "-c", _FAILED_BULK_WRITE, str(path), failing], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    error, then, closed = run.stdout.splitlines()
    what = "checkpoint of" if failing == "checkpoint" else "write to"
    assert error == (f"error: {what} {path} failed (IO exception: Cannot write to file. Error: No space left on "
                     "device); the store keeps what it held at its last checkpoint: fix the cause (free disk space, "
                     "for one) and re-run the command to finish")
    assert then == error.replace("error:", "then:") and closed == "closed"
    with EmbeddedStore(path) as store:
        # Batch a; b was checkpointed only where the failed write came after a checkpoint. Of the failed write, its
        # nodes had been copied, but the store went back to the checkpoint before it.
        assert store.stats().nodes["Model"] == (600 if failing == "write after a checkpoint" else 300)
        for org in "bc":
            store.write(Batch.of([d.Model(f"{org}/m{i}", author=org, license="mit") for i in range(300)]))
        stats = store.stats()
    assert stats.nodes["Model"] == 900 and stats.edges["AUTHORED_BY"] == 900


_KILLED_AFTER_UPDATES = """
import os, sys
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore
from tests.graph.test_embedded_store import BEFORE, UPDATED_SINCE_CHECKPOINT

store = EmbeddedStore(sys.argv[1])
store.write(Batch.of(BEFORE))  # checkpointed
for batch in UPDATED_SINCE_CHECKPOINT[sys.argv[2]]:
    store.write(Batch.of(batch), durable=False)
os._exit(0)  # as kill -9 would: no checkpoint, no close
"""

BEFORE = [d.Model("org/old", license="mit")]
# Written after the last checkpoint, the last batch changes a node that an earlier one copied. LadybugDB 0.22 logs
# such an update and then crashes (SIGSEGV) replaying its log at every later open, so a kill -9 here left a store
# that no command could open.
UPDATED_SINCE_CHECKPOINT = {
    "a model updated": [[d.Model("org/new", downloads=1)], [d.Model("org/new", downloads=2)]],
    "a stub described": [[d.Lineage("org/child", "Org/Parent", "finetune")],
                         [d.Model("org/parent", license="apache-2.0"), d.Model("org/old", downloads=9)]],
    "a stub renamed": [[d.Lineage("org/child", "Org/Other", "merge")], [d.Lineage("org/old", "ORG/OTHER", "merge")]],
}
_GRAPH = ["MATCH (m:Model) RETURN m.id, m.license, m.downloads, m.stub ORDER BY m.id",
          "MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN c.id, p.id, e.relation ORDER BY c.id, p.id"]


@pytest.mark.parametrize("case", UPDATED_SINCE_CHECKPOINT)
def test_a_kill_after_updating_nodes_copied_since_the_checkpoint_leaves_a_store_that_opens(tmp_path, case):
    path = tmp_path / "s"
    run = subprocess.run([sys.executable, "-c", _KILLED_AFTER_UPDATES, str(path), case], capture_output=True,
                         text=True, timeout=120, cwd=str(Path(__file__).parents[2]))
    assert run.returncode == 0, run.stderr[-2000:]
    opened = subprocess.run([sys.executable, "-c", "import sys; from ptmgraph.graph.embedded import EmbeddedStore\n"
                             "with EmbeddedStore(sys.argv[1]) as s: print(s.stats().nodes['Model'])", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert opened.returncode == 0, f"opening the store after the kill exited with {opened.returncode}"
    graphs = []
    for where, first in ((path, []), (tmp_path / "uninterrupted", BEFORE)):
        with EmbeddedStore(where) as store:  # re-running the batches ends where an uninterrupted run does
            for batch in [first, *UPDATED_SINCE_CHECKPOINT[case]]:
                store.write(Batch.of(batch), durable=False)
            graphs.append([store.query(q).rows for q in _GRAPH])
    assert graphs[0] == graphs[1]
    assert len(graphs[0][0]) > 1


def test_a_torn_last_record_in_the_log_does_not_keep_the_store_from_opening(tmp_path):
    """kill -9 while the writer appends to the WAL leaves its last record cut short."""
    path = tmp_path / "s"
    run = subprocess.run([sys.executable, "-c", _KILLED_AFTER_UPDATES, str(path), "a stub described"],
                         capture_output=True, text=True, timeout=120, cwd=str(Path(__file__).parents[2]))
    assert run.returncode == 0, run.stderr[-2000:]
    wal = path / (embedded.DB_FILE + ".wal")
    with wal.open("r+b") as log:
        log.truncate(wal.stat().st_size - 10)
    with EmbeddedStore(path, read_only=True) as reader:
        assert reader.model("org/old")["license"] == "mit"  # what the checkpoint holds
    with EmbeddedStore(path) as store:
        for batch in UPDATED_SINCE_CHECKPOINT["a stub described"]:
            store.write(Batch.of(batch))
        assert [store.model(m)["license"] for m in ("org/old", "org/parent")] == ["mit", "apache-2.0"]


_LOG_THAT_CRASHES_REPLAY = """
import os, sys
import pyarrow as pa
from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore

store = EmbeddedStore(sys.argv[1])
store.write(Batch.of([d.Model("org/old")]))  # checkpointed
store.write(Batch.of([d.Model("org/new")]), durable=False)
# What the store itself no longer does (see _checkpoint_before_updating): update a node copied since the checkpoint.
store._conn.execute("LOAD FROM $t MATCH (n:Model) WHERE n.key = c SET n.downloads = 1",
                    {"t": pa.table({"c": ["org/new"]})})
os._exit(0)
"""


def test_a_log_that_crashes_the_engine_replaying_it_is_a_clear_error_not_a_segfault(tmp_path):
    """A store an older ptmgraph left after a kill (or any log LadybugDB 0.22 cannot replay) crashed every command."""
    path = tmp_path / "s"
    run = subprocess.run([sys.executable, "-c", _LOG_THAT_CRASHES_REPLAY, str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    for read_only in (True, False):
        opened = subprocess.run(
            [sys.executable, "-c", "import sys; from ptmgraph.errors import StoreError\n"
             "from ptmgraph.graph.embedded import EmbeddedStore\n"
             f"try: EmbeddedStore(sys.argv[1], read_only={read_only})\n"
             "except StoreError as e: print(e); sys.exit(3)", str(path)],
            capture_output=True, text=True, timeout=120)
        assert opened.returncode == 3, (opened.returncode, opened.stderr[-2000:])
        assert opened.stdout.strip() == (
            f"store {path}: LadybugDB crashed replaying graph.lbdb.wal, the log of a write that was interrupted: "
            f"move that file out of {path} to go back to the store's last checkpoint, then re-run the ingest "
            f"(or run `ptmgraph --store {path} store reset`)")
    (path / "graph.lbdb.wal").rename(tmp_path / "aside.wal")  # what the message says to do
    with EmbeddedStore(path) as store:
        assert store.model("org/old") is not None and store.model("org/new") is None


def test_a_read_command_during_an_ingest_leaves_the_writers_log_alone(tmp_path):
    """The log of a writer that is still running is not an interrupted one: the child that replays logs must not
    replay (and checkpoint) it under the writer; the writer's lock keeps it out."""
    path = tmp_path / "s"
    with EmbeddedStore(path) as writer:
        writer.write(Batch.of([d.Model("org/a")]))
        writer.write(Batch.of([d.Model("org/b")]), durable=False)  # in the log, not checkpointed
        log = path / (embedded.DB_FILE + ".wal")
        size = log.stat().st_size
        reader = subprocess.run(
            [sys.executable, "-c", "import sys; from ptmgraph.graph.embedded import EmbeddedStore\n"
             "with EmbeddedStore(sys.argv[1], read_only=True) as s: print(s.stats().nodes['Model'])", str(path)],
            capture_output=True, text=True, timeout=120)
        assert reader.returncode == 0, reader.stderr[-2000:]
        assert reader.stdout.strip() == "1"  # what the last checkpoint holds
        assert log.stat().st_size == size
        writer.write(Batch.of([d.Model("org/c")]), durable=False)
    with EmbeddedStore(path, read_only=True) as store:
        assert store.stats().nodes["Model"] == 3
