"""DARA's vectors and its MLP: reading, training, saving, scoring."""

from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("torch")

from ptmgraph.gnn.vectors import VectorClassifier, VectorsError, arch_to_type, folds, read_vectors  # noqa: E402


def synthetic_vectors(tmp_path, n=30):
    rng = random.Random(1)
    data = {}
    for arch, keys in (("BertForMaskedLM", ["[1, 8, 768]", "[1, 768]"]), ("GPT2LMHeadModel", ["[1, 8, 50257]"]),
                       ("ViTModel", ["[1, 3, 224, 224]", "[1, 197, 768]"])):
        data[arch] = {f"{arch}-{i}": {k: rng.randint(5, 40) for k in keys} | {"noise": rng.randint(0, 3)}
                      for i in range(n)}
    path = tmp_path / "vec.json"
    path.write_text(json.dumps(data))
    return path


def test_mlp_learns_separable_vectors_and_round_trips(tmp_path):
    rows = read_vectors(synthetic_vectors(tmp_path))
    types = {"BertForMaskedLM": "bert", "GPT2LMHeadModel": "gpt2", "ViTModel": "vit"}
    train = [r for i, r in enumerate(rows) if i % 3]
    test = [r for i, r in enumerate(rows) if not i % 3]
    clf = VectorClassifier.fit(train, types, epochs=30)
    assert clf.predict(test) == [(types[a], a) for _, a, _ in test]
    clf.save(tmp_path / "m.pt")
    assert VectorClassifier.load(tmp_path / "m.pt").predict(test) == clf.predict(test)


def test_checkpoint_holds_no_strings_from_the_training_file(tmp_path):
    import torch

    rows = read_vectors(synthetic_vectors(tmp_path))
    clf = VectorClassifier.fit(rows, {}, epochs=1)
    clf.save(tmp_path / "m.pt")
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    text = repr({k: v for k, v in blob.items() if k != "state"})
    assert "768" not in text and "noise" not in text, "feature keys must be hashed, not stored"
    # Keys the checkpoint never saw are read, not refused.
    assert len(clf.predict([("m", "?", {"[1, 2, 3]": 4.0, "unseen": 1.0})])) == 1


def test_folds_partition_and_are_seeded():
    parts = list(folds(23))
    assert sorted(i for _, te in parts for i in te) == list(range(23))
    assert all(not set(tr) & set(te) for tr, te in parts)
    assert parts == list(folds(23))


def test_labels_take_the_majority_type():
    labels = {"bert": {"BartForConditionalGeneration": ["a"]}, "bart": {"BartForConditionalGeneration": ["b", "c"]}}
    assert arch_to_type(labels) == {"BartForConditionalGeneration": "bart"}


@pytest.mark.parametrize("content, message", [("[1, 2]", "expected"), ('{"A": [1]}', "does not map"),
                                              ('{"A": {"m": {"k": "x"}}}', "not {feature: count}"), ("{", "JSON"),
                                              ('{"bert-base-cased": {"(LayerNorm, Linear)": 45}}', "not grouped")])
def test_bad_vectors_name_the_problem(tmp_path, content, message):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(VectorsError, match=message):
        read_vectors(path)
