from __future__ import annotations

import json

from typer.testing import CliRunner

from ptmgraph import domain as d
from ptmgraph.cli.app import app
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.detectors import lineage_inconsistent, missing_metadata, unsafe_serialization
from ptmgraph.graph.embedded import EmbeddedStore

MODELS = [
    d.Model("a/pickled", files=("config.json", "pytorch_model.bin", "training_args.bin"), license="mit", has_card=True),
    d.Model("a/both", files=("pytorch_model.bin", "model.safetensors"), license="mit", has_card=True),
    d.Model("a/gguf", files=("model.Q4_K_M.gguf",), license="mit", has_card=True),
    d.Model("a/args-only", files=("training_args.bin", "model.safetensors"), license="mit", has_card=True),
    d.Model("a/no-card", files=("model.safetensors",), license="mit", has_card=False),
    d.Model("a/no-licence", files=("model.safetensors",), has_card=True),
    d.Model("a/base-finetuned-squad", files=("model.safetensors",), license="mit", has_card=True),
    d.Model("a/declared-finetuned-x", files=("model.safetensors",), license="mit", has_card=True),
    d.Lineage("a/declared-finetuned-x", "a/gguf", "finetune"),
]


def test_serialization_and_metadata_detectors(tmp_path):
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of(MODELS))
        unsafe = list(unsafe_serialization(store))
        assert [(f.subject, json.loads(f.evidence)["pickle_files"]) for f in unsafe] == [
            ("a/pickled", ["pytorch_model.bin"])]
        meta = {f.subject: json.loads(f.evidence)["missing"] for f in missing_metadata(store)}
        assert meta == {"a/no-card": ["model card"], "a/no-licence": ["licence"],
                        "a/base-finetuned-squad": ["base model (the name says it is derived)"]}
        # A stub (only referenced) is not judged: nothing was said about it.
        store.write(Batch.of([d.Lineage("x/child", "x/never-described")]))
        assert "x/never-described" not in {f.subject for f in missing_metadata(store)}


def test_cli_detect_is_idempotent(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "s")]
    with EmbeddedStore(tmp_path / "s") as s:
        s.write(Batch.of(MODELS))
    first = json.loads(runner.invoke(app, [*store, "detect", "serialization", "--json"]).stdout)
    assert first["flags"] == 1 and first["on_models"] == 1
    runner.invoke(app, [*store, "detect", "serialization", "--json"])
    stats = json.loads(runner.invoke(app, [*store, "stats", "--json"]).stdout)
    assert stats["nodes"]["Flag"] == 1


def test_lineage_that_contradicts_itself(tmp_path):
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of([
            d.Model("b/base", model_type="llama", created_at="2023-07-18T00:00:00Z"),
            d.Model("b/ft", model_type="mistral", created_at="2023-08-01T00:00:00Z"),
            d.Lineage("b/ft", "b/base", "finetune"),
            d.Model("b/older", model_type="llama", created_at="2023-01-01T00:00:00Z"),
            d.Lineage("b/older", "b/base", "finetune"),
            d.Model("b/merge", model_type="mistral"), d.Lineage("b/merge", "b/base", "merge"),
            d.Model("b/q", model_type="llama"), d.Lineage("b/q", "b/base", "quantized"),
            d.Model("b/on-q", model_type="llama"), d.Lineage("b/on-q", "b/q", "finetune"),
            d.Lineage("b/inferred-only", "b/q", "finetune", "name-inferred", 0.6),
        ]))
        flags = {f.subject: json.loads(f.evidence) for f in lineage_inconsistent(store)}
        assert set(flags) == {"b/ft", "b/older", "b/q"}
        assert "differs from its parent's 'llama'" in flags["b/ft"]["problems"][0]
        assert "created after it" in flags["b/older"]["problems"][0]
        assert flags["b/q"] == {"children": ["b/on-q (finetune)"]}  # the name-inferred child is not evidence
