"""kill -9 during an ingest, then the same command again, ends with exactly the graph of an uninterrupted run."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import pipeline
from ptmgraph.ingest.sources import HfJsonl
from ptmgraph.ingest.synthetic import generate

DUMP = [
    "MATCH (m:Model) RETURN m.key, m.id, m.license, m.downloads, m.stub ORDER BY m.key",
    "MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN c.key, p.key, e.relation, e.provenance ORDER BY c.key, p.key",
    "MATCH (m:Model)-[:LICENSED_AS]->(l:License) RETURN m.key, l.key ORDER BY m.key, l.key",
]


def write_snapshot(path, n, deepest_first=False):
    """A synthetic Hub snapshot: ModelInfo-shaped lines with declared bases, parents first (as the generator makes
    them) or the deepest models first, so that every batch describes models that earlier ones created as stubs."""
    graph = generate(n, seed=11, hub_descendants=n // 10)
    depth = np.zeros(n, dtype=np.int64)
    for i in range(n):  # a parent's offset is always below its child's
        depth[i] = depth[graph.parent[i]] + 1 if graph.parent[i] >= 0 else 0
    order = np.argsort(-depth, kind="stable") if deepest_first else range(n)
    with path.open("w") as out:
        for i in map(int, order):
            card = {"license": "mit" if i % 3 else "apache-2.0"}
            if graph.parent[i] >= 0:
                card["base_model"] = graph.model_id(int(graph.parent[i]))
            out.write(json.dumps({"id": graph.model_id(i), "downloads": int(graph.downloads[i]), "cardData": card})
                      + "\n")


def dump(path):
    with EmbeddedStore(path, read_only=True) as store:
        return [store.query(q).rows for q in DUMP]


def _batches_committed(victim):
    """True once the write-ahead log has grown ~1 KB past what creating the store writes to it: a few batches are
    committed (the log holds ~200 bytes per statement of a COPY batch, not its rows)."""
    wal = victim / "graph.lbdb.wal"
    return wal.exists() and wal.stat().st_size > _created_store_wal(victim.parent) + 1_000


@functools.cache
def _created_store_wal(folder):
    with EmbeddedStore(folder / "just-created"):
        return (folder / "just-created" / "graph.lbdb.wal").stat().st_size


# (what is interrupted, PTMGRAPH_CHECKPOINT_ROWS, when to kill, whether batches must have survived the kill,
# whether the deepest models come first)
CASES = {
    # Checkpoints every batch or two: the database file passes 9 MB (~22 MB at the end) when several batches are
    # durable and most are not.
    "after checkpoints": ("4000", lambda v: (v / "graph.lbdb").exists() and (v / "graph.lbdb").stat().st_size
                          > 9_000_000, True, False),
    # The default: batches are committed, but none is checkpointed until the end; the kill loses them all.
    "between checkpoints": (None, _batches_committed, False, False),
    # Each batch turns stubs that earlier ones copied into models: LadybugDB replayed those updates after the kill
    # and crashed at every open, unless the store checkpoints before making them.
    "between checkpoints, children first": (None, _batches_committed, False, True),
    # Killed while the final checkpoint writes the database file.
    "during the checkpoint": (None, lambda v: (v / "graph.lbdb.checkpoint.intent.lock").exists(), False, False),
}


@pytest.mark.parametrize("case", CASES)
def test_interrupted_ingest_rerun_converges_on_the_uninterrupted_graph(tmp_path, case):
    rows, interrupted, survives, deepest_first = CASES[case]
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, 40_000, deepest_first)

    with EmbeddedStore(tmp_path / "reference") as reference:
        pipeline.run(reference, HfJsonl(snapshot), "reference", records_per_batch=2_000)

    victim = tmp_path / "victim"
    env = {key: value for key, value in os.environ.items() if key != "PTMGRAPH_CHECKPOINT_ROWS"}
    if rows:
        env["PTMGRAPH_CHECKPOINT_ROWS"] = rows
    command = [sys.executable, "-m", "ptmgraph", "--store", str(victim), "ingest", "hf-jsonl", str(snapshot),
               "--batch-size", "2000", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if interrupted(victim):
            break
        time.sleep(0.002)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be interrupted"
    partial = dump(victim)
    assert len(partial[0]) < 40_000
    if survives:
        assert len(partial[0]) > 0, "batches checkpointed before the kill were lost"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert dump(victim) == dump(tmp_path / "reference")
