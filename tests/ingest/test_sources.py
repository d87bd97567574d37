"""Each file source on small hand-written inputs in the real formats: what becomes a record, what is skipped."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord, PtmgraphError
from ptmgraph.graph.embedded import EmbeddedStore
from ptmgraph.ingest import files, hf_model, pipeline
from ptmgraph.ingest.pipeline import Skipped
from ptmgraph.ingest.sources import GhLicenses, HfJsonl, Leaderboard, ReuseCsv, github_repo


def records_of(obj):
    return list(hf_model.records(obj, "test"))


def test_card_base_model_is_a_declared_finetune_and_a_list_is_a_merge():
    one = records_of({"id": "me/chat", "cardData": {"base_model": "meta-llama/Llama-2-7b-hf"}})
    (edge,) = [r for r in one if isinstance(r, d.Lineage)]
    assert (edge.parent, edge.relation, edge.provenance) == ("meta-llama/Llama-2-7b-hf", "finetune", "declared-card")
    many = records_of({"id": "me/merge", "cardData": {"base_model": ["a/x", "b/y"]}})
    assert {(e.parent, e.relation) for e in many if isinstance(e, d.Lineage)} == {("a/x", "merge"), ("b/y", "merge")}
    declared = records_of({"id": "me/q", "cardData": {"base_model": "a/x", "base_model_relation": "quantized"}})
    assert [e.relation for e in declared if isinstance(e, d.Lineage)] == ["quantized"]


def test_hub_base_model_tags_carry_the_relation():
    recs = records_of({"id": "me/lora", "tags": ["base_model:adapter:a/x", "base_model:a/x", "license:mit"]})
    (edge,) = [r for r in recs if isinstance(r, d.Lineage)]
    assert (edge.parent, edge.relation, edge.provenance) == ("a/x", "adapter", "declared-tag")
    model = recs[0]
    assert model.license == "mit"


def test_model_fields_from_the_hub_shape():
    recs = records_of({
        "id": "Org/M", "author": "Org", "sha": "abc", "downloads": 10, "likes": 2, "gated": "manual",
        "library_name": "transformers", "pipeline_tag": "fill-mask", "createdAt": "2024-01-02T00:00:00.000Z",
        "config": {"model_type": "bert", "architectures": ["BertForMaskedLM"]},
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
        "cardData": {"license": ["apache-2.0", "mit"], "datasets": ["wikipedia", None]},
    })
    model = recs[0]
    assert model.gated is True and model.has_card is True and model.files == ("README.md", "model.safetensors")
    assert model.model_type == "bert" and model.architectures == ("BertForMaskedLM",)
    assert model.license == "apache-2.0"
    assert [r.license for r in recs if isinstance(r, d.LicensedAs)] == ["mit"]
    assert [r.dataset for r in recs if isinstance(r, d.TrainedOn)] == ["wikipedia"]


@pytest.mark.parametrize("obj, message", [
    ({"cardData": {}}, "no 'id'"),
    ({"id": "a/b", "cardData": "apache"}, "cardData must be an object"),
    ({"id": "a/b", "tags": [1, 2]}, "tags must be"),
    ({"id": "a/b", "siblings": [{"size": 3}]}, "no file name"),
])
def test_malformed_hub_records_are_rejected_with_the_reason(obj, message):
    with pytest.raises(InvalidRecord, match=message):
        records_of(obj)


def test_hub_fields_of_an_odd_type_are_unknown_not_fatal(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text('{"id": "a/b", "createdAt": 123}\n{"id": "a/c", "lastModified": {"x": 1}, "sha": 5}\n')
    with EmbeddedStore(tmp_path / "store") as store:
        report = pipeline.run(store, HfJsonl(path), "odd", parallel=False)
        assert (report.records, report.skipped) == (2, 0)
        assert store.model("a/b")["created_at"] is None and store.model("a/c")["last_modified"] is None


def test_jsonl_skips_and_locates_bad_lines_without_losing_good_ones(tmp_path):
    path = tmp_path / "models.jsonl"
    path.write_bytes(b'{"id": "good/one"}\n{"id": \n[1, 2]\n\xff\xfe{"id": "x"}\n\n{"id": "good/two", '
                     b'"cardData": {"base_model": "good/one"}}\n{"id": "bad/card", "cardData": 3}\n')
    items = list(HfJsonl(path))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.location.rsplit(":", 1)[1] for s in skipped] == ["2", "3", "4", "7"]
    assert "malformed JSON" in skipped[0].reason and "expected a JSON object" in skipped[1].reason
    assert "UTF-8" in skipped[2].reason
    assert [r.id for r in items if isinstance(r, d.Model)] == ["good/one", "good/two"]


def test_reuse_csv_rows(tmp_path):
    path = tmp_path / "mapping.csv"
    path.write_text("github.com/owner/proj,bert-base-uncased,https://huggingface.co/bert-base-uncased,apache-2.0\n"
                    "github.com/owner/proj,gpt2,https://huggingface.co/gpt2,\n"
                    "not-a-repo,gpt2,x,mit\n"
                    "github.com/a/b,only-three-columns,x\n")
    items = list(ReuseCsv(path))
    uses = [(u.repo, u.model) for u in items if isinstance(u, d.Uses)]
    assert uses == [("owner/proj", "bert-base-uncased"), ("owner/proj", "gpt2")]
    assert [m.license for m in items if isinstance(m, d.Model)] == ["apache-2.0", None]
    assert [s.reason.split(":")[0] for s in items if isinstance(s, Skipped)] == [
        "not a GitHub repository", "expected 4 columns (gh_repo, hf_model_id, hf_url, hf_license), found 3"]


@pytest.mark.parametrize("text, expected", [
    ("github.com/a/b", "a/b"), ("https://github.com/a/b.git", "a/b"), ("www.github.com/a/b/", "a/b"), ("a/b", "a/b"),
])
def test_github_repo_forms(text, expected):
    assert github_repo(text) == expected


def test_gh_licenses_streams_members_and_keeps_null_as_no_licence(tmp_path):
    path = tmp_path / "lic.json"
    path.write_text(json.dumps({"a/one": ["mit", "apache-2.0"], "b/two": None, "junk": ["mit"], "c/three": [3]}))
    items = list(GhLicenses(path))
    repos = {r.id: r.licenses for r in items if isinstance(r, d.Repo)}
    assert repos == {"a/one": ("mit", "apache-2.0"), "b/two": ()}
    assert len([i for i in items if isinstance(i, Skipped)]) == 2


def test_gh_licenses_rejects_a_file_that_is_not_an_object(tmp_path):
    path = tmp_path / "lic.json"
    path.write_text("[1, 2]")
    with pytest.raises(PtmgraphError, match="is not a JSON object"):
        list(GhLicenses(path))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3),
                                                        st.integers(), st.floats(allow_nan=False)), max_size=30),
       st.integers(min_value=1, max_value=64))
def test_streaming_object_reader_matches_json_load_at_any_chunk_size(tmp_path_factory, data, chunk):
    path = tmp_path_factory.mktemp("j") / "f.json"
    path.write_text(json.dumps(data, indent=1))
    original, files.CHUNK = files.CHUNK, chunk
    try:
        got = dict(m for _, m in files.InputFile(path).json_object_items())
    finally:
        files.CHUNK = original
    assert got == data


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_a_line_source_and_keep_valid_lines(tmp_path_factory, noise):
    path = tmp_path_factory.mktemp("b") / "f"
    valid = b'{"id": "keep/me"}\n'
    path.write_bytes(valid + noise.replace(b"\n", b" ") + b"\n" + valid.replace(b"keep/me", b"keep/too"))
    for source in (HfJsonl(path), ReuseCsv(path), Leaderboard(path)):
        items = list(source)  # must not raise
        assert all(isinstance(i, (Skipped, *d.Record.__args__)) for i in items)
    ids = {r.id for r in HfJsonl(path) if isinstance(r, d.Model)}
    assert {"keep/me", "keep/too"} <= ids


LEADERBOARD_HEADER = ("model_name,model_sha,model_type,model_weight_type,model_architecture,features_is_merged,"
                      "metadata_generation,metadata_base_model,metadata_hub_license,metadata_hub_hearts\n")


def test_leaderboard_edges_go_to_the_family_root(tmp_path):
    path = tmp_path / "lb.csv"
    path.write_text(LEADERBOARD_HEADER +
                    "base/root,s0,pretrained,Original,LlamaForCausalLM,False,0,base/root,llama3,5\n"
                    "a/child,s1,chatmodels,Original,LlamaForCausalLM,False,1,base/root,llama3,1\n"
                    "a/grandchild,s2,fine-tuned,Original,LlamaForCausalLM,False,2,base/root,apache-2.0,0\n"
                    "a/merge,s3,basemerges,Original,LlamaForCausalLM,True,2,base/root,apache-2.0,0\n"
                    "a/lora,s4,fine-tuned,Adapter,?,False,1,base/root,,0\n"
                    "a/lost,s5,fine-tuned,Original,LlamaForCausalLM,False,1,Removed,mit,0\n"
                    "a/short,row\n")
    items = list(Leaderboard(path))
    edges = {e.child: (e.parent, e.relation, e.provenance, e.confidence) for e in items if isinstance(e, d.Lineage)}
    assert edges == {
        "a/child": ("base/root", "finetune", "leaderboard", 0.8),
        "a/grandchild": ("base/root", "unknown", "leaderboard", 0.5),
        "a/merge": ("base/root", "merge", "leaderboard", 0.5),
        "a/lora": ("base/root", "adapter", "leaderboard", 0.8),
    }
    assert len([i for i in items if isinstance(i, Skipped)]) == 1


def test_hf_jsonl_batches_hold_whole_node_groups_of_models_by_default(tmp_path, monkeypatch):
    """Without a batch size, a snapshot's batches end after MODELS_PER_BATCH distinct models (a model given twice
    counts once, its lineage records not at all), so that each write's COPY fills whole LadybugDB node groups."""
    monkeypatch.setattr(HfJsonl, "models_per_batch", 4)
    path = tmp_path / "snapshot.jsonl"
    objects = [{"id": f"org/m{i}", "cardData": {"base_model": f"org/m{i - 1}"} if i else {}} for i in range(10)]
    objects.insert(2, {"id": "org/m1", "downloads": 5})  # a repeat: still four models in the first batch
    objects.insert(5, {"id": "org/odd", "cardData": {"datasets": ["squad"]}})  # a dataset: a TRAINED_ON record too
    path.write_text("".join(json.dumps(obj) + "\n" for obj in objects))
    batches = list(HfJsonl(path).batches(strict=False, records_per_batch=None))
    assert [batch.models for batch, _ in batches] == [4, 4, 3]
    assert [counts.records for _, counts in batches] == [8, 8, 6]  # models, lineage edges, one TRAINED_ON
    by_records = list(HfJsonl(path).batches(strict=False, records_per_batch=3))  # an explicit size counts records
    assert [counts.records for _, counts in by_records] == [3, 3, 4, 4, 4, 4]
    with EmbeddedStore(tmp_path / "store") as store:
        report = pipeline.run(store, HfJsonl(path), "x", parallel=False)
        assert report.records == 22 and store.stats().nodes["Model"] == 11
    # Models that hold many records end their batch sooner: memory stays bounded.
    monkeypatch.setattr(HfJsonl, "max_records_per_batch", 6)
    path.write_text("".join(json.dumps({"id": f"org/d{i}", "cardData": {"datasets": [f"set{j}" for j in range(i)]}})
                            + "\n" for i in range(6)))
    batches = list(HfJsonl(path).batches(strict=False, records_per_batch=None))
    assert [(batch.models, counts.records) for batch, counts in batches] == [(3, 6), (2, 9), (1, 6)]


