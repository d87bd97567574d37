"""LayerGraph: one type for every source, generic op names, clear errors on bad input."""

from __future__ import annotations

import json

import pytest

from ptmgraph.gnn.layer_graph import MAX_NODES, GraphError, LayerGraph, Node, canonical_op, from_aptm, \
    from_sequence, load


@pytest.mark.parametrize("raw, op", [("LayerNorm", "layer_norm"), ("layer_norm", "layer_norm"),
                                     ("torch.nn.functional.linear", "linear"), ("__iadd__", "add"),
                                     ("Conv2d", "conv2d"), ("BatchNorm2d", "batch_norm"), ("bmm", "matmul"),
                                     ("__getitem__ ", "getitem"), ("", "unknown")])
def test_canonical_op_spellings(raw, op):
    assert canonical_op(raw) == op


def test_json_round_trip_keeps_everything(tmp_path):
    g = LayerGraph([Node("embedding", (1, 8, 768), ((1, 8),), ((30522, 768),), {"a1": 0.1}, "emb"),
                    Node("linear", (1, 8, 2), ((1, 8, 768),), ((2, 768), (2,)))], [(0, 1)], repeats=12,
                   model_type="bert", architecture="BertForTokenClassification")
    path = tmp_path / "g.json"
    path.write_text(json.dumps(g.to_json()))
    back = load(path)
    assert back.to_json() == {**g.to_json(), "source": str(path)}


def test_aptm_graph_reads_nodes_edges_and_shapes():
    items = [{"operation": "Undefined", "input_shape": None, "output_shape": [1, 3, 224, 224], "node_id": "a",
              "connects_to": ["b"], "type": "Input", "parameters": None},
             {"operation": "Conv2d", "input_shape": [1, 3, 224, 224], "output_shape": [1, 64, 112, 112],
              "node_id": "b", "connects_to": ["c", "missing"], "type": "Layer", "parameters": {"kernel_size": 7}},
             {"operation": "relu", "input_shape": [[1, 64, 112, 112]], "output_shape": [[1, 64, 112, 112]],
              "node_id": "c", "connects_to": [], "type": "Function", "parameters": {}}]
    g = from_aptm(items)
    assert [n.op for n in g.nodes] == ["input", "conv2d", "relu"]
    assert g.edges == [(0, 1), (1, 2)]
    assert g.nodes[1].hyper == {"kernel_size": 7.0} and g.nodes[2].out_shape == (1, 64, 112, 112)


def test_real_aptm_example(shared_data):
    g = load(shared_data / "dara" / "aptm_graph_example.json")
    assert len(g) == 70 and g.view == "aptm"
    assert {"conv2d", "batch_norm", "relu"} <= {n.op for n in g.nodes}
    assert len(g.edges) >= 69


def test_sequence_is_a_chain():
    g = from_sequence("Embedding LayerNorm Linear Linear".split())
    assert [n.op for n in g.nodes] == ["embedding", "layer_norm", "linear", "linear"]
    assert g.edges == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(GraphError, match="no operations"):
        from_sequence(["  "])


@pytest.mark.parametrize("content, message", [("{not json", "not valid JSON"), ('{"x": 1}', "not a layer graph"),
                                              ('{"nodes": [{"op": "a"}], "edges": [[0, 5]]}', "does not exist"),
                                              ('{"nodes": [{"noop": 1}], "edges": []}', "malformed")])
def test_bad_graph_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(GraphError, match=message) as info:
        load(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_huge_graph_is_not_assessable():
    with pytest.raises(GraphError, match="not assessable"):
        from_sequence(["linear"] * 100_000)
    assert MAX_NODES < 100_000
