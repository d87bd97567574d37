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


def test_report_lists_real_licence_conflicts_and_the_repos_they_reach(real_store):
    from ptmgraph.graph.batch import Batch
    from ptmgraph.graph.licenses import detect
    from ptmgraph.graph.propagation import propagate
    from ptmgraph.graph.report import build
    from ptmgraph.domain import node_key

    store, _ = real_store
    store.write(Batch.of(list(detect(store))))
    propagate(store)
    report = build(store, limit=None)
    conflicts = [o for o in report["origins"] if o["kind"] == "license-conflict"]
    on_repos = [o for o in conflicts if o["subject_kind"] == "repo"]
    assert len(on_repos) > 500, "PeaTMOSS projects loading models under incompatible licences"
    example = on_repos[0]
    model, repo = example["explained_by"]["path"]
    assert repo == example["subject"] and store.model(model) is not None
    uses = store.query("MATCH (r:Repo {key: $r})-[:USES]->(m:Model {key: $m}) RETURN count(*)",
                       {"r": node_key(repo), "m": node_key(model)}).rows
    assert uses == [[1]], "the explaining path is a real USES edge"
    assert report["totals"]["repos_exposed"] >= len({o["subject"] for o in on_repos})
