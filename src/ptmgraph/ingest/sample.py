"""The shipped, hand-written sample (``ptmgraph/data/sample``) as a record stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord

SAMPLE_CREATED_AT = "2026-11-23T00:00:00Z"


def _load(name: str) -> dict[str, Any]:
    text = resources.files("ptmgraph.data.sample").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def records() -> Iterator[d.Record]:
    for position, raw in enumerate(_load("models.json")["models"], start=1):
        try:
            yield from _model(raw)
        except (InvalidRecord, KeyError, TypeError, ValueError) as exc:
            raise InvalidRecord(f"sample models.json, model #{position}: {exc}") from None
    for raw in _load("repos.json")["repos"]:
        source = f"ptmgraph-sample: https://github.com/{raw['id']} ({raw['where']})"
        yield d.Repo(raw["id"], url=f"https://github.com/{raw['id']}", licenses=tuple(raw.get("licenses", ())) or None,
                     source=source)
        for model in raw["uses"]:
            yield d.Uses(raw["id"], model, source=source)
    for raw in _load("flags.json")["flags"]:
        yield d.Flag(raw["id"], raw["subject"], raw["kind"], raw["severity"], raw["summary"], "ptmgraph-sample",
                     json.dumps(raw["evidence"], sort_keys=True), SAMPLE_CREATED_AT, tuple(raw["references"]))


def _model(raw: dict[str, Any]) -> Iterator[d.Record]:
    model_id = raw["id"]
    source = f"ptmgraph-sample: https://huggingface.co/{model_id}"
    yield d.Model(
        model_id,
        author=model_id.split("/", 1)[0] if "/" in model_id else None,
        license=raw.get("license"),
        library=raw.get("library"),
        pipeline_tag=raw.get("pipeline_tag"),
        model_type=raw.get("model_type"),
        architectures=tuple(raw["architectures"]) if "architectures" in raw else None,
        files=tuple(raw["files"]) if "files" in raw else None,
        gated=raw.get("gated", False),
        has_card=True,
        source=source,
    )
    for parent, relation, provenance, *confidence in raw.get("base", ()):
        yield d.Lineage(model_id, parent, relation, provenance, confidence[0] if confidence else 1.0, source)
