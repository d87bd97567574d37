"""The lineage-anomaly report: origins, what they reach and through which path, totals; every store."""

from __future__ import annotations

import pytest

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.propagation import propagate
from ptmgraph.graph.report import build
from tests.graph.stores import open_test_store, store_params
from tests.graph.test_propagation import BASE, FT, FT2, GGUF, GRAPH

# No apostrophe: FalkorDB's Bolt shim (the CI stand-in for Neo4j) fails on a quote inside a string parameter;
# tests/cli/test_report_cli.py covers quotes on the embedded store.
HOSTILE = "<script>alert(1)</script> `rm -rf` **bold** [link](http://evil)"


@pytest.fixture(params=store_params())
def store(request, tmp_path):
    st = open_test_store(request.param, tmp_path)
    st.reset()
    st.write(Batch.of([*GRAPH,
                       d.Flag("F-BASE", BASE, "license-conflict", "high", HOSTILE, "test", '{"rule": "x"}'),
                       d.Flag("F-LEAF", FT2, "naming", "low", "leaf", "test"),
                       d.Flag("F-REPO", "me/app", "license-conflict", "high", "app vs gguf", "test",
                              '{"model": "org/base-GGUF"}', subject_kind=d.SubjectKind.REPO)]))
    propagate(st)
    yield st
    st.close()


def test_origins_come_with_every_path_they_reach_and_totals(store):
    report = build(store)
    origins = {o["flag"]: o for o in report["origins"]}
    assert list(origins) == ["F-BASE", "F-LEAF", "F-REPO"], "ranked by reach: the base reaches most"
    base = origins["F-BASE"]
    assert {m["id"] for m in base["models"]} == {FT, GGUF, FT2, "org/base-lora"}
    deep = next(m for m in base["models"] if m["id"] == FT2)
    assert deep["path"] == [BASE, FT, FT2] and deep["relations"] == ["finetune", "finetune"] and deep["depth"] == 2
    assert [m["id"] for m in base["models"]][0] == FT, "most downloaded first"
    tool = next(r for r in base["repos"] if r["id"] == "me/tool")
    assert tool["path"] == [BASE, FT, FT2, "me/tool"] and tool["relations"][-1] == "uses"
    assert base["evidence"] == {"rule": "x"} and base["summary"] == HOSTILE
    assert origins["F-REPO"]["explained_by"]["path"] == [GGUF, "me/app"]
    t = report["totals"]
    assert t["origins"] == 3 and t["by_kind"] == {"license-conflict": 2, "naming": 1}
    assert t["models_reached"] == 4 and t["repos_exposed"] == 2 and t["by_severity"] == {"high": 2, "low": 1}


def test_models_filter_keeps_flags_raised_on_or_reaching_them_and_limit_keeps_totals(store):
    assert {o["flag"] for o in build(store, [FT2])["origins"]} == {"F-BASE", "F-LEAF"}
    assert {o["flag"] for o in build(store, [GGUF])["origins"]} == {"F-BASE"}
    limited = build(store, limit=1)
    assert [o["flag"] for o in limited["origins"]] == ["F-BASE"]
    assert limited["totals"]["origins"] == 3 and limited["totals"]["shown"] == 1


def test_unknown_model_is_an_error_not_an_empty_report(store):
    with pytest.raises(PtmgraphError, match="no model 'org/nope'"):
        build(store, ["org/nope"])
