"""One suite, every store: the embedded default, Bolt (FalkorDB in CI) and a real Neo4j when NEO4J_URI is set."""

from __future__ import annotations

import pytest

from ptmgraph import domain as d
from ptmgraph.errors import ModelNotFound, QueryError, StoreError
from ptmgraph.graph.batch import Batch
from tests.graph.stores import open_test_store, skip_if_unsupported, store_params

LLAMA = "meta-llama/Llama-2-7b-hf"
CHAT = "meta-llama/Llama-2-7b-chat-hf"
VICUNA = "lmsys/vicuna-7b-v1.5"
GGUF = "TheBloke/Llama-2-7B-Chat-GGUF"
LORA = "someone/llama-2-7b-chat-lora"
MERGE = "someone/vicuna-chat-merge"


def family() -> list[d.Record]:
    return [
        d.Model(LLAMA, author="meta-llama", license="llama2", model_type="llama", architectures=("LlamaForCausalLM",),
                downloads=100, tags=("text-generation",), gated=True),
        d.Model(CHAT, license="llama2", downloads=50),
        d.Model(VICUNA, license="llama2"),
        d.Model(MERGE),
        d.Lineage(CHAT, LLAMA, "finetune"),
        d.Lineage(VICUNA, LLAMA, "finetune"),
        d.Lineage(GGUF, CHAT, "quantized"),
        d.Lineage(LORA, CHAT, "adapter", "adapter-config", 0.9),
        d.Lineage(MERGE, CHAT, "merge"),
        d.Lineage(MERGE, VICUNA, "merge"),
        d.Repo("lm-sys/FastChat", licenses=("apache-2.0",)),
        d.Repo("ggerganov/llama.cpp", licenses=("mit",)),
        d.Uses("lm-sys/FastChat", VICUNA),
        d.Uses("ggerganov/llama.cpp", GGUF, "examples/run.py", 12),
        d.Uses("ggerganov/llama.cpp", LLAMA, "convert.py", 3),
    ]


@pytest.fixture(params=store_params())
def store(request, tmp_path):
    kind = request.param
    st = open_test_store(kind, tmp_path)
    st.reset()
    st.kind = kind
    yield st
    st.close()


def test_write_then_read_case_insensitively(store):
    store.write(Batch.of(family()))
    got = store.model("META-LLAMA/llama-2-7B-HF")
    assert got["id"] == LLAMA
    assert got["license"] == "llama2"
    assert list(got["architectures"]) == ["LlamaForCausalLM"]
    assert got["downloads"] == 100
    assert got["stub"] is False
    assert store.model("nobody/nothing") is None


def test_writing_twice_changes_nothing(store):
    store.write(Batch.of(family()))
    first = store.stats().to_json()
    store.write(Batch.of(family()))
    assert store.stats().to_json() == first
    assert first["nodes"]["Model"] == 6
    assert first["edges"]["DERIVED_FROM"] == 6
    assert first["edges"]["USES"] == 3
    assert first["nodes"]["License"] == 3


def test_newer_facts_update_and_nulls_keep(store):
    store.write(Batch.of(family()))
    store.write(Batch.of([d.Model(LLAMA, downloads=999)]))
    got = store.model(LLAMA)
    assert got["downloads"] == 999
    assert got["license"] == "llama2"  # the sparser record did not erase it


def test_an_edge_is_its_two_ends_unless_its_type_tells_repeats_apart(store):
    """LICENSED_AS (as AUTHORED_BY, TRAINED_ON, HAS_FLAG, INHERITS) is one edge per pair of nodes, which a later
    record updates; USES may hold several times between two nodes, told apart by ``disc``, and DERIVED_FROM too,
    told apart by its provenance."""
    store.write(Batch.of([d.Model(LLAMA, license="llama2", source="s1"), d.Uses("a/b", LLAMA, "x.py", 1)]))
    store.write(Batch.of([d.LicensedAs(LLAMA, "LLAMA2", source="s2"), d.Uses("a/b", LLAMA, "x.py", 2),
                          d.Uses("a/b", LLAMA, "x.py", 1)]))
    assert store.query("MATCH (:Model)-[e:LICENSED_AS]->(l:License) RETURN l.key, e.source").rows == [["llama2", "s2"]]
    assert store.query("MATCH (:Repo)-[u:USES]->(:Model) RETURN u.line, u.disc ORDER BY u.line").rows == [
        [1, "x.py:1"], [2, "x.py:2"]]
    store.write(Batch.of([d.Lineage(CHAT, LLAMA, "finetune", "declared-card", 1.0, "s1"),
                          d.Lineage(CHAT, LLAMA, "finetune", "name-inferred", 0.6, "s2")]))
    store.write(Batch.of([d.Lineage(CHAT, LLAMA, "adapter", "declared-card", 1.0, "s3")]))
    assert store.query("MATCH (:Model)-[e:DERIVED_FROM]->(:Model) RETURN e.provenance, e.relation, e.source "
                       "ORDER BY e.provenance").rows == [["declared-card", "adapter", "s3"],
                                                         ["name-inferred", "finetune", "s2"]]


