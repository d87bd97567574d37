"""hf_model.plain_many works out many models' values a field at a time (the hot path of a snapshot ingest): for every
object it takes, the values and base must be exactly what add_plain adds one object at a time."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ptmgraph.graph.batch import Batch
from ptmgraph.ingest import hf_model

SOURCE = "hf-jsonl:test"
_TEXT = st.one_of(st.none(), st.sampled_from(["", "x", "2023-01-01T00:00:00.000Z"]), st.integers(-1, 2),
                  st.lists(st.just("x"), max_size=1))
_IDS = st.one_of(st.sampled_from(["org/a", "Org/A", "org/b", " org/b ", "x/ü", "bad\tid", "", "  ", "a" * 513]),
                 st.none(), st.integers())
_STRINGS = st.one_of(st.none(), st.sampled_from(["A", ""]), st.integers(),
                     st.lists(st.one_of(st.sampled_from(["A", "B", "license:mit", "base_model:org/b", "x"]),
                                        st.none(), st.integers()), max_size=3))
_OBJECTS = st.fixed_dictionaries({}, optional={
    "id": _IDS, "modelId": _IDS, "author": _TEXT, "sha": _TEXT, "createdAt": _TEXT, "created_at": _TEXT,
    "lastModified": _TEXT, "last_modified": _TEXT, "downloads": _TEXT, "likes": st.one_of(_TEXT, st.booleans()),
    "library_name": _TEXT, "pipeline_tag": _TEXT, "tags": _STRINGS,
    "gated": st.one_of(st.none(), st.booleans(), st.sampled_from(["auto", "manual", "false", "False", "", 0, 1])),
    "cardData": st.one_of(st.none(), st.integers(), st.lists(st.none(), max_size=1), st.fixed_dictionaries({}, optional={
        "license": _STRINGS, "base_model": st.one_of(_IDS, st.lists(_IDS, max_size=2)),
        "base_model_relation": st.one_of(st.sampled_from(["adapter", "merge", "quantized", "finetune", "bogus"]),
                                         st.integers(), st.lists(st.just("adapter"), max_size=1)),
        "datasets": st.one_of(st.none(), st.lists(st.sampled_from(["squad", " "]), max_size=2)),
    })),
    "baseModels": st.one_of(st.none(), st.fixed_dictionaries({"relation": st.sampled_from(["adapter", "?"]),
                                                              "models": st.lists(st.fixed_dictionaries({"id": _IDS}),
                                                                                 max_size=2)})),
    "config": st.one_of(st.none(), st.integers(), st.fixed_dictionaries({}, optional={
        "model_type": _TEXT, "architectures": _STRINGS})),
    "siblings": st.one_of(st.none(), st.integers(), st.lists(st.one_of(
        st.fixed_dictionaries({"rfilename": st.one_of(st.sampled_from(["README.md", "model.safetensors"]),
                                                      st.integers())}),
        st.sampled_from(["README.md", "config.json"]), st.integers()), max_size=2)),
})
# Objects that are mostly of the common shape, odd in one field or another: what the fast path must get right. Every
# field is there (an absent field reads as null), so that each one varies in every example.
_COMMON = st.fixed_dictionaries({
    "id": st.sampled_from(["org/a", "Org/A", "org/b"]), "author": _TEXT, "sha": _TEXT, "createdAt": _TEXT,
    "created_at": _TEXT, "lastModified": _TEXT, "last_modified": _TEXT, "downloads": _TEXT,
    "likes": st.one_of(_TEXT, st.booleans()), "library_name": _TEXT, "pipeline_tag": _TEXT,
    "tags": st.one_of(st.none(), st.lists(st.sampled_from(["x", "A", "license:mit", "license:gpl", "license:",
                                                           "x-license:y", "base_model:org/b"]), max_size=3)),
    "gated": st.one_of(st.none(), st.booleans(), st.sampled_from(["auto", "false", "False", "", 0, 1])),
    "cardData": st.one_of(st.none(), st.fixed_dictionaries({
        "license": st.one_of(st.none(), st.sampled_from(["mit", ""])),
        "base_model": st.one_of(st.none(), st.sampled_from(["org/a", "org/c", "Org/C", " ", "x/ü", ["org/c"], 3])),
        "base_model_relation": st.one_of(st.none(), st.sampled_from(["adapter", "merge", "quantized", "bogus",
                                                                     ["adapter"], 3]))})),
    "baseModels": st.one_of(st.none(), st.just({"relation": "adapter", "models": [{"id": "org/c"}]})),
    "config": st.one_of(st.none(), st.fixed_dictionaries({
        "model_type": _TEXT, "architectures": st.one_of(st.none(), st.lists(st.just("A"), max_size=2))})),
    "siblings": st.one_of(st.none(), st.lists(st.one_of(
        st.fixed_dictionaries({"rfilename": st.sampled_from(["README.md", "model.safetensors"])}),
        st.sampled_from(["README.md", "config.json"])), max_size=2)),
})
SYNTHETIC_SHAPE = {"id": "synthetic-org1/model-7", "author": "synthetic-org1", "downloads": 12,
                   "cardData": {"license": "apache-2.0", "base_model": "synthetic-org1/model-3"}, "tags": ["synthetic"]}


def _added_one_by_one(obj):
    """What add_plain adds for ``obj`` (see :func:`_model_and_bases`), or None where it adds nothing."""
    batch = Batch()
    try:
        added = hf_model.add_plain(batch, obj, SOURCE)
    except Exception:  # noqa: BLE001 - a bad object is for the records path, as in HfJsonl.batches
        return None
    return None if added is None else _model_and_bases(batch)


def _added_many(ready):
    batch = Batch()
    values, base, relation = ready
    key = batch.add_model_values(values)
    if base is not None:
        batch.add_lineage_values(values[0], base, relation, "declared-card", 1.0, SOURCE, key)
    return _model_and_bases(batch)


def _model_and_bases(batch):
    """The batch's one model row and its lineage edges."""
    nodes, edges = batch.tables()
    lineage = edges.get(("DERIVED_FROM", "Model", "Model"))
    bases = [] if lineage is None else [(row["to_id"], row["relation"], row["provenance"], row["confidence"],
                                         row["source"]) for row in lineage.to_pylist()]
    return nodes["Model"].to_pylist()[0], bases


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_COMMON, _OBJECTS, st.sampled_from([1, [], SYNTHETIC_SHAPE])), max_size=8))
@example([SYNTHETIC_SHAPE, {"id": "org/a", "cardData": {"base_model": "  "}, "gated": "auto",
                            "config": {"model_type": "bert", "architectures": []}, "siblings": ["README.md"]}])
