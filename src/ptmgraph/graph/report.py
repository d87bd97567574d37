"""The lineage-anomaly report: every flagged origin with its evidence, the lineage subtree its flag reaches and
the repositories exposed, each with the path that explains it; plus totals. Built from the store interface
alone (flags and INHERITS edges written by `propagate`), so every store and every output format share it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.graph.paths import SHOWN_STEPS, Steps
from ptmgraph.graph.store import GraphStore

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}

_ORIGINS = {
    "model": "MATCH (s:Model)-[:HAS_FLAG]->(f:Flag) RETURN s.id, f.id, f.kind, f.severity, f.summary, f.detector, "
             "f.evidence, f.created_at",
    "repo": "MATCH (s:Repo)-[:HAS_FLAG]->(f:Flag) RETURN s.id, f.id, f.kind, f.severity, f.summary, f.detector, "
            "f.evidence, f.created_at",
}
_REACH = {
    "model": "MATCH (s:Model)-[i:INHERITS]->(f:Flag) RETURN f.id, s.id, i.via, i.relation, i.depth, s.downloads",
    "repo": "MATCH (s:Repo)-[i:INHERITS]->(f:Flag) RETURN f.id, s.id, i.via, i.relation, i.depth, s.url",
}
_OWN_AND_REACHING = ("MATCH (m:Model {key: $k})-[:HAS_FLAG]->(f:Flag) RETURN f.id",
                     "MATCH (m:Model {key: $k})-[:INHERITS]->(f:Flag) RETURN f.id")


def _evidence(text: str | None) -> Any:
    try:
        return json.loads(text or "{}")
    except json.JSONDecodeError:
        return {"text": text}


def _subjects(store: GraphStore, models: Iterable[str]) -> set[str]:
    """Flags raised on the given models or reaching them; an unknown model is an error, not an empty report."""
    flags: set[str] = set()
    for model_id in models:
        if store.model(model_id) is None:
            raise PtmgraphError(f"report: no model {model_id!r} in the store; check the id with "
                                "`ptmgraph query 'MATCH (m:Model) WHERE m.id CONTAINS $q RETURN m.id' -p q=...`")
        for cypher in _OWN_AND_REACHING:
            flags.update(r[0] for r in store.query(cypher, {"k": d.node_key(model_id)}).rows)
    return flags


def build(store: GraphStore, models: Iterable[str] = (), limit: int | None = 50) -> dict[str, Any]:
    """``{"origins": [...], "totals": {...}}``. Origins are ranked by the repositories and models they reach, then
    severity; ``limit`` keeps the first ones (totals always count every origin)."""
    wanted = _subjects(store, models) if models else None
    origins: dict[str, dict[str, Any]] = {}
    for kind, cypher in _ORIGINS.items():
        for subject, fid, fkind, severity, summary, detector, evidence, created in store.query(cypher).rows:
            if wanted is not None and fid not in wanted:
                continue
            origins[fid] = {"flag": fid, "kind": fkind, "severity": severity, "summary": summary,
                            "detector": detector, "created_at": created, "subject": subject, "subject_kind": kind,
                            "evidence": _evidence(evidence), "models": [], "repos": []}
    reach: dict[str, dict[str, list[Any]]] = {kind: {} for kind in _REACH}
    for kind, cypher in _REACH.items():
        for row in store.query(cypher).rows:
            if row[0] in origins:
                reach[kind].setdefault(row[0], []).append(row)
    for fid, origin in origins.items():
        model_rows = reach["model"].get(fid, [])
        steps = Steps(origin["subject"], [(r[1], r[2], r[3]) for r in model_rows])
        for kind, rows in (("model", model_rows), ("repo", reach["repo"].get(fid, []))):
            for _, subject, via, relation, depth, extra in rows:
                path, relations, elided = steps.path(subject, via, relation, limit=SHOWN_STEPS)
                entry = {"id": subject, "path": path, "relations": relations, "depth": depth,
                         "downloads" if kind == "model" else "url": extra}
                if elided:
                    entry["path_elided"] = True  # `ptmgraph why SUBJECT` gives the whole path
                origin["models" if kind == "model" else "repos"].append(entry)
    for origin in origins.values():
        if origin["subject_kind"] == "repo" and isinstance(origin["evidence"], dict) and origin["evidence"].get(
                "model"):
            # A repository's own finding (a licence conflict) is explained by the model it loads.
            origin["explained_by"] = {"path": [origin["evidence"]["model"], origin["subject"]],
                                      "relations": ["used-by"]}
        origin["models"].sort(key=lambda m: (-(m["downloads"] or 0), m["depth"], m["id"].lower()))
        origin["repos"].sort(key=lambda r: (r["depth"], r["id"].lower()))
    ranked = sorted(origins.values(), key=lambda o: (-(len(o["repos"]) + len(o["models"])),
                                                     SEVERITY_RANK.get(o["severity"], 9), o["flag"]))
    totals = {
        "origins": len(ranked),
        "by_kind": dict(sorted(Counter(o["kind"] for o in ranked).items())),
        "by_severity": dict(sorted(Counter(o["severity"] for o in ranked).items(),
                                   key=lambda kv: SEVERITY_RANK.get(kv[0], 9))),
        "models_reached": len({m["id"] for o in ranked for m in o["models"]}),
        "repos_exposed": len({r["id"] for o in ranked for r in o["repos"]}
                             | {o["subject"] for o in ranked if o["subject_kind"] == "repo"}),
        "shown": min(len(ranked), limit) if limit is not None else len(ranked),
    }
    return {"origins": ranked[:limit] if limit is not None else ranked, "totals": totals}
