"""Scoring the shipped classifiers on any labelled file, without retraining: DARA vectors, DARA layer
sequences, or a folder of layer graphs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ptmgraph.gnn import checkpoints
from ptmgraph.gnn.layer_graph import GraphError, LayerGraph, from_sequence, load
from ptmgraph.gnn.train import score
from ptmgraph.gnn.vectors import VectorsError, arch_to_type, read_json, read_vectors


def _labels(path: str | None) -> dict[str, str]:
    return arch_to_type(read_json(path, "labels file")) if path else {}


def eval_vectors(path: str, labels: str | None = None, checkpoint: str | None = None) -> dict[str, Any]:
    clf = checkpoints.mlp(checkpoint)
    rows = read_vectors(path)
    a2t = _labels(labels) or clf.arch_types
    pred = clf.predict(rows)
    return {**score([(a2t.get(arch), arch) for _, arch, _ in rows], pred), "classifier": "dara-mlp", "n": len(rows)}


def _sequence_rows(path: str) -> list[dict[str, Any]]:
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else None
    if text is None:
        raise VectorsError(f"{path}: no such sequences file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    data.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise VectorsError(f"{path}:{n}: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = [data] if "layers" in data else list(data.values())
    if not isinstance(data, list) or not all(isinstance(r, dict) and isinstance(r.get("layers"), str)
                                             for r in data):
        raise VectorsError(f"{path}: expected sequences {{repo_name, arch, model_type, layers: \"op op ...\"}} "
                           "as a JSON list or JSON lines")
    return data


def _graph_scores(graphs: list[LayerGraph], truth: list[tuple[str | None, str | None]], skipped: list[str],
                  checkpoint: str | None) -> dict[str, Any]:
    clf = checkpoints.gnn(checkpoint)
    preds = clf.predict(graphs)
    out = score(truth, [(p.model_type, p.architecture) for p in preds])
    return {**out, "classifier": "gnn", "n": len(graphs), "not_assessable": skipped}


def eval_sequences(path: str, labels: str | None = None, checkpoint: str | None = None) -> dict[str, Any]:
    a2t = _labels(labels)
    graphs, truth, skipped = [], [], []
    for i, row in enumerate(_sequence_rows(path)):
        name = str(row.get("repo_name") or f"row {i + 1}")
        try:
            graphs.append(from_sequence(row["layers"].split(), source=name))
        except GraphError as exc:
            skipped.append(str(exc))
            continue
        arch = row.get("arch")
        truth.append((row.get("model_type") or a2t.get(arch or ""), arch))
    return _graph_scores(graphs, truth, skipped, checkpoint)


def eval_graphs(folder: str, labels: str | None = None, checkpoint: str | None = None) -> dict[str, Any]:
    a2t = _labels(labels)
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise VectorsError(f"{folder}: no *.json layer graphs in the folder")
    graphs, truth, skipped = [], [], []
    for f in files:
        try:
            g = load(f)
        except GraphError as exc:
            skipped.append(str(exc))
            continue
        graphs.append(g)
        truth.append((g.model_type or a2t.get(g.architecture or ""), g.architecture))
    return _graph_scores(graphs, truth, skipped, checkpoint)
