"""The ingest worker process: the graph and the report are the same as reading in-process; failures say so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ptmgraph.errors import InvalidRecord, PtmgraphError
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import handoff, pipeline, worker
from ptmgraph.ingest.sources import HfJsonl

DUMP = [
    "MATCH (m:Model) RETURN m.key, m.id, m.stub, m.license, m.downloads, m.tags, m.architectures, m.has_card "
    "ORDER BY m.key",
    "MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN c.key, p.key, e.relation, e.provenance, e.confidence "
    "ORDER BY c.key, p.key, e.provenance",
    "MATCH (m:Model)-[e:LICENSED_AS]->(l:License) RETURN m.key, l.id, e.source ORDER BY m.key, l.id",
    "MATCH (m:Model)-[:AUTHORED_BY]->(a:Author) RETURN m.key, a.id ORDER BY m.key",
    "MATCH (m:Model)-[:TRAINED_ON]->(s:Dataset) RETURN m.key, s.id, s.stub ORDER BY m.key, s.id",
]


def write_mixed_snapshot(path):
    lines = []
    for i in range(300):
        card = {"license": ["mit", "apache-2.0"] if i % 7 == 0 else "mit"}
        if i:
            card["base_model"] = f"org/m{i // 3}" if i % 5 else [f"org/m{i - 1}", f"org/m{i - 2}"]
        if i % 11 == 0:
            card["datasets"] = ["squad", None]
        lines.append(json.dumps({"id": f"org/m{i}", "author": "org", "downloads": i, "cardData": card,
                                 "tags": ["t", *([f"base_model:quantized:org/m{i - 1}"] if i else [])],
                                 "config": {"model_type": "bert", "architectures": ["BertModel"]}}))
    lines[10] = '{"id": "org/broken", '  # malformed
    lines.append(json.dumps({"id": "ORG/M5", "downloads": 999}))  # the same model again, later: newer facts win
    lines.append(json.dumps({"id": "org/self", "cardData": {"base_model": "org/self"}}))  # a self-loop, reported
    path.write_text("\n".join(lines) + "\n")


def ingest(tmp_path, name, snapshot, parallel):
    with EmbeddedStore(tmp_path / name) as store:
        report = pipeline.run(store, HfJsonl(snapshot), "test", records_per_batch=97, parallel=parallel)
    with EmbeddedStore(tmp_path / name, read_only=True) as store:
        return report, [store.query(q).rows for q in DUMP]


@pytest.mark.parametrize("handoff_room", [True, False], ids=["shared-memory files", "through the queue"])
def test_worker_writes_the_same_graph_and_report_as_reading_here(tmp_path, monkeypatch, handoff_room):
    shm = tmp_path / "shm"
    shm.mkdir()
    unpacked, merged = spy_on_the_writer(monkeypatch, shm if handoff_room else tmp_path / "no-shm")
    snapshot = tmp_path / "snapshot.jsonl"
    write_mixed_snapshot(snapshot)
    here, graph_here = ingest(tmp_path, "here", snapshot, parallel=False)
    there, graph_there = ingest(tmp_path, "worker", snapshot, parallel=True)
    assert unpacked and {packed[0] for packed in unpacked} == {"file" if handoff_room else "tables"}
    assert max(merged) > 1, "the writer never merged the batches it found waiting"
    assert not list(shm.iterdir()), "batch files outlived the ingest"
    assert graph_there == graph_here
    assert len(graph_here[0]) > 290 and len(graph_here[1]) > 400 and graph_here[4]
    for name in ("records", "skipped", "problems", "self_loops", "lineage_edges", "cycles"):
        assert getattr(there, name) == getattr(here, name), name
    assert there.skipped == 1 and "snapshot.jsonl:11" in there.problems[0]
    assert there.self_loops == ["org/self"]
    assert there.position == snapshot.stat().st_size
    assert next(row for row in graph_there[0] if row[0] == "org/m5")[4] == 999


def spy_on_the_writer(monkeypatch, shared_memory):
    """Batch files go to ``shared_memory``; returns the lists that collect what the writer unpacks and how many
    batches each of its writes merged. The writer is slow after its first batch, so that the next ones wait."""
    monkeypatch.setattr(handoff, "SHARED_MEMORY", shared_memory)
    unpacked, merged = [], []
    monkeypatch.setattr(handoff, "unpack", lambda p, unpack=handoff.unpack: unpacked.append(p) or unpack(p))
    monkeypatch.setattr(worker, "merged_tables", lambda parts, merge=worker.merged_tables: merged.append(len(parts))
                        or merge(parts))
    monkeypatch.setattr(worker, "_next", _slow_after_the_first(worker._next))
    return unpacked, merged


def _slow_after_the_first(next_message):
    """A writer busy after its first batch (as with a checkpoint), so that the next ones wait in the queue."""
    calls = []

    def slow(queue, process):
        message = next_message(queue, process)
        if not calls:
            time.sleep(2)
        calls.append(message[0])
        return message

    return slow


def test_strict_stops_in_the_worker_with_the_bad_line_named(tmp_path):
    snapshot = tmp_path / "snapshot.jsonl"
    write_mixed_snapshot(snapshot)
    with EmbeddedStore(tmp_path / "s") as store, pytest.raises(InvalidRecord, match=r"snapshot.jsonl:11.*--strict"):
        pipeline.run(store, HfJsonl(snapshot), "test", strict=True, parallel=True)


class DyingSource:
    """Stands for a reader process killed mid-way (out of memory, kill -9)."""

    size = 1 << 30

    def __iter__(self):
        os._exit(3)


def test_a_reader_process_that_dies_is_a_clear_error(tmp_path):
    with (EmbeddedStore(tmp_path / "s") as store,
          pytest.raises(PtmgraphError, match=r"exit code 3.*run the command again")):
        pipeline.run(store, DyingSource(), "test", parallel=True)


def test_a_worker_only_for_large_picklable_inputs(tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_text('{"id": "a/b"}\n')
    assert not worker.worth_it(HfJsonl(small))
    assert not worker.worth_it([object()])  # no size: an in-memory stream stays here
    assert worker.worth_it(DyingSource()) == (worker.cores() > 1)

    class Unpicklable(DyingSource):
        pass  # a class local to a function cannot be pickled

    assert not worker.worth_it(Unpicklable())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc (Linux)")
@pytest.mark.parametrize("source, batch_size", [("HfJsonl", "10"), ("SmallParts", "None")],
                         ids=["one reader", "readers of parts"])
def test_the_reader_process_does_not_outlive_a_killed_writer(tmp_path, source, batch_size):
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text("".join(json.dumps({"id": f"org/m{i}"}) + "\n" for i in range(5_000)))
    script = ("import multiprocessing, os, sys, time\n"
              "from ptmgraph.ingest import worker\n"
              "from ptmgraph.ingest.sources import HfJsonl\n"
              "from tests.ingest.small_parts import SmallParts\n"
              "worker.cores = lambda: 2\n"
              f"batches = worker.batches({source}(sys.argv[1]), False, {batch_size})\n"
              "next(batches)\n"  # the readers are running, and will find their queues full
              "print(*(child.pid for child in multiprocessing.active_children()), flush=True)\n"
              "time.sleep(120)\n")
    writer = subprocess.Popen([sys.executable, "-c", script, str(snapshot)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    readers = [int(pid) for pid in writer.stdout.readline().split()]
    assert len(readers) == (1 if source == "HfJsonl" else 2)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(map(_running, readers)):
        time.sleep(0.2)
    assert not any(map(_running, readers)), "a reader process is still running after its writer was killed"
    left = list(handoff.SHARED_MEMORY.glob(f"{handoff.PREFIX}{writer.pid}-*"))
    assert not left, "the reader left the killed writer's batch files in shared memory"


def _running(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in "ZX"  # an exited child nobody reaped yet is a zombie: not running


MAIN_SCRIPT = """
import os, sys
from ptmgraph.ingest import worker
from ptmgraph.ingest.sources import HfJsonl
if __name__ != "__main__":  # a reader process running this script again
    with open(os.environ["RUN_AGAIN_AS"], "a") as out:
        out.write(__name__ + "\\n")

