"""The live Hugging Face Hub, through ``huggingface_hub.HfApi.list_models(expand=[...])``.

Each ModelInfo is turned back into the Hub's JSON shape, so that it goes through the same converter as a saved
snapshot, and ``--save`` writes exactly what ``ingest hf-jsonl`` reads. Resumable: a cursor file records how many
models of this exact query have been ingested; ``--resume`` skips that many (pages are fetched again, nothing is
written twice). 429 and 5xx answers are retried with backoff, honouring Retry-After.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import PtmgraphError
from ptmgraph.ingest import hf_model
from ptmgraph.ingest.pipeline import Skipped, guarded

EXPAND = ["author", "sha", "baseModels", "cardData", "config", "tags", "downloads", "likes", "library_name",
          "pipeline_tag", "createdAt", "lastModified", "safetensors", "siblings", "gated"]
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_RETRIES = 6


@dataclass
class HubQuery:
    author: str | None = None
    search: str | None = None
    filter: str | None = None
    limit: int | None = None
    since: str | None = None  # ISO date: models created on or after it

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(vars(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class HubSource:
    query: HubQuery
    cursor_file: Path
    resume: bool = False
    save: Path | None = None
    sleep: Callable[[float], None] = time.sleep
    consumed: int = 0
    retries: int = 0
    deep: bool = False
    name: str = "hub"
    position: int = 0
    size: int | None = None
    path: Path = field(default_factory=lambda: Path("huggingface.co"))

    def __post_init__(self) -> None:
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
            raise PtmgraphError("HF_HUB_OFFLINE is set, so the live Hub is off limits: unset it, or ingest a saved "
                                "snapshot with `ptmgraph ingest hf-jsonl FILE`")
        self.size = self.query.limit
        if self.resume and self.cursor_file.exists():
            saved = json.loads(self.cursor_file.read_text())
            if saved.get("query") == self.query.fingerprint():
                self.consumed = int(saved.get("consumed", 0))

    def _api(self):
        from huggingface_hub import HfApi

        # Read HF_ENDPOINT now rather than at import time, so a changed environment is honoured.
        return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)

    def _models(self, skip: int) -> Iterator[Any]:
        q = self.query
        since = datetime.fromisoformat(q.since).date() if q.since else None
        kwargs: dict[str, Any] = {"author": q.author, "search": q.search, "filter": q.filter, "expand": EXPAND}
        if since is not None:
            kwargs["sort"] = "created_at"  # newest first: stop at the first model older than --since
        seen = 0
        for info in self._api().list_models(**kwargs):
            if since is not None and info.created_at is not None and info.created_at.date() < since:
                return
            seen += 1
            if seen <= skip:
                continue
            yield info

    def __iter__(self) -> Iterator[d.Record | Skipped]:
        from huggingface_hub.errors import HfHubHTTPError

        out = self.save.open("a" if self.resume else "w") if self.save else None
        try:
            while self.query.limit is None or self.consumed < self.query.limit:
                try:
                    for info in self._models(self.consumed):
                        raw = model_info_json(info)
                        if out is not None:
                            out.write(json.dumps(raw, default=str) + "\n")
                        self.consumed += 1
                        self.position = self.consumed
                        where = f"hub model {raw.get('id')!r} (#{self.consumed})"
                        yield from guarded(where, lambda r=raw: hf_model.records(r, "hub"))
                        if self.deep:
                            yield from guarded(where + " (deep pass)", lambda r=raw: self._deep(r))
                        if self.query.limit is not None and self.consumed >= self.query.limit:
                            break
                    return
                except HfHubHTTPError as exc:
                    status = getattr(exc.response, "status_code", None)
                    if status not in RETRY_STATUS or self.retries >= MAX_RETRIES:
                        raise PtmgraphError(f"the Hub answered {status} after {self.consumed} models: "
                                            f"{str(exc).splitlines()[0]} (re-run with --resume to continue)") from None
                    self.retries += 1
                    self.sleep(_retry_after(exc, self.retries))
                except OSError as exc:
                    raise PtmgraphError(f"cannot reach the Hub ({exc}); re-run with --resume to continue") from None
        finally:
            if out is not None:
                out.close()

    def _deep(self, raw: dict[str, Any]) -> Iterator[d.Lineage]:
        """Extra lineage evidence from the files a model ships: ``config.json``'s ``_name_or_path`` and
        ``adapter_config.json``'s ``base_model_name_or_path``; only files the listing says exist are fetched."""
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import GatedRepoError, HfHubHTTPError

        from ptmgraph.ingest.scan import looks_like_model_id

        files = {s.get("rfilename") for s in raw.get("siblings") or () if isinstance(s, dict)}
        wanted = (("adapter_config.json", "base_model_name_or_path", "adapter", "adapter-config", 0.9),
                  ("config.json", "_name_or_path", "finetune", "config", 0.6))
        for filename, key, relation, provenance, confidence in wanted:
            if filename not in files:
                continue
            try:
                path = hf_hub_download(raw["id"], filename, revision=raw.get("sha"),
                                       endpoint=os.environ.get("HF_ENDPOINT") or None)
            except GatedRepoError:
                raise PtmgraphError(f"{raw['id']} is gated: accept its terms on the Hub and set HF_TOKEN to read "
                                    f"{filename}") from None
            except (HfHubHTTPError, OSError) as exc:
                raise PtmgraphError(f"cannot read {filename} of {raw['id']}: {str(exc).splitlines()[0]}") from None
            try:
                base = json.loads(Path(path).read_text()).get(key)
            except (ValueError, AttributeError):
                raise PtmgraphError(f"{filename} of {raw['id']} is not a JSON object") from None
            if isinstance(base, str) and looks_like_model_id(base) and d.node_key(base) != d.node_key(raw["id"]):
                yield d.Lineage(raw["id"], base, relation, provenance, confidence, f"hub {filename}: {key}")

    def save_cursor(self, consumed: int | None = None) -> None:
        self.cursor_file.parent.mkdir(parents=True, exist_ok=True)
        done = self.consumed if consumed is None else consumed
        self.cursor_file.write_text(json.dumps({"query": self.query.fingerprint(), "consumed": done}))