def test_a_stub_takes_the_latest_spelling_and_a_real_model_keeps_its_own(store):
    """Within a batch the last spelling of an endpoint wins; across batches it must too, or a stub's id would
    depend on where the batches of an ingest happen to end."""
    store.write(Batch.of([d.Lineage("a/child", "Org/Base")]))
    store.write(Batch.of([d.Lineage("a/other", "ORG/base")]))
    assert store.model("org/base")["id"] == "ORG/base"
    store.write(Batch.of([d.Model("Org/Base")]))
    store.write(Batch.of([d.Lineage("a/third", "org/BASE")]))
    assert store.model("org/base")["id"] == "Org/Base"


def test_edge_to_unknown_model_creates_stub_then_real_record_clears_it(store):
    store.write(Batch.of(family()))
    assert store.model(GGUF)["stub"] is True
    assert store.stats().stub_models == 2
    store.write(Batch.of([d.Model(GGUF, license="llama2")]))
    assert store.model(GGUF)["stub"] is False
    assert store.stats().stub_models == 1


def test_descendants_with_depth_paths_and_relations(store):
    store.write(Batch.of(family()))
    hits = {h.id: h for h in store.lineage(LLAMA, "down")}
    assert set(hits) == {CHAT, VICUNA, GGUF, LORA, MERGE}
    assert hits[GGUF].depth == 2
    assert hits[GGUF].path == (LLAMA, CHAT, GGUF)
    assert hits[GGUF].relations == ("finetune", "quantized")
    assert hits[LORA].provenance == "adapter-config"
    assert hits[MERGE].depth == 2 and hits[MERGE].relation == "merge"
    assert [h.id for h in store.lineage(LLAMA, "down", max_depth=1)] == [VICUNA, CHAT]  # depth, then id


def test_walks_can_follow_only_some_relations(store):
    store.write(Batch.of(family()))
    assert {h.id for h in store.lineage(LLAMA, "down", relations={"finetune", "quantized"})} == {CHAT, VICUNA, GGUF}
    assert store.lineage(LLAMA, "down", relations={"adapter"}) == []
    assert [r.repo for r in store.affected_repos(LLAMA, relations={"finetune"})] == [
        "ggerganov/llama.cpp", "lm-sys/FastChat"]
    assert [(h.id, h.relations) for h in store.lineage(MERGE, "up", relations={"merge"})] == [
        (VICUNA, ("merge",)), (CHAT, ("merge",))]


def test_ancestors_of_a_merge_reach_both_parents(store):
    store.write(Batch.of(family()))
    hits = store.lineage(MERGE.upper(), "up")
    assert [(h.id, h.depth) for h in hits] == [(VICUNA, 1), (CHAT, 1), (LLAMA, 2)]
    assert store.lineage(LLAMA, "up") == []


def test_affected_repos_explain_their_path(store):
    store.write(Batch.of(family()))
    repos = {r.repo: r for r in store.affected_repos(LLAMA)}
    assert set(repos) == {"lm-sys/FastChat", "ggerganov/llama.cpp"}
    # llama.cpp loads the base itself and a quantization; the shallowest path explains it.
    assert repos["ggerganov/llama.cpp"].via == LLAMA and repos["ggerganov/llama.cpp"].depth == 0
    assert repos["ggerganov/llama.cpp"].file == "convert.py" and repos["ggerganov/llama.cpp"].line == 3
    assert repos["lm-sys/FastChat"].path == (LLAMA, VICUNA, "lm-sys/FastChat")
    assert [r.repo for r in store.affected_repos(CHAT)] == ["ggerganov/llama.cpp"]
    assert store.affected_repos(VICUNA, max_depth=0)[0].repo == "lm-sys/FastChat"


def test_unknown_model_is_a_clear_error(store):
    with pytest.raises(ModelNotFound, match="nobody/nothing"):
        store.lineage("nobody/nothing", "down")


def test_cycles_terminate(store):
    store.write(Batch.of([d.Lineage("c/a", "c/b"), d.Lineage("c/b", "c/c"), d.Lineage("c/c", "c/a"),
                          d.Lineage("c/a", "c/a")]))
    assert [(h.id, h.depth) for h in store.lineage("c/a", "down")] == [("c/c", 1), ("c/b", 2)]
    assert [(h.id, h.depth) for h in store.lineage("c/a", "up")] == [("c/b", 1), ("c/c", 2)]
    assert store.lineage_cycles() == [["c/a", "c/b", "c/c"]]  # the self-loop on c/a lies inside that cycle


