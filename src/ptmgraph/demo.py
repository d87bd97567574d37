"""``ptmgraph demo``: load the shipped sample and take a short tour of what ptmgraph answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ptmgraph.graph.analyses import lineage_report, model_flags
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.propagation import propagate, why
from ptmgraph.graph.store import GraphStore
from ptmgraph.ingest import sample

BASE = "meta-llama/Llama-2-7b-hf"
LEAF = "TheBloke/Llama-2-7B-Chat-GGUF"
FLAGGED = "decapoda-research/llama-7b-hf"
EXPOSED_REPO = "tloen/alpaca-lora"


def load_sample(store: GraphStore) -> dict[str, int]:
    return vars(store.write(Batch.of(sample.records())))


def tour(store: GraphStore, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    progress("loading the shipped sample")
    loaded = load_sample(store)
    progress("propagating flags")
    propagation = propagate(store).to_json()
    progress("walking lineage")
    flags = model_flags(store)
    return {
        "store": store.uri,
        "loaded": loaded,
        "stats": store.stats().to_json(),
        "lineage": lineage_report(store, BASE, up=False),
        "ancestry": lineage_report(store, LEAF, down=False),
        "flagged": {
            "flags": [f for f in flags if f["model"] == FLAGGED],
            **lineage_report(store, FLAGGED, up=False),
        },
        "propagation": propagation,
        "why": why(store, EXPOSED_REPO),
        "naming": [f for f in flags if f["kind"] == "naming"],
    }
