"""Lineage answers shared by every store: the result types and the breadth-first walk that produces them.

A walk visits each model once at its smallest depth (so cycles terminate and a 20k-descendant base is 20k hits,
not the exponential number of walks a variable-length pattern would return) and keeps, for each hit, the path
that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["up", "down"]
#: Hits up to this depth cache their path (prefixes shared with their parent's); deeper ones rebuild it.
CACHED_DEPTH = 256
UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()


class LineageHit:
    """A model reached from the queried one. ``path`` runs from the queried model to this one; ``relations`` has
    one entry per step, naming how the child of that step was derived from its parent.

    Hits share their path prefixes: each keeps a link to the hit it was reached through, and ``path`` is
    assembled on access. A 20k-descendant answer then costs 20k small objects, not 20k path tuples.
    """

    __slots__ = ("id", "relation", "provenance", "depth", "stub", "downloads", "_via", "_root", "_path", "_rels")

    def __init__(self, id: str, relation: str, provenance: str, depth: int, stub: bool = False,
                 via: LineageHit | None = None, root: str = "", downloads: Any = UNKNOWN) -> None:
        self.id, self.relation, self.provenance, self.depth, self.stub = id, relation, provenance, depth, stub
        # The model's downloads when the store knew them while walking (the embedded index does); else UNKNOWN.
        self.downloads = downloads
        self._via, self._root = via, root
        self._path: tuple[str, ...] | None = None
        self._rels: tuple[str, ...] | None = None

    def _chain(self) -> list[LineageHit]:
        chain, hit = [], self
        while hit is not None:
            chain.append(hit)
            hit = hit._via
        chain.reverse()
        return chain

    @property
    def via(self) -> str:
        """The model one step back towards the queried one (the queried model itself at depth 1)."""
        return self._via.id if self._via is not None else self._root

    def _paths(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._path is not None and self._rels is not None:
            return self._path, self._rels
        if self.depth > CACHED_DEPTH:
            # Caching every prefix of a very deep chain would hold a quadratic number of entries.
            chain = self._chain()
            return (self._root, *(hit.id for hit in chain)), tuple(hit.relation for hit in chain)
        # Walk up to the nearest hit that knows its path, then extend downwards: each prefix is built once, so
        # all paths of a 20k-descendant answer cost one tuple each instead of a walk each.
        pending, hit = [], self
        while hit is not None and hit._path is None:
            pending.append(hit)
            hit = hit._via
        path, rels = (hit._path, hit._rels) if hit is not None else ((self._root,), ())
        for step in reversed(pending):
            path, rels = path + (step.id,), rels + (step.relation,)
            step._path, step._rels = path, rels
        return path, rels  # type: ignore[return-value]

    @property
    def path(self) -> tuple[str, ...]:
        return self._paths()[0]

    @property
    def relations(self) -> tuple[str, ...]:
        return self._paths()[1]

    def to_json(self) -> dict:
        path, relations = self._paths()
        return {"id": self.id, "relation": self.relation, "provenance": self.provenance, "depth": self.depth,
                "path": list(path), "relations": list(relations), "stub": self.stub}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LineageHit) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LineageHit({self.id!r}, {self.relation!r}, depth={self.depth}, path={self.path!r})"


class RepoHit:
    """A repository that loads the queried model (``via`` is the model itself) or one derived from it. ``path``
    runs from the queried model to ``via``, then the repo. A store may hand it over unassembled (``paths`` and
    ``row``): all paths of one answer are then built together, on the first access to any of them."""

    __slots__ = ("repo", "via", "depth", "file", "line", "_path", "_paths", "_row")

    def __init__(self, repo: str, via: str, depth: int, path: tuple[str, ...] | None = None,
                 file: str | None = None, line: int | None = None, paths: Any = None, row: int = -1) -> None:
        self.repo, self.via, self.depth, self.file, self.line = repo, via, depth, file, line
        self._path, self._paths, self._row = path, paths, row

    @property
    def path(self) -> tuple[str, ...]:
        if self._path is None:
            self._path = self._paths.get(self._row)
        return self._path  # type: ignore[return-value]

    def to_json(self) -> dict:
        return {"repo": self.repo, "via": self.via, "depth": self.depth, "path": list(self.path),
                "file": self.file, "line": self.line}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RepoHit) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RepoHit({self.repo!r}, via={self.via!r}, depth={self.depth})"


@dataclass(frozen=True, slots=True)
class Step:
    """One edge seen while expanding ``from_key``: it leads to ``key``."""

    from_key: str
    key: str
    id: str
    relation: str
    provenance: str
    stub: bool = False


Expand = Callable[[Sequence[str]], Iterable[Step]]


def walk(start_key: str, start_id: str, expand: Expand, max_depth: int | None) -> list[LineageHit]:
    """Level-synchronous BFS; ``expand`` returns every edge out of a whole frontier in one call, so a store pays
    one round trip per level rather than one per node."""
    seen: dict[str, LineageHit | None] = {start_key: None}
    frontier = [start_key]
    hits: list[LineageHit] = []
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        reached: list[str] = []
        for step in sorted(expand(frontier), key=_step_order):
            if step.key in seen:
                continue
            hit = LineageHit(step.id, step.relation, step.provenance, depth, step.stub, seen[step.from_key], start_id)
            seen[step.key] = hit
            hits.append(hit)
            reached.append(step.key)
        frontier = reached
    return hits


PROVENANCE_RANK = {
    "declared-card": 0, "declared-tag": 1, "adapter-config": 2, "config": 3, "name-inferred": 4, "leaderboard": 5,
}


def _step_order(step: Step) -> tuple:
    # Deterministic, and the strongest evidence wins when two edges reach the same model at the same depth.
    return (PROVENANCE_RANK.get(step.provenance, 9), step.from_key, step.key)


def sort_hits(hits: list[LineageHit]) -> list[LineageHit]:
    return sorted(hits, key=_hit_order)


def _hit_order(hit: LineageHit) -> tuple[int, str]:
    return (hit.depth, hit.id.lower())  # the same order the lineage index sorts in (Arrow's utf8_lower)


def repos_reached(
    start_id: str, hits: Sequence[LineageHit], uses: Iterable[tuple[str, str, str | None, int | None]]
) -> list[RepoHit]:
    """``uses`` rows are (repo id, model key, file, line). Each repo is reported once, through the shallowest
    model it loads; only the winning paths are assembled."""
    from ptmgraph.domain import node_key

    by_key: dict[str, LineageHit | None] = {node_key(start_id): None}
    for hit in hits:
        by_key[node_key(hit.id)] = hit
    best: dict[str, tuple[int, str, LineageHit | None, str, str | None, int | None]] = {}
    for repo, model_key, file, line in uses:
        hit = by_key[model_key]
        depth, via = (hit.depth, hit.id) if hit is not None else (0, start_id)
        current = best.get(repo.lower())
        if current is None or (depth, via.lower()) < (current[0], current[1].lower()):
            best[repo.lower()] = (depth, via, hit, repo, file, line)
    out = [RepoHit(repo, via, depth, (*(hit.path if hit is not None else (start_id,)), repo), file, line)
           for depth, via, hit, repo, file, line in best.values()]
    return sorted(out, key=lambda r: (r.depth, r.repo.lower()))


def cycle_groups(n: int, child, parent, limit: int) -> list[list[int]]:
    """Strongly connected groups of nodes (lineage cycles, self-loops included) among ``n`` nodes with edges
    ``child[i] -> parent[i]`` (numpy arrays), largest first, at most ``limit``.

    A node with no parent or no child cannot be on a cycle: peeling those off repeatedly (vectorised) leaves a
    small remainder, and only that goes to networkx (imported only then: 0.12 s at the end of every ingest)."""
    import numpy as np

    loops = np.unique(child[child == parent])
    alive = np.ones(n, dtype=bool)
    keep = np.ones(len(child), dtype=bool)
    while True:
        keep &= alive[child] & alive[parent]
        survivors = alive & (np.bincount(child[keep], minlength=n) > 0) & (np.bincount(parent[keep], minlength=n) > 0)
        if survivors.sum() == alive.sum():
            break
        alive = survivors
    groups: list[list[int]] = []
    if keep.any():
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_edges_from(zip(child[keep].tolist(), parent[keep].tolist()))
        groups = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    groups += [[int(x)] for x in loops if not any(int(x) in g for g in groups)]
    groups.sort(key=lambda g: (-len(g), g))
    return groups[:limit]