def test_pipeline_batches_counts_and_reports(tmp_path):
    items = [d.Model(f"m/{i}") for i in range(7)] + [Skipped("f:3", "bad"), d.Lineage("m/1", "M/1")]
    with EmbeddedStore(tmp_path / "s") as store:
        seen = []
        report = pipeline.run(store, items, "test", records_per_batch=3, on_batch=lambda r: seen.append(r.records))
        assert seen == [3, 6, 8]
        assert report.skipped == 1 and report.problems == ["f:3: bad"]
        assert report.self_loops == ["m/1"] and report.cycles == [["m/1"]]
        assert store.stats().nodes["Model"] == 7
        with pytest.raises(InvalidRecord, match="--strict"):
            pipeline.run(store, items, "test", strict=True)


_IDS = st.sampled_from(["org/a", "Org/A", "org/b", " org/b ", "x/ü", "bad\tid", "", "org/c"])
_HUB_OBJECTS = st.fixed_dictionaries({"id": _IDS}, optional={
    "author": st.one_of(st.none(), st.sampled_from(["org", "Org", ""]), st.integers()),
    "downloads": st.one_of(st.none(), st.integers(-2, 5), st.booleans()),
    "tags": st.one_of(st.none(), st.lists(st.sampled_from(["base_model:org/b", "base_model:quantized:org/c",
                                                           "base_model:org/a", "license:mit", "x"]), max_size=3)),
    "cardData": st.one_of(st.none(), st.integers(), st.fixed_dictionaries({}, optional={
        "license": st.one_of(st.none(), st.sampled_from(["mit", "MIT"]), st.lists(st.sampled_from(["mit", "gpl"]),
                                                                                  max_size=2)),
        "base_model": st.one_of(st.none(), _IDS, st.lists(_IDS, max_size=2), st.integers()),
        "base_model_relation": st.sampled_from(["adapter", "merge", "bogus"]),
        "datasets": st.one_of(st.none(), st.lists(st.sampled_from(["squad", " "]), max_size=2)),
    })),
    "baseModels": st.one_of(st.none(), st.fixed_dictionaries({"relation": st.sampled_from(["finetune", "?"]),
                                                              "models": st.lists(st.fixed_dictionaries({"id": _IDS}),
                                                                                 max_size=2)})),
    "config": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        "model_type": st.sampled_from(["bert", "llama"]), "architectures": st.lists(st.sampled_from(["A", "B"]))})),
    "siblings": st.lists(st.fixed_dictionaries({"rfilename": st.sampled_from(["README.md", "model.safetensors"])}),
                         max_size=2),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(_HUB_OBJECTS, max_size=12), st.integers(1, 8))
