"""The CLI end to end, through typer's runner: output for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from typer.testing import CliRunner

from ptmgraph.cli.app import app

runner = CliRunner()


def run(*args: str, store=None):
    argv = (["--store", str(store)] if store is not None else []) + list(args)
    return runner.invoke(app, argv)


@pytest.fixture
def demo_store(tmp_path):
    store = tmp_path / "store"
    result = run("demo", "--json", store=store)
    assert result.exit_code == 0, result.output
    return store, json.loads(result.stdout)


def test_demo_tour_answers_lineage_flags_and_naming(demo_store):
    _, tour = demo_store
    assert tour["stats"]["nodes"]["Model"] >= 120
    assert tour["stats"]["nodes"]["Repo"] >= 30
    descendants = {h["id"]: h for h in tour["lineage"]["descendants"]}
    assert descendants["TheBloke/Llama-2-7B-Chat-GGUF"]["path"] == [
        "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-chat-hf", "TheBloke/Llama-2-7B-Chat-GGUF"]
    assert {r["repo"] for r in tour["lineage"]["repos"]} >= {"lm-sys/FastChat", "facebookresearch/llama-recipes"}
    assert [a["id"] for a in tour["ancestry"]["ancestors"]] == ["meta-llama/Llama-2-7b-chat-hf",
                                                               "meta-llama/Llama-2-7b-hf"]
    assert tour["flagged"]["stub"] is True
    assert [r["repo"] for r in tour["flagged"]["repos"]] == ["tloen/alpaca-lora"]
    assert {f["model"] for f in tour["naming"]} >= {"microsoft/codebert-base", "microsoft/deberta-v3-base"}
    assert tour["propagation"]["flags"] == 6 and tour["propagation"]["inherited_models"] >= 1
    reached = {f["kind"]: f for f in tour["why"]["inherited"]}
    assert set(reached) == {"license-conflict", "missing-metadata"}
    assert list(reached["license-conflict"]["path"]) == ["decapoda-research/llama-7b-hf", "tloen/alpaca-lora"]


def test_demo_is_idempotent_and_prints_a_tour(tmp_path):
    store = tmp_path / "store"
    first = run("demo", store=store)
    assert first.exit_code == 0, first.output
    assert "What is built on Llama 2 7B" in first.stdout
    before = json.loads(run("stats", "--json", store=store).stdout)
    assert run("demo", store=store).exit_code == 0
    assert json.loads(run("stats", "--json", store=store).stdout) == before


def test_lineage_json_matches_the_documented_shape(demo_store):
    store, _ = demo_store
    result = run("lineage", "DISTILBERT-base-uncased", "--down", "--json", store=store)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"model", "stub", "descendants", "repos"}
    assert report["model"] == "distilbert-base-uncased"
    hit = report["descendants"][0]
    assert set(hit) >= {"id", "relation", "depth", "path"}
    assert {"repo", "via", "path"} <= set(report["repos"][0])
    assert report["repos"][0]["repo"] == "huggingface/transformers"


def test_lineage_depth_limits_the_walk(demo_store):
    store, _ = demo_store
    deep = json.loads(run("lineage", "meta-llama/Llama-2-7b-hf", "--down", "--json", store=store).stdout)
    shallow = json.loads(run("lineage", "meta-llama/Llama-2-7b-hf", "--down", "--depth", "1", "--json",
                             store=store).stdout)
    assert max(h["depth"] for h in deep["descendants"]) == 3
    assert {h["depth"] for h in shallow["descendants"]} == {1}
    assert len(shallow["descendants"]) < len(deep["descendants"])


def test_query_with_parameters_and_json(demo_store):
    store, _ = demo_store
    result = run("query", "MATCH (m:Model) WHERE m.license = $l AND m.downloads IS NULL RETURN m.id AS id "
                 "ORDER BY id LIMIT 2", "-p", "l=llama3", "--json", store=store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": "meta-llama/Meta-Llama-3-8B"},
                                         {"id": "meta-llama/Meta-Llama-3-8B-Instruct"}]


def test_query_parameter_values_are_parsed_as_json():
    from ptmgraph.cli.app import parse_params

    assert parse_params(["n=3", "s=abc", 'q="3"', "xs=[1,2]"]) == {"n": 3, "s": "abc", "q": "3", "xs": [1, 2]}


@pytest.mark.parametrize("args, message", [
    (["query", "MATCH (m RETURN m"], "the store rejected the query"),
    (["query", "MATCH (m:Model {key: $k}) RETURN m"], "pass -p k=..."),
    (["query", "RETURN 1", "-p", "oops"], "must look like name=value"),
    (["query", "CREATE (:Author {key: 'x', id: 'x', stub: false})"], "add --write"),
    (["lineage", "no/such-model"], "is not in the store"),
])
def test_errors_are_one_line_and_exit_non_zero(demo_store, args, message):
    store, _ = demo_store
    result = run(*args, store=store)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_query_write_needs_the_flag(demo_store):
    store, _ = demo_store
    result = run("query", "CREATE (:Author {key: 'x', id: 'x', stub: false})", "--write", store=store)
    assert result.exit_code == 0, result.output
    assert json.loads(run("stats", "--json", store=store).stdout)["nodes"]["Author"] >= 1


def test_unknown_store_uri(tmp_path):
    result = run("stats", store="ftp://somewhere")
    assert result.exit_code == 1 and "unknown store 'ftp://somewhere'" in result.stderr


def test_unreachable_neo4j_is_one_line():
    result = run("stats", store="bolt://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach Neo4j at bolt://127.0.0.1:9" in result.stderr


def test_missing_store_says_how_to_create_one(tmp_path):
    result = run("lineage", "x/y", store=tmp_path / "empty")
    assert result.exit_code == 1 and "run `ptmgraph demo`" in result.stderr


def test_a_store_of_an_older_schema_says_how_to_reset_it_and_that_command_works(tmp_path):
    store = tmp_path / "old store"  # a space, so the advised command must quote the path
    assert run("demo", "--json", store=store).exit_code == 0
    marker = store / "ptmgraph-store.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "schema_version": 2}))
    refused = run("stats", store=store)
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    advised = re.search(r"run `([^`]+)`", refused.stderr).group(1)
    argv = shlex.split(advised)
    assert argv[0] == "ptmgraph"
    reset = runner.invoke(app, argv[1:], input="y\n")
    assert reset.exit_code == 0, reset.output
    assert run("demo", "--json", store=store).exit_code == 0  # "and ingest again"


def test_store_info_and_reset(demo_store):
    store, _ = demo_store
    info = json.loads(run("store", "info", "--json", store=store).stdout)
    assert info["kind"] == "embedded" and info["generation"] >= 1
    assert run("store", "reset", store=store, ).exit_code == 1  # no confirmation on a closed stdin
    assert run("store", "reset", "--yes", store=store).exit_code == 0
    assert json.loads(run("stats", "--json", store=store).stdout)["nodes"]["Model"] == 0


def test_store_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PTMGRAPH_STORE", str(tmp_path / "envstore"))
    assert run("demo", "--json").exit_code == 0
    assert (tmp_path / "envstore" / "graph.lbdb").exists()


def test_file_ingest_batches_as_the_pipeline_and_its_benchmark_do(tmp_path, monkeypatch):
    from ptmgraph.ingest import pipeline

    seen = {}
    real = pipeline.run

    def spy(store, items, source, **options):
        seen.update(options)
        return real(store, items, source, **options)

    monkeypatch.setattr(pipeline, "run", spy)
    snapshot = tmp_path / "models.jsonl"
    snapshot.write_text('{"id": "org/a"}\n')
    result = run("ingest", "hf-jsonl", str(snapshot), "--json", store=tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert seen["records_per_batch"] is None  # the source's own batch rule
