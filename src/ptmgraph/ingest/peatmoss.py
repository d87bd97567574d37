"""The PeaTMOSS SQLite database (its schema: model, model_hub, license, architecture, author, dataset, tag,
library with their model_to_* link tables, reuse_repository, model_to_reuse_repository, reuse_file).

A model row has no name: its Hugging Face id is its ``repo_url`` without ``https://huggingface.co/``. Rows of
other hubs are skipped and counted. Everything is read in model-id order and merged, so memory stays flat.
"""

from __future__ import annotations

import heapq
import itertools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.ingest.pipeline import Skipped, guarded
from ptmgraph.ingest.sources import github_repo

HF_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/")
REQUIRED = ("model", "reuse_repository", "model_to_reuse_repository")
# (link table, entity table, column of the link table pointing at the entity)
LINKS = {
    "license": ("model_to_license", "license", "license_id"),
    "architecture": ("model_to_architecture", "architecture", "architecture_id"),
    "author": ("model_to_author", "author", "author_id"),
    "dataset": ("model_to_dataset", "dataset", "dataset_id"),
    "tag": ("model_to_tag", "tag", "tag_id"),
    "library": ("model_to_library", "library", "library_id"),
}


def hf_id(repo_url: str | None) -> str | None:
    for prefix in HF_PREFIXES:
        if repo_url and repo_url.startswith(prefix):
            return repo_url[len(prefix):].strip("/") or None
    return None


class PeatmossDb:
    name = "peatmoss"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise PtmgraphError(f"input file {self.path} does not exist or is not a file")
        self.size = 0
        self.position = 0
        try:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise PtmgraphError(f"{self.path} is not a readable SQLite database ({exc}): check the file") from None
        missing = [t for t in REQUIRED if t not in tables]
        if missing:
            raise PtmgraphError(f"{self.path} lacks the PeaTMOSS table(s) {', '.join(missing)}: is it a PeaTMOSS "
                                "database?")
        self.tables = tables
        self.size = self.db.execute("SELECT count(*) FROM model").fetchone()[0]

    def _links(self, kind: str) -> Iterator[tuple[int, str, str]]:
        link, entity, column = LINKS[kind]
        if link not in self.tables or entity not in self.tables:
            return iter(())
        # Table and column names come from LINKS above, never from the input.
        rows = self.db.execute(f"SELECT l.model_id, e.name FROM {link} l JOIN {entity} e ON e.id = l.{column} "
                               "WHERE e.name IS NOT NULL ORDER BY l.model_id")
        return ((model_id, kind, name) for model_id, name in rows)

    def __iter__(self) -> Iterator[d.Record | Skipped]:
        source = f"peatmoss:{self.path.name}"
        hub = "LEFT JOIN model_hub h ON h.id = m.model_hub_id" if "model_hub" in self.tables else ""
        hub_name = "h.name" if hub else "NULL"
        models = self.db.execute(f"SELECT m.id, m.repo_url, m.sha, m.downloads, m.likes, {hub_name} FROM model m "
                                 f"{hub} ORDER BY m.id")
        links = heapq.merge(*(self._links(kind) for kind in LINKS))
        by_model = itertools.groupby(links, key=lambda row: row[0])
        pending = next(by_model, None)
        ids: dict[int, str] = {}
        for row in models:
            self.position += 1
            attrs: dict[str, list[str]] = {}
            while pending is not None and pending[0] <= row[0]:
                if pending[0] == row[0]:
                    for _, kind, value in pending[1]:
                        attrs.setdefault(kind, []).append(value)
                else:
                    list(pending[1])  # links of a model id with no model row
                pending = next(by_model, None)
            model_id = hf_id(row[1])
            if model_id is None:
                yield Skipped(f"{self.path}: model row {row[0]}", f"not a Hugging Face model ({row[1]!r:.80})")
                continue
            ids[row[0]] = model_id
            yield from guarded(f"{self.path}: model row {row[0]}", lambda r=row, m=model_id, a=attrs: self._model(
                r, m, a, source))
        yield from self._reuse(ids, source)

    @staticmethod
    def _model(row: tuple, model_id: str, attrs: dict[str, list[str]], source: str) -> Iterator[d.Record]:
        licences = attrs.get("license", [])
        yield d.Model(model_id, sha=row[2], downloads=_count(row[3]), likes=_count(row[4]),
                      license=licences[0] if licences else None,
                      architectures=tuple(attrs["architecture"]) if "architecture" in attrs else None,
                      tags=tuple(attrs["tag"]) if "tag" in attrs else None,
                      library=attrs["library"][0] if "library" in attrs else None,
                      author=attrs["author"][0] if "author" in attrs else None, source=source)
        for licence in licences[1:]:
            yield d.LicensedAs(model_id, licence, source=source)
        for dataset in attrs.get("dataset", []):
            yield d.TrainedOn(model_id, dataset, source=source)

    def _reuse(self, ids: dict[int, str], source: str) -> Iterator[d.Record | Skipped]:
        files: dict[tuple[int, int], list[str]] = {}
        if "reuse_file" in self.tables:
            for model_id, repo_id, path in self.db.execute(
                    "SELECT model_id, reuse_repository_id, path FROM reuse_file WHERE path IS NOT NULL"):
                files.setdefault((model_id, repo_id), []).append(path)
        rows = self.db.execute("SELECT l.model_id, r.id, r.owner, r.name, r.url FROM model_to_reuse_repository l "
                               "JOIN reuse_repository r ON r.id = l.reuse_repository_id ORDER BY r.id")
        for model_row, repo_row, owner, name, url in rows:
            where = f"{self.path}: reuse link model {model_row} -> repository {repo_row}"
            model_id = ids.get(model_row)
            if model_id is None:
                yield Skipped(where, "links a model that is missing or not on Hugging Face")
                continue
            yield from guarded(where, lambda o=owner, n=name, u=url, m=model_id, p=files.get(
                (model_row, repo_row), []): _repo_uses(o, n, u, m, p, source))


def _repo_uses(owner: Any, name: Any, url: Any, model_id: str, paths: list[str], source: str) -> Iterator[d.Record]:
    repo = f"{owner}/{name}" if owner and name else github_repo(url or "")
    yield d.Repo(repo, url=url or f"https://github.com/{repo}", source=source)
    if not paths:
        yield d.Uses(repo, model_id, source=source)
    for path in paths:
        yield d.Uses(repo, model_id, file=path, source=source)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None
