"""Detectors that read what the store already knows about a model and raise flags: weights that only come as
pickles, and metadata a reuser needs but the model does not declare. Flag ids are derived from what was found, so
running a detector again changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from ptmgraph import domain as d
from ptmgraph.graph.store import GraphStore
from ptmgraph.ingest.infer_lineage import DECLARED, DECLARED_CHILDREN, PATTERNS

# Loading these runs pickle: arbitrary code from whoever wrote the file.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
SAFE_SUFFIXES = (".safetensors", ".gguf", ".onnx", ".h5", ".msgpack", ".tflite", ".npz")
# Pickle files that are not weights: training arguments, optimiser and scheduler state, RNG state.
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt")

FILES = "MATCH (m:Model) WHERE m.stub = false AND m.files IS NOT NULL RETURN m.id, m.files ORDER BY m.id"
DESCRIBED = ("MATCH (m:Model) WHERE m.stub = false RETURN m.id, m.license, m.has_card, m.files IS NOT NULL "
             "ORDER BY m.id")


def _id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha1("|".join(p.casefold() for p in parts).encode()).hexdigest()[:12]


def unsafe_serialization(store: GraphStore) -> Iterator[d.Flag]:
    for model_id, files in store.query(FILES).rows:
        names = [f.rsplit("/", 1)[-1].lower() for f in files or ()]
        pickles = sorted(f for f, n in zip(files, names) if n.endswith(PICKLE_SUFFIXES) and n not in NOT_WEIGHTS)
        safe = [f for f, n in zip(files, names) if n.endswith(SAFE_SUFFIXES)]
        if pickles and not safe:
            yield d.Flag(_id("SER-", model_id), model_id, "unsafe-serialization", "high",
                         f"{model_id} ships weights only as pickle ({', '.join(pickles[:3])}"
                         f"{', ...' if len(pickles) > 3 else ''}); loading them can run arbitrary code",
                         "ptmgraph-serialization", json.dumps({"pickle_files": pickles}, sort_keys=True))


def missing_metadata(store: GraphStore) -> Iterator[d.Flag]:
    declared = {row[0] for row in store.query(DECLARED_CHILDREN, {"p": list(DECLARED)}).rows}
    for model_id, licence, has_card, listed in store.query(DESCRIBED).rows:
        missing = []
        if has_card is False:
            missing.append("model card")
        if not licence and listed:  # only judged where a source listed the repository, not a bare reference
            missing.append("licence")
        name = model_id.rsplit("/", 1)[-1]
        if d.node_key(model_id) not in declared and any(p.match(name) for p, _ in PATTERNS):
            missing.append("base model (the name says it is derived)")
        if missing:
            yield d.Flag(_id("META-", model_id, *missing), model_id, "missing-metadata",
                         "medium" if "licence" in missing else "low",
                         f"{model_id} declares no {', no '.join(missing)}", "ptmgraph-metadata",
                         json.dumps({"missing": missing}, sort_keys=True))


DECLARED_EDGES = ("MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) WHERE e.provenance IN $p AND c.stub = false "
                  "AND p.stub = false RETURN c.id, p.id, e.relation, c.model_type, p.model_type, c.created_at, "
                  "p.created_at ORDER BY c.id, p.id")
QUANTIZED_PARENTS = ("MATCH (q:Model)-[e:DERIVED_FROM]->(:Model) WHERE e.relation = 'quantized' AND e.provenance IN $p "
                     "MATCH (c:Model)-[f:DERIVED_FROM]->(q) WHERE f.provenance IN $p "
                     "RETURN DISTINCT q.id, c.id, f.relation ORDER BY q.id, c.id")


def lineage_inconsistent(store: GraphStore) -> Iterator[d.Flag]:
    """Declared lineage that contradicts itself: a parent and child of different model_type (except through a
    merge or adapter, and only where both declare one), a parent created after its child, and children of a
    quantized model (quantizations are end products; building on one usually means the base was meant)."""
    params = {"p": list(DECLARED)}
    for child, parent, relation, child_type, parent_type, child_created, parent_created in store.query(
            DECLARED_EDGES, params).rows:
        problems = []
        if child_type and parent_type and child_type != parent_type and relation in ("finetune", "quantized"):
            problems.append(f"model_type {child_type!r} differs from its parent's {parent_type!r}")
        if child_created and parent_created and parent_created > child_created:
            problems.append(f"its parent was created after it ({parent_created} > {child_created})")
        if problems:
            yield d.Flag(_id("LIN-", child, parent), child, "lineage-inconsistent", "medium",
                         f"{child} declares {parent} as its {relation} parent, but " + "; ".join(problems),
                         "ptmgraph-lineage", json.dumps({"parent": parent, "relation": relation,
                                                         "problems": problems}, sort_keys=True))
    children: dict[str, list[str]] = {}
    for quantized, child, relation in store.query(QUANTIZED_PARENTS, params).rows:
        children.setdefault(quantized, []).append(f"{child} ({relation})")
    for quantized, built_on in children.items():
        yield d.Flag(_id("LIN-", quantized, "children"), quantized, "lineage-inconsistent", "low",
                     f"{quantized} is a quantization, yet {len(built_on)} model(s) declare it as their parent",
                     "ptmgraph-lineage", json.dumps({"children": built_on}, sort_keys=True))
