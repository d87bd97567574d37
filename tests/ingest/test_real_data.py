"""The four file sources on the real research data in ../shared/data (skipped, with the reason, when absent)."""

from __future__ import annotations

import pytest

from ptmgraph.graph.analyses import lineage_report
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import pipeline
from ptmgraph.ingest.sources import GhLicenses, HfJsonl, Leaderboard, ReuseCsv

REPOS_OF_TREE = ("MATCH (m:Model {key: $k})<-[:DERIVED_FROM*0..30]-(d:Model)<-[:USES]-(r:Repo) "
                 "RETURN DISTINCT r.id ORDER BY r.id")


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set PTMGRAPH_SHARED_DATA or check out ../shared)")
    store = EmbeddedStore(tmp_path_factory.mktemp("real") / "store")
    reports = {}
    for cls, rel in ((HfJsonl, "hf_2022/hf_modelinfo_2022.jsonl"), (ReuseCsv, "peatmoss/mapping.csv"),
                     (GhLicenses, "peatmoss/all_gh_licenses.json"), (Leaderboard, "lineage/huggingface_v2_dev.csv")):
        reports[cls.name] = pipeline.run(store, cls(SHARED_DATA / rel), cls.name)
    yield store, reports
    store.close()


def test_every_source_loads_with_few_skips(real_store):
    store, reports = real_store
    for name, report in reports.items():
        assert report.records > 1000, name
        assert report.skipped <= report.records * 0.001, (name, report.problems)
    stats = store.stats()
    assert stats.nodes["Model"] >= 4223 and stats.edges["USES"] >= 22_000
    assert stats.nodes["Repo"] >= 36_000


def test_lineage_down_answers_which_repos_use_a_model_or_its_descendants(real_store):
    store, _ = real_store
    report = lineage_report(store, "distilbert-base-uncased", up=False)
    repos = {r["repo"] for r in report["repos"]}
    assert len(repos) > 50
    cypher = {row[0] for row in store.query(REPOS_OF_TREE, {"k": "distilbert-base-uncased"}).rows}
    assert repos == cypher


def test_leaderboard_edges_point_at_roots_and_say_so(real_store):
    store, _ = real_store
    rows = store.query("MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) WHERE e.source STARTS WITH 'leaderboard' "
                       "RETURN DISTINCT e.provenance").rows
    assert rows == [["leaderboard"]]
    root = store.lineage("meta-llama/Meta-Llama-3-8B", "down", max_depth=1)
    assert len(root) >= 10 and all(h.provenance == "leaderboard" for h in root)
