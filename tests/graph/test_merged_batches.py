"""Batches written together (the ingest writer merges the batches it finds waiting): the merged tables must be
what writing the batches one after the other leaves in the store."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch, ends_in_batch, merged_tables
from ptmgraph.graph.embedded import EmbeddedStore

_IDS = st.sampled_from(["Org/M1", "org/m1", "org/M2", "Org/m3", "other/m4"])
_NAMES = st.sampled_from(["MIT", "mit", "apache-2.0", "Org", "org", "", None])
_COUNTS = st.one_of(st.none(), st.integers(0, 9))
_RECORDS = st.one_of(
    st.builds(lambda i, a, lic, n, s: d.Model(i, author=a, license=lic, downloads=n, source=s),
              _IDS, _NAMES, _NAMES, _COUNTS, st.sampled_from(["s1", "s2"])),
    st.builds(lambda c, p, r: d.Lineage(c, p, r, "declared-card", 1.0, "s1"),
              _IDS, _IDS, st.sampled_from(["finetune", "merge"])),
    st.builds(lambda i, lic, s: d.LicensedAs(i, lic, source=s), _IDS, st.sampled_from(["MIT", "gpl-3.0"]),
              st.sampled_from(["s1", "s2"])),
    st.builds(lambda i: d.Author(i), st.sampled_from(["Org", "ORG", "new"])),
)


def _one_after_another(parts):
    """The reference: every row of every part in order, one per identity, later non-null values win."""
    out = ({}, {})
    for part in parts:
        for side, identity in ((0, ("key",)), (1, ("from", "to", "disc", "provenance"))):
            for name, table in part[side].items():
                rows = out[side].setdefault(name, {})
                for row in table.to_pylist():
                    # USES are told apart by disc, DERIVED_FROM by provenance, the others by their ends alone.
                    old = rows.setdefault(tuple(row.get(c) for c in identity), dict(row))
                    old.update((k, v) for k, v in row.items() if v is not None)
    return tuple({name: list(rows.values()) for name, rows in side.items()} for side in out)


def _vouched_ends_are_nodes_of_the_batch(tables) -> None:
    """A store skips looking up (and making stubs for) the ends a batch vouches for: each must be one of its nodes."""
    nodes, edges = tables
    for (_, from_label, to_label), table in edges.items():
        for end, label in (("from", from_label), ("to", to_label)):
            if end in ends_in_batch(table):
                assert set(table.column(end).to_pylist()) <= set(nodes[label].column("key").to_pylist()), end


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_RECORDS, max_size=8), min_size=1, max_size=4))
def test_merged_tables_are_the_parts_one_after_another(records):
    parts = [Batch.of(part).tables() for part in records]
    merged = merged_tables(parts)
    want = _one_after_another(parts)
    for tables in (*parts, merged):
        _vouched_ends_are_nodes_of_the_batch(tables)
    for side in (0, 1):
        assert set(merged[side]) == set(want[side])
        for name, table in merged[side].items():
            assert table.schema == parts[0][side].get(name, table).schema
            assert table.to_pylist() == want[side][name], name


_MODELS = st.builds(lambda i, a, lic, s: d.Model(i, author=a, license=lic, source=s),
                   _IDS, _NAMES, _NAMES, st.sampled_from(["s1", "s2"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_MODELS, max_size=10))
def test_a_batch_of_models_is_its_records_one_after_another(models):
    """A model given twice in a batch is one row, but each of its records implies its own author and licence edge
    (a later author, or none, does not remove an earlier one's edge from a store), and the last spelling of an
    author or licence names its node: what the graph holds must not depend on where batches end."""
    whole = Batch.of(models).tables()
    want = _one_after_another([Batch.of([model]).tables() for model in models])
    for side in (0, 1):
        assert {name: table.to_pylist() for name, table in whole[side].items()} == want[side]


def test_a_later_record_of_a_model_keeps_the_edges_its_earlier_records_imply():
    models = [d.Model("org/m", author="Org", license="MIT", source="s1"),
              d.Model("org/other", author="org", license="mit", source="s1"),
              d.Model("Org/M", author="", license="apache-2.0", source="s2")]
    nodes, edges = Batch.of(models).tables()
    model = nodes["Model"].to_pylist()[0]  # the model's own properties: its last record's
    assert [model[name] for name in ("key", "id", "author", "license", "source")] == [
        "org/m", "Org/M", "", "apache-2.0", "s2"]
    assert nodes["Author"].to_pylist() == [{"key": "org", "id": "org", "stub": False}]
    assert nodes["License"].to_pylist() == [{"key": "mit", "id": "mit", "stub": False},
                                            {"key": "apache-2.0", "id": "apache-2.0", "stub": False}]
    authored = edges[("AUTHORED_BY", "Model", "Author")].to_pylist()
    assert [(e["from"], e["to"], e["from_id"], e["to_id"]) for e in authored] == [
        ("org/m", "org", "org/m", "Org"), ("org/other", "org", "org/other", "org")]
    licensed = edges[("LICENSED_AS", "Model", "License")].to_pylist()
    assert [(e["from"], e["to"], e["from_id"], e["source"]) for e in licensed] == [
        ("org/m", "mit", "org/m", "s1"), ("org/other", "mit", "org/other", "s1"),
        ("org/m", "apache-2.0", "Org/M", "s2")]


def _dump(store):
    return [store.query(q).rows for q in (
        "MATCH (n) RETURN label(n) AS l, n.key, n.id, n.stub, n.license, n.downloads, n.source ORDER BY l, n.key",
        "MATCH (a)-[e]->(b) RETURN label(e) AS t, a.key, b.key, b.id, e.provenance, e.source, e.relation "
        "ORDER BY t, a.key, b.key, e.provenance",
    )]


def test_writing_merged_batches_leaves_the_graph_writing_them_in_turn_leaves(tmp_path):
    parts = [
        [d.Model("Org/A", author="Org", license="MIT", downloads=1, source="s1"),
         d.Lineage("Org/A", "base/X", "finetune", "declared-card", 1.0, "s1")],  # base/X a stub for now
        [d.Model("org/a", downloads=5, source="s2"),  # the same model: new downloads, the licence kept
         d.Model("Base/X", author="BASE", license="apache-2.0", source="s2"),  # the stub becomes real
         d.LicensedAs("org/a", "gpl-3.0", source="s2")],
        [d.Model("Org/B", author="ORG", license="mit", source="s3"),  # the author and licence respelled
         d.Lineage("Org/B", "org/a", "merge", "declared-card", 1.0, "s3")],
    ]
    tables = [Batch.of(part).tables() for part in parts]
    with EmbeddedStore(tmp_path / "in-turn") as store:
        for part in tables:
            store.write(Batch.prebuilt(*part))
        in_turn = _dump(store)
    with EmbeddedStore(tmp_path / "merged") as store:
        store.write(Batch.prebuilt(*merged_tables(tables)))
        merged = _dump(store)
    assert merged == in_turn
    nodes = {(row[0], row[1]): row for row in in_turn[0]}
    assert nodes[("Model", "org/a")][5] == 5 and nodes[("Model", "org/a")][4] == "MIT"
    assert nodes[("Model", "base/x")][3] is False and nodes[("Author", "org")][2] == "ORG"


def test_a_batch_vouches_for_the_ends_it_holds_and_only_those():
    """The ingest's common case must be vouched for (else the store hashes every key again), and nothing more."""
    models = [d.Model("org/base", author="Org", license="MIT"), d.Model("org/tuned", author="org", license="mit")]
    inside = d.Lineage("org/tuned", "org/base", "finetune", "declared-card", 1.0, "s1")
    outside = d.Lineage("org/tuned", "elsewhere/base", "finetune", "declared-card", 1.0, "s1")
    vouched = {group[0]: ends_in_batch(table) for group, table in Batch.of([*models, inside]).tables()[1].items()}
    assert vouched == {"AUTHORED_BY": {"from", "to"}, "LICENSED_AS": {"from", "to"}, "DERIVED_FROM": {"from", "to"}}
    elsewhere = d.LicensedAs("x/y", "gpl-3.0")  # a licence record for a model the batch does not hold
    parts = [Batch.of([*models, outside]).tables(), Batch.of([*models, inside, elsewhere]).tables()]
    for tables in parts:
        _vouched_ends_are_nodes_of_the_batch(tables)
    assert ends_in_batch(parts[0][1][("DERIVED_FROM", "Model", "Model")]) == {"from"}
    assert ends_in_batch(parts[1][1][("LICENSED_AS", "Model", "License")]) == frozenset()
    merged = merged_tables(parts)[1]
    assert ends_in_batch(merged[("DERIVED_FROM", "Model", "Model")]) == {"from"}
    assert ends_in_batch(merged[("AUTHORED_BY", "Model", "Author")]) == {"from", "to"}
    assert ends_in_batch(merged[("LICENSED_AS", "Model", "License")]) == frozenset()
