"""File sources: each turns one input format into a stream of records and Skipped items. None touches a store."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord
from ptmgraph.graph.batch import Batch
from ptmgraph.ingest import hf_lines, hf_model
from ptmgraph.ingest.files import InputFile, Span
from ptmgraph.ingest.pipeline import BAD_UNIT, Counts, Skipped, guarded, take

Item = d.Record | Skipped


def _records(units: Iterator[tuple[str, Any]], convert) -> Iterator[Item]:
    """Each readable unit through ``convert`` (a bad one becomes one Skipped); unreadable units pass through."""
    for where, unit in units:
        if isinstance(unit, Skipped):
            yield unit
        else:
            yield from guarded(where, lambda u=unit: convert(u))


# LadybugDB stores a node table in groups of 2**17 rows, and a group filled by one COPY checkpoints in a third of the
# time of a group that several COPYs share (benchmarks/bench_copy_size.py: 524,288 Model-shaped rows as four COPYs of
# 2**17 checkpoint in 0.52-0.71 s, as ten COPYs in 1.45-1.62 s). So a snapshot's batches are whole groups of models:
# on a first ingest each write's COPY of new models then fills whole groups, and so does the writer's merge of
# batches. A 1M-model CLI ingest, interleaved runs: 6-10 % less time than in batches of 100,000 models (not whole
# groups), with 1.5-2.4 s less CPU; 17.8-18.8 s against 19.2-19.6 s in 100k-record batches (~52k models).
MODELS_PER_BATCH = 1 << 17
# Whatever its models hold (a model may list thousands of datasets or bases), a batch ends with the model that takes
# it to this many records, so that memory stays bounded; such a batch is not whole groups. The synthetic snapshot has
# 1.92 records per model.
MAX_RECORDS_PER_BATCH = 4 * MODELS_PER_BATCH


class HfJsonl(InputFile):
    """One Hub ModelInfo JSON object per line (``ptmgraph ingest hub --save`` writes this format)."""

    name = "hf-jsonl"
    models_per_batch = MODELS_PER_BATCH
    max_records_per_batch = MAX_RECORDS_PER_BATCH

    def __iter__(self) -> Iterator[Item]:
        return _records(self.jsonl(), lambda obj: hf_model.records(obj, self.source))

    @property
    def source(self) -> str:
        return f"hf-jsonl:{self.path.name}"

    def parts(self) -> list[Span]:
        """The snapshot cut into parts that separate reader processes can batch (:meth:`batches` with ``span``):
        ``models_per_batch`` lines each, so that each part is one batch of whole node groups, as one reader makes
        them, when every line is another model (as in a snapshot of the Hub)."""
        return self.spans(itertools.repeat(self.models_per_batch))

    def batches(self, strict: bool, records_per_batch: int | None,
                span: Span | None = None) -> Iterator[tuple[Batch, Counts]]:
        """What :func:`pipeline.collect` makes of this source's records, with the models of the common shape added to
        the batch as columns, a block of lines at a time (:mod:`hf_lines`), and the others one object at a time
        (:func:`hf_model.add_plain`, else the records); batches end between models, after ``records_per_batch``
        records, or by default after ``models_per_batch`` models (or ``max_records_per_batch`` records, if that comes
        first). ``span`` reads that part of the file only (see :meth:`parts`)."""
        source = self.source
        by_models = records_per_batch is None
        # A line adds one model at most and a record at least, so a batch that is k models short needs k more
        # records first: its models are counted only then, not on every line.
        most = self.max_records_per_batch
        full = self.models_per_batch if records_per_batch is None else records_per_batch
        enough = full
        batch, counts = Batch(), Counts()
        for first, lines, ends in self.line_blocks(hf_lines.LINES_PER_BLOCK, span):
            block = hf_lines.plain_block(hf_lines.decoded(lines), source)
            plain, i = block.plain, 0
            while i < len(lines):
                if plain[i]:
                    run_end = i + 1
                    while run_end < len(lines) and plain[run_end]:
                        run_end += 1
                    i = self._add_run(batch, counts, block, i, run_end, enough - counts.records)
                else:
                    obj = self.json_object(first + i, lines[i])
                    if obj is not None:
                        self._add_one(batch, counts, first + i, obj, strict)
                    i += 1
                if counts.records >= enough:
                    short = self.models_per_batch - batch.models if by_models else 0
                    if short > 0 and counts.records < most:
                        enough = min(counts.records + short, most)
                        continue
                    counts.position = ends[i - 1]
                    yield batch, counts
                    batch, counts, enough = Batch(), Counts(), full
        if counts.records or counts.skipped:
            counts.position = self.position
            yield batch, counts

    def _add_run(self, batch: Batch, counts: Counts, block: hf_lines.Block, start: int, stop: int, need: int) -> int:
        """Add the plain models of lines ``start`` to ``stop`` of ``block``, or fewer: up to the one that brings
        ``need`` more records. Returns where it stopped."""
        per_line = block.records
        records, end = 0, start
        while end < stop and records < need:
            records += per_line[end]
            end += 1
        lineage = block.lineage[start:end]
        batch.add_model_columns(block.keys[start:end], [column[start:end] for column in block.columns], lineage,
                                self.source)
        for trained_on in block.trained_on[start:end]:
            for record in trained_on:
                batch.add(record)
        counts.records += records
        if any(lineage):
            keys, ids = block.keys, block.columns[0]
            counts.lineage_edges += sum(map(len, lineage))
            # The bases of a block's plain models are plain ids: their node_key is their casefold.
            counts.self_loops += [ids[i] for i, edges in enumerate(lineage, start) for base, _, _ in edges
                                  if base.casefold() == keys[i]]
        return end

    def _add_one(self, batch: Batch, counts: Counts, number: int, obj: dict[str, Any] | Skipped,
                 strict: bool) -> None:
        """An object that :mod:`hf_lines` leaves alone: plain after all (add_plain), or records."""
        source = self.source
        if type(obj) is dict:
            try:
                added = hf_model.add_plain(batch, obj, source)
            except BAD_UNIT:
                added = None  # the records path below says what is wrong, as for any other source
            if added is not None:
                model_id, records, edges, loops = added
                counts.records += records
                counts.lineage_edges += edges
                if loops:
                    counts.self_loops.extend([model_id] * loops)
                return
        items = [obj] if isinstance(obj, Skipped) else guarded(self.location(number),
                                                                lambda: hf_model.records(obj, source))
        for item in items:
            take(item, batch, counts, strict)


class ReuseCsv(InputFile):
    """PeaTMOSS's repository → model link table: ``gh_repo, hf_model_id, hf_url, hf_license``, no header."""

    name = "reuse-csv"

    def __iter__(self) -> Iterator[Item]:
        source = f"peatmoss-reuse:{self.path.name}"
        return _records(self.csv_rows(header=False), lambda row: self._row(row, source))

    @staticmethod
    def _row(row: list[str], source: str) -> Iterator[d.Record]:
        if len(row) != 4:
            raise InvalidRecord(f"expected 4 columns (gh_repo, hf_model_id, hf_url, hf_license), found {len(row)}")
        repo_url, model_id, _, licence = (cell.strip() for cell in row)
        repo = github_repo(repo_url)
        yield d.Repo(repo, url=f"https://github.com/{repo}", source=source)
        yield d.Model(model_id, license=licence or None, source=source)
        yield d.Uses(repo, model_id, source=source)


