"""Lineage answers shared by every store: the result types and the breadth-first walk that produces them.

A walk visits each model once at its smallest depth (so cycles terminate and a 20k-descendant base is 20k hits,
not the exponential number of walks a variable-length pattern would return) and keeps, for each hit, the path
that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

Direction = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class LineageHit:
    """A model reached from the queried one. ``path`` runs from the queried model to this one; ``relations`` has
    one entry per step, naming how the child of that step was derived from its parent."""

    id: str
    relation: str
    provenance: str
    depth: int
    path: tuple[str, ...]
    relations: tuple[str, ...]
    stub: bool = False

    def to_json(self) -> dict:
        out = asdict(self)
        out["path"] = list(self.path)
        out["relations"] = list(self.relations)
        return out


@dataclass(frozen=True, slots=True)
class RepoHit:
    """A repository that loads the queried model (``via`` is the model itself) or one derived from it."""

    repo: str
    via: str
    depth: int
    path: tuple[str, ...]  # model ids from the queried model to ``via``, then the repo
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict:
        out = asdict(self)
        out["path"] = list(self.path)
        return out


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
    seen = {start_key: (start_id, (), ())}
    frontier = [start_key]
    hits: list[LineageHit] = []
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        reached: list[str] = []
        for step in sorted(expand(frontier), key=_step_order):
            if step.key in seen:
                continue
            path_ids, relations = seen[step.from_key][1], seen[step.from_key][2]
            path = (*(path_ids or (seen[step.from_key][0],)), step.id)
            rels = (*relations, step.relation)
            seen[step.key] = (step.id, path, rels)
            hits.append(LineageHit(step.id, step.relation, step.provenance, depth, path, rels, step.stub))
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
    return sorted(hits, key=lambda h: (h.depth, h.id.casefold()))


def repos_reached(
    start_id: str, hits: Sequence[LineageHit], uses: Iterable[tuple[str, str, str | None, int | None]]
) -> list[RepoHit]:
    """``uses`` rows are (repo id, model key, file, line). Each repo is reported once, through the shallowest
    model it loads."""
    from ptmgraph.domain import node_key

    by_key = {node_key(start_id): (0, (start_id,), start_id)}
    for hit in hits:
        by_key[node_key(hit.id)] = (hit.depth, hit.path, hit.id)
    best: dict[str, RepoHit] = {}
    for repo, model_key, file, line in uses:
        depth, path, via = by_key[model_key]
        candidate = RepoHit(repo, via, depth, (*path, repo), file, line)
        current = best.get(repo.casefold())
        if current is None or (candidate.depth, candidate.via.casefold()) < (current.depth, current.via.casefold()):
            best[repo.casefold()] = candidate
    return sorted(best.values(), key=lambda r: (r.depth, r.repo.casefold()))
