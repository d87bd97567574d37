"""Flags flow downstream by a policy per kind and relation, with the path that explains each inheritance."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ptmgraph import domain as d
from ptmgraph.cli.app import app
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.propagation import propagate, why
from tests.graph.stores import open_test_store, store_params

BASE, FT, GGUF, LORA, FT2 = "org/base", "org/base-ft", "org/base-GGUF", "org/base-lora", "org/ft-of-ft"
GRAPH = [
    d.Model(BASE, downloads=10), d.Model(FT, downloads=500), d.Model(GGUF, downloads=50), d.Model(LORA),
    d.Lineage(FT, BASE, "finetune"), d.Lineage(GGUF, BASE, "quantized"), d.Lineage(LORA, BASE, "adapter"),
    d.Lineage(FT2, FT, "finetune"),
    d.Repo("me/app"), d.Uses("me/app", GGUF), d.Repo("me/tool"), d.Uses("me/tool", FT2),
]


@pytest.fixture(params=store_params())
def store(request, tmp_path):
    st = open_test_store(request.param, tmp_path)
    st.reset()
    st.write(Batch.of(GRAPH))
    yield st
    st.close()


def inherited_by(store, flag_id):
    """{subject: (depth, relations along the rebuilt path)}, read back through `why`."""
    rows = store.query("MATCH (n)-[i:INHERITS]->(f:Flag {key: $f}) RETURN n.id", {"f": d.node_key(flag_id)}).rows
    out = {}
    for (subject,) in rows:
        (reached,) = [r for r in why(store, subject)["inherited"] if r["flag"] == flag_id]
        assert len(reached["path"]) == reached["depth"] + 1 and reached["path"][-1] == subject
        out[subject] = (reached["depth"], list(reached["relations"]))
    return out


def test_each_kind_passes_only_the_relations_its_policy_names(store):
    store.write(Batch.of([d.Flag("L", BASE, "license-conflict"), d.Flag("N", BASE, "naming"),
                          d.Flag("U", BASE, "unsafe-serialization"), d.Flag("M", BASE, "missing-metadata")]))
    report = propagate(store)
    assert report.flags == 4
    assert inherited_by(store, "L") == {
        FT: (1, ["finetune"]), GGUF: (1, ["quantized"]), LORA: (1, ["adapter"]), FT2: (2, ["finetune", "finetune"]),
        "me/app": (2, ["quantized", "uses"]), "me/tool": (3, ["finetune", "finetune", "uses"])}
    assert set(inherited_by(store, "N")) == {FT, LORA, FT2, "me/tool"}  # not through the GGUF re-serialization
    assert set(inherited_by(store, "U")) == {LORA}  # an adapter loads its base's pickle; re-saved weights do not
    assert inherited_by(store, "M") == {}


def test_propagation_is_idempotent(store):
    store.write(Batch.of([d.Flag("L", BASE, "license-conflict")]))
    propagate(store)
    first = store.stats().edges["INHERITS"]
    propagate(store)
    assert store.stats().edges["INHERITS"] == first == 6


def test_cycles_do_not_trap_propagation(store):
    store.write(Batch.of([d.Lineage(BASE, FT2, "merge"), d.Flag("C", FT, "license-conflict")]))
    propagate(store)
    assert set(inherited_by(store, "C")) >= {FT2, BASE, GGUF, LORA}
    assert FT not in inherited_by(store, "C")  # the origin does not inherit its own flag back round the cycle


def test_why_explains_a_repository(store):
    store.write(Batch.of([d.Flag("L", BASE, "license-conflict", "high", "llama2 terms")]))
    propagate(store)
    report = why(store, "ME/APP")
    assert report["kind"] == "Repo" and report["flags"] == []
    (reached,) = report["inherited"]
    assert reached["flag"] == "L" and list(reached["path"]) == [BASE, GGUF, "me/app"]
    assert why(store, "no/such") is None


def test_cli_flag_propagate_affected(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]  # where open_test_store puts the embedded store
    with open_test_store("embedded", tmp_path) as st:
        st.write(Batch.of(GRAPH))
    missing = runner.invoke(app, [*store, "flag", "no/model", "--kind", "naming", "--reason", "x"])
    assert missing.exit_code == 1 and "nothing was flagged" in missing.stderr
    made = runner.invoke(app, [*store, "flag", BASE, "--kind", "license-conflict", "--reason", "r", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(runner.invoke(app, [*store, "propagate", "--json"]).stdout)["inherited_models"] == 4
    ranked = json.loads(runner.invoke(app, [*store, "affected", BASE, "--json"]).stdout)
    assert [m["id"] for m in ranked["models"]] == [FT, GGUF, LORA, FT2]  # by downloads, then depth
    only = json.loads(runner.invoke(app, [*store, "affected", BASE, "--kind", "naming", "--json"]).stdout)
    assert GGUF not in {m["id"] for m in only["models"]}
    explained = json.loads(runner.invoke(app, [*store, "why", "me/tool", "--json"]).stdout)
    assert explained["inherited"][0]["depth"] == 3


def test_a_10000_deep_chain_propagates_in_linear_space_and_explains_the_whole_path(tmp_path):
    from ptmgraph.graph.embedded import EmbeddedStore
    from ptmgraph.graph.paths import ELIDED, SHOWN_STEPS
    from ptmgraph.graph.report import build

    n = 10_000
    chain = [d.Model(f"chain/m{i}") for i in range(n + 1)]
    chain += [d.Lineage(f"chain/m{i + 1}", f"chain/m{i}", "finetune") for i in range(n)]
    chain += [d.Repo("me/leaf-app"), d.Uses("me/leaf-app", f"chain/m{n}"), d.Flag("DEEP", "chain/m0", "naming")]
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of(chain))
        report = propagate(store)
        assert (report.inherited_models, report.inherited_repos) == (n, 1)
        leaf = why(store, "me/leaf-app")["inherited"][0]
        assert leaf["depth"] == n + 1 and len(leaf["path"]) == n + 2
        assert leaf["path"][:2] == ["chain/m0", "chain/m1"] and leaf["path"][-2:] == [f"chain/m{n}", "me/leaf-app"]
        assert leaf["relations"][-1] == "uses" and set(leaf["relations"][:-1]) == {"finetune"}
        (repo,) = store.affected_repos("chain/m0")  # its path is assembled lazily, from the index, in one go
        assert repo.depth == n and repo.path == tuple(leaf["path"]) and repo.via == f"chain/m{n}"
        (origin,) = build(store)["origins"]
        deepest = next(m for m in origin["models"] if m["id"] == f"chain/m{n}")
        assert deepest["path_elided"] and deepest["path"][:2] == ["chain/m0", ELIDED]
        assert len(deepest["path"]) == SHOWN_STEPS + 3 and len(deepest["relations"]) == len(deepest["path"]) - 1
        shallow = next(m for m in origin["models"] if m["id"] == "chain/m3")
        assert shallow["path"] == ["chain/m0", "chain/m1", "chain/m2", "chain/m3"] and "path_elided" not in shallow
