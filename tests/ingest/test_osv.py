from __future__ import annotations

import json

from typer.testing import CliRunner

from ptmgraph import domain as d
from ptmgraph.cli.app import app
from ptmgraph.graph.batch import Batch
from ptmgraph.graph.embedded import EmbeddedStore

ADVISORY = {
    "id": "PTM-2026-0001", "summary": "Backdoored weights in a popular base", "published": "2026-11-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "HuggingFace", "name": "org/base"}}],
    "references": [{"type": "WEB", "url": "https://example.org/advisory"}],
    "database_specific": {"severity": "HIGH", "kind": "backdoor"},
}


def setup(tmp_path):
    with EmbeddedStore(tmp_path / "s") as store:
        store.write(Batch.of([d.Model("org/base"), d.Lineage("org/child", "org/base", "finetune")]))
    return ["--store", str(tmp_path / "s")]


def test_import_then_propagate(tmp_path):
    runner = CliRunner()
    store = setup(tmp_path)
    (tmp_path / "osv.json").write_text(json.dumps({"vulns": [ADVISORY]}))
    result = runner.invoke(app, [*store, "flag", "--import", str(tmp_path / "osv.json"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flags"] == ["PTM-2026-0001:org/base"]
    assert json.loads(runner.invoke(app, [*store, "propagate", "--json"]).stdout)["inherited_models"] == 1
    why = json.loads(runner.invoke(app, [*store, "why", "org/child", "--json"]).stdout)
    assert why["inherited"][0]["kind"] == "backdoor" and why["inherited"][0]["severity"] == "high"


def test_a_file_with_errors_writes_nothing_and_says_why(tmp_path):
    runner = CliRunner()
    store = setup(tmp_path)
    bad = [ADVISORY, {"summary": "no id"},
           {"id": "PTM-2", "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}}]},
           {"id": "PTM-3", "affected": [{"package": {"ecosystem": "HuggingFace", "name": "nobody/unknown"}}]}]
    (tmp_path / "osv.json").write_text(json.dumps(bad))
    result = runner.invoke(app, [*store, "flag", "--import", str(tmp_path / "osv.json")])
    assert result.exit_code == 1
    assert "has no 'id'" in result.stderr and "not Hugging Face" in result.stderr
    assert "'nobody/unknown' is not in the store" in result.stderr and "nothing was written" in result.stderr
    assert json.loads(runner.invoke(app, [*store, "stats", "--json"]).stdout)["nodes"]["Flag"] == 0
    (tmp_path / "broken.json").write_text("{not json")
    broken = runner.invoke(app, [*store, "flag", "--import", str(tmp_path / "broken.json")])
    assert broken.exit_code == 1 and "cannot read OSV file" in broken.stderr
