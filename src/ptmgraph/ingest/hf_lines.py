"""Hub snapshot lines → model columns, a block of lines at a time: the hot path of ``ingest hf-jsonl``.

msgspec decodes each line into a value that holds only the fields a model needs: the rest of a Hub line, and the
hundreds of keys of a model's config, are skipped without becoming Python objects. The models of the common shape
(what :func:`hf_model.add_plain` takes: one licence, bases that are plain ids, each field of its usual type) then
become columns, one list per field of :class:`~ptmgraph.domain.Model`, worked out one field at a time over the block,
which a batch takes whole (:meth:`Batch.add_model_columns`). Every other line (odd, malformed, or not decoded here)
is left to the object-at-a-time path, so the batches are exactly the ones that path gives (tests/ingest/test_hf_lines).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from ptmgraph import domain as d
from ptmgraph.ingest.hf_model import (RELATIONS, declared_bases, gated, known_count, known_text, strings,
                                      tag_licences)
from ptmgraph.ingest.pipeline import BAD_UNIT

# Lines of a block are decoded together and their models worked out a field at a time over the block: few enough that
# the block's values stay in the core's nearest caches from one field's pass to the next.
LINES_PER_BLOCK = 256


class _Config(msgspec.Struct, gc=False):
    model_type: Any = None
    architectures: Any = None


class _Sibling(msgspec.Struct, gc=False):
    rfilename: Any = None


class _Line(msgspec.Struct, gc=False):
    """The fields of a Hub ModelInfo object that a model is made of. ``Any`` where a line may hold another type than
    the usual one: such a value is decoded as it is and judged below, as the object path judges it (a field
    declared ``str`` would make the whole line undecodable instead)."""

    id: Any = None
    author: Any = None
    sha: Any = None
    createdAt: Any = None  # noqa: N815 - the Hub's field names
    created_at: Any = None
    lastModified: Any = None  # noqa: N815
    last_modified: Any = None
    downloads: Any = None
    likes: Any = None
    library_name: Any = None
    pipeline_tag: Any = None
    tags: Any = None
    gated: Any = None
    siblings: list[_Sibling | str] | None = None  # a file list: typed, as it is long (a Hub line's largest part)
    baseModels: Any = None  # noqa: N815
    cardData: dict[str, Any] | None = None  # noqa: N815 - a dict: whether it is empty counts (has_card)
    config: _Config | None = None


_DECODE = msgspec.json.Decoder(_Line).decode
# Not JSON, not an object, a card or config that is not an object, bytes that are not UTF-8, nesting too deep.
_UNDECODABLE = (msgspec.DecodeError, ValueError, RecursionError)


class Block(NamedTuple):
    """A block's plain models: ``plain[i]`` says whether line i is one; the other lists hold a value for every line
    (meaningless where the line is not plain): its key, its Model values by field, its lineage edges (base,
    relation, provenance), the TRAINED_ON records of the datasets its card names, and how many records it makes."""

    plain: list[bool]
    keys: list[str]
    columns: list[list[Any]]
    lineage: list[list[tuple[str, str, str]]]
    trained_on: list[list[d.TrainedOn]]
    records: list[int]


def decoded(lines: list[bytes]) -> list[_Line | None]:
    """Each line's fields; None for a line msgspec cannot decode as an object (blank, malformed, odd)."""
    try:
        return [_DECODE(line) for line in lines]
    except _UNDECODABLE:
        return [_decoded_one(line) for line in lines]


def _decoded_one(line: bytes) -> _Line | None:
    try:
        return _DECODE(line)
    except _UNDECODABLE:
        return None


