"""Graphs from safetensors headers, without weights."""

from __future__ import annotations

import json
import struct

import pytest

from ptmgraph.gnn.layer_graph import GraphError
from ptmgraph.gnn.weights import graph_from_safetensors, header


def write_safetensors(path, tensors):
    offset, meta = 0, {"__metadata__": {"format": "pt"}}
    for name, shape in tensors.items():
        size = 4
        for d in shape:
            size *= d
        meta[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(meta).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def test_header_becomes_module_graph(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"roberta.embeddings.word_embeddings.weight": (50, 8),
                             "roberta.embeddings.LayerNorm.weight": (8,), "roberta.embeddings.LayerNorm.bias": (8,),
                             "classifier.dense.weight": (8, 8), "classifier.dense.bias": (8,),
                             "classifier.out_proj.weight": (3, 8)})
    g = graph_from_safetensors(path)
    # One canonical order (natural by module path, weight before bias), whatever order the file lists.
    assert [(n.module, n.op) for n in g.nodes] == [
        ("classifier.dense", "linear"), ("classifier.out_proj", "linear"),
        ("roberta.embeddings.LayerNorm", "layer_norm"), ("roberta.embeddings.word_embeddings", "embedding")]
    assert g.nodes[0].params == ((8, 8), (8,)) and g.nodes[-1].params == ((50, 8),)
    assert g.view == "modules" and g.edges == [(0, 1), (1, 2), (2, 3)]


def test_sharded_folder_reads_every_file(tmp_path):
    write_safetensors(tmp_path / "model-00001-of-00002.safetensors", {"a.weight": (4, 4)})
    write_safetensors(tmp_path / "model-00002-of-00002.safetensors", {"b.weight": (2, 4)})
    assert len(graph_from_safetensors(tmp_path)) == 2


@pytest.mark.parametrize("content, message", [(b"\x01\x02", "truncated safetensors file"),
                                              (struct.pack("<Q", 500) + b"{}", "truncated safetensors header"),
                                              (struct.pack("<Q", 10**12), "not a safetensors file"),
                                              (struct.pack("<Q", 3) + b"{x}", "not valid JSON")])
def test_bad_headers_are_clear(tmp_path, content, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(GraphError, match=message):
        header(path)


def test_hub_header_is_read_with_range_requests_through_the_real_client(tmp_path, monkeypatch):
    """huggingface_hub.get_safetensors_metadata against a recorded endpoint on 127.0.0.1 (HF_ENDPOINT): a
    RoBERTa classifier's real tensor names and shapes, served only as the first bytes of model.safetensors."""
    import torch

    from ptmgraph.gnn.trace import architecture_class, load_config
    from ptmgraph.gnn.weights import graph_from_hub
    from tests.ingest import hub_server

    config = load_config({"model_type": "roberta", "vocab_size": 50265, "max_position_embeddings": 514,
                          "type_vocab_size": 1, "num_hidden_layers": 2, "num_labels": 3})
    with torch.device("meta"):
        model = architecture_class(config, "RobertaForSequenceClassification")(config)
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {name: tuple(p.shape) for name, p in model.named_parameters()})
    raw = path.read_bytes()
    header_len = 8 + struct.unpack("<Q", raw[:8])[0]
    # The file stops a little after its header: only range requests over the header may be made.
    monkeypatch.setitem(hub_server.BINARY, ("org/roberta-clf", "model.safetensors"), raw[:header_len + 64])
    with hub_server.HubStub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        graph = graph_from_hub("org/roberta-clf")
        with pytest.raises(GraphError, match="org/missing: no safetensors header"):
            graph_from_hub("org/missing")
    assert graph.nodes == graph_from_safetensors(path).nodes and graph.source == "org/roberta-clf"
    assert graph.repeats == 2 and any(n.params == ((50265, 768),) for n in graph.nodes)
    assert any(r.startswith("HEAD /org/roberta-clf/resolve/") for r in hub.requests)
