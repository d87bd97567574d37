"""The ``ptmgraph`` command. Thin: parse arguments, call the package, render (rich for people, --json for scripts)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ptmgraph import __version__
from ptmgraph.cli import render
from ptmgraph.errors import PtmgraphError, QueryError
from ptmgraph.graph.open import open_store, reset_store, resolve_uri

app = typer.Typer(
    name="ptmgraph",
    help="What a pre-trained model is, where it came from, and who is hurt when it is wrong.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="Inspect or reset the store.", no_args_is_help=True)
app.add_typer(store_app, name="store")
detect_app = typer.Typer(help="Run a detector over the whole store and record what it finds as flags.",
                         no_args_is_help=True)
app.add_typer(detect_app, name="detect")
ingest_app = typer.Typer(help="Load a source into the store (batched, idempotent: re-run to resume).",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

F = TypeVar("F", bound=Callable[..., Any])
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


class _State:
    store: str | None = None


def _store_uri() -> str:
    return resolve_uri(_State.store)


def friendly_errors(fn: F) -> F:
    """Every failure a user can act on becomes one line on stderr and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PtmgraphError as exc:
            render.error(str(exc))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            render.error("interrupted; every completed batch is committed, re-run the command to finish")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.callback()
def main_options(
    store: Annotated[str | None, typer.Option(
        "--store", envvar="PTMGRAPH_STORE",
        help="A folder for the embedded store (default ~/.local/share/ptmgraph/graph) or bolt://host:7687 / "
             "neo4j+s://host for Neo4j (credentials from NEO4J_USER / NEO4J_PASSWORD).")] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"ptmgraph {__version__}")
        raise typer.Exit()
    _State.store = store


@app.command()
@friendly_errors
def demo(as_json: JsonOption = False) -> None:
    """Load the shipped sample of real models and projects, then tour lineage, a flagged model and its reach."""
    from ptmgraph.demo import tour

    with open_store(_store_uri()) as store, render.status(enabled=not as_json) as step:
        result = tour(store, progress=step)
    if as_json:
        emit_json(result)
    else:
        render.demo(result)


