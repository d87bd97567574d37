"""One Hugging Face ModelInfo-shaped object (the Hub API's JSON, live or saved) → domain records.

Lineage comes from the card (``cardData.base_model``, a string or a list, with ``base_model_relation``) and from
the Hub's derived tags ``base_model:<id>`` / ``base_model:<relation>:<id>``. A list of several bases is a merge.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord
from ptmgraph.graph.batch import Batch

RELATIONS = {r.value for r in d.Relation}
MAX_COUNT = (1 << 63) - 1  # a count the store keeps (INT64); a larger one is not a count anyone made


def strings(value: Any, what: str) -> list[str]:
    """A string or a list of strings; nulls inside a list are dropped (cards written by hand contain
    ``datasets: [null]``), anything else makes the record malformed."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if type(value) is list:
        try:
            "".join(value)  # succeeds only for a list of strings, and checks that in C: this runs for every model
            return value
        except TypeError:
            pass
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


def known_count(value: Any) -> int | None:
    return value if type(value) is int and 0 <= value <= MAX_COUNT else None


def known_text(value: Any) -> str | None:
    return value if type(value) is str else None


def gated(value: Any) -> bool | None:
    if value is None:
        return None
    return value not in (False, "false", "False", "")


def tag_licences(tags: list[str]) -> list[str]:
    """The licences the Hub's ``license:<id>`` tags name, read only where the card names none."""
    return [tag[len("license:"):] for tag in tags if tag.startswith("license:")]


def _fields(obj: dict[str, Any], source: str) -> tuple[tuple[Any, ...], list[str], dict[str, Any], list[str]]:
    """The model's field values (in :class:`~ptmgraph.domain.Model`'s order), its licences, card and tags."""
    # Runs once per model of a snapshot (millions): one lookup per field, positional values.
    get = obj.get
    model_id = get("id") or get("modelId")
    if not model_id:
        raise InvalidRecord("record has no 'id' (or 'modelId')")
    card = _mapping(get("cardData"), "cardData")
    config = _mapping(get("config"), "config")
    tags = strings(get("tags"), "tags")
    licenses = strings(card.get("license"), "cardData.license") or tag_licences(tags)
    files = _files(get("siblings"))
    has_card = bool(card) or (files is not None and "README.md" in files) or None
    architectures = config.get("architectures") if config else None
    values = (
        model_id, known_text(get("author")), known_text(get("sha")), known_text(get("createdAt") or get("created_at")),
        known_text(get("lastModified") or get("last_modified")), known_count(get("downloads")), known_count(get("likes")),
        licenses[0] if licenses else None, known_text(get("library_name")), known_text(get("pipeline_tag")), tuple(tags),
        known_text(config.get("model_type")) if config else None,
        tuple(strings(architectures, "config.architectures")) or None if architectures is not None else None,
        files, gated(get("gated")), has_card, source,
    )
    return values, licenses, card, tags


def records(obj: dict[str, Any], source: str) -> Iterator[d.Record]:
    values, licenses, card, tags = _fields(obj, source)
    model = d.Model(*values)
    yield model
    for licence in licenses[1:]:
        yield d.LicensedAs(model.id, licence, source=source)
    datasets = card.get("datasets")
    if datasets is not None:
        for dataset in strings(datasets, "cardData.datasets"):
            if dataset.strip():
                yield d.TrainedOn(model.id, dataset, source=source)
    for base, relation, provenance in declared_bases(card, tags, obj.get("baseModels")):
        yield d.Lineage(model.id, base, relation, provenance, 1.0, source)


def add_plain(batch: Batch, obj: dict[str, Any], source: str) -> tuple[str, int, int, int] | None:
    """Add what :func:`records` would yield for ``obj`` to ``batch`` without building the model's and lineage
    records, and return the model id, how many records that is, how many of them are lineage edges and how many
    of those are self-loops. Add nothing and return None when ``obj`` is not plain: an id that validation would
    change or reject, or more than one licence (rare; the records path builds those). A batch and its tables are
    built this way in less than half the time (12 µs per model of a synthetic snapshot, against 27 µs through the
    records). Datasets (a quarter of the real 2022 snapshot's models name some) are added as records, built before
    anything is added, so that a bad one leaves the batch as it was."""
    values, licenses, card, tags = _fields(obj, source)
    model_id = values[0]
    if not d.is_plain_id(model_id) or len(licenses) > 1:
        return None
    datasets = card.get("datasets")
    trained_on = [] if datasets is None else [
        d.TrainedOn(model_id, dataset, source=source) for dataset in strings(datasets, "cardData.datasets")
        if dataset.strip()]
    bases = declared_bases(card, tags, obj.get("baseModels"))
    for base, _, _ in bases:
        if not d.is_plain_id(base):
            return None
    key = batch.add_model_values(values)
    for record in trained_on:
        batch.add(record)
    loops = 0
    for base, relation, provenance in bases:
        loops += batch.add_lineage_values(model_id, base, relation, provenance, 1.0, source, key)
    return model_id, 1 + len(trained_on) + len(bases), len(bases), loops


def declared_bases(card: dict[str, Any], tags: list[str], base_models: Any) -> list[tuple[str, str, str]]:
    """(base, relation, provenance) for every base the card or the Hub declares."""
    card_bases = card.get("base_model")
    hub_tags = [tag for tag in tags if tag.startswith("base_model:")]
    if card_bases is None and base_models is None and not hub_tags:
        return []
    tagged = _hub_bases(hub_tags, base_models) if hub_tags or base_models is not None else {}
    if type(card_bases) is str:  # the usual case, without building a list of one to filter
        bases = [card_bases] if card_bases.strip() else []
    else:
        bases = [b for b in strings(card_bases, "cardData.base_model") if b.strip()]
    declared = card.get("base_model_relation")
    found = []
    for base in bases:
        # A card that names its base but not the relation: the Hub's own derivation (tags, baseModels) knows it
        # (a GGUF file makes it "quantized"); otherwise several bases are a merge and one is a fine-tune.
        if declared in RELATIONS:
            relation = declared
        elif tagged.get(base, "unknown") != "unknown":
            relation = tagged[base]
        else:
            relation = "merge" if len(bases) > 1 else "finetune"
        found.append((base, relation, "declared-card"))
    for base, kind in tagged.items():
        if kind == "unknown" and len(tagged) > 1:
            kind = "merge"
        found.append((base, kind, "declared-tag"))
    return found


def _hub_bases(hub_tags: list[str], base_models: Any) -> dict[str, str]:
    """Bases the Hub derived: ``baseModels`` ({"relation", "models": [{"id"}]}) and ``base_model:[relation:]id``
    tags (``hub_tags``), mapped to their relation (``unknown`` when the tag does not say)."""
    tagged: dict[str, str] = {}
    if isinstance(base_models, dict) and isinstance(base_models.get("models"), list):
        kind = base_models.get("relation") if base_models.get("relation") in RELATIONS else "unknown"
        for entry in base_models["models"]:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"].strip():
                tagged[entry["id"]] = kind
    for tag in hub_tags:
        rest = tag[len("base_model:"):]
        kind, sep, target = rest.partition(":")
        if sep and kind in RELATIONS and target:
            tagged[target] = kind
        elif rest:
            tagged.setdefault(rest, "unknown")
    return tagged