class Here(HfJsonl):  # a source only this script defines: a reader needs the script to unpickle it
    pass

if __name__ == "__main__":
    source = (Here if sys.argv[2] == "here" else HfJsonl)(sys.argv[1])
    print(sum(len(batch) for batch, _ in worker.batches(source, False, 7)))
"""


@pytest.mark.parametrize("defined", ["in ptmgraph", "here"])
def test_reader_processes_leave_out_the_main_script_unless_the_source_lives_there(tmp_path, defined):
    """A spawned reader runs the parent's main script again before it reads a line (for the CLI, 0.6 s of imports
    while the writer waits): it must not, unless the source's class is defined in that script."""
    script, snapshot, ran = tmp_path / "main.py", tmp_path / "snapshot.jsonl", tmp_path / "ran-again"
    script.write_text(MAIN_SCRIPT)
    snapshot.write_text("".join(json.dumps({"id": f"org/m{i}"}) + "\n" for i in range(20)))
    done = subprocess.run([sys.executable, str(script), str(snapshot), "here" if defined == "here" else "ptmgraph"],
                          capture_output=True, text=True, env={**os.environ, "RUN_AGAIN_AS": str(ran)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["20"]
    if defined == "here":
        assert ran.read_text().split() == ["__mp_main__"]
    else:
        assert not ran.exists()
