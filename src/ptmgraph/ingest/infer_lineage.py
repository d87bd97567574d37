"""Proposes parents for models that declare none, from their names. Every proposal is a ``name-inferred`` edge
with its evidence and a confidence; it sits beside declared edges and never replaces one.

Patterns (the ones the Hub's naming habits make reliable):
- ``<base>-finetuned-<task>`` (also ``-finetuned``, ``-ft-``): a fine-tune of ``<base>``;
- ``<base>-GGUF`` / ``-GPTQ`` / ``-AWQ`` / ``-GGML`` / ``-EXL2`` / ``-bnb-4bit`` / ``-4bit`` / ``-8bit`` / ``-int4`` /
  ``-int8``: a quantization of ``<base>``;
- ``<base>-lora`` / ``-qlora`` / ``-adapter`` / ``-peft``: an adapter on ``<base>``.

``<base>`` is resolved against the models in the store: the same organisation first (confidence 0.8), then a
legacy id without organisation (``distilbert-base-uncased``, 0.7), then a unique model of that name in any
organisation (0.6). An ambiguous name proposes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ptmgraph import domain as d

DECLARED = ("declared-card", "declared-tag", "config", "adapter-config")
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<base>.+?)[-_](?:finetuned|fine-tuned|ft)(?:[-_].*)?$", re.I), "finetune"),
    (re.compile(r"^(?P<base>.+?)[-_.](?:gguf|gptq|awq|ggml|exl2|bnb[-_]4bit|4bit|8bit|int4|int8)(?:[-_.].*)?$", re.I),
     "quantized"),
    (re.compile(r"^(?P<base>.+?)[-_](?:lora|qlora|adapter|peft)(?:[-_].*)?$", re.I), "adapter"),
)
# Quantizers drop the "-hf" that converted checkpoints carry: "Llama-2-7B-Chat-GGUF" is "Llama-2-7b-chat-hf".
_EQUIVALENT_SUFFIX = re.compile(r"[-_]hf$", re.I)


@dataclass(frozen=True)
class Proposal:
    child: str
    parent: str
    relation: str
    confidence: float
    evidence: str

    def record(self) -> d.Lineage:
        return d.Lineage(self.child, self.parent, self.relation, "name-inferred", self.confidence,
                         f"name-inferred: {self.evidence}")


def _name(model_id: str) -> str:
    return model_id.rsplit("/", 1)[-1]


def _org(model_id: str) -> str | None:
    return model_id.split("/", 1)[0].casefold() if "/" in model_id else None


def _normal(name: str) -> str:
    return _EQUIVALENT_SUFFIX.sub("", name).casefold()


class NameIndex:
    def __init__(self, model_ids: Iterable[str]) -> None:
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for model_id in model_ids:
            self.by_name[_normal(_name(model_id))].append(model_id)

    def resolve(self, base: str, child: str) -> tuple[str, float, str] | None:
        candidates = [c for c in self.by_name.get(_normal(base), ()) if d.node_key(c) != d.node_key(child)]
        if not candidates:
            return None
        same_org = [c for c in candidates if _org(c) == _org(child)]
        if len(same_org) == 1:
            return same_org[0], 0.8, "same organisation"
        legacy = [c for c in candidates if "/" not in c]
        if len(legacy) == 1:
            return legacy[0], 0.7, "canonical id without organisation"
        if len(candidates) == 1:
            return candidates[0], 0.6, "the only model of that name"
        return None


def propose(model_ids: Iterable[str], declared_children: set[str]) -> Iterator[Proposal]:
    """``declared_children``: keys of models that already declare a parent (they get no proposal)."""
    ids = list(model_ids)
    index = NameIndex(ids)
    for model_id in ids:
        if d.node_key(model_id) in declared_children:
            continue
        name = _name(model_id)
        for pattern, relation in PATTERNS:
            match = pattern.match(name)
            if not match:
                continue
            resolved = index.resolve(match.group("base"), model_id)
            if resolved is None:
                continue
            parent, confidence, how = resolved
            yield Proposal(model_id, parent, relation, confidence,
                           f"name {name!r} matches the {relation} pattern; base {match.group('base')!r} "
                           f"resolved to {parent!r} ({how})")
            break


DECLARED_CHILDREN = "MATCH (c:Model)-[e:DERIVED_FROM]->(:Model) WHERE e.provenance IN $p RETURN DISTINCT c.key"


def infer(store, write: bool = True) -> dict:
    """Propose parents for every described model without a declared one; write them unless ``write`` is False."""
    from ptmgraph.graph.batch import Batch

    ids = [row[0] for row in store.query("MATCH (m:Model) WHERE m.stub = false RETURN m.id").rows]
    declared = {row[0] for row in store.query(DECLARED_CHILDREN, {"p": list(DECLARED)}).rows}
    proposals = list(propose(ids, declared))
    if write and proposals:
        store.write(Batch.of(p.record() for p in proposals))
    return {"models": len(ids), "with_declared_parent": len(declared), "proposed": len(proposals),
            "written": write, "proposals": [vars(p) for p in proposals]}
