"""The shipped sample: valid, sourced, rich enough for the demo, and consistent with independent labels."""

from __future__ import annotations

import json
from collections import Counter

from ptmgraph import domain as d
from ptmgraph.ingest import sample


def test_every_record_is_valid_and_says_where_it_comes_from():
    records = list(sample.records())
    kinds = Counter(type(r).__name__ for r in records)
    assert kinds["Model"] >= 120 and kinds["Repo"] >= 30
    for record in records:
        if isinstance(record, (d.Model, d.Repo, d.Lineage, d.Uses)):
            assert record.source.startswith("ptmgraph-sample: https://"), record
    relations = {r.relation.value for r in records if isinstance(r, d.Lineage)}
    assert {"finetune", "adapter", "quantized", "merge"} <= relations
    merges = Counter(r.child for r in records if isinstance(r, d.Lineage) and r.relation == "merge")
    assert any(count >= 2 for count in merges.values())


def test_model_ids_are_unique_ignoring_case():
    ids = [r.key for r in sample.records() if isinstance(r, d.Model)]
    assert len(ids) == len(set(ids))


def test_at_least_two_documented_naming_surprises():
    naming = [r for r in sample.records() if isinstance(r, d.Flag) and r.kind == "naming"]
    assert len(naming) >= 2
    models = {r.key: r for r in sample.records() if isinstance(r, d.Model)}
    for flag in naming:
        evidence = json.loads(flag.evidence)
        assert models[d.node_key(flag.subject)].model_type == evidence["config_model_type"]
        assert evidence["name_token"] in flag.subject.lower()


def test_sample_agrees_with_independent_labels_where_they_overlap(shared_data):
    """The sample is hand-written, not derived from ../shared; where a model is in the 2023 label set, the
    model_type and architectures written here must agree with it."""
    labels = json.loads((shared_data / "labels" / "model_types.json").read_text())
    declared: dict[str, set[tuple[str, str]]] = {}
    for model_type, archs in labels.items():
        for arch, ids in archs.items():
            for model_id in ids:
                declared.setdefault(model_id.lower(), set()).add((model_type, arch))
    overlap = 0
    for model in (r for r in sample.records() if isinstance(r, d.Model)):
        known = declared.get(model.key)
        if not known:
            continue
        overlap += 1
        assert model.model_type in {t for t, _ in known}, model.id
        assert set(model.architectures or ()) <= {a for _, a in known}, model.id
    assert overlap >= 20
