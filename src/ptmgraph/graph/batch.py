"""Turns domain records into per-table rows, the unit every store writes in bulk.

Rows for the same node or edge inside one batch are merged (later non-null values win), so a store sees each
key once per batch. This is also where a record's implied facts become graph shape: a model's declared licence
becomes a License node and a LICENSED_AS edge, its author an Author node and an AUTHORED_BY edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ptmgraph import domain as d
from ptmgraph.graph import schema as s

Row = dict[str, Any]
EdgeGroup = tuple[str, str, str]  # (rel type, from label, to label)


@dataclass
class Edge:
    from_key: str
    from_id: str
    to_key: str
    to_id: str
    props: Row

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.from_key, self.to_key, self.props["disc"])


def _merge(into: Row, new: Row) -> None:
    for name, value in new.items():
        if value is not None:
            into[name] = value


@dataclass
class Batch:
    nodes: dict[str, dict[str, Row]] = field(default_factory=dict)
    edges: dict[EdgeGroup, dict[tuple[str, str, str], Edge]] = field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[d.Record]) -> Batch:
        batch = cls()
        for record in records:
            batch.add(record)
        return batch

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.nodes.values()) + sum(len(rows) for rows in self.edges.values())

    def node(self, label: str, identifier: str, **props: Any) -> None:
        key = d.node_key(identifier)
        row: Row = {"key": key, "id": identifier, "stub": False, **props}
        rows = self.nodes.setdefault(label, {})
        if key in rows:
            _merge(rows[key], row)
        else:
            rows[key] = row

    def edge(self, rel: str, from_label: str, from_id: str, to_label: str, to_id: str, disc: str = "", **props: Any) -> None:
        edge = Edge(d.node_key(from_id), from_id, d.node_key(to_id), to_id, {"disc": disc, **props})
        rows = self.edges.setdefault((rel, from_label, to_label), {})
        existing = rows.get(edge.identity)
        if existing is None:
            rows[edge.identity] = edge
        else:
            _merge(existing.props, edge.props)

    def add(self, record: d.Record) -> None:
        adder = _ADDERS.get(type(record))
        if adder is None:
            raise TypeError(f"not a ptmgraph record: {type(record).__name__}")
        adder(self, record)


def _add_model(batch: Batch, m: d.Model) -> None:
    props = {name: getattr(m, name) for name, _ in s.MODEL.props}
    for name in ("tags", "architectures", "files"):
        if props[name] is not None:
            props[name] = list(props[name])
    batch.node("Model", m.id, **props)
    if m.author:
        batch.node("Author", m.author)
        batch.edge("AUTHORED_BY", "Model", m.id, "Author", m.author)
    if m.license:
        batch.node("License", m.license)
        batch.edge("LICENSED_AS", "Model", m.id, "License", m.license, source=m.source)


def _add_repo(batch: Batch, r: d.Repo) -> None:
    batch.node("Repo", r.id, url=r.url, licenses=list(r.licenses) if r.licenses is not None else None, source=r.source)
    for licence in r.licenses or ():
        batch.node("License", licence)
        batch.edge("LICENSED_AS", "Repo", r.id, "License", licence, source=r.source)


def _add_lineage(batch: Batch, e: d.Lineage) -> None:
    batch.edge(
        "DERIVED_FROM", "Model", e.child, "Model", e.parent, disc=e.provenance.value,
        relation=e.relation.value, provenance=e.provenance.value, confidence=e.confidence, source=e.source,
    )


def _add_uses(batch: Batch, u: d.Uses) -> None:
    where = f"{u.file}:{u.line}" if u.file else ""
    batch.edge("USES", "Repo", u.repo, "Model", u.model, disc=where, file=u.file, line=u.line, source=u.source)


def _add_flag(batch: Batch, f: d.Flag) -> None:
    batch.node(
        "Flag", f.id, kind=f.kind, severity=f.severity.value, summary=f.summary, detector=f.detector,
        evidence=f.evidence, created_at=f.created_at,
        reference_urls=list(f.references) if f.references is not None else None,
    )
    batch.edge("HAS_FLAG", f.subject_kind.value, f.subject, "Flag", f.id)


def _add_inherited(batch: Batch, f: d.InheritedFlag) -> None:
    batch.edge(
        "INHERITS", f.subject_kind.value, f.subject, "Flag", f.flag,
        via=f.via, relation=f.relation, depth=f.depth,
    )


_ADDERS: dict[type, Any] = {
    d.Model: _add_model,
    d.Repo: _add_repo,
    d.Author: lambda b, a: b.node("Author", a.id),
    d.License: lambda b, lic: b.node("License", lic.id),
    d.Dataset: lambda b, ds: b.node("Dataset", ds.id),
    d.Lineage: _add_lineage,
    d.Uses: _add_uses,
    d.TrainedOn: lambda b, t: b.edge("TRAINED_ON", "Model", t.model, "Dataset", t.dataset, source=t.source),
    d.LicensedAs: lambda b, la: b.edge(
        "LICENSED_AS", la.subject_kind.value, la.subject, "License", la.license, source=la.source
    ),
    d.AuthoredBy: lambda b, a: b.edge("AUTHORED_BY", "Model", a.model, "Author", a.author),
    d.Flag: _add_flag,
    d.InheritedFlag: _add_inherited,
}
