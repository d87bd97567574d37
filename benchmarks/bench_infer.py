"""Scores name-based lineage inference against edges that were declared, by relation.

Ground truth: (1) the shipped, hand-written sample's declared edges; (2) the Open LLM Leaderboard export's
generation-1 rows, whose family root is the direct parent (../shared/data, when present). Each model with a known
parent is treated as undeclared, inference runs over all model ids of that set, and a proposal counts as correct
when it names the known parent (and, in "relation" columns, the known relation).

    python benchmarks/bench_infer.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ptmgraph import domain as d
from ptmgraph.ingest import sample
from ptmgraph.ingest.infer_lineage import propose
from ptmgraph.ingest.sources import Leaderboard

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def score(name: str, model_ids: list[str], truth: dict[str, set[tuple[str, str]]]) -> dict:
    proposals = {p.child: p for p in propose(model_ids, set())}
    rows = {}
    for relation in sorted({r for parents in truth.values() for _, r in parents} | {"all"}):
        relevant = {c: ps for c, ps in truth.items() if relation == "all" or any(r == relation for _, r in ps)}
        made = [p for c, p in proposals.items() if c in truth and (relation == "all" or p.relation == relation)]
        right_parent = [p for p in made if d.node_key(p.parent) in {d.node_key(x) for x, _ in truth[p.child]}]
        right_both = [p for p in right_parent if (d.node_key(p.parent), p.relation) in
                      {(d.node_key(x), r) for x, r in truth[p.child]}]
        rows[relation] = {
            "truth": len(relevant), "proposed": len(made),
            "precision_parent": round(len(right_parent) / len(made), 3) if made else None,
            "recall_parent": round(len(right_parent) / len(relevant), 3) if relevant else None,
            "precision_parent_and_relation": round(len(right_both) / len(made), 3) if made else None,
        }
    print(f"\n{name}: {len(model_ids):,} models, {len(truth):,} with a known parent, "
          f"{sum(1 for c in proposals if c not in truth):,} proposals for models without one (not scored)")
    print(f"  {'relation':<10}{'truth':>7}{'proposed':>10}{'P(parent)':>11}{'R(parent)':>11}{'P(parent+rel)':>15}")
    for relation, row in rows.items():
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  {relation:<10}{row['truth']:>7}{row['proposed']:>10}{fmt(row['precision_parent']):>11}"
              f"{fmt(row['recall_parent']):>11}{fmt(row['precision_parent_and_relation']):>15}")
    return rows


def main() -> None:
    results = {}
    records = list(sample.records())
    ids = [r.id for r in records if isinstance(r, d.Model)]
    truth: dict[str, set[tuple[str, str]]] = {}
    for r in records:
        if isinstance(r, d.Lineage) and r.provenance in ("declared-card", "declared-tag", "adapter-config"):
            truth.setdefault(r.child, set()).add((r.parent, r.relation.value))
    ids += [p for parents in truth.values() for p, _ in parents if p not in ids]
    results["sample"] = score("shipped sample (hand-written declared edges)", ids, truth)

    csv = SHARED / "lineage" / "huggingface_v2_dev.csv"
    if csv.exists():
        ids, truth = [], {}
        for item in Leaderboard(csv):
            if isinstance(item, d.Model):
                ids.append(item.id)
            elif isinstance(item, d.Lineage) and item.confidence == 0.8:  # generation 1: the root is the parent
                truth.setdefault(item.child, set()).add((item.parent, item.relation.value))
                ids.append(item.parent)
        results["leaderboard"] = score("Open LLM Leaderboard, generation-1 rows", sorted(set(ids)), truth)
    if len(sys.argv) > 1 and sys.argv[1] == "--json":
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