def test_plain_many_gives_what_add_plain_adds_one_object_at_a_time(objects):
    ready = hf_model.plain_many(objects, SOURCE)
    assert len(ready) == len(objects)
    for obj, prepared in zip(objects, ready, strict=True):
        if prepared is not None:
            assert _added_many(prepared) == _added_one_by_one(obj), obj


def test_the_common_shape_of_a_snapshot_takes_the_fast_path():
    """A model with one licence and one base in its card, as in the synthetic benchmark snapshot and on the Hub:
    plain_many takes it (a version that always said None would still be exact, and slow)."""
    objects = [SYNTHETIC_SHAPE, {**SYNTHETIC_SHAPE, "id": "org/no-base", "cardData": {"license": "mit"},
                                 "siblings": [{"rfilename": "README.md"}], "config": {"model_type": "bert"}}]
    ready = hf_model.plain_many(objects, SOURCE)
    assert [r is not None for r in ready] == [True, True]
    assert ready[0][1:] == ("synthetic-org1/model-3", "finetune")
    assert ready[1][0][13:16] == (("README.md",), None, True)  # files, gated, has_card
    # The Hub's own licence tag: read where the card names no licence, else the card's.
    tagged = [{**SYNTHETIC_SHAPE, "tags": ["pytorch", "license:mit"], "cardData": {}},
              {**SYNTHETIC_SHAPE, "tags": ["pytorch", "license:mit"]},
              {**SYNTHETIC_SHAPE, "tags": ["no-license:here"], "cardData": {}}]
    assert [r[0][7] for r in hf_model.plain_many(tagged, SOURCE)] == ["mit", "apache-2.0", None]
    assert [_added_many(r) for r in hf_model.plain_many(tagged, SOURCE)] == [_added_one_by_one(o) for o in tagged]
    # The shapes it leaves to add_plain or the records path, one object at a time:
    for odd in ({**SYNTHETIC_SHAPE, "tags": ["license:mit", "license:gpl"], "cardData": {}},  # licences in tags
                {**SYNTHETIC_SHAPE, "tags": ["base_model:org/b"]},  # a base the Hub derived
                {**SYNTHETIC_SHAPE, "cardData": {"license": ["mit", "gpl"]}},  # licences
                {**SYNTHETIC_SHAPE, "cardData": {"datasets": ["squad"]}},
                {**SYNTHETIC_SHAPE, "id": "org/tab\there"}, "not an object"):
        assert hf_model.plain_many([odd], SOURCE) == [None], odd
