"""Naming anomalies: pairwise comparison of name, config and the architecture the GNN sees."""

from __future__ import annotations

import json

import pytest

from ptmgraph.gnn.assess import assess, flags
from ptmgraph.gnn.layer_graph import from_sequence
from ptmgraph.gnn.model import Prediction


class FixedClassifier:
    """A test double standing in for the GNN: always predicts the given type with the given probability."""

    def __init__(self, model_type, p):
        self.model_type, self.p = model_type, p

    def predict(self, graphs):
        return [Prediction(self.model_type, self.p, "X", self.p) for _ in graphs]


GRAPH = from_sequence(["linear", "layer_norm"])


def test_known_family_names_are_not_anomalies():
    # CodeBERT is a RoBERTa by design; the parser knows the family, so its config is no surprise.
    assert assess("microsoft/codebert-base", {"model_type": "roberta"}).findings == []


def test_plain_bert_named_model_with_roberta_config():
    found = assess("someone/bert-base-finetuned-imdb", {"model_type": "roberta"})
    assert [(f.check, f.expected, f.found) for f in found.findings] == [("name-vs-config", "bert", "roberta")]


def test_look_alikes_need_sure_shapes():
    unsure = assess("org/xlm-roberta-base-ner", {"model_type": "xlm-roberta"}, GRAPH, FixedClassifier("roberta", 0.9))
    assert unsure.findings == []
    sure = assess("org/xlm-roberta-base-ner", {"model_type": "xlm-roberta"}, GRAPH, FixedClassifier("roberta", 0.99))
    assert {f.check for f in sure.findings} == {"config-vs-architecture", "name-vs-architecture"}


def test_config_lie_caught_by_architecture():
    found = assess("org/gpt2-small-chat", {"model_type": "gpt2"}, GRAPH, FixedClassifier("bert", 0.95))
    checks = {f.check: f for f in found.findings}
    assert set(checks) == {"config-vs-architecture", "name-vs-architecture"}
    assert checks["config-vs-architecture"].probability == 0.95
    records = flags(found)
    assert {r.kind for r in records} == {"naming"} and len({r.id for r in records}) == 2
    assert json.loads(records[0].evidence)["check"] in checks
    assert [r.id for r in flags(found)] == [r.id for r in records], "re-scans must be idempotent"


def test_unsure_classifier_is_not_an_anomaly():
    assert assess("org/gpt2-x", {"model_type": "gpt2"}, GRAPH, FixedClassifier("bert", 0.5)).findings == []


def test_not_assessable_is_recorded():
    found = assess("org/m", None, None, None, graph_error="unknown model_type 'zz'")
    assert not found.assessable and "zz" in found.reason and found.findings == []


def test_shipped_gnn_sees_through_a_lying_config():
    pytest.importorskip("transformers")
    from ptmgraph.gnn import checkpoints
    from ptmgraph.gnn.presets import family
    from ptmgraph.gnn.trace import graph_from_config

    try:
        clf = checkpoints.gnn()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the shipped GNN checkpoint must load: {exc}")
    graph = graph_from_config({"model_type": "gpt2", **family("gpt2").presets[0]}, "GPT2LMHeadModel")
    found = assess("org/bert-base-cased", {"model_type": "bert"}, graph, clf)
    assert found.predicted_type == "gpt2" and found.predicted_type_p > 0.8
    assert {f.check for f in found.findings} == {"config-vs-architecture", "name-vs-architecture"}
