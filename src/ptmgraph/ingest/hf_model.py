"""One Hugging Face ModelInfo-shaped object (the Hub API's JSON, live or saved) → domain records.

Lineage comes from the card (``cardData.base_model``, a string or a list, with ``base_model_relation``) and from
the Hub's derived tags ``base_model:<id>`` / ``base_model:<relation>:<id>``. A list of several bases is a merge.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord

RELATIONS = {r.value for r in d.Relation}


def _strings(value: Any, what: str) -> list[str]:
    """A string or a list of strings; nulls inside a list are dropped (cards written by hand contain
    ``datasets: [null]``), anything else makes the record malformed."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) or v is None for v in value):
        return [v for v in value if v is not None]
    raise InvalidRecord(f"{what} must be a string or a list of strings, got {value!r:.60}")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRecord(f"{what} must be an object, got {type(value).__name__}")
    return value


def _files(siblings: Any) -> tuple[str, ...] | None:
    if siblings is None:
        return None
    if not isinstance(siblings, list):
        raise InvalidRecord("siblings must be a list")
    names = []
    for sibling in siblings:
        name = sibling.get("rfilename") if isinstance(sibling, dict) else sibling
        if not isinstance(name, str):
            raise InvalidRecord(f"a sibling has no file name: {sibling!r:.60}")
        names.append(name)
    return tuple(names)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _gated(value: Any) -> bool | None:
    if value is None:
        return None
    return value not in (False, "false", "False", "")


def records(obj: dict[str, Any], source: str) -> Iterator[d.Record]:
    model_id = obj.get("id") or obj.get("modelId")
    if not model_id:
        raise InvalidRecord("record has no 'id' (or 'modelId')")
    card = _mapping(obj.get("cardData"), "cardData")
    config = _mapping(obj.get("config"), "config")
    tags = _strings(obj.get("tags"), "tags")
    licenses = _strings(card.get("license"), "cardData.license") or [
        t.split(":", 1)[1] for t in tags if t.startswith("license:")]
    files = _files(obj.get("siblings"))
    has_card = bool(card) or (files is not None and "README.md" in files) or None
    model = d.Model(
        model_id,
        author=obj.get("author") if isinstance(obj.get("author"), str) else None,
        sha=obj.get("sha") if isinstance(obj.get("sha"), str) else None,
        created_at=obj.get("createdAt") or obj.get("created_at"),
        last_modified=obj.get("lastModified") or obj.get("last_modified"),
        downloads=_count(obj.get("downloads")),
        likes=_count(obj.get("likes")),
        license=licenses[0] if licenses else None,
        library=obj.get("library_name") if isinstance(obj.get("library_name"), str) else None,
        pipeline_tag=obj.get("pipeline_tag") if isinstance(obj.get("pipeline_tag"), str) else None,
        tags=tuple(tags),
        model_type=config.get("model_type") if isinstance(config.get("model_type"), str) else None,
        architectures=tuple(_strings(config.get("architectures"), "config.architectures")) or None,
        files=files,
        gated=_gated(obj.get("gated")),
        has_card=has_card,
        source=source,
    )
    yield model
    for licence in licenses[1:]:
        yield d.LicensedAs(model.id, licence, source=source)
    for dataset in _strings(card.get("datasets"), "cardData.datasets"):
        if dataset.strip():
            yield d.TrainedOn(model.id, dataset, source=source)
    yield from lineage(model.id, card, tags, source, obj.get("baseModels"))


def lineage(model_id: str, card: dict[str, Any], tags: list[str], source: str,
            base_models: Any = None) -> Iterator[d.Lineage]:
    tagged = _hub_bases(tags, base_models)
    bases = [b for b in _strings(card.get("base_model"), "cardData.base_model") if b.strip()]
    declared = card.get("base_model_relation")
    for base in bases:
        # A card that names its base but not the relation: the Hub's own derivation (tags, baseModels) knows it
        # (a GGUF file makes it "quantized"); otherwise several bases are a merge and one is a fine-tune.
        if declared in RELATIONS:
            relation = declared
        elif tagged.get(base, "unknown") != "unknown":
            relation = tagged[base]
        else:
            relation = "merge" if len(bases) > 1 else "finetune"
        yield d.Lineage(model_id, base, relation, "declared-card", 1.0, source)
    for base, kind in tagged.items():
        if kind == "unknown" and len(tagged) > 1:
            kind = "merge"
        yield d.Lineage(model_id, base, kind, "declared-tag", 1.0, source)


def _hub_bases(tags: list[str], base_models: Any) -> dict[str, str]:
    """Bases the Hub derived: ``baseModels`` ({"relation", "models": [{"id"}]}) and ``base_model:[relation:]id``
    tags, mapped to their relation (``unknown`` when the tag does not say)."""
    tagged: dict[str, str] = {}
    if isinstance(base_models, dict) and isinstance(base_models.get("models"), list):
        kind = base_models.get("relation") if base_models.get("relation") in RELATIONS else "unknown"
        for entry in base_models["models"]:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"].strip():
                tagged[entry["id"]] = kind
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:"):]
        kind, sep, target = rest.partition(":")
        if sep and kind in RELATIONS and target:
            tagged[target] = kind
        elif rest:
            tagged.setdefault(rest, "unknown")
    return tagged
