"""The Neo4j store against a fake driver: the exact Cypher, parameters, batching, retries and error mapping."""

from __future__ import annotations

import pytest
from neo4j import exceptions as nx

from ptmgraph import domain as d
from ptmgraph.errors import QueryError, StoreError, StoreUnavailable, StoreVersionMismatch
from ptmgraph.graph import neo4j_store as ns
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.neo4j_store import Neo4jStore
from tests.graph.fake_neo4j import FakeDriver


def make(responder=None, **kwargs):
    driver = FakeDriver(responder) if responder else FakeDriver()
    sleeps: list[float] = []
    store = Neo4jStore(driver, "bolt://fake:7687", sleep=sleeps.append, **kwargs)
    return store, driver, sleeps


def counting(cypher, params):
    """Pretend every MERGE creates what it is given."""
    rows = params.get("rows", [])
    if "MERGE (a)-[" in cypher:
        return [], [], {"relationships_created": len(rows)}
    if cypher.startswith("UNWIND $rows"):
        return [], [], {"nodes_created": len(rows)}
    return [], [], {}


def test_first_write_creates_constraints_then_merges_nodes_with_nulls_dropped():
    store, driver, _ = make(counting)
    store.write(Batch.of([d.Model("Org/Model-A", license="mit", downloads=5)]))
    constraints = driver.statements("CREATE CONSTRAINT")
    assert [s.cypher for s in constraints][0] == (
        "CREATE CONSTRAINT ptmgraph_model_key IF NOT EXISTS FOR (n:Model) REQUIRE n.key IS UNIQUE")
    assert len(constraints) == 7  # six labels and the meta node
    models = driver.statements("MERGE (n:Model {key: r.key}) SET")
    assert models[0].cypher == "UNWIND $rows AS r MERGE (n:Model {key: r.key}) SET n += r.props, n.stub = false"
    row = models[0].params["rows"][0]
    assert row["key"] == "org/model-a"
    assert row["props"]["id"] == "Org/Model-A" and row["props"]["downloads"] == 5
    assert "sha" not in row["props"]  # null would delete the stored value
    assert all(s.committed for s in models)
    # A second write does not redo the schema.
    store.write(Batch.of([d.Model("x/y")]))
    assert len(driver.statements("CREATE CONSTRAINT")) == 7


def test_rows_are_sent_in_transactions_of_5000():
    store, driver, _ = make(counting)
    stats = store.write(Batch.of([d.Model(f"org/m{i}") for i in range(12_001)]))
    sizes = [len(s.params["rows"]) for s in driver.statements("MERGE (n:Model {key: r.key}) SET")]
    assert sizes == [5000, 5000, 2001]
    assert all(s.in_transaction for s in driver.statements("MERGE (n:Model"))
    assert stats.nodes_created == 12_001


def test_edges_bind_both_ends_by_key_then_merge_on_what_tells_them_apart():
    store, driver, _ = make(counting)
    stats = store.write(Batch.of([d.Lineage("a/Child", "b/Parent", "adapter", "adapter-config", 0.8)]))
    stubs = driver.statements("ON CREATE SET n.id = r.id, n.stub = true")
    assert [r["key"] for s in stubs for r in s.params["rows"]] == ["a/child", "b/parent"]
    (edge,) = driver.statements("DERIVED_FROM")[-1:]
    assert edge.cypher == (
        "UNWIND $rows AS r MATCH (a:Model {key: r.f}) MATCH (b:Model {key: r.t}) "
        "MERGE (a)-[e:DERIVED_FROM {provenance: r.provenance}]->(b) SET e += r.props")
    assert edge.params["rows"] == [{"f": "a/child", "t": "b/parent", "provenance": "adapter-config", "props": {
        "relation": "adapter", "confidence": 0.8, "source": ""}}]
    assert stats.edges_created == 1 and stats.stubs_created == 2


def test_edges_that_cannot_repeat_between_two_nodes_merge_on_their_ends_alone():
    store, driver, _ = make(counting)
    store.write(Batch.of([d.Model("Org/M", author="Org", license="MIT", source="s1")]))
    (licence,) = driver.statements("LICENSED_AS")
    assert licence.cypher == (
        "UNWIND $rows AS r MATCH (a:Model {key: r.f}) MATCH (b:License {key: r.t}) "
        "MERGE (a)-[e:LICENSED_AS]->(b) SET e += r.props")
    assert licence.params["rows"] == [{"f": "org/m", "t": "mit", "props": {"source": "s1"}}]
    (author,) = driver.statements("AUTHORED_BY")
    assert "MERGE (a)-[e:AUTHORED_BY]->(b)" in author.cypher
    assert author.params["rows"] == [{"f": "org/m", "t": "org", "props": {}}]


