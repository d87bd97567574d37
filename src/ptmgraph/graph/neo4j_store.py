"""The Neo4j store, through the official ``neo4j`` driver.

Writes are ``UNWIND $rows`` statements of up to ``rows_per_transaction`` rows (5,000 by default), one statement
per transaction, MERGE on the unique ``key`` so that a re-run after an interruption converges on the same graph.
Transient failures are retried with backoff; anything else becomes a one-line :class:`ptmgraph.errors.PtmgraphError`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from neo4j import READ_ACCESS, WRITE_ACCESS, GraphDatabase
from neo4j import exceptions as nx
from neo4j.graph import Node, Path, Relationship

from ptmgraph.domain import node_key
from ptmgraph.errors import ModelNotFound, QueryError, StoreError, StoreUnavailable, StoreVersionMismatch
from ptmgraph.graph import queries as q
from ptmgraph.graph import schema as s
from ptmgraph.graph.batch import Batch, Edge, Row
from ptmgraph.graph.lineage import (
    Direction,
    LineageHit,
    RepoHit,
    Step,
    cycle_groups,
    repos_reached,
    sort_hits,
    walk,
)
from ptmgraph.graph.store import GraphStore, QueryResult, WriteStats, check_parameters, reset_command

ROWS_PER_TRANSACTION = 5_000
RETRIES = 5
META_LABEL = "PtmgraphMeta"

# The hot paths, written for Neo4j's planner: bind the known end by its unique key first, then expand.
NODE_UPSERT = "UNWIND $rows AS r MERGE (n:{label} {{key: r.key}}) SET n += r.props, n.stub = false"
# A stub takes the latest spelling an edge names it by (a batch keeps the last one too); a real node keeps its own.
STUB_UPSERT = ("UNWIND $rows AS r MERGE (n:{label} {{key: r.key}}) ON CREATE SET n.id = r.id, n.stub = true "
               "ON MATCH SET n.id = CASE WHEN n.stub THEN r.id ELSE n.id END")
EDGE_UPSERT = (
    "UNWIND $rows AS r MATCH (a:{from_label} {{key: r.f}}) MATCH (b:{to_label} {{key: r.t}}) "
    "MERGE (a)-[e:{rel}{apart}]->(b) SET e += r.props"
)
APART = " {{{name}: r.{name}}}"  # in EDGE_UPSERT: the property that tells edges between two nodes apart, if any
_EXPAND_RETURN = ("WHERE $rels IS NULL OR e.relation IN $rels RETURN k AS from_key, {end}.key AS key, {end}.id AS id, "
                  "e.relation AS relation, e.provenance AS provenance, {end}.stub AS stub")
EXPAND = {
    "down": "UNWIND $keys AS k MATCH (p:Model {key: k})<-[e:DERIVED_FROM]-(c:Model) " + _EXPAND_RETURN.format(end="c"),
    "up": "UNWIND $keys AS k MATCH (c:Model {key: k})-[e:DERIVED_FROM]->(p:Model) " + _EXPAND_RETURN.format(end="p"),
}
USES_OF = "UNWIND $keys AS k MATCH (r:Repo)-[u:USES]->(m:Model {key: k}) RETURN r.id, k, u.file, u.line"
MODEL_ID = "MATCH (m:Model {key: $k}) RETURN m.id"
ALL_LINEAGE = "MATCH (c:Model)-[:DERIVED_FROM]->(p:Model) RETURN c.id, p.id"
CONSTRAINT = "CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE"
META_READ = f"MATCH (m:{META_LABEL} {{key: 'store'}}) RETURN m.schema_version, m.generation"
META_INIT = (f"MERGE (m:{META_LABEL} {{key: 'store'}}) "
             "ON CREATE SET m.schema_version = $v, m.generation = 0")
META_BUMP = f"MATCH (m:{META_LABEL} {{key: 'store'}}) SET m.generation = m.generation + 1"
DELETE_SOME = "MATCH (n:{label}) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*)"

_RETRYABLE = (nx.TransientError, nx.SessionExpired, nx.ServiceUnavailable)


class Neo4jStore(GraphStore):
    def __init__(self, driver: Any, uri: str, *, database: str | None = None, read_only: bool = False,
                 rows_per_transaction: int = ROWS_PER_TRANSACTION, sleep: Callable[[float], None] = time.sleep,
                 read_sessions: bool = True, owns_driver: bool = True) -> None:
        self.driver = driver
        self.uri = uri
        self.database = database
        self.read_only = read_only
        self.rows_per_transaction = rows_per_transaction
        self.schema_warning: str | None = None
        self._owns_driver = owns_driver
        self._sleep = sleep
        # READ-mode sessions let a cluster route reads to followers; a server that mishandles them can opt out.
        self._read_mode = READ_ACCESS if read_sessions else WRITE_ACCESS
        self._check_version()

    @classmethod
    def from_env(cls, uri: str, *, read_only: bool = False) -> Neo4jStore:
        """Credentials: NEO4J_USER/NEO4J_PASSWORD, or NEO4J_AUTH=user/password as the Neo4j image takes them."""
        user = os.environ.get("NEO4J_USER") or os.environ.get("NEO4J_USERNAME")
        password = os.environ.get("NEO4J_PASSWORD")
        if os.environ.get("NEO4J_AUTH", "").lower() == "none":
            auth = None
        elif "/" in os.environ.get("NEO4J_AUTH", "") and not password:
            user, password = os.environ["NEO4J_AUTH"].split("/", 1)
            auth = (user, password)
        else:
            auth = (user or "neo4j", password) if password else None
        try:
            driver = GraphDatabase.driver(uri, auth=auth, connection_timeout=10, max_connection_lifetime=3600)
        except (ValueError, nx.ConfigurationError) as exc:
            raise StoreError(f"invalid Neo4j URI {uri!r}: {exc}") from None
        return cls(driver, uri, database=os.environ.get("NEO4J_DATABASE") or None, read_only=read_only)

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _session(self, write: bool):
        return self.driver.session(database=self.database, default_access_mode=WRITE_ACCESS if write else self._read_mode)

    def _retry(self, work: Callable[[], Any]) -> Any:
        for attempt in range(RETRIES + 1):
            try:
                return work()
            except _RETRYABLE as exc:
                if attempt == RETRIES:
                    raise self._mapped(exc) from None
                self._sleep(min(0.2 * 2**attempt, 5.0))
            except nx.Neo4jError as exc:
                raise self._mapped(exc) from None
            except nx.DriverError as exc:
                raise self._mapped(exc) from None
        raise AssertionError("unreachable")

    def _read(self, cypher: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
        def work() -> tuple[list[str], list[list[Any]]]:
            with self._session(write=False) as session:
                result = session.run(cypher, dict(params or {}))
                keys = list(result.keys())
                return keys, [list(record.values()) for record in result]

        return self._retry(work)

    def _write(self, cypher: str, params: Mapping[str, Any]) -> Any:
        """One statement in one explicit transaction; returns the summary counters."""
        def work() -> Any:
            with self._session(write=True) as session:
                tx = session.begin_transaction()
                try:
                    summary = tx.run(cypher, dict(params)).consume()
                    tx.commit()
                except BaseException:
                    tx.close()  # rolls back whatever has not been committed
                    raise
                return summary.counters

        return self._retry(work)

    def _mapped(self, exc: Exception) -> StoreError | QueryError:
        text = getattr(exc, "message", None)
        if not text or text == "An unknown error occurred":  # the driver's placeholder when no message was sent
            text = str(exc) or type(exc).__name__
        text = text.strip().splitlines()[0]
        if isinstance(exc, nx.AuthError):
            return StoreUnavailable(f"Neo4j at {self.uri} refused the credentials: set NEO4J_USER and NEO4J_PASSWORD "
                                    "(or NEO4J_AUTH=user/password)")
        if isinstance(exc, (nx.ServiceUnavailable, nx.SessionExpired)):
            return StoreUnavailable(f"cannot reach Neo4j at {self.uri} ({text}): start it with `docker compose up -d` "
                                    "or check --store / PTMGRAPH_STORE")
        if isinstance(exc, nx.CypherSyntaxError):
            return QueryError(f"syntax error in the query: {text}")
        if isinstance(exc, nx.Forbidden) or "access mode" in text.lower():
            return QueryError("the query writes, but stores are opened read-only for queries: add --write to allow it")
        if isinstance(exc, nx.ClientError):
            return QueryError(f"Neo4j rejected the query: {text}")
        return StoreError(f"Neo4j at {self.uri} failed: {text}")

    def _check_version(self) -> None:
        _, rows = self._read(META_READ)
        if rows and rows[0][0] is not None and rows[0][0] != s.SCHEMA_VERSION:
            raise StoreVersionMismatch(
                f"Neo4j at {self.uri} holds a ptmgraph graph of schema {rows[0][0]}; this ptmgraph writes schema "
                f"{s.SCHEMA_VERSION}: run `{reset_command(self.uri)}` and ingest again"
            )
        self._initialised = bool(rows)

    def _ensure_schema(self) -> None:
        if self._initialised:
            return
        for label in (*s.NODE_TABLES, META_LABEL):
            try:
                self._write(CONSTRAINT.format(name=f"ptmgraph_{label.lower()}_key", label=label), {})
            except (QueryError, StoreError) as exc:
                # Some Bolt servers (FalkorDB) have no constraint DDL; MERGE on key still keeps writes idempotent.
                self.schema_warning = f"uniqueness constraints were not created: {exc}"
        self._write(META_INIT, {"v": s.SCHEMA_VERSION})
        self._initialised = True

    def _require_writable(self, what: str) -> None:
        if self.read_only:
            raise StoreError(f"store {self.uri} is open read-only; {what} needs it opened for writing")

    # -- writes -------------------------------------------------------------------------------------------------
    def write(self, batch: Batch, *, durable: bool = True) -> WriteStats:  # every transaction is durable
        self._require_writable("write")
        self._ensure_schema()
        stats = WriteStats()
        for label, rows in batch.nodes.items():
            real = [{"key": r["key"], "props": _props(r, ("key", "stub"))} for r in rows.values() if not r.get("stub")]
            created = self._chunks(NODE_UPSERT.format(label=label), real, "nodes_created")
            stats.nodes_created += created
            stats.nodes_updated += len(real) - created
        for (rel, from_label, to_label), edges in batch.edges.items():
            for label, ends in ((from_label, [(e.from_key, e.from_id) for e in edges.values()]),
                                (to_label, [(e.to_key, e.to_id) for e in edges.values()])):
                stubs = [{"key": key, "id": ident} for key, ident in dict(ends).items()]
                stats.stubs_created += self._chunks(STUB_UPSERT.format(label=label), stubs, "nodes_created")
            apart = s.REL_TABLES[rel].told_apart_by
            rows = [_edge_row(e, apart) for e in edges.values()]
            cypher = EDGE_UPSERT.format(from_label=from_label, to_label=to_label, rel=rel,
                                        apart="" if apart is None else APART.format(name=apart))
            created = self._chunks(cypher, rows, "relationships_created")
            stats.edges_created += created
            stats.edges_updated += len(rows) - created
        if len(batch):
            self._write(META_BUMP, {})
        return stats

    def _chunks(self, cypher: str, rows: list[Row], counter: str) -> int:
        total = 0
        for start in range(0, len(rows), self.rows_per_transaction):
            counters = self._write(cypher, {"rows": rows[start:start + self.rows_per_transaction]})
            total += int(getattr(counters, counter, 0) or 0)
        return total

    def reset(self) -> None:
        self._require_writable("reset")
        for label in (*s.NODE_TABLES, META_LABEL):
            while True:
                _, rows = self._retry(lambda lb=label: self._write_returning(DELETE_SOME.format(label=lb)))
                if not rows or not rows[0][0]:
                    break
        self._initialised = False

    def _write_returning(self, cypher: str) -> tuple[list[str], list[list[Any]]]:
        with self._session(write=True) as session:
            tx = session.begin_transaction()
            try:
                result = tx.run(cypher, {})
                rows = [list(record.values()) for record in result]
                tx.commit()
            except BaseException:
                tx.close()
                raise
            return [], rows

    # -- reads --------------------------------------------------------------------------------------------------
    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        given = check_parameters(cypher, params)
        if self.read_only:
            columns, rows = self._read(cypher, given)
        else:
            columns, rows = self._retry(lambda: self._write_query(cypher, given))
        return QueryResult(columns, [[_plain(v) for v in row] for row in rows])

    def _write_query(self, cypher: str, params: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
        with self._session(write=True) as session:
            result = session.run(cypher, dict(params))
            return list(result.keys()), [list(record.values()) for record in result]

    def model(self, model_id: str) -> dict[str, Any] | None:
        _, rows = self._read(q.MODEL_BY_KEY, {"k": node_key(model_id)})
        return _plain(rows[0][0]) if rows else None

    def _model_id(self, model_id: str) -> str:
        _, rows = self._read(MODEL_ID, {"k": node_key(model_id)})
        if not rows:
            raise ModelNotFound(f"model {model_id!r} is not in the store {self.uri}: check the id, or ingest it first")
        return rows[0][0]

    def _expand(self, direction: Direction, relations: Collection[str] | None) -> Callable[[Sequence[str]], Iterable[Step]]:
        rels = None if relations is None else sorted(relations)

        def expand(keys: Sequence[str]) -> Iterable[Step]:
            _, rows = self._read(EXPAND[direction], {"keys": list(keys), "rels": rels})
            return [Step(r[0], r[1], r[2], r[3] or "unknown", r[4] or "", bool(r[5])) for r in rows]

        return expand

    def lineage(self, model_id: str, direction: Direction, max_depth: int | None = None,
                relations: Collection[str] | None = None) -> list[LineageHit]:
        start = self._model_id(model_id)
        return sort_hits(walk(node_key(start), start, self._expand(direction, relations), max_depth))

    def affected_repos(self, model_id: str, max_depth: int | None = None,
                       relations: Collection[str] | None = None) -> list[RepoHit]:
        start = self._model_id(model_id)
        hits = walk(node_key(start), start, self._expand("down", relations), max_depth)
        keys = [node_key(start), *(node_key(h.id) for h in hits)]
        _, rows = self._read(USES_OF, {"keys": keys})
        return repos_reached(start, hits, [(r[0], r[1], r[2], r[3]) for r in rows])

    def lineage_cycles(self, limit: int = 20) -> list[list[str]]:
        import numpy as np

        _, rows = self._read(ALL_LINEAGE)
        ids: dict[str, int] = {}
        coded = np.array([[ids.setdefault(c, len(ids)), ids.setdefault(p, len(ids))] for c, p in rows],
                         dtype=np.int64).reshape(-1, 2)
        names = list(ids)
        groups = cycle_groups(len(ids), coded[:, 0], coded[:, 1], limit)
        return [sorted(names[i] for i in group) for group in groups]

    def info(self) -> dict[str, Any]:
        _, rows = self._read(META_READ)
        try:
            agent = self.driver.get_server_info().agent
        except Exception:  # noqa: BLE001 - informational only
            agent = "unknown"
        out = {"kind": "neo4j", "engine": agent, "uri": self.uri, "database": self.database or "(default)",
               "schema_version": s.SCHEMA_VERSION, "generation": rows[0][1] if rows else 0,
               "read_only": self.read_only}
        if self.schema_warning:
            out["warning"] = self.schema_warning
        return out

    def close(self) -> None:
        if self._owns_driver:
            self.driver.close()


def _props(row: Row, skip: tuple[str, ...]) -> Row:
    # A null in `SET n += map` would delete the property; dropping it keeps what the store already knows.
    return {k: v for k, v in row.items() if v is not None and k not in skip}


def _edge_row(edge: Edge, apart: str | None) -> Row:
    """The edge's keys, the property MERGE matches it on (``apart``, if any), and the rest to SET."""
    row = {"f": edge.from_key, "t": edge.to_key, "props": _props(edge.props, () if apart is None else (apart,))}
    if apart is not None:
        row[apart] = edge.props[apart]
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, Node):
        return {"_label": next(iter(value.labels), None), **{k: _plain(v) for k, v in value.items()}}
    if isinstance(value, Relationship):
        return {"_type": value.type, **{k: _plain(v) for k, v in value.items()}}
    if isinstance(value, Path):
        return {"nodes": [_plain(n) for n in value.nodes], "relationships": [_plain(r) for r in value.relationships]}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
