"""Naming elements parsed from model ids."""

from __future__ import annotations

import json

import pytest

from ptmgraph.gnn.naming import parse


@pytest.mark.parametrize("model_id, codes, model_type, reuse", [
    ("distilbert-base-uncased-finetuned-sst-2-english", {"A", "S", "C", "F", "D", "L"}, "distilbert",
     ["finetune"]),
    ("TheBloke/Llama-2-7B-Chat-GGUF", {"A", "P", "F"}, "llama", ["quantization"]),
    ("FacebookAI/xlm-roberta-base", {"A", "S"}, "xlm-roberta", []),
    ("google/bert_uncased_L-6_H-512_A-8", {"A", "C", "N", "H"}, "bert", []),
    ("TheBloke/Mistral-7B-Instruct-v0.2-AWQ", {"A", "P", "V", "F"}, "mistral", ["quantization"]),
])
def test_elements(model_id, codes, model_type, reuse):
    parts = parse(model_id)
    assert codes <= set(parts.codes)
    assert parts.model_type == model_type and parts.reuse == reuse


def test_hostile_names_do_not_crash():
    for name in ["", "/", "a" * 5000, "x/'; DROP TABLE m; --", "模型/中文-bert", "../../etc/passwd"]:
        parse(name)


def test_parser_against_labelled_names(shared_data):
    labelled = json.loads((shared_data / "naming" / "naming_elements.json").read_text())
    hits = total = 0
    for model_id, codes in labelled.items():
        if "A" in codes:
            total += 1
            hits += "A" in parse(model_id).codes
    # The architecture element is the one the anomaly checks rely on; most labelled names must yield it.
    assert total > 10_000 and hits / total > 0.6
