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
