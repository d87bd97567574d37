"""The code scanner on a small checkout written by the test: Python, a notebook, YAML and JSON configs."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ptmgraph.cli.app import app
from ptmgraph.ingest.pipeline import Skipped
from ptmgraph.ingest.scan import Find, looks_like_model_id, python_finds, scan

TRAIN = '''import argparse
from transformers import AutoModel, AutoTokenizer, pipeline
from huggingface_hub import hf_hub_download, snapshot_download
from sentence_transformers import SentenceTransformer
MODEL = "bert-base-uncased"
tok = AutoTokenizer.from_pretrained(MODEL)
local = AutoModel.from_pretrained("./checkpoints/best")
weights = AutoModel.from_pretrained("outputs/model.bin")
clf = pipeline("sentiment-analysis", model="distilbert-base-uncased-finetuned-sst-2-english")
path = hf_hub_download(repo_id="TheBloke/Llama-2-7B-Chat-GGUF", filename="llama-2-7b-chat.Q4_K_M.gguf")
snapshot_download("openai/whisper-small")
emb = SentenceTransformer(model_name_or_path="sentence-transformers/all-MiniLM-L6-v2")
parser = argparse.ArgumentParser()
parser.add_argument("--model_name_or_path", default="roberta-base")
parser.add_argument("--epochs", default="3")
import timm
timm.create_model("hf-hub:timm/vit_base_patch16_224.augreg_in21k")
timm.create_model("resnet50")
dynamic = AutoModel.from_pretrained(f"{MODEL}-large")
'''


def checkout(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    (tmp_path / "src" / "broken.py").write_text("def (:\n")
    notebook = {"cells": [{"cell_type": "markdown", "source": ["from_pretrained('not/code')"]},
                          {"cell_type": "code", "source": ["!pip install transformers\n",
                                                           "m = AutoModel.from_pretrained('gpt2')\n"]}]}
    (tmp_path / "demo.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "config.yaml").write_text("model_name_or_path: meta-llama/Llama-2-7b-hf  # base\noutput_dir: ./out\n")
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "mistralai/Mistral-7B-v0.1"}))
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.py").write_text("AutoModel.from_pretrained('hidden/model')")
    return tmp_path


def test_finds_loads_with_file_and_line(tmp_path):
    items = list(scan(checkout(tmp_path)))
    finds = {(f.file, f.line, f.model) for f in items if isinstance(f, Find)}
    assert finds == {
        ("src/train.py", 6, "bert-base-uncased"),
        ("src/train.py", 9, "distilbert-base-uncased-finetuned-sst-2-english"),
        ("src/train.py", 10, "TheBloke/Llama-2-7B-Chat-GGUF"),
        ("src/train.py", 11, "openai/whisper-small"),
        ("src/train.py", 12, "sentence-transformers/all-MiniLM-L6-v2"),
        ("src/train.py", 14, "roberta-base"),
        ("src/train.py", 17, "timm/vit_base_patch16_224.augreg_in21k"),
        ("demo.ipynb#cell2", 2, "gpt2"),
        ("config.yaml", 1, "meta-llama/Llama-2-7b-hf"),
        ("adapter_config.json", 0, "mistralai/Mistral-7B-v0.1"),
    }
    (skipped,) = [s for s in items if isinstance(s, Skipped)]
    assert skipped.location == "src/broken.py" and "SyntaxError" in skipped.reason


def test_local_paths_and_files_are_not_model_ids():
    assert looks_like_model_id("bert-base-uncased") and looks_like_model_id("org/name.v2")
    for text in ("./ckpt", "../x", "/abs/path", "a/b/c", "model.bin", "out/model.safetensors", "123", "has space"):
        assert not looks_like_model_id(text), text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_python_text_parses_or_raises_syntax_error(text):
    try:
        python_finds(text)
    except (SyntaxError, ValueError, RecursionError):
        pass


def test_cli_scan_writes_uses_edges_with_location(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    repo = tmp_path / "repo"
    repo.mkdir()
    result = runner.invoke(app, [*store, "scan", str(checkout(repo)), "--repo", "me/private", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["uses"]) == 10
    rows = json.loads(runner.invoke(app, [*store, "query", "MATCH (r:Repo)-[u:USES]->(m:Model {key: $k}) "
                                          "RETURN r.id AS repo, u.file AS file, u.line AS line, m.stub AS stub",
                                          "-p", "k=roberta-base", "--json"]).stdout)
    assert rows == [{"repo": "me/private", "file": "src/train.py", "line": 14, "stub": True}]
