from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord
from ptmgraph.graph.batch import Batch


def test_ids_keep_their_case_and_match_without_it():
    m = d.Model("  TheBloke/Llama-2-7B-GGUF ")
    assert m.id == "TheBloke/Llama-2-7B-GGUF"
    assert m.key == d.node_key("thebloke/llama-2-7b-gguf")


@pytest.mark.parametrize("bad, message", [
    ("", "empty"), ("   ", "empty"), ("a\nb", "control characters"), ("a\x00b", "control characters"),
    ("x" * 600, "at most 512"), (42, "must be a string"),
])
def test_bad_ids_are_rejected_with_a_reason(bad, message):
    with pytest.raises(InvalidRecord, match=message):
        d.Model(bad)


def test_lineage_fields_are_checked():
    with pytest.raises(InvalidRecord, match="relation of a/b is 'distilled'; expected one of finetune"):
        d.Lineage("a/b", "c/d", "distilled")
    with pytest.raises(InvalidRecord, match="provenance"):
        d.Lineage("a/b", "c/d", "finetune", "rumour")
    with pytest.raises(InvalidRecord, match="expected 0..1"):
        d.Lineage("a/b", "c/d", confidence=1.5)
    assert d.Lineage("a/b", "c/d", "merge", "leaderboard", 0).confidence == 0.0


def test_counts_and_lists_are_checked():
    with pytest.raises(InvalidRecord, match="downloads"):
        d.Model("a/b", downloads=-1)
    with pytest.raises(InvalidRecord, match="tags"):
        d.Model("a/b", tags="not-a-list")
    assert d.Model("a/b", tags=["x"]).tags == ("x",)


def test_inherited_flag_needs_a_step_and_a_positive_depth():
    with pytest.raises(InvalidRecord, match="positive integer"):
        d.InheritedFlag("F", "a/c", "a/b", "finetune", 0)
    with pytest.raises(InvalidRecord, match="relation is missing"):
        d.InheritedFlag("F", "a/c", "a/b", "", 1)
    with pytest.raises(InvalidRecord, match="step before a/c"):
        d.InheritedFlag("F", "a/c", "", "finetune", 1)
    assert d.InheritedFlag("F", "a/c", "a/b", "finetune", 2).depth == 2


def test_batch_merges_repeated_facts_later_non_null_wins():
    batch = Batch.of([d.Model("A/b", license="mit", downloads=1), d.Model("a/B", downloads=2),
                      d.Lineage("x/c", "A/b"), d.Lineage("X/C", "a/b", confidence=0.5)])
    (row,) = batch.nodes["Model"].values()
    assert row["license"] == "mit" and row["downloads"] == 2 and row["id"] == "a/B"
    (edge,) = batch.edges[("DERIVED_FROM", "Model", "Model")].values()
    assert edge.props["confidence"] == 0.5
    assert batch.nodes["License"]["mit"]["id"] == "mit"
    assert ("LICENSED_AS", "Model", "License") in batch.edges


def test_declared_and_inferred_edges_for_one_pair_both_stay():
    batch = Batch.of([d.Lineage("a/c", "a/p", "finetune", "declared-card"),
                      d.Lineage("a/c", "a/p", "finetune", "name-inferred", 0.6)])
    assert len(batch.edges[("DERIVED_FROM", "Model", "Model")]) == 2


@given(st.text(max_size=80))
def test_any_text_is_either_a_valid_id_or_a_clear_rejection(text):
    try:
        model = d.Model(text)
    except InvalidRecord as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert model.id == text.strip() and model.key == model.id.casefold()
