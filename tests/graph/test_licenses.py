from __future__ import annotations

import json

import pytest

from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.graph.licenses import conflict, detect, drift, terms
from ptmgraph.graph.propagation import propagate, why


@pytest.mark.parametrize("project, model, expected", [
    ("mit", "cc-by-nc-4.0", "forbids commercial use"),
    ("apache-2.0", "llama2", "restricts how it may be used"),
    ("mit", "gpl-3.0", "copyleft"),
    ("apache-2.0", "cc-by-sa-4.0", "share-alike"),
    ("gpl-3.0", "gpl-3.0", None),
    ("mit", "apache-2.0", None),
    ("apache-2.0", "lgpl-3.0", None),
    ("Apache-2.0", "MIT", None),
])
def test_project_model_rules(project, model, expected):
    why = conflict(terms(project), terms(model))
    assert (why is None) if expected is None else (expected in why)


def test_unknown_licences_are_not_guessed():
    assert terms("my-company-eula") is None and terms(None) is None


def test_drift_of_a_llama_derivative_to_apache():
    assert "drops those restrictions" in drift(terms("apache-2.0"), terms("llama2"))
    assert drift(terms("llama2"), terms("llama2")) is None


def test_detect_writes_flags_that_propagate(tmp_path):
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of([
            d.Model("meta-llama/Llama-2-7b-hf", license="llama2"),
            d.Model("someone/llama-chat", license="apache-2.0"),
            d.Lineage("someone/llama-chat", "meta-llama/Llama-2-7b-hf", "finetune"),
            d.Model("someone/llama-chat-GGUF", license="apache-2.0"),
            d.Lineage("someone/llama-chat-GGUF", "someone/llama-chat", "quantized"),
            d.Repo("me/app", licenses=("mit",)), d.Uses("me/app", "someone/llama-chat-GGUF"),
            d.Repo("me/ok", licenses=("apache-2.0",)), d.Uses("me/ok", "someone/llama-chat"),
            d.Repo("me/unknown", licenses=("my-eula",)), d.Uses("me/unknown", "meta-llama/Llama-2-7b-hf"),
            d.Repo("me/uses-base", licenses=("mit",)), d.Uses("me/uses-base", "meta-llama/Llama-2-7b-hf"),
        ]))
        flags = list(detect(store))
        assert {(f.subject, f.subject_kind.value) for f in flags} == {
            ("someone/llama-chat", "Model"), ("me/uses-base", "Repo")}
        drifted = next(f for f in flags if f.subject == "someone/llama-chat")
        assert json.loads(drifted.evidence)["parent_license"] == "llama2"
        store.write(Batch.of(flags))
        assert list(detect(store)) == flags  # deterministic ids: re-running changes nothing
        propagate(store)
        reached = why(store, "me/app")["inherited"]
        assert [list(r["path"]) for r in reached] == [["someone/llama-chat", "someone/llama-chat-GGUF", "me/app"]]
