"""Flags flow from the model they were raised on to its descendants (along lineage edges whose relation the
flag's kind passes through) and on to every repository that loads an affected model. Each inherited flag keeps
the path that explains it; re-running gives the same graph (one INHERITS edge per subject and flag, shortest
path), and cycles cannot trap the walk (each model is visited once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.paths import Steps
from ptmgraph.graph.store import GraphStore

ALL = frozenset(r.value for r in d.Relation)
# Which derivations carry which findings. Licence terms bind every derivative. A naming anomaly (the
# architecture is not what the name says) is inherited by what is trained from the model, but a quantized
# re-serialization is judged by its own files. Unsafe pickle weights reach through an adapter, which loads its
# base's weights, but not through a fine-tune or quantization that ships weights of its own. Missing metadata and
# an inconsistent lineage describe one model's card: they reach only the projects that load that model.
POLICY: dict[str, frozenset[str]] = {
    "license-conflict": ALL,
    "naming": frozenset({"finetune", "adapter", "merge", "unknown"}),
    "unsafe-serialization": frozenset({"adapter"}),
    "missing-metadata": frozenset(),
    "lineage-inconsistent": frozenset(),
}
ORIGINS = ("MATCH (m:Model)-[:HAS_FLAG]->(f:Flag) RETURN m.id AS model, f.id AS flag, f.kind AS kind "
           "ORDER BY f.id")


def raise_flag(store: GraphStore, model_id: str, kind: str, severity: str, reason: str,
               flag_id: str | None = None) -> d.Flag:
    """A user's finding on a model that exists (else nothing is written); the id is derived when not given, so
    raising the same finding twice leaves one flag."""
    import hashlib
    from datetime import UTC, datetime

    from ptmgraph.errors import ModelNotFound

    found = store.model(model_id)
    if found is None:
        raise ModelNotFound(f"model {model_id!r} is not in the store {store.uri}: nothing was flagged; check the "
                            "id, or ingest the model first")
    ident = flag_id or "USER-" + hashlib.sha1(f"{found['id']}|{kind}|{reason}".encode()).hexdigest()[:10]
    record = d.Flag(ident, found["id"], kind, severity, reason, "user",
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    store.write(Batch.of([record]))
    return record


def import_flags(store: GraphStore, path: str) -> tuple[list[d.Flag], list[str]]:
    """OSV advisories as flags, all or nothing: any problem in the file, or an affected model the store does not
    know, and nothing is written."""
    from ptmgraph.ingest.osv import parse

    flags, problems = parse(path)
    for f in flags:
        if store.model(f.subject) is None:
            problems.append(f"{path}: {f.id.split(':', 1)[0]}: affected model {f.subject!r} is not in the store")
    if problems:
        return [], problems
    store.write(Batch.of(flags))
    return flags, []


def relations_for(kind: str) -> frozenset[str]:
    """Flags of kinds this table does not know (user flags, imported advisories) flow like licence terms."""
    return POLICY.get(kind, ALL)


@dataclass
class PropagationReport:
    flags: int = 0
    inherited_models: int = 0
    inherited_repos: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return vars(self)


def inherited(store: GraphStore, model_id: str, flag_id: str, kind: str) -> list[d.InheritedFlag]:
    relations = relations_for(kind)
    derived = d.InheritedFlag.derived
    records = [derived(flag_id, h.id, h.via, h.relation, h.depth) for h in
               store.lineage(model_id, "down", relations=relations)]
    records += [derived(flag_id, r.repo, r.via, "uses", r.depth + 1, d.SubjectKind.REPO)
                for r in store.affected_repos(model_id, relations=relations)]
    return records


RECORDS_PER_WRITE = 50_000


def propagate(store: GraphStore) -> PropagationReport:
    report = PropagationReport()
    pending: list[d.InheritedFlag] = []
    for origin in store.query(ORIGINS).records():
        records = inherited(store, origin["model"], origin["flag"], origin["kind"])
        pending.extend(records)
        if len(pending) >= RECORDS_PER_WRITE:  # one write per many flags: a write is a transaction
            store.write(Batch.of(pending))
            pending = []
        report.flags += 1
        models = sum(1 for r in records if r.subject_kind == d.SubjectKind.MODEL)
        report.inherited_models += models
        report.inherited_repos += len(records) - models
        report.by_kind[origin["kind"]] = report.by_kind.get(origin["kind"], 0) + len(records)
    if pending:
        store.write(Batch.of(pending))
    return report


WHY = {
    "Model": ("MATCH (n:Model {key: $k})-[i:INHERITS]->(f:Flag) RETURN f.id, f.kind, f.severity, f.summary, i.via, "
              "i.relation, i.depth ORDER BY i.depth, f.id",
              "MATCH (n:Model {key: $k})-[:HAS_FLAG]->(f:Flag) RETURN f.id, f.kind, f.severity, f.summary, f.evidence "
              "ORDER BY f.id"),
    "Repo": ("MATCH (n:Repo {key: $k})-[i:INHERITS]->(f:Flag) RETURN f.id, f.kind, f.severity, f.summary, i.via, "
             "i.relation, i.depth ORDER BY i.depth, f.id",
             "MATCH (n:Repo {key: $k})-[:HAS_FLAG]->(f:Flag) RETURN f.id, f.kind, f.severity, f.summary, f.evidence "
             "ORDER BY f.id"),
}


def why(store: GraphStore, subject: str) -> dict[str, Any] | None:
    """Every flag on ``subject`` (a model or a repository), raised on it or inherited, with the path."""
    for label, (inherited_q, own_q) in WHY.items():
        exists = store.query(f"MATCH (n:{label} {{key: $k}}) RETURN n.id", {"k": d.node_key(subject)}).rows
        if not exists:
            continue
        own = [{"flag": r[0], "kind": r[1], "severity": r[2], "summary": r[3], "evidence": json.loads(r[4] or "{}")}
               for r in store.query(own_q, {"k": d.node_key(subject)}).rows]
        reached = []
        for r in store.query(inherited_q, {"k": d.node_key(subject)}).rows:
            path, relations, _ = Steps.of_flag(store, r[0]).path(exists[0][0], r[4], r[5])
            reached.append({"flag": r[0], "kind": r[1], "severity": r[2], "summary": r[3], "path": path,
                            "relations": relations, "depth": r[6]})
        return {"subject": exists[0][0], "kind": label, "flags": own, "inherited": reached}
    return None
