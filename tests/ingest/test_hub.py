"""`ptmgraph ingest hub` against recorded Hub responses on 127.0.0.1 (HF_ENDPOINT): the real client runs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ptmgraph.cli.app import app
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest.hub import HubQuery, HubSource
from tests.ingest.hub_server import HubStub

runner = CliRunner()


@pytest.fixture
def hub(monkeypatch):
    with HubStub() as stub:
        monkeypatch.setenv("HF_ENDPOINT", stub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
        yield stub


def ingest(store, *args):
    return runner.invoke(app, ["--store", str(store), "ingest", "hub", *args, "--json"])


def test_crawl_follows_pages_survives_a_429_and_reports_the_bad_record(hub, tmp_path):
    store = tmp_path / "store"
    result = ingest(store, "--save", str(tmp_path / "crawl.jsonl"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["models"] == 6
    assert report["skipped"] == 1 and "someone/broken-card" in report["problems"][0]
    assert hub.throttled == 1
    listing = [r for r in hub.requests if r.startswith("/api/models")]
    assert "expand=baseModels" in listing[0] and "expand=cardData" in listing[0]
    assert [r for r in listing if "page=" in r] == ["/api/models?page=1"] * 2 + ["/api/models?page=2"]
    with EmbeddedStore(store, read_only=True) as s:
        llama = s.model("meta-llama/llama-2-7b-hf")
        assert llama["gated"] is True and llama["model_type"] == "llama" and llama["license"] == "llama2"
        gguf = {(h.id, h.relation, h.provenance) for h in s.lineage("TheBloke/Llama-2-7B-Chat-GGUF", "up")}
        assert ("meta-llama/Llama-2-7b-chat-hf", "quantized", "declared-card") in gguf
        # A base that does not exist on the Hub becomes a stub, not a lost edge.
        orphan = s.lineage("someone/orphan-lora", "up")
        assert [(h.id, h.relation, h.stub) for h in orphan] == [("nobody/does-not-exist", "adapter", True)]
        merge = s.lineage("someone/merge-7b", "up", max_depth=1)
        assert {h.relation for h in merge} == {"merge"} and len(merge) == 2
    saved = [json.loads(line) for line in (tmp_path / "crawl.jsonl").read_text().splitlines()]
    assert [m["id"] for m in saved][:2] == ["meta-llama/Llama-2-7b-hf", "TheBloke/Llama-2-7B-Chat-GGUF"]


def test_saved_crawl_replays_offline_into_the_same_graph(hub, tmp_path, monkeypatch):
    assert ingest(tmp_path / "live", "--save", str(tmp_path / "crawl.jsonl")).exit_code == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    replay = runner.invoke(app, ["--store", str(tmp_path / "replay"), "ingest", "hf-jsonl",
                                 str(tmp_path / "crawl.jsonl"), "--json"])
    assert replay.exit_code == 0, replay.output
    stats = [json.loads(runner.invoke(app, ["--store", str(tmp_path / s), "stats", "--json"]).stdout)
             for s in ("live", "replay")]
    assert stats[0] == stats[1]


def test_limit_and_resume_continue_where_the_crawl_stopped(hub, tmp_path):
    store = tmp_path / "store"
    first = json.loads(ingest(store, "--limit", "2").stdout)
    assert first["models"] == 2
    with EmbeddedStore(store, read_only=True) as s:
        assert s.stats().nodes["Model"] == 3  # two models and the GGUF's stub base
    source = HubSource(HubQuery(), tmp_path / "cursor.json", sleep=lambda _s: None)
    source.save_cursor(3)
    resumed = HubSource(HubQuery(), tmp_path / "cursor.json", resume=True, sleep=lambda _s: None)
    ids = [r.id for r in resumed if hasattr(r, "id") and type(r).__name__ == "Model"]
    assert ids == ["someone/orphan-lora", "someone/finetuned-from-config", "someone/merge-7b"]


def test_offline_mode_is_refused_with_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(app, ["--store", str(tmp_path / "s"), "ingest", "hub"])
    assert result.exit_code == 1
    assert "HF_HUB_OFFLINE is set" in result.stderr and "ingest hf-jsonl" in result.stderr


def test_deep_pass_reads_config_and_adapter_config(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    store = tmp_path / "store"
    result = ingest(store, "--deep")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # The gated model's files cannot be read: reported, and the crawl goes on.
    assert any("meta-llama/Llama-2-7b-hf is gated" in p for p in report["problems"])
    assert report["models"] == 6
    with EmbeddedStore(store, read_only=True) as s:
        # The adapter's own config confirms what its card declared: a second edge, with its own provenance.
        lora = s.query("MATCH (c:Model {key: $k})-[e:DERIVED_FROM]->(p:Model) RETURN p.id, e.relation, e.provenance "
                       "ORDER BY e.provenance", {"k": "someone/orphan-lora"}).rows
        assert ["nobody/does-not-exist", "adapter", "adapter-config"] in lora and len(lora) == 3
        from_config = [(h.id, h.relation, h.provenance) for h in s.lineage("someone/finetuned-from-config", "up")]
        assert from_config == [("meta-llama/Llama-2-7b-hf", "finetune", "config")]
    assert any(r.startswith("HEAD /someone/orphan-lora/resolve/") for r in hub.requests)
