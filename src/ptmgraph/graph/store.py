"""The one store interface. Analyses and the CLI talk to this, never to a database driver."""

from __future__ import annotations

import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ptmgraph.errors import QueryError
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.lineage import Direction, LineageHit, RepoHit


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class WriteStats:
    nodes_created: int = 0
    nodes_updated: int = 0
    stubs_created: int = 0
    edges_created: int = 0
    edges_updated: int = 0

    def add(self, other: WriteStats) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class StoreStats:
    nodes: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    stub_models: int = 0
    flagged_models: int = 0

    def to_json(self) -> dict:
        return {"nodes": self.nodes, "edges": self.edges, "stub_models": self.stub_models,
                "flagged_models": self.flagged_models}


class GraphStore(ABC):
    """Writes are batched and idempotent, so that an interrupted ingest re-run converges on the graph an uninterrupted
    run gives; reads take parameters, never interpolated text."""

    uri: str

    @abstractmethod
    def write(self, batch: Batch, *, durable: bool = True) -> WriteStats:
        """Upsert every node and edge in ``batch``. Non-null values replace stored ones; nulls keep them. Edges
        to nodes not yet known create placeholder nodes marked ``stub``. With ``durable=False`` (bulk ingest) a
        store may defer making the batch survive a crash until :meth:`sync`; a crash then loses what was written
        since the store last made its writes durable (which may end part-way through a batch), and re-running the
        ingest restores it."""

    def sync(self) -> None:
        """Make every batch written so far survive a crash (stores whose commits are durable have nothing to do)."""

    @abstractmethod
    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run a user query verbatim on this store, with parameters."""

    @abstractmethod
    def model(self, model_id: str) -> dict[str, Any] | None:
        """The stored properties of one model, matched case-insensitively."""

    @abstractmethod
    def lineage(self, model_id: str, direction: Direction, max_depth: int | None = None,
                relations: Collection[str] | None = None) -> list[LineageHit]:
        """Ancestors (``up``) or descendants (``down``), each once, at its smallest depth, with its path;
        following only edges of ``relations`` when given."""

    @abstractmethod
    def affected_repos(self, model_id: str, max_depth: int | None = None,
                       relations: Collection[str] | None = None) -> list[RepoHit]:
        """Repositories that load the model or any descendant within ``max_depth`` (through ``relations``)."""

    @abstractmethod
    def lineage_cycles(self, limit: int = 20) -> list[list[str]]:
        """Groups of models whose lineage loops back on itself (kept as the sources declared them)."""

    def stats(self) -> StoreStats:
        """Counts per label and relationship type, through the portable subset of Cypher both stores run."""
        from ptmgraph.graph import queries as q
        from ptmgraph.graph import schema as s

        def count(cypher: str) -> int:
            rows = self.query(cypher).rows
            return int(rows[0][0]) if rows else 0

        return StoreStats(
            nodes={label: count(q.count_nodes(label)) for label in s.NODE_TABLES},
            edges={rel: count(q.count_edges(rel)) for rel in s.REL_TABLES},
            stub_models=count(q.STUB_MODELS),
            flagged_models=count(q.FLAGGED_MODELS),
        )

    @abstractmethod
    def info(self) -> dict[str, Any]: ...

    @abstractmethod
    def reset(self) -> None:
        """Delete everything ptmgraph stored."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_STRING_OR_COMMENT = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S)
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def check_parameters(cypher: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Both stores would silently read a missing parameter as NULL and return wrong answers; refuse instead."""
    given = dict(params or {})
    used = set(_PARAMETER.findall(_STRING_OR_COMMENT.sub(" ", cypher)))
    missing = sorted(used - given.keys())
    if missing:
        names = ", ".join(f"${name}" for name in missing)
        flags = " ".join(f"-p {name}=..." for name in missing)
        raise QueryError(f"query uses {names} but no value was given: pass {flags}")
    return given


def reset_command(uri: str) -> str:
    """The command that empties the store at ``uri``, as an error message tells a user to run it (``--store`` is
    an option of ``ptmgraph`` itself, not of ``store reset``)."""
    return f"ptmgraph --store {shlex.quote(uri)} store reset"
