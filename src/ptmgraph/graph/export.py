"""Exports for other tools: a CycloneDX 1.6 ML-BOM of one model (its lineage as `pedigree.ancestors`, the flags
that reach it as `vulnerabilities`), and GraphML of the graph for Gephi, yEd or networkx."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ptmgraph import __version__
from ptmgraph import domain as d
from ptmgraph.errors import ModelNotFound
from ptmgraph.graph.propagation import why
from ptmgraph.graph.store import GraphStore

CYCLONEDX_SEVERITIES = {"critical", "high", "medium", "low", "info", "none", "unknown"}


def purl(model_id: str) -> str:
    """Package URL of a Hub model (purl type `huggingface`); each id segment percent-encoded."""
    return "pkg:huggingface/" + "/".join(quote(part, safe="") for part in model_id.split("/"))


def _component(model: dict[str, Any] | None, model_id: str) -> dict[str, Any]:
    model = model or {}
    group, _, name = model_id.rpartition("/")
    comp: dict[str, Any] = {"type": "machine-learning-model", "bom-ref": purl(model_id), "name": name or model_id,
                            "purl": purl(model_id),
                            "externalReferences": [{"type": "website",
                                                    "url": f"https://huggingface.co/{quote(model_id)}"}]}
    if group:
        comp["group"] = group
    if model.get("license"):
        comp["licenses"] = [{"license": {"name": model["license"]}}]
    params = {k: v for k, v in (("task", model.get("pipeline_tag")), ("architectureFamily", model.get("model_type")),
                                ("modelArchitecture", (model.get("architectures") or [None])[0])) if v}
    if params:
        comp["modelCard"] = {"modelParameters": params}
    props = [("ptmgraph:downloads", model.get("downloads")), ("ptmgraph:library", model.get("library")),
             ("ptmgraph:stub", "true" if model.get("stub") else None)]
    if any(v is not None for _, v in props):
        comp["properties"] = [{"name": k, "value": str(v)} for k, v in props if v is not None]
    return comp


def cyclonedx(store: GraphStore, model_id: str) -> dict[str, Any]:
    found = store.model(model_id)
    if found is None:
        raise ModelNotFound(f"export: no model {model_id!r} in the store {store.uri}; check the id or ingest it first")
    root = _component(found, found["id"])
    by_id: dict[str, dict[str, Any]] = {d.node_key(found["id"]): root}
    # An ancestor hangs under the model it was reached from, so the pedigree nests like the lineage does.
    for hit in store.lineage(found["id"], "up"):
        comp = _component(store.model(hit.id), hit.id)
        comp.setdefault("properties", []).extend([{"name": "ptmgraph:relation-to-child", "value": hit.relation},
                                                  {"name": "ptmgraph:provenance", "value": hit.provenance}])
        child = by_id[d.node_key(hit.via)]
        child.setdefault("pedigree", {}).setdefault("ancestors", []).append(comp)
        by_id[d.node_key(hit.id)] = comp
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
        "metadata": {"timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
                     "tools": {"components": [{"type": "application", "name": "ptmgraph", "version": __version__}]},
                     "component": root},
    }
    findings = why(store, found["id"]) or {"flags": [], "inherited": []}
    vulns = [_vulnerability(f, root["bom-ref"], None) for f in findings["flags"]]
    vulns += [_vulnerability(f, root["bom-ref"], f) for f in findings["inherited"]]
    if vulns:
        bom["vulnerabilities"] = vulns
    return bom


def _vulnerability(flag: dict[str, Any], ref: str, inherited: dict[str, Any] | None) -> dict[str, Any]:
    severity = flag["severity"] if flag["severity"] in CYCLONEDX_SEVERITIES else "unknown"
    vuln: dict[str, Any] = {"id": flag["flag"], "source": {"name": "ptmgraph"}, "ratings": [{"severity": severity}],
                            "description": flag["summary"] or flag["kind"], "affects": [{"ref": ref}],
                            "properties": [{"name": "ptmgraph:kind", "value": flag["kind"]}]}
    if inherited is not None:
        vuln["properties"] += [{"name": "ptmgraph:inherited-through", "value": " -> ".join(inherited["path"])},
                               {"name": "ptmgraph:relations", "value": ",".join(inherited["relations"])}]
    elif flag.get("evidence"):
        vuln["detail"] = json.dumps(flag["evidence"], sort_keys=True)
    return vuln


_GRAPH_QUERIES = (
    ("MATCH (m:Model) RETURN m.id, m.model_type, m.license, m.downloads, m.pipeline_tag, m.stub", "Model"),
    ("MATCH (r:Repo) RETURN r.id, r.url", "Repo"),
    ("MATCH (f:Flag) RETURN f.id, f.kind, f.severity, f.summary", "Flag"),
)
_EDGE_QUERIES = (  # (cypher, source label, target label); rows are source, target, type, relation, extra
    ("MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN c.id, p.id, 'DERIVED_FROM', e.relation, e.provenance",
     "Model", "Model"),
    ("MATCH (r:Repo)-[:USES]->(m:Model) RETURN r.id, m.id, 'USES', NULL, NULL", "Repo", "Model"),
    ("MATCH (s:Model)-[:HAS_FLAG]->(f:Flag) RETURN s.id, f.id, 'HAS_FLAG', NULL, NULL", "Model", "Flag"),
    ("MATCH (s:Repo)-[:HAS_FLAG]->(f:Flag) RETURN s.id, f.id, 'HAS_FLAG', NULL, NULL", "Repo", "Flag"),
    ("MATCH (s:Model)-[i:INHERITS]->(f:Flag) RETURN s.id, f.id, 'INHERITS', NULL, i.depth", "Model", "Flag"),
    ("MATCH (s:Repo)-[i:INHERITS]->(f:Flag) RETURN s.id, f.id, 'INHERITS', NULL, i.depth", "Repo", "Flag"),
)
_FIELDS = {"Model": ("model_type", "license", "downloads", "pipeline_tag", "stub"), "Repo": ("url",),
           "Flag": ("kind", "severity", "summary")}


def to_networkx(store: GraphStore) -> Any:
    """The whole graph as a networkx MultiDiGraph; node keys are `Label:id` so a model and a repo of the same
    name stay apart. Attributes are scalars, as GraphML requires."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    for cypher, label in _GRAPH_QUERIES:
        for row in store.query(cypher).rows:
            attrs = {k: v for k, v in zip(_FIELDS[label], row[1:]) if v is not None}
            graph.add_node(f"{label}:{row[0]}", label=label, id=row[0], **attrs)
    for cypher, source, target in _EDGE_QUERIES:
        for src, dst, kind, relation, extra in store.query(cypher).rows:
            attrs = {"type": kind}
            if relation is not None:
                attrs["relation"] = relation
            if extra is not None:
                attrs["depth" if kind == "INHERITS" else "provenance"] = extra
            graph.add_edge(f"{source}:{src}", f"{target}:{dst}", **attrs)
    return graph


def graphml(store: GraphStore, path: str) -> dict[str, int]:
    import networkx as nx

    graph = to_networkx(store)
    nx.write_graphml(graph, path)
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