def cursor_path(store_uri: str, query: HubQuery) -> Path:
    """Beside the embedded store it feeds (so a reset store forgets it too), else in the user cache."""
    if os.environ.get("PTMGRAPH_CURSOR_DIR"):
        base = Path(os.environ["PTMGRAPH_CURSOR_DIR"])
    elif "://" not in store_uri:
        base = Path(store_uri).expanduser()
    else:
        base = Path.home() / ".cache" / "ptmgraph"
    return base / f"hub-cursor-{query.fingerprint()}.json"


def _retry_after(exc: Any, attempt: int) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return min(float(header), 60.0) if header else min(2.0 ** attempt, 60.0)
    except ValueError:
        return min(2.0 ** attempt, 60.0)


def model_info_json(info: Any) -> dict[str, Any]:
    """A ModelInfo back in the Hub's JSON shape (the one ``hf-jsonl`` reads)."""
    card = info.card_data.to_dict() if hasattr(info.card_data, "to_dict") else info.card_data
    siblings = [{"rfilename": s.rfilename} for s in info.siblings] if info.siblings else info.siblings
    raw: dict[str, Any] = {
        "id": info.id, "author": info.author, "sha": info.sha,
        "createdAt": info.created_at.isoformat() if info.created_at else None,
        "lastModified": info.last_modified.isoformat() if info.last_modified else None,
        "downloads": info.downloads, "likes": info.likes, "library_name": info.library_name,
        "pipeline_tag": info.pipeline_tag, "tags": info.tags, "gated": info.gated, "cardData": card,
        "config": info.config, "siblings": siblings,
    }
    base = getattr(info, "base_models", None)
    if base:
        raw["baseModels"] = base
    return {k: v for k, v in raw.items() if v is not None}
