"""`ptmgraph export`: a CycloneDX 1.6 ML-BOM that the official schema accepts, and GraphML networkx reads back."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from ptmgraph.graph.export import purl
from tests.cli.test_cli import run

LEAF, CHAT, BASE = "TheBloke/Llama-2-7B-Chat-GGUF", "meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf"


@pytest.fixture
def store(tmp_path):
    store = tmp_path / "store"
    assert run("demo", "--json", store=store).exit_code == 0
    assert run("flag", BASE, "--kind", "user", "--severity", "high", "--reason", "bad base",
               store=store).exit_code == 0
    assert run("propagate", "--json", store=store).exit_code == 0
    return store


def validate(bom_text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom_text)
    assert error is None, f"not a valid CycloneDX 1.6 document: {error}"


def test_cyclonedx_ml_bom_nests_lineage_as_pedigree_and_lists_inherited_flags(store):
    result = run("export", LEAF, "--format", "cyclonedx", store=store)
    assert result.exit_code == 0, result.output
    validate(result.stdout)
    bom = json.loads(result.stdout)
    root = bom["metadata"]["component"]
    assert root["type"] == "machine-learning-model" and root["purl"] == purl(LEAF)
    chat = root["pedigree"]["ancestors"][0]
    assert (chat["group"], chat["name"]) == ("meta-llama", "Llama-2-7b-chat-hf")
    assert chat["pedigree"]["ancestors"][0]["purl"] == purl(BASE)
    relation = {p["name"]: p["value"] for p in chat["properties"]}["ptmgraph:relation-to-child"]
    assert relation == "quantized", "the GGUF file is a quantization of the chat model"
    inherited = next(v for v in bom["vulnerabilities"] if v["description"] == "bad base")
    props = {p["name"]: p["value"] for p in inherited["properties"]}
    assert props["ptmgraph:inherited-through"] == f"{BASE} -> {CHAT} -> {LEAF}"
    assert inherited["affects"] == [{"ref": root["bom-ref"]}] and inherited["ratings"] == [{"severity": "high"}]


def test_a_schema_violation_would_be_caught():
    with pytest.raises(AssertionError, match="not a valid CycloneDX"):
        validate(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "model"}]}))


def test_purl_encodes_hostile_ids():
    assert purl("org/na me#x?y") == "pkg:huggingface/org/na%20me%23x%3Fy"


def test_graphml_round_trips_through_networkx(store, tmp_path):
    out = tmp_path / "g.graphml"
    result = run("export", "--format", "graphml", "--out", str(out), "--json", store=store)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    graph = nx.read_graphml(out, force_multigraph=True)
    stats = json.loads(run("stats", "--json", store=store).stdout)
    labels = [a["label"] for _, a in graph.nodes(data=True)]
    assert labels.count("Model") == stats["nodes"]["Model"] and labels.count("Repo") == stats["nodes"]["Repo"]
    assert (counts["nodes"], counts["edges"]) == (graph.number_of_nodes(), graph.number_of_edges())
    types = [a["type"] for *_, a in graph.edges(data=True)]
    assert types.count("DERIVED_FROM") == stats["edges"]["DERIVED_FROM"]
    assert types.count("USES") == stats["edges"]["USES"]
    edge = graph.get_edge_data(f"Model:{CHAT}", f"Model:{BASE}")
    assert [e["relation"] for e in edge.values()] == ["finetune"]


def test_export_errors_are_one_line(store, tmp_path):
    for args, message in ((("export", "org/nope"), "no model 'org/nope'"),
                          (("export", "--format", "spdx"), "unknown --format 'spdx'"),
                          (("export",), "name the model"),
                          (("export", "--format", "graphml"), "give --out")):
        result = run(*args, store=store)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
