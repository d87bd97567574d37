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


def _strings(value: Any, what: str) -> list[str]:
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


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _text(value: Any) -> str | None:
    return value if type(value) is str else None


def _gated(value: Any) -> bool | None:
    if value is None:
        return None
    return value not in (False, "false", "False", "")


def _tag_licences(tags: list[str]) -> list[str]:
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
    tags = _strings(get("tags"), "tags")
    licenses = _strings(card.get("license"), "cardData.license") or _tag_licences(tags)
    files = _files(get("siblings"))
    has_card = bool(card) or (files is not None and "README.md" in files) or None
    architectures = config.get("architectures") if config else None
    values = (
        model_id, _text(get("author")), _text(get("sha")), _text(get("createdAt") or get("created_at")),
        _text(get("lastModified") or get("last_modified")), _count(get("downloads")), _count(get("likes")),
        licenses[0] if licenses else None, _text(get("library_name")), _text(get("pipeline_tag")), tuple(tags),
        _text(config.get("model_type")) if config else None,
        tuple(_strings(architectures, "config.architectures")) or None if architectures is not None else None,
        files, _gated(get("gated")), has_card, source,
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
        for dataset in _strings(datasets, "cardData.datasets"):
            if dataset.strip():
                yield d.TrainedOn(model.id, dataset, source=source)
    for base, relation, provenance in _bases(card, tags, obj.get("baseModels")):
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
        d.TrainedOn(model_id, dataset, source=source) for dataset in _strings(datasets, "cardData.datasets")
        if dataset.strip()]
    bases = _bases(card, tags, obj.get("baseModels"))
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


_NOT_PLAIN = object()  # a field value that makes its object not of the common shape
_NO_FIELDS = {}.get  # the fields of something that is not an object: none, so not of the common shape either
_GATED_NO = (False, "false", "False", "")


def _tag_list(value: Any) -> Any:
    """``tags`` as _strings gives them for a list of strings or null; anything else is not the common shape."""
    if value is None:
        return []
    if type(value) is list:
        try:
            "".join(value)
            return value
        except TypeError:
            pass
    return _NOT_PLAIN


def _files_or_not(siblings: Any) -> Any:
    try:
        return _files(siblings)
    except InvalidRecord:
        return _NOT_PLAIN


def plain_many(objs: list[Any], source: str) -> list[tuple[tuple[Any, ...], str | None, str] | None]:
    """What :func:`add_plain` would add for each of ``objs``, worked out one field at a time over all of them: a
    comprehension per field costs a fraction of the dozen calls per model that :func:`_fields` makes, and a
    snapshot has millions of models. For each object: its Model values, its one declared base (or None) and that
    base's relation; None where the object is not of the common shape (a list of licences, datasets, bases the Hub
    derived, an id or field of an odd type), which add_plain, or the records path, then takes as before."""
    gets = [obj.get if type(obj) is dict else _NO_FIELDS for obj in objs]
    ids = [get("id") for get in gets]
    cards = [get("cardData") for get in gets]
    cards = [card if type(card) is dict else {} if card is None else _NOT_PLAIN for card in cards]
    configs = [get("config") for get in gets]
    configs = [config if type(config) is dict else {} if config is None else _NOT_PLAIN for config in configs]
    tags = [_tag_list(get("tags")) for get in gets]
    joined = ["".join(ts) if ts is not _NOT_PLAIN else "base_model:" for ts in tags]
    # A base the Hub derived (a base_model: tag) needs the slow reading, as does a tag that merely contains the text.
    # Licence tags (most Hub models have one) count only where the card names no licence: see _plain_one.
    based = ["base_model:" in text for text in joined]
    licensed = ["license:" in text for text in joined]
    siblings = [get("siblings") for get in gets]
    files = [None if s is None else _files_or_not(s) for s in siblings]
    return [None if odd_tags or card is _NOT_PLAIN or config is _NOT_PLAIN or fs is _NOT_PLAIN
            or not d.is_plain_id(model_id) or get("baseModels") is not None
            else _plain_one(get, model_id, card, config, ts, licence_tags, fs, source)
            for get, model_id, card, config, ts, odd_tags, licence_tags, fs
            in zip(gets, ids, cards, configs, tags, based, licensed, files)]


def _plain_one(get: Any, model_id: str, card: dict[str, Any], config: dict[str, Any], tags: list[str],
               licence_tags: bool, files: tuple[str, ...] | None,
               source: str) -> tuple[tuple[Any, ...], str | None, str] | None:
    """The rest of :func:`plain_many` for one object whose id, card, config, tags and files are plain already
    (``licence_tags``: some tag contains "license:")."""
    card_get = card.get
    licence = card_get("license")
    if (licence is not None and type(licence) is not str) or card_get("datasets") is not None:
        return None
    if licence is None and licence_tags:  # as _fields reads them
        named = _tag_licences(tags)
        if len(named) > 1:
            return None  # the records path adds a LicensedAs for each licence after the first
        licence = named[0] if named else None
    base = card_get("base_model")
    relation = "finetune"
    if base is not None:
        if type(base) is not str:
            return None
        if base.strip():
            declared = card_get("base_model_relation")
            if not d.is_plain_id(base) or (declared is not None and type(declared) is not str):
                return None
            if declared in RELATIONS:
                relation = declared
        else:
            base = None
    architectures = model_type = None
    if config:
        architectures = config.get("architectures")
        if architectures is not None:
            architectures = _tag_list(architectures)
            if architectures is _NOT_PLAIN:
                return None
            architectures = tuple(architectures) or None
        model_type = config.get("model_type")
        model_type = model_type if type(model_type) is str else None
    author, sha, library, pipeline_tag = get("author"), get("sha"), get("library_name"), get("pipeline_tag")
    created, modified = get("createdAt") or get("created_at"), get("lastModified") or get("last_modified")
    downloads, likes, gated = get("downloads"), get("likes"), get("gated")
    values = (
        model_id, author if type(author) is str else None, sha if type(sha) is str else None,
        created if type(created) is str else None, modified if type(modified) is str else None,
        downloads if type(downloads) is int and downloads >= 0 else None,
        likes if type(likes) is int and likes >= 0 else None,
        licence, library if type(library) is str else None,
        pipeline_tag if type(pipeline_tag) is str else None, tuple(tags), model_type, architectures, files,
        None if gated is None else gated not in _GATED_NO,
        bool(card) or (files is not None and "README.md" in files) or None, source,
    )
    return values, base, relation


def _bases(card: dict[str, Any], tags: list[str], base_models: Any) -> list[tuple[str, str, str]]:
    """(base, relation, provenance) for every base the card or the Hub declares."""
    declared_bases = card.get("base_model")
    hub_tags = [tag for tag in tags if tag.startswith("base_model:")]
    if declared_bases is None and base_models is None and not hub_tags:
        return []
    tagged = _hub_bases(hub_tags, base_models) if hub_tags or base_models is not None else {}
    if type(declared_bases) is str:  # the usual case, without building a list of one to filter
        bases = [declared_bases] if declared_bases.strip() else []
    else:
        bases = [b for b in _strings(declared_bases, "cardData.base_model") if b.strip()]
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
