"""Advisories in OSV JSON (https://ossf.github.io/osv-schema/) whose ``affected`` entries name Hugging Face models,
as flags. A file holds one advisory, a list of them, or ``{"vulns": [...]}``. Every problem in the file is
collected first; the caller writes nothing unless there is none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ptmgraph import domain as d
from ptmgraph.errors import InvalidRecord, PtmgraphError

ECOSYSTEMS = {"huggingface", "hugging face", "hf"}
SEVERITY_WORDS = {s.value for s in d.Severity}


def _severity(advisory: dict[str, Any]) -> d.Severity:
    word = str((advisory.get("database_specific") or {}).get("severity", "")).lower()
    if word in SEVERITY_WORDS:
        return d.Severity(word)
    if word == "moderate":
        return d.Severity.MEDIUM
    return d.Severity.HIGH if advisory.get("severity") else d.Severity.MEDIUM


def parse(path: str | Path) -> tuple[list[d.Flag], list[str]]:
    """(flags, problems). Each affected model of each advisory becomes one flag ``<advisory id>:<model>``."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PtmgraphError(f"cannot read OSV file {file}: {exc}") from None
    advisories = data.get("vulns") if isinstance(data, dict) and "vulns" in data else data
    if isinstance(advisories, dict):
        advisories = [advisories]
    if not isinstance(advisories, list):
        raise PtmgraphError(f"{file} is not OSV JSON (expected an advisory, a list, or {{\"vulns\": [...]}})")
    flags, problems = [], []
    for number, advisory in enumerate(advisories, start=1):
        where = f"{file}: advisory #{number}"
        if not isinstance(advisory, dict) or not isinstance(advisory.get("id"), str):
            problems.append(f"{where}: has no 'id'")
            continue
        where = f"{file}: {advisory['id']}"
        models = []
        for entry in advisory.get("affected") or []:
            package = entry.get("package") if isinstance(entry, dict) else None
            if not isinstance(package, dict) or not isinstance(package.get("name"), str):
                problems.append(f"{where}: an 'affected' entry has no package name")
                continue
            if str(package.get("ecosystem", "")).lower() not in ECOSYSTEMS:
                problems.append(f"{where}: {package['name']!r} is in ecosystem {package.get('ecosystem')!r}, "
                                "not Hugging Face")
                continue
            models.append(package["name"])
        if not models:
            problems.append(f"{where}: lists no affected Hugging Face model")
        references = tuple(r["url"] for r in advisory.get("references") or [] if isinstance(r, dict)
                           and isinstance(r.get("url"), str))
        for model in models:
            try:
                flags.append(d.Flag(f"{advisory['id']}:{model}", model, str(advisory.get("database_specific", {}).get(
                    "kind", "advisory")), _severity(advisory), str(advisory.get("summary") or advisory["id"]),
                    "osv-import", json.dumps(advisory, sort_keys=True)[:20_000], advisory.get("published"),
                    references or None))
            except InvalidRecord as exc:
                problems.append(f"{where}: {exc}")
    return flags, problems
