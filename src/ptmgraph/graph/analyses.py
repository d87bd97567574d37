"""Answers built from the store interface alone, shaped for reports and JSON."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ptmgraph import domain as d

from ptmgraph.graph.lineage import UNKNOWN
from ptmgraph.graph.store import GraphStore

FLAGS = (
    "MATCH (m:Model)-[:HAS_FLAG]->(f:Flag) "
    "RETURN m.id AS model, f.id AS flag, f.kind AS kind, f.severity AS severity, f.summary AS summary "
    "ORDER BY f.id"
)


def lineage_report(store: GraphStore, model_id: str, *, up: bool = True, down: bool = True,
                   max_depth: int | None = None) -> dict[str, Any]:
    """``{"model", "ancestors", "descendants", "repos"}``; repos are those that load the model or a descendant."""
    found = store.model(model_id)
    report: dict[str, Any] = {"model": found["id"] if found else model_id}
    if found is not None:
        report["stub"] = bool(found.get("stub"))
    if up:
        report["ancestors"] = [h.to_json() for h in store.lineage(model_id, "up", max_depth)]
    if down:
        report["descendants"] = [h.to_json() for h in store.lineage(model_id, "down", max_depth)]
        report["repos"] = [r.to_json() for r in store.affected_repos(model_id, max_depth)]
    return report


def model_flags(store: GraphStore) -> list[dict[str, Any]]:
    return store.query(FLAGS).records()


def affected_report(store: GraphStore, model_id: str, relations: Collection[str] | None = None,
                    max_depth: int | None = None) -> dict[str, Any]:
    """Descendants ranked by downloads (most first), then depth; repositories by depth. Paths included."""
    found = store.model(model_id)
    hits = store.lineage(model_id, "down", max_depth, relations)
    if hits and hits[0].downloads is UNKNOWN:
        keys = [d.node_key(h.id) for h in hits]
        known = dict(store.query("UNWIND $keys AS k MATCH (m:Model {key: k}) RETURN m.key, m.downloads",
                                 {"keys": keys}).rows)
        downloads = [known.get(k) for k in keys]
    else:
        downloads = [h.downloads for h in hits]
    # Hits arrive in (depth, id) order; a stable sort on downloads alone keeps it among ties.
    order = sorted(range(len(hits)), key=lambda i: -(downloads[i] or 0))
    models = [{**hits[i].to_json(), "downloads": downloads[i]} for i in order]
    return {"model": found["id"] if found else model_id, "relations": sorted(relations) if relations is not None
            else None, "models": models, "repos": [r.to_json() for r in store.affected_repos(model_id, max_depth,
                                                                                              relations)]}
