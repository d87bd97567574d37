"""PeaTMOSS SQLite: a small database built from the schema (the real DDL from ../shared when present, else the
subset of it the source reads), filled with hand-written rows."""

from __future__ import annotations

import sqlite3

import pytest

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.ingest.peatmoss import PeatmossDb
from ptmgraph.ingest.pipeline import Skipped

SUBSET_DDL = """
CREATE TABLE model_hub (id INTEGER PRIMARY KEY, name VARCHAR, url VARCHAR);
CREATE TABLE model (id INTEGER PRIMARY KEY, context_id INTEGER, model_hub_id INTEGER, sha VARCHAR, repo_url VARCHAR,
                    downloads INTEGER, likes INTEGER, has_snapshot INTEGER, ptm_issues_id INTEGER,
                    ptm_pull_requests_id INTEGER);
CREATE TABLE license (id INTEGER PRIMARY KEY, name VARCHAR);
CREATE TABLE model_to_license (model_id INTEGER, license_id INTEGER);
CREATE TABLE architecture (id INTEGER PRIMARY KEY, name VARCHAR);
CREATE TABLE model_to_architecture (model_id INTEGER, architecture_id INTEGER);
CREATE TABLE dataset (id INTEGER PRIMARY KEY, name VARCHAR);
CREATE TABLE model_to_dataset (model_id INTEGER, dataset_id INTEGER);
CREATE TABLE reuse_repository (id INTEGER PRIMARY KEY, owner VARCHAR, name VARCHAR, url VARCHAR);
CREATE TABLE model_to_reuse_repository (model_id INTEGER, reuse_repository_id INTEGER);
CREATE TABLE reuse_file (id INTEGER PRIMARY KEY, path VARCHAR, model_id INTEGER, reuse_repository_id INTEGER);
"""

ROWS = """
INSERT INTO model_hub VALUES (1, 'Hugging Face', 'https://huggingface.co'), (2, 'PyTorch Hub', 'https://pytorch.org/hub');
INSERT INTO model (id, model_hub_id, sha, repo_url, downloads, likes) VALUES
  (1, 1, 'abc', 'https://huggingface.co/bert-base-uncased', 100, 5),
  (2, 1, 'def', 'https://huggingface.co/distilbert-base-uncased', 50, 2),
  (3, 2, NULL, 'https://pytorch.org/hub/pytorch_vision_resnet', NULL, NULL);
INSERT INTO license VALUES (1, 'apache-2.0'), (2, 'mit');
INSERT INTO model_to_license VALUES (1, 1), (2, 1), (2, 2);
INSERT INTO architecture VALUES (1, 'BertForMaskedLM');
INSERT INTO model_to_architecture VALUES (1, 1);
INSERT INTO dataset VALUES (1, 'wikipedia'), (2, 'bookcorpus');
INSERT INTO model_to_dataset VALUES (1, 1), (1, 2);
INSERT INTO reuse_repository VALUES (1, 'owner', 'project', 'https://github.com/owner/project'),
                                    (2, 'other', 'tool', 'https://github.com/other/tool');
INSERT INTO model_to_reuse_repository VALUES (1, 1), (2, 1), (2, 2), (3, 2);
INSERT INTO reuse_file VALUES (1, 'src/train.py', 1, 1), (2, 'notebooks/demo.ipynb', 1, 1);
"""


def build(path, ddl: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(ddl)
    db.executescript(ROWS)
    db.commit()
    db.close()


def check(items):
    models = {m.id: m for m in items if isinstance(m, d.Model)}
    assert set(models) == {"bert-base-uncased", "distilbert-base-uncased"}
    assert models["bert-base-uncased"].architectures == ("BertForMaskedLM",)
    assert models["distilbert-base-uncased"].license == "apache-2.0"
    assert [r.license for r in items if isinstance(r, d.LicensedAs)] == ["mit"]
    assert {r.dataset for r in items if isinstance(r, d.TrainedOn)} == {"wikipedia", "bookcorpus"}
    uses = sorted((u.repo, u.model, u.file) for u in items if isinstance(u, d.Uses))
    assert uses == [("other/tool", "distilbert-base-uncased", None),
                    ("owner/project", "bert-base-uncased", "notebooks/demo.ipynb"),
                    ("owner/project", "bert-base-uncased", "src/train.py"),
                    ("owner/project", "distilbert-base-uncased", None)]
    skipped = [s.reason for s in items if isinstance(s, Skipped)]
    assert len(skipped) == 2 and "not a Hugging Face model" in skipped[0]


def test_subset_of_the_schema(tmp_path):
    build(tmp_path / "p.sqlite", SUBSET_DDL)
    check(list(PeatmossDb(tmp_path / "p.sqlite")))


def test_the_real_peatmoss_ddl(tmp_path, shared_data):
    build(tmp_path / "p.sqlite", (shared_data / "peatmoss" / "PeaTMOSS.sql").read_text())
    check(list(PeatmossDb(tmp_path / "p.sqlite")))


def test_not_a_peatmoss_database(tmp_path):
    (tmp_path / "x.sqlite").write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(PtmgraphError, match="not a readable SQLite database"):
        PeatmossDb(tmp_path / "x.sqlite")
    sqlite3.connect(tmp_path / "empty.sqlite").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(PtmgraphError, match="lacks the PeaTMOSS table"):
        PeatmossDb(tmp_path / "empty.sqlite")