@app.command()
@friendly_errors
def query(
    cypher: Annotated[str, typer.Argument(help="A Cypher query, passed verbatim to the store.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value (value parsed as JSON if it is JSON).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Allow the query to change the store.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run your own Cypher, with parameters. The embedded store speaks openCypher with Kùzu's extensions."""
    params = parse_params(param or [])
    with open_store(_store_uri(), read_only=not write) as store:
        result = store.query(cypher, params)
    if as_json:
        emit_json(result.records())
    else:
        render.table(result.columns, result.rows)


def parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise QueryError(f"parameter {item!r} must look like name=value")
        try:
            params[name.strip()] = json.loads(raw)
        except ValueError:
            params[name.strip()] = raw
    return params


@app.command()
@friendly_errors
def lineage(
    model: Annotated[str, typer.Argument(help="A model id, matched case-insensitively.")],
    up: Annotated[bool, typer.Option("--up", help="Only ancestors: what the model is built on.")] = False,
    down: Annotated[bool, typer.Option("--down", help="Only descendants and the repos that load them.")] = False,
    depth: Annotated[int | None, typer.Option("--depth", min=1, help="How many steps to follow (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """What a model is built on, what is built on it, and which GitHub projects load any of them."""
    from ptmgraph.graph.analyses import lineage_report

    both = not up and not down
    with open_store(_store_uri(), read_only=True) as store:
        report = lineage_report(store, model, up=up or both, down=down or both, max_depth=depth)
    if as_json:
        emit_json(report)
    else:
        render.lineage(report)


StrictOption = Annotated[bool, typer.Option("--strict", help="Stop at the first malformed record instead of "
                                                               "skipping and counting it.")]
FileArgument = Annotated[str, typer.Argument(help="The input file.")]
BatchOption = Annotated[int | None, typer.Option(
    "--batch-size", min=1, help="Records per bulk write. Default: 131,072 models (2^17, whole LadybugDB node groups) "
                                "for hf-jsonl, which two reader processes then read in parts, and 100,000 records "
                                "for the others.")]


def _ingest(kind: str, path: str, strict: bool, as_json: bool, batch_size: int | None) -> None:
    from ptmgraph.ingest import pipeline
    from ptmgraph.ingest.sources import open_source

    source = open_source(kind, path)
    with open_store(_store_uri()) as store, render.file_progress(source, enabled=not as_json) as on_batch:
        report = pipeline.run(store, source, f"{kind} {path}", strict=strict, records_per_batch=batch_size,
                              on_batch=on_batch)
    if as_json:
        emit_json(report.to_json())
    else:
        render.ingest_report(report.to_json())


INGEST_FILES = {
    "hf-jsonl": "Hugging Face ModelInfo objects, one per line (a Hub API snapshot, or `ingest hub --save`).",
    "reuse-csv": "PeaTMOSS repository → model links (gh_repo, hf_model_id, hf_url, hf_license; no header).",
    "gh-licenses": 'Licences detected in GitHub repositories: {"owner/name": ["mit", ...] or null}.',
    "leaderboard": "Open LLM Leaderboard export: lineage to each family's root, with provenance `leaderboard`.",
    "peatmoss": "A PeaTMOSS SQLite database: models with licences, architectures, authors, datasets, tags, and the "
                "GitHub repositories (and files) that reuse them.",
}


def _ingest_command(kind: str) -> Callable[..., None]:
    def command(file: FileArgument, strict: StrictOption = False, as_json: JsonOption = False,
                batch_size: BatchOption = None) -> None:
        _ingest(kind, file, strict, as_json, batch_size)

    command.__doc__ = INGEST_FILES[kind]
    return friendly_errors(command)


for _kind in INGEST_FILES:
    ingest_app.command(_kind)(_ingest_command(_kind))


@ingest_app.command("hub")
@friendly_errors
def ingest_hub(
    author: Annotated[str | None, typer.Option(help="Only models of this author or organisation.")] = None,
    search: Annotated[str | None, typer.Option(help="Only models whose id contains this.")] = None,
    filter: Annotated[str | None, typer.Option("--filter", help="Only models with this tag.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many models.")] = None,
    since: Annotated[str | None, typer.Option(help="Only models created on or after this date (YYYY-MM-DD).")] = None,
    save: Annotated[str | None, typer.Option(help="Also write every model to this JSONL file (hf-jsonl format).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted crawl of the same query.")] = False,
    deep: Annotated[bool, typer.Option(help="Also read config.json / adapter_config.json for lineage evidence.")]
    = False,
    strict: StrictOption = False,
    as_json: JsonOption = False,
    batch_size: BatchOption = 5_000,
) -> None:
    """Crawl the live Hugging Face Hub (HF_ENDPOINT, HF_TOKEN honoured) through huggingface_hub."""
    from pathlib import Path

    from ptmgraph.ingest import pipeline
    from ptmgraph.ingest.hub import HubQuery, HubSource, cursor_path

    uri = _store_uri()
    query = HubQuery(author=author, search=search, filter=filter, limit=limit, since=since)
    cursor = cursor_path(uri, query)
    source = HubSource(query, cursor, resume=resume, save=Path(save) if save else None, deep=deep)
    with open_store(uri) as store, render.count_progress("crawling the Hub", limit, enabled=not as_json) as tick:
        def on_batch(report: Any) -> None:
            # The cursor may only pass batches that survive a crash, or --resume would skip their models.
            store.sync()
            # Conservative: the model being read when the batch closed may have records in the next batch.
            source.save_cursor(max(0, source.consumed - 1))
            tick(report, source.consumed)

        report = pipeline.run(store, source, "hub", strict=strict, records_per_batch=batch_size, on_batch=on_batch)
        source.save_cursor()
    result = {**report.to_json(), "models": source.consumed, "retries": source.retries, "cursor": str(cursor)}
    if as_json:
        emit_json(result)
    else:
        render.ingest_report(result)


@app.command()
@friendly_errors
def scan(
    path: Annotated[str, typer.Argument(help="A code checkout to scan.")],
    repo: Annotated[str | None, typer.Option(help="The repository's owner/name (default: local/<folder name>).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what was found without writing it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Find the models a checkout loads (Python, notebooks, YAML/JSON configs) and record them as USES edges."""
    from pathlib import Path

    from ptmgraph.errors import PtmgraphError
    from ptmgraph.ingest import pipeline
    from ptmgraph.ingest import scan as scanner

    root = Path(path)
    if not root.is_dir():
        raise PtmgraphError(f"{path} is not a folder: pass the root of a checkout")
    name = repo or f"local/{root.resolve().name}"
    items = list(scanner.records(root, name))
    uses = [i for i in items if type(i).__name__ == "Uses"]
    report = None
    if not dry_run:
        with open_store(_store_uri()) as store:
            report = pipeline.run(store, items, f"scan {path}")
    skipped = [str(i) for i in items if isinstance(i, pipeline.Skipped)]
    result = {"repo": name, "uses": [{"model": u.model, "file": u.file, "line": u.line, "how": u.source}
                                     for u in uses],
              "skipped": skipped, "written": report.to_json()["written"] if report else None}
    if as_json:
        emit_json(result)
    else:
        render.table(["model", "file", "line", "found by"], [[u.model, u.file, u.line, u.source] for u in uses],
                     title=f"models loaded by {name}")
        for problem in skipped:
            render.note(f"skipped {problem}")


@app.command("infer-lineage")
@friendly_errors
def infer_lineage(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the proposals without writing them.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Propose parents for models that declare none, from name patterns; written as `name-inferred` edges."""
    from ptmgraph.ingest.infer_lineage import infer

    with open_store(_store_uri(), read_only=dry_run) as store:
        result = infer(store, write=not dry_run)
    proposals = result["proposals"]
    if as_json:
        emit_json(result)
    else:
        render.table(["child", "parent", "relation", "confidence"],
                     [[p["child"], p["parent"], p["relation"], p["confidence"]] for p in proposals[:50]],
                     title=f"{len(proposals):,} proposed parent(s) for {result['models']:,} models"
                           + (" (dry run)" if dry_run else ""))


@app.command()
@friendly_errors
def flag(
    model: Annotated[str | None, typer.Argument(help="The model the finding is about.")] = None,
    kind: Annotated[str | None, typer.Option(help="naming, license-conflict, unsafe-serialization, "
                                                  "missing-metadata, ... or your own kind.")] = None,
    reason: Annotated[str | None, typer.Option(help="What is wrong, in one sentence.")] = None,
    severity: Annotated[str, typer.Option(help="low | medium | high | critical")] = "medium",
    flag_id: Annotated[str | None, typer.Option("--id", help="An id of your own (default: derived).")] = None,
    import_file: Annotated[str | None, typer.Option("--import", help="OSV JSON advisories naming affected "
                                                                      "models; all or nothing is written.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Raise a flag on a model (or import OSV advisories); `ptmgraph propagate` then carries it downstream."""
    from ptmgraph.errors import PtmgraphError
    from ptmgraph.graph.propagation import import_flags, raise_flag

    if import_file:
        with open_store(_store_uri()) as store:
            written, problems = import_flags(store, import_file)
        if problems:
            for problem in problems[:20]:
                render.note(problem)
            raise PtmgraphError(f"{import_file}: {len(problems)} problem(s) (first ones above); nothing was "
                                "written: fix the file and import it again")
        if as_json:
            emit_json({"imported": len(written), "flags": [f.id for f in written]})
        else:
            render.note(f"imported {len(written)} flag(s) from {import_file}; run `ptmgraph propagate`")
        return
    if not model or not kind or not reason:
        raise PtmgraphError("flag needs MODEL, --kind and --reason (or --import FILE)")
    with open_store(_store_uri()) as store:
        record = raise_flag(store, model, kind, severity, reason, flag_id)
    if as_json:
        emit_json({"flag": record.id, "model": record.subject, "kind": kind, "severity": record.severity.value})
    else:
        render.note(f"flagged {record.subject} as {kind} ({record.severity.value}): {record.id}; "
                    "run `ptmgraph propagate`")


DETECTORS = {
    "licenses": ("ptmgraph.graph.licenses:detect",
                 "Licence conflicts: projects loading models whose terms they contradict, and derivatives that drop "
                 "their parent's restrictions (name-inferred lineage is not used)."),
    "serialization": ("ptmgraph.graph.detectors:unsafe_serialization",
                      "Models whose weights come only as pickle files (.bin, .pt, .pkl, .ckpt), with no safetensors."),
    "metadata": ("ptmgraph.graph.detectors:missing_metadata",
                 "Models without a card, without a licence, or named like a derivative without a declared base."),
    "lineage": ("ptmgraph.graph.detectors:lineage_inconsistent",
                "Declared lineage that contradicts itself: model_type changes through a fine-tune, a parent newer "
                "than its child, children of a quantized model."),
}


def _detect_command(name: str) -> Callable[..., None]:
    def command(as_json: JsonOption = False) -> None:
        import importlib

        from ptmgraph.graph.batch import Batch

        module, function = DETECTORS[name][0].split(":")
        detector = getattr(importlib.import_module(module), function)
        with open_store(_store_uri()) as store, render.status(enabled=not as_json) as step:
            step(f"running the {name} detector")
            flags = list(detector(store))
            if flags:
                store.write(Batch.of(flags))
        result = {"detector": name, "flags": len(flags),
                  "on_repos": sum(1 for f in flags if f.subject_kind.value == "Repo"),
                  "on_models": sum(1 for f in flags if f.subject_kind.value == "Model"),
                  "examples": [{"id": f.id, "subject": f.subject, "summary": f.summary} for f in flags[:20]]}
        if as_json:
            emit_json(result)
        else:
            render.table(["flag", "on", "finding"], [[e["id"], e["subject"], e["summary"]] for e in result["examples"]],
                         title=f"{name}: {result['flags']:,} flag(s), {result['on_repos']:,} on projects, "
                               f"{result['on_models']:,} on models (first 20 shown); run `ptmgraph propagate` next")

    command.__doc__ = DETECTORS[name][1]
    return friendly_errors(command)


for _name in DETECTORS:
    detect_app.command(_name)(_detect_command(_name))


@app.command()
@friendly_errors
def propagate(as_json: JsonOption = False) -> None:
    """Carry every flag to the descendants and repositories it reaches, recording the path that explains it."""
    from ptmgraph.graph.propagation import propagate as run

    with open_store(_store_uri()) as store, render.status(enabled=not as_json) as step:
        step("propagating flags")
        report = run(store).to_json()
    if as_json:
        emit_json(report)
    else:
        render.mapping("propagation", report)


@app.command()
@friendly_errors
def affected(
    model: Annotated[str, typer.Argument(help="A model id.")],
    kind: Annotated[str | None, typer.Option(help="Follow only the relations this kind of flag passes through.")]
    = None,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="How many steps to follow.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Downstream models and repositories, ranked by downloads and depth, each with the path that explains it."""
    from ptmgraph.graph.analyses import affected_report
    from ptmgraph.graph.propagation import relations_for

    with open_store(_store_uri(), read_only=True) as store:
        report = affected_report(store, model, relations_for(kind) if kind else None, depth)
    if as_json:
        emit_json(report)
    else:
        render.affected(report)


@app.command()
@friendly_errors
def why(
    subject: Annotated[str, typer.Argument(help="A model id or a repository (owner/name).")],
    as_json: JsonOption = False,
) -> None:
    """Every flag that reaches a model or repository, and through what."""
    from ptmgraph.errors import ModelNotFound
    from ptmgraph.graph.propagation import why as explain

    with open_store(_store_uri(), read_only=True) as store:
        report = explain(store, subject)
    if report is None:
        raise ModelNotFound(f"{subject!r} is neither a model nor a repository in the store")
    if as_json:
        emit_json(report)
    else:
        render.why(report)


REPORT_FORMATS = ("table", "json", "md", "html")


@app.command()
@friendly_errors
def report(
    models: Annotated[list[str] | None, typer.Argument(help="Only flags raised on or reaching these models.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table (Markdown when written to a file), json, md or html "
                                                      "(one self-contained file).")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many origins to detail, most far-reaching first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The lineage-anomaly report: each flagged origin, its evidence, what it reaches and through which path."""
    from ptmgraph.cli import report_formats
    from ptmgraph.graph.report import build

    fmt = "json" if as_json else fmt
    if fmt not in REPORT_FORMATS:
        raise PtmgraphError(f"report: unknown --format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")
    with open_store(_store_uri(), read_only=True) as store:
        data = build(store, models or (), limit)
    if fmt == "table" and out is None:
        render.report(data)
        return
    text = {"json": lambda: json.dumps(data, indent=2, ensure_ascii=False) + "\n", "md": lambda:
            report_formats.markdown(data), "html": lambda: report_formats.html(data),
            "table": lambda: report_formats.markdown(data)}[fmt]()
    if out is None:
        sys.stdout.write(text)
        return
    _write(out, text)
    render.note(f"wrote {out} ({data['totals']['shown']} of {data['totals']['origins']} origins)")


EXPORT_FORMATS = ("cyclonedx", "graphml")


@app.command()
@friendly_errors
def export(
    model: Annotated[str | None, typer.Argument(help="The model a CycloneDX ML-BOM describes.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="cyclonedx (one model's ML-BOM, JSON) or graphml (the whole "
                                                      "graph).")] = "cyclonedx",
    out: Annotated[Path | None, typer.Option("--out", help="Write here (graphml needs it; cyclonedx defaults to "
                                                           "stdout).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Export a CycloneDX 1.6 ML-BOM of a model (lineage as pedigree, flags as vulnerabilities), or GraphML."""
    from ptmgraph.graph import export as exporter

    if fmt not in EXPORT_FORMATS:
        raise PtmgraphError(f"export: unknown --format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "cyclonedx" and not model:
        raise PtmgraphError("export --format cyclonedx: name the model, e.g. `ptmgraph export org/model`")
    if fmt == "graphml" and out is None:
        raise PtmgraphError("export --format graphml: give --out FILE.graphml")
    with open_store(_store_uri(), read_only=True) as store:
        if fmt == "cyclonedx":
            text = json.dumps(exporter.cyclonedx(store, model or ""), indent=2, ensure_ascii=False) + "\n"
            if out is None:
                sys.stdout.write(text)
                return
            _write(out, text)
            if as_json:
                emit_json({"out": str(out)})
            else:
                render.note(f"wrote {out}")
        else:
            try:
                counts = exporter.graphml(store, str(out))
            except OSError as exc:
                raise PtmgraphError(f"export: cannot write {out} ({exc.strerror or exc}); choose another --out") \
                    from None
            if as_json:
                emit_json({"out": str(out), **counts})
            else:
                render.note(f"wrote {out}: {counts['nodes']:,} nodes, {counts['edges']:,} edges")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PtmgraphError(f"cannot write {path} ({exc.strerror or exc}); choose another --out") from None


@app.command()
@friendly_errors
def stats(as_json: JsonOption = False) -> None:
    """Counts of nodes and relationships in the store."""
    with open_store(_store_uri(), read_only=True) as store:
        result = store.stats().to_json()
    if as_json:
        emit_json(result)
    else:
        render.stats(result)


@store_app.command("info")
@friendly_errors
def store_info(as_json: JsonOption = False) -> None:
    """Where the store is, what engine and schema it has."""
    with open_store(_store_uri(), read_only=True) as store:
        result = store.info()
    if as_json:
        emit_json(result)
    else:
        render.mapping("store", result)


@store_app.command("reset")
@friendly_errors
def store_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete everything ptmgraph stored in the store."""
    uri = _store_uri()
    if not yes and not typer.confirm(f"Delete everything in {uri}?", default=False):
        raise typer.Exit(1)
    reset_store(uri)
    render.note(f"store {uri} is empty")


def main() -> None:
    app()


# Registered last: the dara commands reuse the helpers above.
from ptmgraph.cli.dara import dara_app  # noqa: E402

app.add_typer(dara_app, name="dara")
