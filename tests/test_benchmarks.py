"""The benchmarks run, small, and their numbers add up: a benchmark that no longer runs measures nothing. (Their
speed targets are checked by running them full size, never here.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ptmgraph.ingest import worker
from ptmgraph.ingest.synthetic import generate

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str) -> str:
    run = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_bench_ingest_counts_every_record_of_the_synthetic_snapshot_and_shows_its_timeline(tmp_path):
    models = 3000
    out = tmp_path / "ingest.json"
    printed = _run("bench_ingest.py", "--models", str(models), "--timeline", "--out", str(out))
    graph = generate(models, seed=7, hub_descendants=min(20_000, models // 10))
    synthetic = json.loads(out.read_text())["synthetic"]
    assert synthetic["records"] == models + int((graph.parent >= 0).sum())  # a model, and its one declared base
    assert synthetic["skipped"] == 0 and synthetic["written"]["nodes_created"] > models
    assert synthetic["seconds_with_close"] >= synthetic["seconds"] > 0
    timeline = printed.split("timeline (start s + seconds):\n", 1)[1]
    assert re.search(r"^\s+\d+\.\d \+\s+\d+\.\d\d  write \d+k rows$", timeline, re.M)
    assert re.search(r"  checkpoint \(close\)$", timeline, re.M)
    cpu = synthetic["cpu_seconds"]  # a snapshot this small is read in the writer's process
    assert cpu["writer"] > 0 and cpu["readers"] == 0  # nor are the machine checks' processes counted
    machine = json.loads(out.read_text())["machine_check"]
    for when in ("before", "after"):
        assert machine[when]["processes"] == worker.cores()
        assert machine[when]["alone_seconds"] > 0 and machine[when]["together_seconds"] > 0
        assert re.search(rf"^  machine check {when}: a fixed Python loop took \d+\.\d\d s alone, \d+\.\d\d s on "
                         rf"{worker.cores()} processes at once$", printed, re.M)


def test_bench_ingest_counts_the_cpu_time_of_its_reader_processes_apart(tmp_path):
    """A snapshot large enough for reader processes (worker.WORTH_IT_BYTES): their CPU time is counted, apart from
    the writer's, and the least wall time it all needs is the sum over the cores."""
    if worker.cores() < 2:
        pytest.skip("reader processes run only where there is a second core")
    out = tmp_path / "ingest.json"
    printed = _run("bench_ingest.py", "--models", "100000", "--out", str(out))
    cpu = json.loads(out.read_text())["synthetic"]["cpu_seconds"]
    assert cpu["readers"] > 0.5 and cpu["writer"] > 0.5  # ~1.8 s each here
    assert cpu["floor_seconds"] == pytest.approx((cpu["writer"] + cpu["readers"]) / cpu["cores"], abs=0.01)
    assert re.search(r"CPU: writer \(store included\) \+ readers +\d+\.\d \+ \d+\.\d s on \d+ cores: "
                     r"at least \d+\.\d s of the \d+\.\d s$", printed, re.M)


def test_bench_propagation_agrees_with_networkx():
    printed = _run("bench_propagation.py", "--models", "3000")
    ours, theirs = re.search(r"([\d,]+) inherited flags \(networkx counts ([\d,]+)\)", printed).groups()
    assert ours == theirs and int(ours.replace(",", "")) > 0


def test_bench_store_finds_every_descendant_of_the_hub(tmp_path):
    out = tmp_path / "store.json"
    _run("bench_store.py", "--models", "3000", "--hub", "300", "--runs", "1", "--out", str(out))
    numbers = json.loads(out.read_text())
    assert numbers["load"]["nodes"]["Model"] == 3000
    latency = {row["query"]: row for row in numbers["latency"]}
    assert latency["descendants"]["results"] == 300  # the bench itself checks the repos against networkx
    assert latency["descendants"]["embedded_ms"] > 0 and latency["descendants"]["networkx_ms"] > 0


def test_bench_copy_size_times_each_statement_size():
    printed = _run("bench_copy_size.py", "--rows", "20000", "--parts", "1", "4", "--runs", "1")
    rows = re.findall(r"^\s+(\d+)\s+([\d,]+)\s+(\d+\.\d\d)\s+(\d+\.\d\d)$", printed, re.M)
    assert [(parts, each) for parts, each, _, _ in rows] == [("1", "20,000"), ("4", "5,000")]