# org/b's second record clears its author: its first record's AUTHORED_BY edge must stay, whether or not the two
# records share a batch (the fast path ends this batch after org/b's records, the records path between them).
@example([{"id": "org/a"},
          {"id": "org/a", "author": None, "tags": ["base_model:org/b", "base_model:quantized:org/c"]},
          {"id": "org/b", "author": "org", "tags": ["base_model:org/b"]},
          {"id": "org/b", "author": ""}], 3)
# Datasets go through add_plain as records; a bad one skips its whole model, as on the records path.
@example([{"id": "org/a", "cardData": {"datasets": ["squad", " "], "base_model": "org/b"}},
          {"id": "org/b", "tags": ["license:mit"], "cardData": {"datasets": "squad"}},
          {"id": "org/c", "cardData": {"datasets": ["squad", "bad\tset"], "base_model": "org/a"}}], 8)
def test_hf_jsonl_batches_equal_what_the_records_give(tmp_path_factory, objects, per_batch):
    """hf-jsonl adds plain models to its batches without building records (the hot path of a snapshot ingest);
    the graph written and the report must be exactly what the records path gives, odd objects included."""
    path = tmp_path_factory.mktemp("fast") / "snapshot.jsonl"
    path.write_text("".join(json.dumps(obj) + "\n" for obj in objects))

    def run(source):
        with EmbeddedStore(path.parent / f"store-{type(source).__name__}") as store:
            report = pipeline.run(store, source, "x", records_per_batch=per_batch, parallel=False)
            # Batches end at other records in the two paths (the fast one ends them between models only).
            graph = [store.query(q).rows for q in (
                "MATCH (m:Model) RETURN m.key, m.id, m.stub, m.author, m.license, m.downloads, m.tags, m.has_card, "
                "m.architectures, m.files ORDER BY m.key",
                "MATCH (a)-[e]->(b) RETURN label(e), a.key, b.key, e.provenance, e.relation, e.source ORDER BY "
                "label(e), a.key, b.key, e.provenance",
                "MATCH (n) RETURN label(n), n.key, n.id, n.stub ORDER BY label(n), n.key")]
        return graph, (report.records, report.skipped, report.problems, report.self_loops, report.lineage_edges)

    fast = run(HfJsonl(path))
    records = run(iter(list(HfJsonl(path))))  # a plain iterator of the records: the generic path
    assert fast == records