def plain_block(lines: list[_Line | None], source: str) -> Block:
    """The models of ``lines`` (from :func:`decoded`) that are of the common shape, as columns."""
    n = len(lines)
    known = [line is not None for line in lines]
    lines = [line if line is not None else _NOTHING for line in lines]
    ids = [line.id for line in lines]
    tags = [line.tags for line in lines]
    joined = [_joined(ts) for ts in tags]
    cards = [line.cardData for line in lines]
    cards = [card if card is not None else {} for card in cards]
    configs = [line.config for line in lines]
    files = [_files(line.siblings) for line in lines]
    plain = [ok and plain_id and text is not None and fs is not _ODD
             for ok, plain_id, text, fs in zip(known, _plain_ids(ids), joined, files)]
    trained_on = [_trained_on(model_id, card.get("datasets"), source) if ok else _NONE
                  for ok, model_id, card in zip(plain, ids, cards)]
    licences = [_licence(card.get("license"), text, ts) for card, text, ts in zip(cards, joined, tags)]
    lineage = [_lineage(card, ts, text, line.baseModels) if ok else _NONE
               for ok, card, ts, text, line in zip(plain, cards, tags, joined, lines)]
    if not all(_plain_ids([base for edges in lineage if edges is not _ODD for base, _, _ in edges])):
        lineage = [edges if edges is _ODD or all(map(d.is_plain_id, [base for base, _, _ in edges])) else _ODD
                   for edges in lineage]
    model_types = [known_text(config.model_type) if config is not None else None for config in configs]
    architectures = [_architectures(config.architectures) if config is not None else None for config in configs]
    plain = [ok and licence is not _ODD and edges is not _ODD and archs is not _ODD and trained is not _ODD
             for ok, licence, edges, archs, trained in zip(plain, licences, lineage, architectures, trained_on)]
    if not any(plain):
        return Block(plain, [], [], [], [], [])
    columns = [
        ids, [known_text(line.author) for line in lines], [known_text(line.sha) for line in lines],
        [known_text(line.createdAt or line.created_at) for line in lines],
        [known_text(line.lastModified or line.last_modified) for line in lines],
        [known_count(line.downloads) for line in lines], [known_count(line.likes) for line in lines],
        licences, [known_text(line.library_name) for line in lines], [known_text(line.pipeline_tag) for line in lines],
        [tuple(ts) if type(ts) is list else () for ts in tags], model_types, architectures, files,
        [gated(line.gated) for line in lines],
        [bool(card) or (fs is not None and fs is not _ODD and "README.md" in fs) or None
         for card, fs in zip(cards, files)],
        [source] * n,
    ]
    keys = [model_id.casefold() if ok else "" for model_id, ok in zip(ids, plain)]  # node_key of a plain id
    records = [1 + len(edges) + len(trained) if ok else 0 for ok, edges, trained in zip(plain, lineage, trained_on)]
    return Block(plain, keys, columns, lineage, trained_on, records)


_NOTHING = _Line()
_ODD = object()  # a value of a shape the common path does not take
_NONE: list[Any] = []  # no records, no edges: shared by every line, so never changed


def _trained_on(model_id: str, datasets: Any, source: str) -> Any:
    """The TRAINED_ON records of the datasets a card names, as add_plain builds them; _ODD where one is bad (the
    object path then says why)."""
    if datasets is None:
        return _NONE
    try:
        return [d.TrainedOn(model_id, dataset, source=source) for dataset in strings(datasets, "cardData.datasets")
                if dataset.strip()]
    except BAD_UNIT:
        return _ODD


def _joined(tags: Any) -> str | None:
    """The tags as one text (to look for the tags that need the object path), "" for none; None if not strings."""
    if tags is None:
        return ""
    if type(tags) is list:
        try:
            return "".join(tags)  # succeeds only for a list of strings, and checks that in C
        except TypeError:
            pass
    return None


def _files(siblings: list[_Sibling | str] | None) -> Any:
    if siblings is None:
        return None
    names = tuple([sibling if type(sibling) is str else sibling.rfilename for sibling in siblings])
    try:
        "".join(names)  # succeeds only for strings, and checks that in C
    except TypeError:
        return _ODD
    return names


def _licence(licence: Any, joined: str | None, tags: Any) -> Any:
    if licence is not None:
        return licence if type(licence) is str else _ODD
    if joined is None or "license:" not in joined:
        return None
    named = tag_licences(tags)
    if len(named) > 1:
        return _ODD  # the object path adds a LicensedAs for each licence after the first
    return named[0] if named else None


def _lineage(card: dict[str, Any], tags: list[str] | None, joined: str, base_models: Any) -> Any:
    """The (base, relation, provenance) of each lineage edge :func:`hf_model.declared_bases` finds; _ODD where two
    edges would be one (the object path merges them). Whether the bases are plain ids is checked for the whole block
    afterwards (see :func:`_plain_ids`)."""
    base = card.get("base_model")
    if base_models is None and "base_model:" not in joined and (base is None or type(base) is str):
        # The usual card (as in the synthetic snapshot): one base or none, and nothing the Hub derived.
        if base is None or not base.strip():
            return _NONE
        declared = card.get("base_model_relation")
        if declared is not None and type(declared) is not str:
            return _ODD
        return [(base, declared if declared in RELATIONS else "finetune", "declared-card")]
    try:
        edges = declared_bases(card, tags or [], base_models)
    except BAD_UNIT:
        return _ODD
    if len({(base.casefold(), provenance) for base, _, provenance in edges}) != len(edges):
        return _ODD
    return edges


def _plain_ids(values: list[Any]) -> list[bool]:
    """:func:`~ptmgraph.domain.is_plain_id` of each decoded JSON value, decided for the whole list at once where every
    one is plain, as in a snapshot nearly every id and base is: their concatenation is checked in C, where a call per
    value cost ~0.35 µs. Exact for values decoded from JSON, whose strings are never of a subclass of str."""
    try:
        text = "".join(values)  # succeeds only for a list of strings
    except TypeError:
        text = None
    if (text is not None and text.isascii() and text.isprintable() and " " not in text  # no surrounding space
            and (not values or (min(map(len, values)) > 0 and max(map(len, values)) <= d.MAX_ID_LENGTH))):
        return [True] * len(values)
    return [d.is_plain_id(value) for value in values]


def _architectures(architectures: Any) -> Any:
    if architectures is None:
        return None
    if _joined(architectures) is None:
        return _ODD
    return tuple(architectures) or None
