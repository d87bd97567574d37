"""Naming anomalies: the name, the declared config and the architecture the GNN sees, compared pairwise.

A disagreement inside a look-alike group (roberta / xlm-roberta / camembert ...) is not an anomaly unless the
classifier is sure, i.e. the shapes say so. A model that cannot be assessed gets a recorded reason, never an
exception that stops a scan."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.gnn.layer_graph import LayerGraph
from ptmgraph.gnn.naming import parse
from ptmgraph.gnn.presets import look_alike_group

#: The classifier must be at least this sure before it contradicts a declaration ...
SURE = 0.8
#: ... and this sure inside a look-alike group, where only shapes separate the families.
SURE_LOOK_ALIKE = 0.97
CHECKS = ("name-vs-config", "config-vs-architecture", "name-vs-architecture")


@dataclass
class Finding:
    check: str
    expected: str
    found: str
    probability: float
    evidence: dict[str, Any]


@dataclass
class Assessment:
    model_id: str
    assessable: bool = True
    reason: str = ""
    name_type: str | None = None
    config_type: str | None = None
    config_architectures: list[str] = field(default_factory=list)
    predicted_type: str | None = None
    predicted_type_p: float | None = None
    predicted_architecture: str | None = None
    graph_view: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _same_family(a: str, b: str) -> bool:
    norm = {"gpt-neox": "gpt_neox", "gpt-neo": "gpt_neo"}
    return norm.get(a, a) == norm.get(b, b)


def _disagree(a: str | None, b: str | None, p: float = 1.0) -> bool:
    if not a or not b or _same_family(a, b):
        return False
    group = look_alike_group(a)
    if group and b in group:
        return p >= SURE_LOOK_ALIKE
    return p >= SURE


def assess(model_id: str, config: dict[str, Any] | None = None, graph: LayerGraph | None = None,
           classifier: Any = None, graph_error: str | None = None) -> Assessment:
    """`graph` is the independent evidence (from weights, or built from the config); `classifier` predicts."""
    out = Assessment(model_id)
    name = parse(model_id)
    out.name_type = name.model_type
    if config is not None:
        mt = config.get("model_type")
        out.config_type = mt if isinstance(mt, str) and mt else None
        archs = config.get("architectures")
        out.config_architectures = [a for a in archs if isinstance(a, str)] if isinstance(archs, list) else []
    if graph_error:
        out.assessable, out.reason = False, graph_error
    elif graph is not None and classifier is not None:
        try:
            pred = classifier.predict([graph])[0]
        except (PtmgraphError, RuntimeError, ValueError) as exc:
            out.assessable, out.reason = False, f"the classifier failed on this graph ({exc})"
        else:
            out.predicted_type, out.predicted_type_p = pred.model_type, round(pred.model_type_p, 4)
            out.predicted_architecture, out.graph_view = pred.architecture, graph.view
    names = {"tokens": [list(e) for e in name.elements]}
    if _disagree(out.name_type, out.config_type):
        out.findings.append(Finding("name-vs-config", out.name_type or "", out.config_type or "", 1.0,
                                    {"name": names, "config_model_type": out.config_type}))
    p = out.predicted_type_p or 0.0
    if _disagree(out.config_type, out.predicted_type, p):
        out.findings.append(Finding("config-vs-architecture", out.config_type or "", out.predicted_type or "", p,
                                    {"graph_view": out.graph_view, "predicted_architecture":
                                     out.predicted_architecture, "declared_architectures":
                                     out.config_architectures}))
    if _disagree(out.name_type, out.predicted_type, p):
        out.findings.append(Finding("name-vs-architecture", out.name_type or "", out.predicted_type or "", p,
                                    {"name": names, "graph_view": out.graph_view}))
    return out


def flags(assessment: Assessment) -> list[d.Flag]:
    """One `naming` flag per finding; the id is derived from model, check and values, so a re-scan is
    idempotent."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    out = []
    for f in assessment.findings:
        digest = hashlib.sha1(f"{assessment.model_id}|{f.check}|{f.expected}|{f.found}".encode()).hexdigest()[:10]
        evidence = {"check": f.check, "expected": f.expected, "found": f.found, "probability": f.probability,
                    **f.evidence}
        out.append(d.Flag(f"DARA-{digest}", assessment.model_id, "naming", d.Severity.MEDIUM,
                          f"{f.check}: {f.expected} expected, {f.found} found (p={f.probability:.2f})", "dara",
                          json.dumps(evidence, sort_keys=True), created_at=now))
    return out
