"""The stores every conformance case runs against, and what each one cannot do (the visible skip matrix)."""

from __future__ import annotations

import os

import pytest

from ptmgraph.graph.store import GraphStore

# FalkorDB 4.18 speaks Bolt and presents itself as Neo4j 5.13, but is not Neo4j. What it lacks is listed here, so
# the gap is visible in every test run instead of hidden in a silently smaller suite.
SKIPS: dict[str, dict[str, str]] = {
    "bolt-falkordb": {
        "error_text": "FalkorDB hides error texts behind 'An unknown error occurred'",
        "quote_in_parameter": "FalkorDB's Bolt layer inlines parameters as text: a ' in a value fails, a \\ is altered",
        "read_only_rejects_writes": "FalkorDB serves READ-mode sessions from a separate empty graph, so the test "
                                    "server runs reads in write mode and cannot show read-only rejections",
    },
    "neo4j": {},
    "embedded": {},
}


def store_params() -> list:
    params = [pytest.param("embedded", id="embedded")]
    bolt = os.environ.get("PTMGRAPH_TEST_BOLT_URI")
    params.append(pytest.param("bolt-falkordb", id="bolt-falkordb", marks=pytest.mark.skipif(
        not bolt, reason="no Bolt test server: scripts/test starts FalkorDB when scripts/build-bolt-server has run")))
    params.append(pytest.param("neo4j", id="neo4j", marks=pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"), reason="NEO4J_URI not set: `docker compose up -d` and export NEO4J_URI")))
    return params


_DRIVERS: dict[str, object] = {}


def open_test_store(kind: str, tmp_path, read_only: bool = False) -> GraphStore:
    if kind == "embedded":
        from ptmgraph.graph.embedded import EmbeddedStore

        return EmbeddedStore(tmp_path / "store", read_only=read_only)
    from neo4j import GraphDatabase

    from ptmgraph.graph.neo4j_store import Neo4jStore

    if kind == "bolt-falkordb":
        uri = os.environ["PTMGRAPH_TEST_BOLT_URI"]
        if uri not in _DRIVERS:
            # FalkorDB's Bolt listener stops answering handshakes once a driver has closed: share one driver.
            _DRIVERS[uri] = GraphDatabase.driver(uri, auth=None)
        return Neo4jStore(_DRIVERS[uri], uri, read_only=read_only, read_sessions=False, owns_driver=False)
    return Neo4jStore.from_env(os.environ["NEO4J_URI"], read_only=read_only)


def skip_if_unsupported(kind: str, case: str) -> None:
    reason = SKIPS.get(kind, {}).get(case)
    if reason:
        pytest.skip(f"{kind}: {reason}")