def test_cycles_are_reported_alike_before_and_after_a_lineage_query(store):
    # Before a query, a store may answer from the edges alone; after one, from what it built for lineage.
    store.write(Batch.of([d.Lineage("y/B", "y/a"), d.Lineage("y/a", "y/c"), d.Lineage("y/c", "y/B"),
                          d.Lineage("x/2", "x/1"), d.Lineage("x/1", "x/2"), d.Lineage("z/self", "z/self"),
                          d.Lineage("w/tail", "y/a"), d.Lineage("y/a", "w/root"), d.Model("v/alone")]))
    expected = [["y/B", "y/a", "y/c"], ["x/1", "x/2"], ["z/self"]]
    assert store.lineage_cycles() == expected
    assert store.lineage_cycles(limit=1) == expected[:1]
    store.lineage("y/a", "down")
    assert store.lineage_cycles() == expected


def test_deep_chain_is_walked_without_hanging(store):
    depth = 300 if store.kind != "embedded" else 3000
    chain = [d.Lineage(f"chain/m{i + 1}", f"chain/m{i}", "finetune") for i in range(depth)]
    store.write(Batch.of(chain))
    hits = store.lineage("chain/m0", "down")
    assert len(hits) == depth and hits[-1].depth == depth and len(hits[-1].path) == depth + 1
    assert len(store.lineage("chain/m0", "down", max_depth=10)) == 10


def _store_and_find(store, name: str) -> None:
    store.write(Batch.of([*family(), d.Model(name, license="mit")]))
    result = store.query("MATCH (m:Model) WHERE m.key = $k RETURN m.id AS id, m.license AS license",
                         {"k": d.node_key(name)})
    assert result.columns == ["id", "license"]
    assert result.rows == [[name, "mit"]]
    assert store.stats().nodes["Model"] == 7


def test_parameterized_query_keeps_cypher_text_as_data(store):
    _store_and_find(store, 'evil/x"}) DETACH DELETE n //`$k')


def test_hostile_quotes_and_backslashes_are_data(store):
    skip_if_unsupported(store.kind, "quote_in_parameter")
    _store_and_find(store, "evil/x'}) DETACH DELETE n //\\\"`$k")


def test_query_returns_nodes_as_property_maps(store):
    store.write(Batch.of(family()))
    rows = store.query("MATCH (m:Model {key: $k}) RETURN m", {"k": d.node_key(VICUNA)}).records()
    assert rows[0]["m"]["id"] == VICUNA and rows[0]["m"]["_label"] == "Model"


def test_missing_parameter_is_refused_not_read_as_null(store):
    with pytest.raises(QueryError, match=r"\$k.*-p k="):
        store.query("MATCH (m:Model {key: $k}) RETURN m")
    # A $ inside a string literal is text, not a parameter.
    assert store.query("RETURN '$notaparam' AS x").rows == [["$notaparam"]]


def test_syntax_error_is_one_line(store):
    skip_if_unsupported(store.kind, "error_text")
    with pytest.raises(QueryError) as err:
        store.query("MATCH (m RETURN m")
    assert "\n" not in str(err.value)


def test_batch_with_invalid_record_never_reaches_the_store(store):
    with pytest.raises(d.InvalidRecord, match="relation"):
        Batch.of([d.Model("ok/model"), d.Lineage("ok/child", "ok/model", "distilled")])
    assert store.stats().nodes["Model"] == 0


def test_flags_attach_to_models_and_repos(store):
    store.write(Batch.of([*family(),
                          d.Flag("PTM-1", LLAMA, "license-conflict", "high", "llama2 vs apache", "test"),
                          d.Flag("PTM-2", "lm-sys/FastChat", "note", subject_kind="Repo"),
                          d.InheritedFlag("PTM-1", VICUNA, LLAMA, "finetune", 1)]))
    stats = store.stats()
    assert stats.flagged_models == 1
    assert stats.edges["HAS_FLAG"] == 2 and stats.edges["INHERITS"] == 1
    rows = store.query("MATCH (m:Model)-[i:INHERITS]->(f:Flag) RETURN m.id, f.id, i.depth, i.via, i.relation").rows
    assert rows == [[VICUNA, "PTM-1", 1, LLAMA, "finetune"]]


def test_reset_empties_the_store(store):
    store.write(Batch.of(family()))
    store.reset()
    assert sum(store.stats().nodes.values()) == 0
    store.write(Batch.of(family()))
    assert store.stats().nodes["Model"] == 6


def test_read_only_store_rejects_writes(store, tmp_path):
    skip_if_unsupported(store.kind, "read_only_rejects_writes")
    store.write(Batch.of(family()))
    store.close()
    reader = open_test_store(store.kind, tmp_path, read_only=True)
    try:
        assert reader.model(LLAMA)["id"] == LLAMA
        with pytest.raises(StoreError, match="read-only"):
            reader.write(Batch.of([d.Model("x/y")]))
        with pytest.raises(QueryError, match="--write"):
            reader.query("CREATE (m:Model {key: 'x', id: 'x', stub: false})")
    finally:
        reader.close()
    store.__init__(*_reopen_args(store, tmp_path))


def _reopen_args(store, tmp_path):
    # Reopen the fixture's store so its teardown can close it.
    if store.kind == "embedded":
        return (tmp_path / "store",)
    return (store.driver, store.uri)
