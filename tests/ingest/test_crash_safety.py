"""kill -9 during an ingest, then the same command again, ends with exactly the graph of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import pipeline
from ptmgraph.ingest.sources import HfJsonl
from ptmgraph.ingest.synthetic import generate

DUMP = [
    "MATCH (m:Model) RETURN m.key, m.id, m.license, m.downloads, m.stub ORDER BY m.key",
    "MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN c.key, p.key, e.relation, e.provenance ORDER BY c.key, p.key",
    "MATCH (m:Model)-[:LICENSED_AS]->(l:License) RETURN m.key, l.key ORDER BY m.key, l.key",
]


def write_snapshot(path, n):
    """A synthetic Hub snapshot: ModelInfo-shaped lines with declared bases."""
    graph = generate(n, seed=11, hub_descendants=n // 10)
    with path.open("w") as out:
        for i in range(n):
            card = {"license": "mit" if i % 3 else "apache-2.0"}
            if graph.parent[i] >= 0:
                card["base_model"] = graph.model_id(int(graph.parent[i]))
            out.write(json.dumps({"id": graph.model_id(i), "downloads": int(graph.downloads[i]), "cardData": card})
                      + "\n")


def dump(path):
    with EmbeddedStore(path, read_only=True) as store:
        return [store.query(q).rows for q in DUMP]


def test_interrupted_ingest_rerun_converges_on_the_uninterrupted_graph(tmp_path):
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, 40_000)

    with EmbeddedStore(tmp_path / "reference") as reference:
        pipeline.run(reference, HfJsonl(snapshot), "reference", records_per_batch=2_000)

    victim = tmp_path / "victim"
    command = [sys.executable, "-m", "ptmgraph", "--store", str(victim), "ingest", "hf-jsonl", str(snapshot),
               "--batch-size", "2000", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    database = victim / "graph.lbdb"
    deadline = time.monotonic() + 120
    # Committed batches are checkpointed into the database file (~22 MB at the end here): once it passes 9 MB,
    # several batches are in and most are not, so kill without warning.
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists() and database.stat().st_size > 9_000_000:
            break
        time.sleep(0.02)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be interrupted"
    partial = dump(victim)
    assert 0 < len(partial[0]) < 40_000

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert dump(victim) == dump(tmp_path / "reference")
