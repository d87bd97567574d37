"""DARA: the GNN against a RandomForest on layer-type counts and DARA's own MLP, all in one run.

    pip install -e '.[gnn,bench]'
    python benchmarks/bench_dara.py [--checkpoint src/ptmgraph/data/dara/gnn.pt] [--vectors ../shared/data/dara/vec_d_dev.json]

Graphs are generated from real checkpoint presets (see ptmgraph.gnn.presets); the held-out split holds out whole
ranges of head sizes (7-40 labels vs 2-6 in training) and added vocabulary (41-400 tokens vs 0-40). The shipped
checkpoint was trained with seed 42; ``--seed N`` draws another held-out sample from the same ranges, which
training never draws from. Prints: accuracy / weighted F1 per view and on the look-alike groups, the best score any
classifier can reach on the sample (presets that two families share exactly), RF in the same run, inference
graphs/s, graph extraction models/s (median config), DARA-MLP 5-fold on the vectors file, and precision / recall
of anomaly detection with injected wrong labels.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import torch

from ptmgraph.gnn import dataset
from ptmgraph.gnn.assess import assess
from ptmgraph.gnn.checkpoints import GNN
from ptmgraph.gnn.features import width
from ptmgraph.gnn.model import GraphClassifier
from ptmgraph.gnn.presets import FAMILIES, LOOK_ALIKES
from ptmgraph.gnn.train import score
from ptmgraph.gnn.trace import graphs_from_config

DEFAULT_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dara" / "vec_d_dev.json"
DEFAULT_LABELS = DEFAULT_VECTORS.parents[1] / "labels" / "model_types.json"


def line(name: str, result: dict) -> str:
    return (f"  {name:34s} model_type {result['model_type']['accuracy']:.2%} (F1 {result['model_type']['f1']:.3f})"
            f"  architecture {result['architecture']['accuracy']:.2%} (F1 {result['architecture']['f1']:.3f})"
            f"  n={result['model_type']['n']}")


def rf_baseline(train, test):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction import DictVectorizer

    vec = DictVectorizer()
    x_train = vec.fit_transform([Counter(n.op for n in g.nodes) for g in train])
    x_test = vec.transform([Counter(n.op for n in g.nodes) for g in test])
    out = []
    for target in ("model_type", "architecture"):
        rf = RandomForestClassifier(n_estimators=300, random_state=42, n_jobs=2)
        rf.fit(x_train, [getattr(g, target) for g in train])
        out.append(rf.predict(x_test))
    return list(zip(*out))


def signature(graph) -> tuple:
    """What the GNN can see, label counts read as small: two graphs with one signature cannot be told apart."""
    def dims(shape):
        return tuple(width(d) for d in shape)

    return (graph.view, tuple(graph.edges), tuple((n.op, dims(n.out_shape), tuple(dims(p) for p in n.params),
                                                  n.module.count(".")) for n in graph.nodes))


def exact(graph) -> tuple:
    return graph.view, tuple(graph.edges), tuple((n.op, n.out_shape, n.params, n.module) for n in graph.nodes)


def preset_groups(samples, graphs) -> list[tuple]:
    """Each held-out graph's group: the signature of its preset before variation. Two presets with one signature
    (electra-base and bert-base sizes, hubert and wav2vec2) vary the same way, so nothing in a varied graph
    says which of them it came from."""
    keys = []
    for sample, graph in zip(samples, graphs, strict=True):
        base = graphs_from_config({"model_type": sample.family.model_type, **sample.family.presets[sample.preset]},
                                  sample.architecture)
        keys.append(signature(base[graph.view]))
    return keys


def ceiling(keys: list[tuple], truth: list[tuple[str, str]], target: int) -> float:
    labels: dict[tuple, Counter] = {}
    for key, labelled in zip(keys, truth):
        labels.setdefault(key, Counter())[labelled[target]] += 1
    return sum(max(c.values()) for c in labels.values()) / len(truth)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=str(GNN))
    ap.add_argument("--variants", type=int, default=3, help="as given to `ptmgraph dara train` (default 3)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--vectors", default=str(DEFAULT_VECTORS))
    ap.add_argument("--labels", default=str(DEFAULT_LABELS))
    args = ap.parse_args()
    torch.set_num_threads(2)

    items = dataset.samples(variants=args.variants, seed=args.seed)
    train, test, test_samples = [], [], []
    t0 = time.perf_counter()
    for sample, graph in dataset.graphs(items):
        (train if sample.split == "train" else test).append(graph)
        if sample.split == "test" and graph.view != "sequence":
            test_samples.append(sample)
    print(f"generated {len(train):,} training and {len(test):,} held-out graphs from {len(items):,} configs "
          f"in {time.perf_counter() - t0:.1f} s")

    # Extraction speed on one config per family, median: a fresh cache key, modelling code already imported (as
    # in a scan, which imports each model_type's code once).
    times = []
    for fam in FAMILIES:
        cfg = {"model_type": fam.model_type, **fam.presets[0], "initializer_range": 0.0201}  # a fresh cache key
        start = time.perf_counter()
        graphs_from_config(cfg, fam.architectures()[0])
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    print(f"graph extraction: median {med * 1000:.0f} ms per model = {1 / med:.1f} models/s "
          f"(p90 {sorted(times)[int(0.9 * len(times))] * 1000:.0f} ms) over {len(times)} families")

    clf = GraphClassifier.load(args.checkpoint)
    shaped = [g for g in test if g.view != "sequence"]
    clf.predict(shaped[:32])  # first call pays lazy imports and allocator warm-up; a scan pays it once
    start = time.perf_counter()
    preds = clf.predict(shaped)
    rate = len(shaped) / (time.perf_counter() - start)
    gnn_pairs = [(p.model_type, p.architecture) for p in preds]
    truth = [(g.model_type, g.architecture) for g in shaped]
    print(f"GNN inference: {rate:,.0f} graphs/s on CPU ({len(shaped)} graphs, 2 threads)")

    print("held-out hyper-parameter ranges (graphs with shapes: traced data flow + module trees):")
    print(line("GNN", score(truth, gnn_pairs)))
    groups = preset_groups(test_samples, shaped)
    types_of: dict[tuple, set[str]] = {}
    for key, labelled in zip(groups, truth):
        types_of.setdefault(key, set()).add(labelled[0])
    clear = [i for i, key in enumerate(groups) if len(types_of[key]) == 1]
    print(line("GNN, presets no other family shares", score([truth[i] for i in clear], [gnn_pairs[i] for i in clear]))
          + f"  ({len(shaped) - len(clear)} held-out graphs come from a preset another family shares exactly)")
    print("  best any classifier can do on this held-out set (the majority label of each group of identical "
          f"presets): model_type {ceiling(groups, truth, 0):.2%}, architecture {ceiling(groups, truth, 1):.2%}")
    # A head without labels on an unchanged vocabulary (BertModel as released) has no hyper-parameter to hold out:
    # such held-out graphs equal a training graph, so they are also scored apart.
    seen = {exact(g) for g in train}
    new = [i for i, g in enumerate(shaped) if exact(g) not in seen]
    print(line("GNN, graphs no training graph equals", score([truth[i] for i in new], [gnn_pairs[i] for i in new])))
    start = time.perf_counter()
    train_shaped = [g for g in train if g.view != "sequence"]
    rf_pairs = rf_baseline(train_shaped, shaped)
    print(line("RandomForest on layer-type counts", score(truth, rf_pairs)) +
          f"  (trained in {time.perf_counter() - start:.1f} s)")
    for view in ("trace", "modules"):
        idx = [i for i, g in enumerate(shaped) if g.view == view]
        print(line(f"GNN, {view} view", score([truth[i] for i in idx], [gnn_pairs[i] for i in idx])))
        print(line(f"RF, {view} view", score([truth[i] for i in idx], [rf_pairs[i] for i in idx])))
    for group in LOOK_ALIKES:
        idx = [i for i, g in enumerate(shaped) if g.model_type in group]
        name = "/".join(sorted(group))
        print(line(f"GNN on {name}", score([truth[i] for i in idx], [gnn_pairs[i] for i in idx])))
        print(line(f"RF on {name}", score([truth[i] for i in idx], [rf_pairs[i] for i in idx])))
    seq = [g for g in test if g.view == "sequence"]
    seq_pred = clf.predict(seq)
    print(line("GNN on sequences (no shapes)", score([(g.model_type, g.architecture) for g in seq],
                                                     [(p.model_type, p.architecture) for p in seq_pred])))

    # Injected wrong labels on generated graphs: half the held-out graphs declare another family's model_type.
    rng = random.Random(args.seed)
    types = sorted({g.model_type for g in shaped})
    tp = fp = fn = 0
    for g in shaped:
        lie = rng.random() < 0.5
        declared = rng.choice([t for t in types if t != g.model_type]) if lie else g.model_type
        found = assess(f"org/model-{rng.randrange(10**6)}", {"model_type": declared}, g, clf)
        flagged = any(f.check == "config-vs-architecture" for f in found.findings)
        tp += flagged and lie
        fp += flagged and not lie
        fn += lie and not flagged
    print(f"anomaly injection on generated graphs (config-vs-architecture): precision {tp / max(tp + fp, 1):.3f} "
          f"recall {tp / max(tp + fn, 1):.3f} (tp {tp}, fp {fp}, fn {fn})")

    if Path(args.vectors).exists():
        dara_mlp(args.vectors, args.labels, args.seed)
    else:
        print(f"DARA-MLP: {args.vectors} not found, skipped", file=sys.stderr)


def dara_mlp(vectors: str, labels: str, seed: int) -> None:
    from ptmgraph.gnn.vectors import VectorClassifier, arch_to_type, folds, read_json, read_vectors

    rows = read_vectors(vectors)
    a2t = arch_to_type(read_json(labels, "labels"))
    rng = random.Random(seed)
    archs = sorted({a for _, a, _ in rows})
    truth, pred, tp, fp, fn = [], [], 0, 0, 0
    start = time.perf_counter()
    for tr, te in folds(len(rows), 5, seed):
        clf = VectorClassifier.fit([rows[i] for i in tr], a2t, seed=seed)
        p = clf.predict([rows[i] for i in te])
        pred += p
        truth += [(a2t.get(rows[i][1]), rows[i][1]) for i in te]
        # Injection: 10% of the held-out models declare another architecture; flagged when the MLP disagrees
        # with the declared architecture's model_type.
        for (ptype, _), i in zip(p, te):
            lie = rng.random() < 0.1
            declared = rng.choice([a for a in archs if a2t.get(a) != a2t.get(rows[i][1])]) if lie else rows[i][1]
            flagged = a2t.get(declared) != ptype
            tp += flagged and lie
            fp += flagged and not lie
            fn += lie and not flagged
    print(line(f"DARA-MLP, 5-fold seed {seed} (vec_d)", score(truth, pred)) +
          f"  ({time.perf_counter() - start:.0f} s)")
    print(f"anomaly injection on vec_d (10% wrong architecture labels, model_type disagreement): precision "
          f"{tp / max(tp + fp, 1):.3f} recall {tp / max(tp + fn, 1):.3f} (tp {tp}, fp {fp}, fn {fn})")


if __name__ == "__main__":
    main()
