"""Graphs of real transformers architectures, built on the meta device from configs."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("transformers")

from ptmgraph.gnn.layer_graph import GraphError  # noqa: E402
from ptmgraph.gnn.presets import FAMILIES, family  # noqa: E402
from ptmgraph.gnn.trace import graphs_from_config, graph_from_config  # noqa: E402


def test_bert_trace_has_data_flow_and_generic_ops():
    g = graph_from_config({"model_type": "bert", "num_labels": 3}, "BertForSequenceClassification")
    ops = {n.op for n in g.nodes}
    assert g.view == "trace" and {"embedding", "linear", "layer_norm", "add", "attention"} <= ops
    assert not any("bert" in n.op for n in g.nodes), "op names must not leak the architecture"
    assert g.repeats == 12 and g.traced_layers == 2
    classifier = [n for n in g.nodes if n.op == "linear" and n.params and n.params[0][0] == 3]
    assert classifier, "the 3-label head is visible by its weight shape"
    # data flows: every node but the inputs' consumers has a producer
    assert len(g.edges) >= len(g.nodes) - 5


def test_shapes_separate_look_alikes():
    def vocab(model_type):
        preset = family(model_type).presets[0]
        g = graph_from_config({"model_type": model_type, **preset}, view="modules")
        return max(p[0] for n in g.nodes for p in n.params if len(p) == 2)

    assert (vocab("roberta"), vocab("xlm-roberta"), vocab("camembert")) == (50265, 250002, 32005)


def test_deep_models_are_compressed():
    preset = family("llama").presets[1]  # 40 layers, 13B sizes, still on meta
    start = time.perf_counter()
    g = graph_from_config({"model_type": "llama", **preset}, "LlamaForCausalLM")
    assert g.repeats == 40 and len(g) < 400
    assert time.perf_counter() - start < 60


def test_module_tree_view_is_what_weights_show():
    views = graphs_from_config("gpt2", "GPT2LMHeadModel")
    modules = views["modules"]
    assert modules.view == "modules" and all(n.params for n in modules.nodes)
    assert {"embedding", "linear", "layer_norm"} <= {n.op for n in modules.nodes}


def test_unknown_model_type_is_refused_clearly():
    with pytest.raises(GraphError, match="unknown model_type 'not-a-model'.*not assessable"):
        graph_from_config({"model_type": "not-a-model"})


def test_config_that_does_not_build_is_not_assessable():
    with pytest.raises(GraphError, match="(does not build|rejects)"):
        graph_from_config({"model_type": "bert", "hidden_size": 100, "num_attention_heads": 12})


def test_every_preset_family_builds():
    failures = []
    for fam in FAMILIES:
        try:
            graph_from_config({"model_type": fam.model_type, **fam.presets[0]}, fam.architectures()[0])
        except GraphError as exc:
            failures.append(str(exc))
    assert not failures
