"""Flag propagation on a seeded SYNTHETIC lineage graph (no real models): 100 flags, one of them on the base with
20,000 descendants, carried to every descendant and repository, next to a networkx baseline in the same run.

    python benchmarks/bench_propagation.py --models 1000000

Prints: the walks alone (what must be computed), the full `propagate` (walks + writing every INHERITS edge),
`affected` on the 20,000-descendant hub (ranked models and repositories, each with its path), and networkx doing
the same walks in memory. Targets at 1,000,000 models: propagate < 2 s, affected < 100 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from itertools import islice

import networkx as nx
import numpy as np

from ptmgraph import domain as d
from ptmgraph.graph.analyses import affected_report
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.graph.propagation import inherited, propagate
from ptmgraph.ingest.synthetic import generate
from scratch import scratch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1_000_000)
    ap.add_argument("--flags", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    graph = generate(args.models, seed=args.seed)
    store = EmbeddedStore(scratch("ptmgraph-bench-prop-") / "store")
    records = graph.records()
    t0 = time.perf_counter()
    while chunk := list(islice(records, 200_000)):
        store.write(Batch.of(chunk))
    print(f"synthetic graph: {args.models:,} models loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    rng = np.random.default_rng(args.seed)
    has_children = np.unique(graph.parent[graph.parent >= 0])
    origins = [graph.hub, *rng.choice(has_children[has_children != graph.hub], args.flags - 1, replace=False).tolist()]
    ids = [graph.model_id(o) for o in origins]
    store.write(Batch.of(d.Flag(f"BENCH-{i}", model, "license-conflict") for i, model in enumerate(ids)))
    store.lineage(ids[0], "down")  # build the lineage index once, outside the timings

    t0 = time.perf_counter()
    walked = [inherited(store, model, f"BENCH-{i}", "license-conflict") for i, model in enumerate(ids)]
    walks_s = time.perf_counter() - t0
    n_inherited = sum(len(w) for w in walked)

    t0 = time.perf_counter()
    report = propagate(store)
    full_s = time.perf_counter() - t0

    g = nx.DiGraph()
    g.add_edges_from((p, c) for c, p, _ in graph.edges())
    uses = defaultdict(list)
    for r, m in zip(graph.repo_of_use.tolist(), graph.repo_model.tolist()):
        uses[m].append(r)
    t0 = time.perf_counter()
    nx_inherited = 0
    for origin in origins:
        paths = nx.single_source_shortest_path(g, origin)
        repos = {r for model in paths for r in uses.get(model, ())}
        nx_inherited += len(paths) - 1 + len(repos)
    nx_s = time.perf_counter() - t0

    def median_of_5(fn):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            result = fn()
            runs.append(time.perf_counter() - t0)
        return sorted(runs)[2], result

    # The store's answer (hits ranked with downloads; paths assembled on access), then the JSON-ready report.
    answer_s, _ = median_of_5(lambda: (store.lineage(ids[0], "down"), store.affected_repos(ids[0])))
    affected_s, answer = median_of_5(lambda: affected_report(store, ids[0]))
    t0 = time.perf_counter()
    paths = nx.single_source_shortest_path(g, graph.hub)
    nx_repos = {r for model in paths for r in uses.get(model, ())}
    nx_affected_s = time.perf_counter() - t0

    hub_models = sum(1 for r in walked[0] if r.subject_kind == d.SubjectKind.MODEL)
    print(f"{args.flags} flags (one on the hub, {hub_models:,} descendants), {n_inherited:,} inherited flags "
          f"(networkx counts {nx_inherited:,})")
    print(f"walks (descendants + repos, one step back each): {walks_s * 1000:,.0f} ms embedded vs "
          f"{nx_s * 1000:,.0f} ms "
          f"networkx (ratio {walks_s / nx_s:.2f})")
    print(f"full propagate (walks + writing {report.inherited_models + report.inherited_repos:,} INHERITS edges): "
          f"{full_s:,.2f} s (target < 2 s)")
    print(f"affected on the hub ({len(answer['models']):,} models, {len(answer['repos']):,} repos): store answer "
          f"{answer_s * 1000:,.0f} ms, full report with every path as JSON-ready dicts {affected_s * 1000:,.0f} ms "
          f"(medians of 5) vs {nx_affected_s * 1000:,.0f} ms networkx ({len(paths) - 1:,} models, "
          f"{len(nx_repos):,} repos, paths but no ranking; target < 100 ms)")
    store.close()


if __name__ == "__main__":
    main()