def github_repo(text: str) -> str:
    """``github.com/owner/name`` (with or without scheme, ``.git`` or trailing slash) → ``owner/name``."""
    value = text.strip()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.removeprefix("www.").removeprefix("github.com/").rstrip("/").removesuffix(".git")
    parts = value.split("/")
    if len(parts) != 2 or not all(parts):
        raise InvalidRecord(f"not a GitHub repository: {text!r:.80} (expected github.com/owner/name)")
    return "/".join(parts)


class GhLicenses(InputFile):
    """``{"owner/name": ["mit", ...] | null}``: licences detected in GitHub repositories."""

    name = "gh-licenses"

    def __iter__(self) -> Iterator[Item]:
        source = f"gh-licenses:{self.path.name}"
        return _records(self.json_object_items(), lambda member: self._member(*member, source))

    @staticmethod
    def _member(repo: str, licences: Any, source: str) -> Iterator[d.Record]:
        if licences is not None and not (isinstance(licences, list) and all(isinstance(x, str) for x in licences)):
            raise InvalidRecord(f"licences of {repo!r:.60} must be a list of strings or null")
        name = github_repo(repo)
        # null means "none found", which is itself a fact worth keeping: an empty licence list.
        yield d.Repo(name, url=f"https://github.com/{name}", licenses=tuple(x for x in licences or () if x.strip()),
                     source=source)


class Leaderboard(InputFile):
    """Open LLM Leaderboard export. ``metadata_base_model`` is the family *root*, ``metadata_generation`` the
    depth below it: each edge goes to the root with provenance ``leaderboard``, never claiming a direct parent."""

    name = "leaderboard"
    REQUIRED = ("model_name", "metadata_base_model", "metadata_generation")

    def __iter__(self) -> Iterator[Item]:
        source = f"leaderboard:{self.path.name}"
        return _records(self.csv_rows(header=True), lambda row: self._row(row, source))

    def _row(self, row: dict[str, str], source: str) -> Iterator[d.Record]:
        missing = [c for c in self.REQUIRED if c not in row]
        if missing:
            raise InvalidRecord(f"missing column(s) {', '.join(missing)}")
        model_id = row["model_name"].strip()
        architecture = row.get("model_architecture", "").strip()
        likes = row.get("metadata_hub_hearts", "").strip()
        yield d.Model(model_id, sha=row.get("model_sha") or None, license=row.get("metadata_hub_license") or None,
                      architectures=(architecture,) if architecture and architecture != "?" else None,
                      likes=int(likes) if likes.isdigit() else None, source=source)
        root = row["metadata_base_model"].strip()
        generation = int(row["metadata_generation"] or 0)
        if not root or root == "Removed" or generation <= 0 or d.node_key(root) == d.node_key(model_id):
            return
        merged = row.get("features_is_merged", "").strip().lower() == "true"
        adapter = row.get("model_weight_type", "").strip().lower() == "adapter"
        relation = "merge" if merged else "adapter" if adapter else "finetune" if generation == 1 else "unknown"
        yield d.Lineage(model_id, root, relation, "leaderboard", 0.8 if generation == 1 else 0.5,
                        f"{source} (generation {generation} below root {root})")


SOURCES = {cls.name: cls for cls in (HfJsonl, ReuseCsv, GhLicenses, Leaderboard)}


def open_source(kind: str, path: str | os.PathLike[str]):
    if kind == "peatmoss":
        from ptmgraph.ingest.peatmoss import PeatmossDb

        return PeatmossDb(path)
    return SOURCES[kind](path)
