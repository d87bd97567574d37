"""A batch's tables: the nodes and edges a model implies (its author, its licence), built column-wise for speed,
must be exactly what the rules say, spelled however the sources spell them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptmgraph import domain as d
from ptmgraph.graph import schema as s
from ptmgraph.graph.batch import EDGE_ENDS, TRANSPOSED_ROWS, Batch

# A few names in several spellings (one key, many ids), plus the values that imply nothing.
_NAMES = st.sampled_from(["MIT", "mit", "Mit", "apache-2.0", "Apache-2.0", "org", "Org", "ORG", "other", "", None])


def _implied(models: list[d.Model], attribute: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """The rules, one model at a time: a node per key, placed by its first occurrence and spelled as its last;
    an edge from every model whose value is not empty."""
    nodes: dict[str, str] = {}
    edges = []
    for model in models:
        target = getattr(model, attribute)
        if target:
            nodes[d.node_key(target)] = target
            edges.append((model.key, d.node_key(target), model.id, target))
    return list(nodes.items()), edges


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NAMES, _NAMES), max_size=12))
def test_implied_authors_and_licences_follow_the_rules_whatever_the_spellings(values):
    models = [d.Model(f"Org/Model-{i}", author=author, license=licence, source=f"test:{i % 3}")
              for i, (author, licence) in enumerate(values)]
    nodes, edges = Batch.of(models).tables()
    for attribute, label, rel in (("author", "Author", "AUTHORED_BY"), ("license", "License", "LICENSED_AS")):
        want_nodes, want_edges = _implied(models, attribute)
        got_nodes = nodes[label].select(["key", "id", "stub"]).to_pylist() if label in nodes else []
        assert [(row["key"], row["id"]) for row in got_nodes] == want_nodes
        assert [row["stub"] for row in got_nodes] == [False] * len(want_nodes)
        table = edges.get((rel, "Model", label))
        got_edges = [] if table is None else table.to_pylist()
        assert [(e["from"], e["to"], e["from_id"], e["to_id"]) for e in got_edges] == want_edges
        # Identified by their ends: no disc column (an empty one in every row cost the store time).
        assert table is None or table.column_names == [*EDGE_ENDS, *(name for name, _ in s.REL_TABLES[rel].columns)]
        assert s.REL_TABLES[rel].identity == ("from", "to")
        if rel == "LICENSED_AS":
            by_model = {m.key: m.source for m in models}
            assert [e["source"] for e in got_edges] == [by_model[e["from"]] for e in got_edges]


def test_an_implied_edge_and_an_explicit_record_of_it_are_one_edge():
    """An explicit record wins over what a model implies, and the two make one edge, not two."""
    batch = Batch.of([d.Model("a/m", license="MIT", source="card"),
                      d.LicensedAs("a/m", "mit", source="explicit")])
    _, edges = batch.tables()
    rows = edges[("LICENSED_AS", "Model", "License")].to_pylist()
    assert [(r["from"], r["to"], r["to_id"], r["source"]) for r in rows] == [("a/m", "mit", "mit", "explicit")]


@pytest.mark.parametrize("n", [1, TRANSPOSED_ROWS - 1, TRANSPOSED_ROWS, TRANSPOSED_ROWS + 1, 3 * TRANSPOSED_ROWS + 5])
def test_every_row_of_a_large_batch_keeps_its_values_in_its_columns(n):
    """Rows become columns a block at a time: no row may be lost, doubled or shifted at a block's edge."""
    models = [d.Model(f"Org/Model-{i}", author=f"org{i % 7}", downloads=i, likes=n - i, tags=(f"t{i}",),
                      gated=i % 2 == 0, source=f"test:{i}") for i in range(n)]
    lineage = [d.Lineage(f"Org/Model-{i}", f"Org/Model-{i // 2}", d.Relation.FINETUNE, confidence=i / n,
                         source=f"test:{i}") for i in range(1, n)]
    nodes, edges = Batch.of([*models, *lineage]).tables()
    rows = nodes["Model"].to_pylist()
    assert [(r["id"], r["author"], r["downloads"], r["likes"], r["tags"], r["gated"], r["source"]) for r in rows] == \
        [(m.id, m.author, m.downloads, m.likes, list(m.tags), m.gated, m.source) for m in models]
    derived = edges.get(("DERIVED_FROM", "Model", "Model"))
    derived_rows = [] if derived is None else derived.to_pylist()
    got = [(e["from_id"], e["to_id"], e["confidence"], e["source"]) for e in derived_rows]
    assert got == [(e.child, e.parent, e.confidence, e.source) for e in lineage]
