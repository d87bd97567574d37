"""Shape features and the checkpoint format they are tied to."""

from __future__ import annotations

import pytest

from ptmgraph.errors import PtmgraphError
from ptmgraph.gnn.features import _FREQS, _periodic, graph_vector
from ptmgraph.gnn.layer_graph import LayerGraph, Node


def _embedding_graph(vocab: int) -> LayerGraph:
    return LayerGraph([Node("embedding", (vocab,), params=((vocab, 4096),), module="embed_tokens")], [],
                      view="modules")


@pytest.mark.parametrize(("small", "large"), [(32_000, 128_000), (1024, 4096), (768, 3072)])
def test_sizes_a_power_of_two_apart_read_differently(small, large):
    # mistral (32,000 tokens) and llama-3 (128,256) share every other size: the vocabulary must stand out.
    assert max(abs(a - b) for a, b in zip(_periodic(small), _periodic(large))) > 0.5
    periodic_part = slice(-4 * len(_FREQS), None)
    assert graph_vector(_embedding_graph(small))[periodic_part] != graph_vector(_embedding_graph(large))[periodic_part]


def test_a_checkpoint_of_another_feature_format_is_refused(tmp_path):
    pytest.importorskip("torch_geometric")
    import torch

    from ptmgraph.gnn.model import GraphClassifier

    path = tmp_path / "old.pt"
    GraphClassifier(["bert"], ["BertModel"], hidden=8, layers=1).save(path)
    blob = torch.load(path, weights_only=True)
    blob["format"] = "ptmgraph.dara-gnn/1"
    torch.save(blob, path)
    with pytest.raises(PtmgraphError, match="format ptmgraph.dara-gnn/2 expected"):
        GraphClassifier.load(path)


def test_shipped_gnn_tells_mistral_from_llama_3_by_its_vocabulary():
    pytest.importorskip("transformers")
    from ptmgraph.gnn import checkpoints
    from ptmgraph.gnn.presets import family
    from ptmgraph.gnn.trace import graphs_from_config

    clf = checkpoints.gnn()
    mistral = graphs_from_config({"model_type": "mistral", **family("mistral").presets[0]}, "MistralForCausalLM")
    llama3 = graphs_from_config({"model_type": "llama", **family("llama").presets[2]}, "LlamaForCausalLM")
    found = clf.predict([mistral["modules"], llama3["modules"]])
    assert [p.model_type for p in found] == ["mistral", "llama"]
