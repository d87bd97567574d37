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


_NAMES = st.sampled_from(["org/a", "ORG/a", "org/b", "x/c", "Org/B"])
_VALUES = st.one_of(st.none(), st.sampled_from(["mit", "MIT", "apache-2.0", "", "alice", "Alice"]))
_RECORDS = st.one_of(
    st.builds(d.Model, _NAMES, author=_VALUES, license=_VALUES, downloads=st.one_of(st.none(), st.integers(0, 9)),
              source=st.sampled_from(["s1", "s2"])),
    st.builds(d.Lineage, _NAMES, _NAMES, st.sampled_from(["finetune", "merge"]),
              st.sampled_from(["declared-card", "declared-tag"]), st.sampled_from([0.5, 1.0])),
    st.builds(d.LicensedAs, _NAMES, st.sampled_from(["mit", "MIT", "gpl-3.0"]), source=st.sampled_from(["s1", "s3"])),
    st.builds(d.AuthoredBy, _NAMES, st.sampled_from(["alice", "ALICE", "bob"])),
    st.builds(d.Author, st.sampled_from(["alice", "Alice", "carol"])),
    st.builds(d.License, st.sampled_from(["mit", "Mit", "bsd"])),
)


def _expected_tables(records):
    """The merge rules spelled out one record at a time: repeated facts merge (later non-null values win), each
    model record implies its author and licence (a later record of the model that names another, or none, keeps
    the earlier edge, as a store would), and explicit records come after what models imply."""
    def merge(table, identity, row):
        old = table.setdefault(identity, row)
        if old is not row:
            table[identity] = [new if new is not None else was for was, new in zip(old, row)]

    models, edges = {}, {}
    for r in records:
        if isinstance(r, d.Model):
            merge(models, r.key, [getattr(r, f) for f in r.__slots__])
        elif isinstance(r, d.Lineage):
            merge(edges, (d.node_key(r.child), d.node_key(r.parent), r.provenance.value),
                  [r.child, r.parent, r.relation.value, r.confidence, r.source])
    tables = {name: {} for name in ("Model", "Author", "License", "AUTHORED_BY", "LICENSED_AS", "DERIVED_FROM")}
    for key, values in models.items():
        m = d.Model(*values)
        merge(tables["Model"], key, [key, m.id, False, *(getattr(m, f) for f in m.__slots__[1:])])
    for m in records:
        if not isinstance(m, d.Model):
            continue
        for target, label, rel, extra in ((m.author, "Author", "AUTHORED_BY", []),
                                          (m.license, "License", "LICENSED_AS", [m.source])):
            if target:
                merge(tables[label], d.node_key(target), [d.node_key(target), target, False])
                merge(tables[rel], (m.key, d.node_key(target)), [m.key, d.node_key(target), m.id, target, *extra])
    for r in records:
        if isinstance(r, (d.Author, d.License)):
            merge(tables[type(r).__name__], d.node_key(r.id), [d.node_key(r.id), r.id, False])
    for (child, parent, provenance), (c, p, relation, confidence, source) in edges.items():
        merge(tables["DERIVED_FROM"], (child, parent, provenance),
              [child, parent, c, p, relation, provenance, confidence, source])
    for r in records:
        if isinstance(r, d.LicensedAs):
            k, lk = d.node_key(r.subject), d.node_key(r.license)
            merge(tables["LICENSED_AS"], (k, lk), [k, lk, r.subject, r.license, r.source])
        elif isinstance(r, d.AuthoredBy):
            k, ak = d.node_key(r.model), d.node_key(r.author)
            merge(tables["AUTHORED_BY"], (k, ak), [k, ak, r.model, r.author])
    return {name: list(rows.values()) for name, rows in tables.items() if rows}


@given(st.lists(_RECORDS, max_size=25))
def test_batch_tables_follow_the_merge_rules_record_by_record(records):
    """Models and lineage are turned into tables column by column (the ingest's hot path); this checks that the
    result is row for row what the rules give when applied one record at a time."""
    nodes, edges = Batch.of(records).tables()
    found = {label: [list(row.values()) for row in table.to_pylist()] for label, table in nodes.items()}
    found.update({rel: [list(row.values()) for row in table.to_pylist()] for (rel, _, _), table in edges.items()})
    assert {name: rows for name, rows in found.items() if rows} == _expected_tables(records)


@pytest.mark.parametrize("field, value", [("created_at", 123), ("gated", "yes"), ("license", ["mit"]),
                                          ("author", 7), ("has_card", 1)])
def test_a_model_field_of_the_wrong_type_is_rejected_where_it_enters(field, value):
    """Caught later, when the batch's typed columns are built, it would stop the whole ingest with a traceback."""
    with pytest.raises(InvalidRecord, match=f"{field} of a/b must be a"):
        d.Model("a/b", **{field: value})
