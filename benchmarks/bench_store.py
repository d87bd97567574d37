"""Store benchmark on a seeded SYNTHETIC lineage graph (no real models): load time, then descendants /
ancestors / affected-repos latency on the embedded store, next to an in-memory networkx baseline in the same run.

    python benchmarks/bench_store.py --models 1000000

Prints absolute numbers and embedded/networkx ratios; writes them as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from itertools import islice
from pathlib import Path

import networkx as nx
import numpy as np

from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest.synthetic import generate
from scratch import scratch

RECORDS_PER_BATCH = 200_000


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall time in ms over ``runs`` calls (after the first, which is reported separately where it matters)."""
    samples, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def deepest(parent: np.ndarray, root: int, size: int) -> int:
    depth = np.zeros(size, dtype=np.int64)
    for i in range(1, size):
        depth[i] = depth[parent[root + i] - root] + 1
    return root + int(depth.argmax())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1_000_000)
    ap.add_argument("--hub", type=int, default=20_000, help="descendants of the benchmark's popular base")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--store", type=Path, help="store folder (default: a temporary one)")
    ap.add_argument("--out", type=Path, help="write the numbers as JSON here")
    args = ap.parse_args()

    results: dict[str, object] = {"graph": "synthetic", "models": args.models, "seed": args.seed}
    t0 = time.perf_counter()
    graph = generate(args.models, seed=args.seed, hub_descendants=args.hub)
    results["generate_s"] = round(time.perf_counter() - t0, 2)
    hub_id = graph.model_id(graph.hub)
    leaf_id = graph.model_id(deepest(graph.parent, graph.hub, args.hub + 1))

    folder = args.store or scratch("ptmgraph-bench-") / "store"
    store = EmbeddedStore(folder)
    store.reset()
    records = graph.records()
    n_records = 0
    t0 = time.perf_counter()
    while chunk := list(islice(records, RECORDS_PER_BATCH)):
        store.write(Batch.of(chunk))
        n_records += len(chunk)
        print(f"  loaded {n_records:,} records", file=sys.stderr, end="\r")
    load_s = time.perf_counter() - t0
    print(file=sys.stderr)
    stats = store.stats()
    results["load"] = {"records": n_records, "seconds": round(load_s, 1), "records_per_s": round(n_records / load_s),
                       "nodes": stats.nodes, "edges": stats.edges}

    t0 = time.perf_counter()
    first = store.lineage(hub_id, "down")
    results["index_build_and_first_query_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    assert len(first) == args.hub, f"hub has {len(first)} descendants, expected {args.hub}"
    store.close()

    reader = EmbeddedStore(folder, read_only=True)
    t0 = time.perf_counter()
    reader.lineage(hub_id, "down")
    results["reopen_and_first_query_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    emb = {
        "descendants": timed(lambda: reader.lineage(hub_id, "down"), args.runs),
        "ancestors": timed(lambda: reader.lineage(leaf_id, "up"), args.runs),
        "affected_repos": timed(lambda: reader.affected_repos(hub_id), args.runs),
    }
    cypher = ("MATCH p = (d:Model)-[:DERIVED_FROM* SHORTEST 1..1000]->(m:Model {key: $k}) "
              "RETURN d.id, length(p)")
    emb_cypher = timed(lambda: reader.query(cypher, {"k": hub_id.casefold()}), max(1, args.runs // 2))
    reader.close()

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_models))
    g.add_edges_from((c, p) for c, p, _ in graph.edges())
    uses = defaultdict(list)
    for r, m in zip(graph.repo_of_use.tolist(), graph.repo_model.tolist()):
        uses[m].append(r)
    results["networkx_build_s"] = round(time.perf_counter() - t0, 2)
    down = g.reverse(copy=False)

    def nx_affected():
        paths = nx.single_source_shortest_path(down, graph.hub)
        best = {}
        for model, path in paths.items():
            for repo in uses.get(model, ()):
                if repo not in best or len(path) < len(best[repo]):
                    best[repo] = path
        return best

    leaf = deepest(graph.parent, graph.hub, args.hub + 1)
    base = {
        "descendants": timed(lambda: nx.single_source_shortest_path(down, graph.hub), args.runs),
        "ancestors": timed(lambda: nx.single_source_shortest_path(g, leaf), args.runs),
        "affected_repos": timed(nx_affected, args.runs),
    }
    assert len(base["descendants"][1]) - 1 == args.hub
    assert len(emb["affected_repos"][1]) == len(base["affected_repos"][1])

    rows = []
    for name in ("descendants", "ancestors", "affected_repos"):
        e_ms, e_res = emb[name]
        b_ms = base[name][0]
        rows.append({"query": name, "results": len(e_res), "embedded_ms": round(e_ms, 2),
                     "networkx_ms": round(b_ms, 2), "embedded_over_networkx": round(e_ms / b_ms, 2)})
    results["latency"] = rows
    results["embedded_cypher_descendants_ms"] = round(emb_cypher[0], 1)

    print(f"synthetic graph: {args.models:,} models, hub {hub_id} with {args.hub:,} descendants, deepest leaf {leaf_id}")
    print(f"load (embedded): {n_records:,} records in {load_s:.1f} s = {n_records / load_s:,.0f} records/s")
    print(f"lineage index: first query after load {results['index_build_and_first_query_ms']} ms (builds + saves it); "
          f"after reopening read-only {results['reopen_and_first_query_ms']} ms (memory-maps the cache)")
    print(f"networkx baseline build: {results['networkx_build_s']} s")
    print(f"{'query':<16}{'results':>9}{'embedded ms':>14}{'networkx ms':>14}{'ratio':>8}")
    for row in rows:
        print(f"{row['query']:<16}{row['results']:>9,}{row['embedded_ms']:>14.2f}{row['networkx_ms']:>14.2f}"
              f"{row['embedded_over_networkx']:>8.2f}")
    print(f"for reference, the same descendants as one Cypher `* SHORTEST` query on the embedded database: "
          f"{results['embedded_cypher_descendants_ms']} ms")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
