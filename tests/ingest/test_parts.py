"""A snapshot read in parts by several reader processes: the parts cover the file line by line, and the graph and
the report are what reading it in one piece gives."""

from __future__ import annotations

import itertools
import json
import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptmgraph.errors import InvalidRecord
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import files, pipeline, worker
from ptmgraph.ingest.files import InputFile
from tests.ingest.small_parts import SmallParts
from tests.ingest.test_worker import DUMP, spy_on_the_writer, write_mixed_snapshot


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet="ab \r{}é", max_size=5), max_size=30), newline_at_end=st.booleans(),
       sizes=st.lists(st.integers(1, 6), min_size=1, max_size=8), block=st.sampled_from([1, 2, 3, 7, 1 << 20]))
def test_parts_cover_the_file_line_by_line(tmp_path, lines, newline_at_end, sizes, block):
    path = tmp_path / "f.jsonl"
    path.write_bytes(("\n".join(lines) + ("\n" if newline_at_end and lines else "")).encode())
    with mock.patch.object(files, "SCAN_BLOCK", block):
        spans = InputFile(path).spans(itertools.cycle(sizes))
    expected = path.read_bytes().split(b"\n")
    if expected[-1] == b"":
        expected.pop()  # a line end ends the last line; it does not start another
    read: list[bytes] = []
    with path.open("rb") as raw:
        for span, size in zip(spans, itertools.cycle(sizes)):
            assert span.first_line == len(read) + 1
            assert span.lines == size or span is spans[-1]
            raw.seek(span.start)
            read += [raw.readline().removesuffix(b"\n") for _ in range(span.lines)]
    assert read == expected


def test_readers_in_parts_write_the_graph_and_report_that_reading_here_gives(tmp_path, monkeypatch):
    shm = tmp_path / "shm"
    shm.mkdir()
    unpacked, merged = spy_on_the_writer(monkeypatch, shm)
    monkeypatch.setattr(worker, "cores", lambda: 2)  # two readers even on one core
    snapshot = tmp_path / "snapshot.jsonl"
    write_mixed_snapshot(snapshot)
    lines = snapshot.read_text().splitlines()
    for part in range(7):  # one model given again in parts 0-6: the line of part 6 is the last, and wins
        lines.insert(part * 40 + 20, json.dumps({"id": "org/order", "downloads": part}))
    snapshot.write_text("\n".join(lines) + "\n")  # 309 lines: 8 parts of 40 (or fewer)
    reports, graphs, positions = [], [], []
    for name, parallel in (("here", False), ("readers", True)):
        with EmbeddedStore(tmp_path / name) as store:
            reports.append(pipeline.run(store, SmallParts(snapshot), "test", parallel=parallel,
                                        on_batch=lambda report: positions.append(report.position) if parallel else 0))
        with EmbeddedStore(tmp_path / name, read_only=True) as store:
            graphs.append([store.query(q).rows for q in DUMP])
    here, there = reports
    assert {os.path.basename(packed[1]).split("-")[1] for packed in unpacked} == {"0", "1"}, "not two readers"
    assert max(merged) > 1, "the writer never merged the batches it found waiting"
    assert graphs[1] == graphs[0]
    for name in ("records", "skipped", "problems", "self_loops", "lineage_edges", "cycles"):
        assert getattr(there, name) == getattr(here, name), name
    assert there.skipped == 1 and "snapshot.jsonl:11" in there.problems[0]  # line numbers count from the file's top
    assert there.position == snapshot.stat().st_size
    assert positions == sorted(positions) and len(positions) > 2, "batches were not written in the file's order"
    downloads = {row[0]: row[4] for row in graphs[1][0]}
    assert downloads["org/order"] == 6, "parts were written out of the file's order"
    assert downloads["org/m5"] == 999  # given again on the last line, in the last part


def test_strict_stops_at_the_bad_line_of_a_later_part_after_writing_the_parts_before_it(tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "cores", lambda: 2)
    snapshot = tmp_path / "snapshot.jsonl"
    lines = [json.dumps({"id": f"org/m{i}"}) for i in range(200)]
    lines[149] = '{"id": '  # line 150, in the fourth part (lines 121-160), which the second reader reads
    snapshot.write_text("\n".join(lines) + "\n")
    with EmbeddedStore(tmp_path / "s") as store:
        with pytest.raises(InvalidRecord, match=r"snapshot.jsonl:150.*--strict"):
            pipeline.run(store, SmallParts(snapshot), "test", strict=True, parallel=True)
        assert store.stats().nodes["Model"] == 120
