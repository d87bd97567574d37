"""Training graphs generated from real checkpoint presets, varied the way real fine-tunes vary: the number of
labels of a head and tokens added to a vocabulary. The split holds out whole ranges of those, so a model is
tested on sizes it never saw."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ptmgraph.gnn.layer_graph import GraphError, LayerGraph, as_sequence
from ptmgraph.gnn.presets import FAMILIES, Family

#: Held-out ranges: training sees 2-6 labels and 0-40 added tokens, testing 7-40 labels and 41-400 tokens.
TRAIN_LABELS, TEST_LABELS = (2, 6), (7, 40)
TRAIN_ADDED, TEST_ADDED = (0, 40), (41, 400)


@dataclass(frozen=True)
class Sample:
    family: Family
    preset: int
    architecture: str
    config: dict[str, Any]
    split: str


def _vary(family: Family, preset: dict[str, Any], arch: str, rng: random.Random, split: str) -> dict[str, Any]:
    labels = TRAIN_LABELS if split == "train" else TEST_LABELS
    added = TRAIN_ADDED if split == "train" else TEST_ADDED
    cfg = {"model_type": family.model_type, **preset}
    if any(k in arch for k in ("Classification", "ForCTC")) or arch.endswith("ForMultipleChoice"):
        cfg["num_labels"] = rng.randint(*labels)
    vocab = cfg.get("vocab_size")
    if isinstance(vocab, int) and vocab > 1000 and rng.random() < 0.5:
        cfg["vocab_size"] = vocab + rng.randint(*added)
        if "decoder_vocab_size" in cfg:
            cfg["decoder_vocab_size"] = cfg["vocab_size"]
    return cfg


def samples(variants: int = 2, seed: int = 42, families: tuple[Family, ...] = FAMILIES) -> list[Sample]:
    rng = random.Random(seed)
    out = []
    for fam in families:
        for p, preset in enumerate(fam.presets):
            for arch in fam.architectures():
                for split, n in (("train", variants), ("test", 1)):
                    for _ in range(n):
                        out.append(Sample(fam, p, arch, _vary(fam, preset, arch, rng, split), split))
    return out


def graphs(items: list[Sample], views: tuple[str, ...] = ("trace", "modules", "sequence"),
           on_item: Callable[[], None] | None = None) -> Iterator[tuple[Sample, LayerGraph]]:
    """Each sample's graphs in the requested views; samples transformers cannot build are skipped."""
    from ptmgraph.gnn.trace import graphs_from_config

    for item in items:
        try:
            built = graphs_from_config(item.config, item.architecture)
        except GraphError:
            built = {}
        if built:
            built["sequence"] = as_sequence(built["trace"])
            for view in views:
                yield item, built[view]
        if on_item:
            on_item()
