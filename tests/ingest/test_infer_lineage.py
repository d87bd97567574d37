from __future__ import annotations

import json

from typer.testing import CliRunner

from ptmgraph import domain as d
from ptmgraph.cli.app import app
from ptmgraph.ingest.infer_lineage import propose

IDS = ["distilbert-base-uncased", "someone/distilbert-base-uncased-finetuned-sst2", "meta-llama/Llama-2-7b-chat-hf",
       "TheBloke/Llama-2-7B-Chat-GGUF", "org/base-model", "org/base-model-lora", "a/bert-tiny", "b/bert-tiny",
       "c/bert-tiny-finetuned-x", "org/declared-finetuned-y", "org/declared"]


def test_patterns_resolve_to_existing_models_with_confidence_by_how_sure():
    got = {p.child: (p.parent, p.relation, p.confidence) for p in propose(IDS, {d.node_key("org/declared-finetuned-y")})}
    assert got == {
        "someone/distilbert-base-uncased-finetuned-sst2": ("distilbert-base-uncased", "finetune", 0.7),
        "TheBloke/Llama-2-7B-Chat-GGUF": ("meta-llama/Llama-2-7b-chat-hf", "quantized", 0.6),
        "org/base-model-lora": ("org/base-model", "adapter", 0.8),
    }  # bert-tiny is ambiguous (two orgs), and a declared parent is never second-guessed


def test_cli_writes_name_inferred_edges_beside_declared_ones(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "s")]
    assert runner.invoke(app, [*store, "demo", "--json"]).exit_code == 0
    result = runner.invoke(app, [*store, "infer-lineage", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    proposals = {(p["child"], p["parent"]) for p in report["proposals"]}
    # The sample declares TheBloke's quantizations already, so they get no proposal; nothing declared is touched.
    assert ("TheBloke/Llama-2-7B-Chat-GGUF", "meta-llama/Llama-2-7b-chat-hf") not in proposals
    edges = runner.invoke(app, [*store, "query", "MATCH ()-[e:DERIVED_FROM]->() RETURN e.provenance AS p, count(*) AS n "
                                "ORDER BY p", "--json"])
    counts = {row["p"]: row["n"] for row in json.loads(edges.stdout)}
    assert counts["declared-card"] + counts["adapter-config"] == 85  # the sample's declared edges, untouched
    assert proposals == {("dbmdz/bert-large-cased-finetuned-conll03-english", "bert-large-cased")}
    written = runner.invoke(app, [*store, "query", "MATCH (c:Model {key: $k})-[e:DERIVED_FROM]->(p:Model) "
                                  "RETURN p.id, e.provenance, e.source", "-p",
                                  "k=dbmdz/bert-large-cased-finetuned-conll03-english", "--json"])
    (edge,) = json.loads(written.stdout)
    assert edge["e.provenance"] == "name-inferred" and "finetune pattern" in edge["e.source"]
