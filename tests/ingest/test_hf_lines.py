"""hf-jsonl reads a snapshot a block of lines at a time and adds the models of the common shape to its batches as
columns (hf_lines, Batch.add_model_columns): the hot path of a snapshot ingest. Whatever the lines hold, the batch must
be exactly the one the object-at-a-time path builds (every line through HfJsonl._add_one: add_plain, else records),
table for table and row for row, with the same counts."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ptmgraph import domain as d
from ptmgraph.graph.batch import Batch
from ptmgraph.ingest import hf_lines
from ptmgraph.ingest.pipeline import Counts
from ptmgraph.ingest.sources import GhLicenses, HfJsonl

_TEXT = st.one_of(st.none(), st.sampled_from(["", "x", "2023-01-01T00:00:00.000Z"]), st.integers(-1, 2),
                  st.lists(st.just("x"), max_size=1))
_COUNTS = st.one_of(_TEXT, st.booleans(), st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30, 1.5]))
_IDS = st.one_of(st.sampled_from(["org/a", "Org/A", "org/b", " org/b ", "x/ü", "bad\tid", "", "  ", "a" * 513]),
                 st.none(), st.integers())
_STRINGS = st.one_of(st.none(), st.sampled_from(["A", ""]), st.integers(),
                     st.lists(st.one_of(st.sampled_from(["A", "B", "license:mit", "base_model:org/b", "x"]),
                                        st.none(), st.integers()), max_size=3))
_OBJECTS = st.fixed_dictionaries({}, optional={
    "id": _IDS, "modelId": _IDS, "author": _TEXT, "sha": _TEXT, "createdAt": _TEXT, "created_at": _TEXT,
    "lastModified": _TEXT, "last_modified": _TEXT, "downloads": _COUNTS, "likes": _COUNTS,
    "library_name": _TEXT, "pipeline_tag": _TEXT, "tags": _STRINGS,
    "gated": st.one_of(st.none(), st.booleans(), st.sampled_from(["auto", "manual", "false", "False", "", 0, 1])),
    "cardData": st.one_of(st.none(), st.integers(), st.lists(st.none(), max_size=1), st.fixed_dictionaries({}, optional={
        "license": _STRINGS, "base_model": st.one_of(_IDS, st.lists(_IDS, max_size=2)),
        "base_model_relation": st.one_of(st.sampled_from(["adapter", "merge", "quantized", "finetune", "bogus"]),
                                         st.integers(), st.lists(st.just("adapter"), max_size=1)),
        "datasets": st.one_of(st.none(), st.lists(st.sampled_from(["squad", " "]), max_size=2)),
        "language": st.sampled_from(["en", ["en", "fr"]]),
    })),
    "baseModels": st.one_of(st.none(), st.fixed_dictionaries({"relation": st.sampled_from(["adapter", "?"]),
                                                              "models": st.lists(st.fixed_dictionaries({"id": _IDS}),
                                                                                 max_size=2)})),
    "config": st.one_of(st.none(), st.integers(), st.fixed_dictionaries({}, optional={
        "model_type": _TEXT, "architectures": _STRINGS, "hidden_size": st.integers(0, 4096)})),
    "siblings": st.one_of(st.none(), st.integers(), st.lists(st.one_of(
        st.fixed_dictionaries({"rfilename": st.one_of(st.sampled_from(["README.md", "model.safetensors"]),
                                                      st.integers())}),
        st.sampled_from(["README.md", "config.json"]), st.integers()), max_size=2)),
    "private": st.booleans(),
})
# Objects that are mostly of the common shape, odd in one field or another: what the fast path must get right. Every
# field is there (an absent field reads as null), so that each one varies in every example.
_COMMON = st.fixed_dictionaries({
    # Ids and bases that are not plain beside ones that are: a block is checked for plain ids all at once.
    "id": st.sampled_from(["org/a", "Org/A", "org/b", "org/c", " org/d", "org/e ", "x/ü", "", "a" * 513]),
    "author": _TEXT, "sha": _TEXT, "createdAt": _TEXT,
    "created_at": _TEXT, "lastModified": _TEXT, "last_modified": _TEXT, "downloads": _COUNTS,
    "likes": _COUNTS, "library_name": _TEXT, "pipeline_tag": _TEXT,
    "tags": st.one_of(st.none(), st.lists(st.sampled_from(["x", "A", "license:mit", "license:gpl", "license:",
                                                           "x-license:y", "base_model:org/b"]), max_size=3)),
    "gated": st.one_of(st.none(), st.booleans(), st.sampled_from(["auto", "false", "False", "", 0, 1])),
    "cardData": st.one_of(st.none(), st.just({}), st.fixed_dictionaries({
        "license": st.one_of(st.none(), st.sampled_from(["mit", ""])),
        "base_model": st.one_of(st.none(), st.sampled_from(["org/a", "org/c", "Org/C", " ", "x/ü", "x/Ü", " org/c",
                                                            "org/a ", "b" * 513, ["org/c"], 3])),
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
# Lines that are not one JSON object, or that json reads and orjson or msgspec do not: each must come out as the
# object path has it (skipped, or read by json).
_ODD_LINES = st.sampled_from([
    b"", b"   ", b"not json", b"[1, 2]", b'"text"', b"\xef\xbb\xbf" + json.dumps(SYNTHETIC_SHAPE).encode(),
    b'{"id": "org/nan", "downloads": NaN}', b'{"id": "org/tab\tin"}', b'{"id": "org/bad-utf8-\xff"}',
    b'{"id": "org/surrogate\\ud800"}', b'{"id": "org/twice"} {"id": "org/again"}', b'{"id": "org/dup", "id": "org/b"}',
    b'{"id": "org/deep", "config": ' + b"[" * 2000 + b"]" * 2000 + b"}", b'{"id": "org/half", ',
])


def _line(item) -> bytes:
    return item if isinstance(item, bytes) else json.dumps(item).encode()


def _write(path, items) -> None:
    path.write_bytes(b"".join(_line(item) + b"\n" for item in items))


def _one_at_a_time(source: HfJsonl) -> tuple[Batch, Counts]:
    """The batch the object path builds from every line."""
    batch, counts = Batch(), Counts()
    for number, obj in source.json_lines():
        source._add_one(batch, counts, number, obj, strict=False)
    return batch, counts


def _tables(batch: Batch) -> dict:
    nodes, edges = batch.tables()
    return {**{label: (table.schema, table.to_pylist()) for label, table in nodes.items()},
            **{group: (table.schema, table.to_pylist()) for group, table in edges.items()}}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_COMMON, _COMMON, _OBJECTS, _ODD_LINES, st.sampled_from([1, [], SYNTHETIC_SHAPE])),
                max_size=12), st.sampled_from([1, 2, 3, 256]))
@example([SYNTHETIC_SHAPE, {"id": "org/a", "cardData": {"base_model": "  "}, "gated": "auto",
                            "config": {"model_type": "bert", "architectures": []}, "siblings": ["README.md"]}], 256)
@example([{"id": "org/a", "cardData": {"base_model": "org/c", "base_model_relation": "adapter"}},
          {"id": "org/c", "cardData": {"base_model": "org/c", "base_model_relation": "bogus"}}], 256)
# Bases the card lists, and the Hub's tags: ids that validation changes (spaces, case, non-ASCII) take the object path.
@example([{"id": "org/m", "cardData": {"base_model": [" org/b ", "x/Ü"]}},
          {"id": "org/n", "tags": ["base_model:adapter:org/B", "base_model:x/ü"], "cardData": {"base_model": "org/b"}}],
         256)
# Self-loops, one spelled in another case: both count.
@example([{"id": "org/c", "cardData": {"base_model": "Org/C"}}, {"id": "org/a", "cardData": {"base_model": "org/a"}}],
         256)
# A model given again after the block path took it: the two rows merge, in order, with a bad line between.
@example([{"id": "org/a", "author": "x"}, b"not json", {"id": "Org/A", "author": None, "downloads": 3},
          {"id": "org/b", "cardData": {"base_model": "org/a"}}, {"id": "org/b", "cardData": {"datasets": ["s"]}}], 2)
def test_blocks_build_the_batch_the_object_path_builds(tmp_path_factory, monkeypatch_module, items, lines_per_block):
    monkeypatch_module.setattr(hf_lines, "LINES_PER_BLOCK", lines_per_block)
    path = tmp_path_factory.mktemp("lines") / "snapshot.jsonl"
    _write(path, items)
    source = HfJsonl(path)
    source.models_per_batch = source.max_records_per_batch = 10**6  # one batch
    built = list(source.batches(strict=False, records_per_batch=None))
    reference, counts = _one_at_a_time(HfJsonl(path))
    if not counts.records and not counts.skipped:
        assert built == []
        return
    (batch, fast_counts), = built
    assert _tables(batch) == _tables(reference)
    assert (fast_counts.records, fast_counts.skipped, fast_counts.problems, fast_counts.self_loops,
            fast_counts.lineage_edges, fast_counts.position) == (
        counts.records, counts.skipped, counts.problems, counts.self_loops, counts.lineage_edges, path.stat().st_size)
    assert batch.models == reference.models and len(batch) == len(reference)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_common_shape_of_a_snapshot_takes_the_block_path():
    """A model with one licence and one base in its card, as in the synthetic benchmark snapshot and on the Hub, with
    the fields a Hub line has that a model does not use: the block path takes it (a version that took none would
    still be exact, and slow), and reads only what it needs (config's other keys are skipped)."""
    lines = [json.dumps(obj).encode() for obj in (
        SYNTHETIC_SHAPE,
        {**SYNTHETIC_SHAPE, "id": "org/no-base", "cardData": {"license": "mit", "language": ["en"]},
         "siblings": [{"rfilename": "README.md"}], "config": {"model_type": "bert", "id2label": {"0": "A"}},
         "private": False, "safetensors": {"total": 5}},
        {**SYNTHETIC_SHAPE, "tags": ["pytorch", "license:mit"], "cardData": {}},  # the Hub's licence tag counts
        {**SYNTHETIC_SHAPE, "downloads": 2**64},  # not a count: unknown, as on the object path
        {**SYNTHETIC_SHAPE, "cardData": {"datasets": ["squad", None, " "]}},  # as a quarter of the 2022 snapshot
        # As the Hub serves a model that declares its base: the card, and the tags the Hub derives from it.
        {**SYNTHETIC_SHAPE, "tags": ["gguf", "base_model:org/b", "base_model:quantized:org/b"],
         "cardData": {"base_model": "org/b"}},
    )]
    block = hf_lines.plain_block(hf_lines.decoded(lines), "src")
    assert block.plain == [True] * 6
    assert [[t.dataset for t in trained] for trained in block.trained_on] == [[], [], [], [], ["squad"], []]
    assert block.records == [2, 1, 1, 2, 2, 3]
    assert block.lineage[5] == [("org/b", "quantized", "declared-card"), ("org/b", "quantized", "declared-tag")]
    assert block.keys[:2] == ["synthetic-org1/model-7", "org/no-base"]
    assert block.lineage[:2] == [[("synthetic-org1/model-3", "finetune", "declared-card")], []]
    files, gated, has_card = (block.columns[i] for i in (13, 14, 15))
    assert (files[1], gated[1], has_card[1]) == (("README.md",), None, True)
    assert [block.columns[7][i] for i in (0, 1, 2)] == ["apache-2.0", "mit", "mit"]  # licence
    assert block.columns[5][3] is None  # downloads
    # The shapes it leaves to the object path:
    odd = [{**SYNTHETIC_SHAPE, "tags": ["license:mit", "license:gpl"], "cardData": {}},  # licences in tags
           {**SYNTHETIC_SHAPE, "cardData": {"base_model": ["org/b", "Org/B"]}},  # one base twice: edges merge
           {**SYNTHETIC_SHAPE, "cardData": {"license": ["mit", "gpl"]}},  # licences
           {**SYNTHETIC_SHAPE, "cardData": {"datasets": ["squad", "bad\tset"]}},  # the object path says why
           {**SYNTHETIC_SHAPE, "id": "org/tab\there"}, "not an object",
           # Ids and bases that are not plain: validation changes them (spaces, case of a non-ASCII letter, length).
           {**SYNTHETIC_SHAPE, "id": "org/e "}, {**SYNTHETIC_SHAPE, "id": "a" * 513},
           {**SYNTHETIC_SHAPE, "cardData": {"base_model": " org/c"}},
           {**SYNTHETIC_SHAPE, "cardData": {"base_model": "x/Ü"}}]
    assert hf_lines.plain_block(hf_lines.decoded([json.dumps(o).encode() for o in odd] + [b"{"]), "src").plain == \
        [False] * (len(odd) + 1)


# Mostly plain, as a snapshot's ids are, with one value or another that is not.
_NEAR_PLAIN = st.one_of(st.sampled_from(["org/a", "Org/B", "a" * 512]),
                        st.text(st.sampled_from("ab/ \tüÜ\x7f~"), max_size=4), st.sampled_from(["a" * 513, ""]),
                        st.none(), st.integers())


@given(st.lists(_NEAR_PLAIN, max_size=4))
@example(["org/a", "org/b "])  # a surrounding space, where the rest is plain
@example(["org/a", "x/Ü"])
@example(["org/a", "b\tc"])
@example(["org/a", ""])
def test_a_block_is_judged_plain_as_each_value_would_be(values):
    assert hf_lines._plain_ids(values) == [d.is_plain_id(value) for value in values]


def test_a_batch_ends_after_the_line_that_fills_it_whatever_the_block(tmp_path, monkeypatch):
    """Batches end between lines, not between blocks: each at the model that fills it, with its position (the
    progress bar's) right after that model's line."""
    monkeypatch.setattr(hf_lines, "LINES_PER_BLOCK", 4)
    items = [{"id": f"org/m{i}", "cardData": {"base_model": "org/m0"} if i % 3 else {}, "pad": "x" * i}
             for i in range(7)]
    items.insert(3, b"not json")
    path = tmp_path / "snapshot.jsonl"
    _write(path, items)
    ends = [len(b"".join(_line(item) + b"\n" for item in items[:k])) for k in range(1, len(items) + 1)]
    source = HfJsonl(path)
    source.models_per_batch = 2
    batches = list(source.batches(strict=False, records_per_batch=None))
    assert [batch.models for batch, _ in batches] == [2, 2, 2, 1]
    # Models 0-1, 2-3 (the bad line skipped between), 4-5, 6; a model with a base is two records.
    assert [counts.position for _, counts in batches] == [ends[1], ends[4], ends[6], ends[7]]
    assert [(counts.records, counts.skipped) for _, counts in batches] == [(3, 0), (3, 1), (4, 0), (1, 0)]


def test_lines_no_store_could_keep_are_skipped_with_the_reason(tmp_path):
    """Lines that json reads but the store cannot keep are skipped and say why (they crashed the ingest before): a
    string with an escaped lone surrogate (not text), and JSON nested deeper than json reads; a count beyond INT64
    is not a count anyone made: unknown."""
    path = tmp_path / "snapshot.jsonl"
    path.write_bytes(b'{"id": "org/lone\\ud800"}\n'
                     b'{"id": "org/deep", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
                     b'{"id": "org/many", "downloads": 18446744073709551615, "likes": 3}\n')
    (batch, counts), = HfJsonl(path).batches(strict=False, records_per_batch=None)
    assert counts.skipped == 2 and counts.records == 1
    assert "lone UTF-16 surrogate" in counts.problems[0] and counts.problems[0].startswith(f"{path}:1")
    assert "nested too deeply" in counts.problems[1] and counts.problems[1].startswith(f"{path}:2")
    assert batch.tables()[0]["Model"].select(["id", "downloads", "likes"]).to_pylist() == [
        {"id": "org/many", "downloads": None, "likes": 3}]
    licences = tmp_path / "licences.json"
    licences.write_bytes(b'{"owner/repo": ["mit"], "owner/lone\\udc00": ["mit"]}')
    items = list(GhLicenses(licences))
    assert [type(item).__name__ for item in items].count("Skipped") == 1
