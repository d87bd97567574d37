"""`ptmgraph dara ...` end to end: graphs, eval with the shipped checkpoints, checks and scans into the store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("transformers")

from ptmgraph.cli.app import app  # noqa: E402
from tests.gnn.test_weights import write_safetensors  # noqa: E402

runner = CliRunner()


def run(*args, store=None):
    return runner.invoke(app, (["--store", str(store)] if store else []) + list(args))


def test_graph_from_model_type_and_file(tmp_path):
    out = tmp_path / "g.json"
    result = run("dara", "graph", "x", "--model-type", "bert", "--architecture", "BertForMaskedLM", "--out",
                 str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["view"] == "trace" and summary["nodes"] > 30 and summary["repeats"] == 12
    assert json.loads(out.read_text())["architecture"] == "BertForMaskedLM"


def test_graph_from_config_json(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "distilbert", "architectures": ["DistilBertForSequenceClassification"],
                               "n_layers": 6}))
    result = run("dara", "graph", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["architecture"] == "DistilBertForSequenceClassification"


def test_unknown_model_type_is_one_line(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "my-secret-arch", "auto_map": {"AutoModel": "x.Y"}}))
    result = run("dara", "graph", str(cfg))
    assert result.exit_code == 1
    assert "unknown model_type 'my-secret-arch'" in result.output and result.output.strip().count("\n") == 0


def test_check_records_not_assessable_instead_of_crashing(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x10\x00")
    result = run("dara", "check", str(bad), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["assessable"] is False and "truncated" in found["reason"]


def test_check_catches_a_config_that_lies_from_weights(tmp_path):
    # GPT-2 shaped weights under a config that says BERT.
    tensors = {"transformer.wte.weight": (50257, 768), "transformer.wpe.weight": (1024, 768)}
    for i in range(12):
        tensors |= {f"transformer.h.{i}.ln_1.weight": (768,), f"transformer.h.{i}.ln_1.bias": (768,),
                    f"transformer.h.{i}.attn.c_attn.weight": (768, 2304), f"transformer.h.{i}.attn.c_attn.bias": (2304,),
                    f"transformer.h.{i}.attn.c_proj.weight": (768, 768), f"transformer.h.{i}.attn.c_proj.bias": (768,),
                    f"transformer.h.{i}.ln_2.weight": (768,), f"transformer.h.{i}.mlp.c_fc.bias": (3072,),
                    f"transformer.h.{i}.mlp.c_proj.bias": (768,),
                    f"transformer.h.{i}.ln_2.bias": (768,), f"transformer.h.{i}.mlp.c_fc.weight": (768, 3072),
                    f"transformer.h.{i}.mlp.c_proj.weight": (3072, 768)}
    tensors |= {"transformer.ln_f.weight": (768,), "transformer.ln_f.bias": (768,)}
    write_safetensors(tmp_path / "model.safetensors", tensors)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "_name_or_path": "org/bert-base"}))
    result = run("dara", "check", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["graph_view"] == "modules" and found["config_type"] == "bert"
    assert found["predicted_type"] != "bert"
    assert any(f["check"] == "config-vs-architecture" for f in found["findings"])


def test_scan_writes_naming_flags_that_propagate(tmp_path):
    store = tmp_path / "store"
    assert run("demo", "--json", store=store).exit_code == 0
    first = run("dara", "scan", "--json", store=store)
    assert first.exit_code == 0, first.output
    scan = json.loads(first.stdout)
    assert scan["models"] >= 120 and scan["flags"] == scan["flagged"] >= 0
    again = json.loads(run("dara", "scan", "--json", store=store).stdout)
    assert again["flags"] == scan["flags"]
    query = run("query", "MATCH (f:Flag) WHERE f.kind = 'naming' AND f.detector = 'dara' RETURN count(f) AS n",
                "--json", store=store)
    assert json.loads(query.stdout)[0]["n"] == scan["flags"], "flags are written once, idempotently"


def test_eval_vectors_with_shipped_mlp(shared_data):
    from ptmgraph.gnn.checkpoints import MLP

    assert MLP.exists(), f"{MLP} must be shipped: independent vector sets are scored with it, without retraining"
    result = run("dara", "eval", "--vectors", str(shared_data / "dara" / "vec_d_dev.json"), "--labels",
                 str(shared_data / "labels" / "model_types.json"), "--json")
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores["model_type"]) >= {"accuracy", "f1"} and scores["n"] == 5654
    # The shipped MLP was trained on this file: it must at least fit it.
    assert scores["model_type"]["accuracy"] > 0.8


def test_eval_graphs_and_sequences(tmp_path):
    folder = tmp_path / "graphs"
    folder.mkdir()
    for arch in ("BertForMaskedLM", "GPT2LMHeadModel"):
        mt = "bert" if arch.startswith("Bert") else "gpt2"
        assert run("dara", "graph", "x", "--model-type", mt, "--architecture", arch, "--out",
                   str(folder / f"{arch}.json")).exit_code == 0
    result = run("dara", "eval", "--graphs", str(folder), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model_type"]["accuracy"] == 1.0
    seqs = tmp_path / "seq.jsonl"
    seqs.write_text(json.dumps({"repo_name": "a/b", "arch": "BertModel", "model_type": "bert",
                                "layers": "Embedding Embedding Embedding add LayerNorm Linear Linear Linear"}) + "\n")
    result = run("dara", "eval", "--sequences", str(seqs), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 1


def test_eval_needs_exactly_one_input():
    result = run("dara", "eval")
    assert result.exit_code == 1 and "exactly one" in result.output
