"""Finds the Hugging Face models a code checkout loads: Python (AST), notebooks' code cells, and YAML/JSON configs.

Recognised in Python: ``X.from_pretrained(id)``, ``pipeline(..., model=id)``, ``hf_hub_download(repo_id=id)``,
``snapshot_download(id)``, ``SentenceTransformer(id)`` / ``CrossEncoder(id)``, ``timm.create_model("hf-hub:id")``,
and argparse options named like ``--model...`` with a string default. An argument that is a variable resolves when
the module assigns that name exactly one string constant. Each find is a USES edge with file and line.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ptmgraph import domain as d
from ptmgraph.ingest.pipeline import Skipped

MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?$")
LOADERS_FIRST_ARG = {"from_pretrained": "pretrained_model_name_or_path", "snapshot_download": "repo_id",
                     "hf_hub_download": "repo_id", "SentenceTransformer": "model_name_or_path",
                     "CrossEncoder": "model_name", "create_model": "model_name"}
CONFIG_KEYS = ("model", "model_name", "model_id", "model_name_or_path", "pretrained_model_name_or_path",
               "base_model", "base_model_name_or_path", "repo_id", "checkpoint", "tokenizer_name")
YAML_LINE = re.compile(r"^\s*(?:-\s*)?(" + "|".join(CONFIG_KEYS) + r")\s*:\s*[\"']?([^\"'#\s]+)[\"']?\s*(?:#.*)?$")
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox", "site-packages", "build", "dist"}
MAX_FILE_BYTES = 2_000_000
LOCAL_HINTS = ("./", "../", "~", "\\")
FILE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".json", ".onnx", ".gguf", ".h5", ".pkl")


@dataclass(frozen=True)
class Find:
    file: str
    line: int
    model: str
    how: str


def looks_like_model_id(text: str) -> bool:
    value = text.strip()
    if value.startswith("hf-hub:") or value.startswith("hf_hub:"):
        value = value.split(":", 1)[1]
    return (bool(MODEL_ID.match(value)) and not value.startswith(LOCAL_HINTS) and not value.endswith(FILE_SUFFIXES)
            and not value.isdigit() and value.count("/") <= 1)


def _clean(text: str) -> str:
    return text.split(":", 1)[1] if text.startswith(("hf-hub:", "hf_hub:")) else text


class _Visitor(ast.NodeVisitor):
    def __init__(self, constants: dict[str, str]) -> None:
        self.constants = constants
        self.finds: list[tuple[int, str, str]] = []

    def _value(self, node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        candidate, how = None, name
        if name in LOADERS_FIRST_ARG:
            candidate = self._value(node.args[0] if node.args else keywords.get(LOADERS_FIRST_ARG[name]))
            if name == "create_model" and not (candidate or "").startswith(("hf-hub:", "hf_hub:")):
                candidate = None  # timm's own (non-Hub) model names are not Hub ids
        elif name == "pipeline":
            candidate = self._value(keywords.get("model") or (node.args[1] if len(node.args) > 1 else None))
        elif name == "add_argument" and "default" in keywords:
            flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if any("model" in f.lower() and f.startswith("-") for f in flags):
                candidate, how = self._value(keywords["default"]), "argparse default"
        if candidate and looks_like_model_id(candidate):
            self.finds.append((node.lineno, _clean(candidate), f"{how}(...)" if how != "argparse default" else how))
        self.generic_visit(node)


def _constants(tree: ast.AST) -> dict[str, str]:
    values: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id].add(node.value.value)
    return {name: next(iter(v)) for name, v in values.items() if len(v) == 1}


def python_finds(source: str) -> list[tuple[int, str, str]]:
    tree = ast.parse(source)
    visitor = _Visitor(_constants(tree))
    visitor.visit(tree)
    return visitor.finds


def _notebook(text: str) -> Iterator[tuple[str, str]]:
    """(cell label, code) for every code cell; magics and shell lines are blanked so the cell still parses."""
    notebook = json.loads(text)
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            code = "".join(source) if isinstance(source, list) else str(source)
            lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
            yield f"cell {number}", "\n".join(lines)


def _config(text: str, suffix: str) -> Iterator[tuple[int, str]]:
    if suffix == ".json":
        def walk(value: object) -> Iterator[str]:
            if isinstance(value, dict):
                for key, inner in value.items():
                    if key in CONFIG_KEYS and isinstance(inner, str):
                        yield inner
                    else:
                        yield from walk(inner)
            elif isinstance(value, list):
                for inner in value:
                    yield from walk(inner)

        for found in walk(json.loads(text)):
            yield 0, found
        return
    for number, line in enumerate(text.splitlines(), start=1):
        match = YAML_LINE.match(line)
        if match:
            yield number, match.group(2)


def scan(root: str | os.PathLike[str]) -> Iterator[Find | Skipped]:
    base = Path(root)
    for directory, dirs, names in os.walk(base):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            rel = path.relative_to(base).as_posix()
            suffix = path.suffix.lower()
            if suffix not in (".py", ".ipynb", ".yaml", ".yml", ".json") or path.stat().st_size > MAX_FILE_BYTES:
                continue
            try:
                text = path.read_text(encoding="utf-8")
                if suffix == ".py":
                    for line, model, how in python_finds(text):
                        yield Find(rel, line, model, how)
                elif suffix == ".ipynb":
                    for cell, code in _notebook(text):
                        try:
                            finds = python_finds(code)
                        except SyntaxError:
                            continue  # one broken cell does not hide the others
                        for line, model, how in finds:
                            yield Find(f"{rel}#{cell.replace(' ', '')}", line, model, how)
                else:
                    for line, model in _config(text, suffix):
                        if looks_like_model_id(model) and "/" in model:
                            yield Find(rel, line, _clean(model), "config key")
            except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError) as exc:
                yield Skipped(rel, f"cannot read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")


def records(root: str | os.PathLike[str], repo: str) -> Iterator[d.Record | Skipped]:
    yield d.Repo(repo, source=f"scan:{Path(root).resolve()}")
    for item in scan(root):
        if isinstance(item, Skipped):
            yield item
        else:
            yield d.Uses(repo, item.model, file=item.file, line=item.line or None, source=f"scan: {item.how}")