def test_transient_errors_are_retried_with_backoff():
    failures = {"left": 2}

    def flaky(cypher, params):
        if cypher.startswith("UNWIND $rows AS r MERGE (n:Model") and failures["left"]:
            failures["left"] -= 1
            raise nx.TransientError("deadlock detected")
        return counting(cypher, params)

    store, driver, sleeps = make(flaky)
    store.write(Batch.of([d.Model("a/b")]))
    assert len(driver.statements("MERGE (n:Model {key: r.key}) SET")) == 3
    assert sleeps == [0.2, 0.4]
    assert driver.rolled_back == 2  # each failed attempt was rolled back, not committed


def test_unreachable_server_after_retries_is_one_clear_line():
    def down(cypher, params):
        raise nx.ServiceUnavailable("Couldn't connect to fake:7687")

    with pytest.raises(StoreUnavailable) as err:
        make(down)
    assert "cannot reach Neo4j at bolt://fake:7687" in str(err.value)
    assert "docker compose up -d" in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_credentials_name_the_variables():
    def refuse(cypher, params):
        raise nx.AuthError("The client is unauthorized due to authentication failure.")

    with pytest.raises(StoreUnavailable, match="NEO4J_USER and NEO4J_PASSWORD"):
        make(refuse)


def test_syntax_error_becomes_query_error():
    def parse(cypher, params):
        if "MATCH (m RETURN" in cypher:
            raise nx.CypherSyntaxError("Invalid input 'RETURN': expected ')'\n\"MATCH (m RETURN m\"")
        return [], [], {}

    store, _, _ = make(parse)
    with pytest.raises(QueryError, match="^syntax error in the query: Invalid input 'RETURN'") as err:
        store.query("MATCH (m RETURN m")
    assert "\n" not in str(err.value)


def test_graph_of_another_schema_version_is_refused():
    def old(cypher, params):
        if cypher == ns.META_READ:
            return ["v", "g"], [[99, 3]], {}
        return [], [], {}

    with pytest.raises(StoreVersionMismatch, match=r"schema 99.*run `ptmgraph --store bolt://fake:7687 store reset`"):
        make(old)


def test_server_without_constraint_ddl_still_writes_and_says_so():
    def no_ddl(cypher, params):
        if cypher.startswith("CREATE CONSTRAINT"):
            raise nx.DatabaseError("An unknown error occurred")
        return counting(cypher, params)

    store, driver, _ = make(no_ddl)
    store.write(Batch.of([d.Model("a/b")]))
    assert driver.statements("MERGE (n:Model {key: r.key}) SET")
    assert "uniqueness constraints were not created" in store.info()["warning"]


def test_read_only_store_reads_in_read_sessions_and_refuses_writes():
    store, driver, _ = make(counting, read_only=True)
    store.query("MATCH (m:Model) RETURN m.id")
    assert driver.sessions[-1] == (None, "READ")
    with pytest.raises(StoreError, match="read-only"):
        store.write(Batch.of([d.Model("a/b")]))
    assert not driver.statements("MERGE")


def test_lineage_expands_one_level_per_round_trip():
    graph = {"base/m": ["c/one", "c/two"], "c/one": ["c/three"], "c/two": [], "c/three": []}

    def tree(cypher, params):
        if cypher == ns.MODEL_ID:
            return ["id"], [["base/M"]] if params["k"] == "base/m" else [], {}
        if cypher == ns.EXPAND["down"]:
            rows = [[k, c, c, "finetune", "declared-card", False] for k in params["keys"] for c in graph[k]]
            return ["from_key", "key", "id", "relation", "provenance", "stub"], rows, {}
        return [], [], {}

    store, driver, _ = make(tree)
    hits = store.lineage("BASE/m", "down")
    assert [(h.id, h.depth, h.path) for h in hits] == [
        ("c/one", 1, ("base/M", "c/one")), ("c/two", 1, ("base/M", "c/two")),
        ("c/three", 2, ("base/M", "c/one", "c/three"))]
    expands = driver.statements(ns.EXPAND["down"])
    assert [sorted(s.params["keys"]) for s in expands] == [["base/m"], ["c/one", "c/two"], ["c/three"]]
    assert all(s.params["rels"] is None for s in expands)
    store.lineage("base/m", "down", relations={"quantized", "adapter"})
    assert driver.statements(ns.EXPAND["down"])[-1].params["rels"] == ["adapter", "quantized"]


def test_uri_and_credentials_from_environment(monkeypatch):
    seen = {}

    def fake_driver(uri, auth, **kwargs):
        seen.update(uri=uri, auth=auth)
        return FakeDriver()

    monkeypatch.setattr(ns.GraphDatabase, "driver", fake_driver)
    monkeypatch.setenv("NEO4J_AUTH", "alice/s3cret")
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    monkeypatch.setenv("NEO4J_DATABASE", "ptm")
    store = Neo4jStore.from_env("neo4j+s://db.example:7687")
    assert seen == {"uri": "neo4j+s://db.example:7687", "auth": ("alice", "s3cret")}
    assert store.database == "ptm"
