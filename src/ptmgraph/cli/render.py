"""Rich rendering for people. Data goes to stdout; errors and progress to stderr."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

out = Console()
err = Console(stderr=True)

RELATION_STYLE = {"finetune": "green", "adapter": "cyan", "quantized": "magenta", "merge": "yellow",
                  "unknown": "dim"}
# Read upwards, an edge says how the child was made from this ancestor.
MADE_FROM = {"finetune": "fine-tuned from", "adapter": "adapter on", "quantized": "quantized from",
             "merge": "merged from", "unknown": "derived from"}


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def note(message: str) -> None:
    err.print(escape(message), highlight=False)


@contextlib.contextmanager
def status(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A spinner that names the current step; silent for --json or when stderr is not a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _message: None
        return
    with err.status("starting") as spinner:
        yield lambda message: spinner.update(message)


@contextlib.contextmanager
def file_progress(source: Any, enabled: bool = True) -> Iterator[Callable[[Any], None]]:
    """A progress bar over the input file's bytes, with records/s; silent for --json or without a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _report: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[rate]}"), console=err) as progress:
        task = progress.add_task(f"ingesting {source.path.name}", total=source.size or None, rate="")

        def update(report: Any) -> None:
            # A worker process may be the one reading: then the report says how far it got.
            done = report.position if getattr(report, "position", None) is not None else source.position
            progress.update(task, completed=done,
                            rate=f"{report.records:,} records, {report.records_per_second:,.0f}/s")

        yield update
        progress.update(task, completed=source.size)


@contextlib.contextmanager
def count_progress(description: str, total: int | None, enabled: bool = True) -> Iterator[Callable[[Any, int], None]]:
    """Progress by items (models) when the total is known or not; shows rate and, with a total, the ETA."""
    if not enabled or not err.is_terminal:
        yield lambda _report, _done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.fields[rate]}"), console=err) as progress:
        task = progress.add_task(description, total=total, rate="")

        def update(report: Any, done: int) -> None:
            progress.update(task, completed=done, rate=f"{report.records_per_second:,.0f} records/s")

        yield update


def ingest_report(report: dict[str, Any]) -> None:
    written = report["written"]
    out.print(f"[bold]{escape(report['source'])}[/]: {report['records']:,} records in {report['seconds']} s "
              f"({report['records_per_second']:,}/s); nodes +{written['nodes_created']:,} new "
              f"/ {written['nodes_updated']:,} updated, edges +{written['edges_created']:,} new / "
              f"{written['edges_updated']:,} updated, {written['stubs_created']:,} stubs")
    if report["skipped"]:
        err.print(f"[yellow]skipped {report['skipped']:,} malformed record(s)[/] (use --strict to stop at the first):")
        for problem in report["problems"]:
            err.print(f"  {escape(problem)}", highlight=False)
    for cycle in report.get("cycles", []):
        err.print(f"[yellow]lineage cycle (kept as declared):[/] {escape(' → '.join([*cycle, cycle[0]]))}",
                  highlight=False)
    if report["self_loop_count"]:
        err.print(f"[yellow]{report['self_loop_count']} model(s) declare themselves as their own base[/] "
                  f"(kept): {escape(', '.join(report['self_loops']))}")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    t = Table(*columns, title=title, show_lines=False)
    for row in rows:
        t.add_row(*(escape(_cell(v)) for v in row))
    out.print(t)
    err.print(f"{len(rows)} row(s)", style="dim")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def mapping(title: str, data: dict[str, Any]) -> None:
    t = Table("field", "value", title=title)
    for key, value in data.items():
        t.add_row(escape(str(key)), escape(_cell(value)))
    out.print(t)


def stats(data: dict[str, Any]) -> None:
    t = Table("kind", "name", "count", title="store contents")
    for label, count in data["nodes"].items():
        t.add_row("node", label, f"{count:,}")
    for rel, count in data["edges"].items():
        t.add_row("relationship", rel, f"{count:,}")
    t.add_row("", "stub models (referenced, not described)", f"{data['stub_models']:,}")
    t.add_row("", "flagged models", f"{data['flagged_models']:,}")
    out.print(t)


def _label(model_id: str, relation: str | None = None, stub: bool = False) -> str:
    text = f"[bold]{escape(model_id)}[/]"
    if relation:
        text = f"[{RELATION_STYLE.get(relation, 'white')}]{relation}[/] {text}"
    if stub:
        text += " [dim](stub: referenced but not described)[/]"
    return text


def lineage_tree(root: str, hits: list[dict[str, Any]], up: bool) -> Tree:
    """Each hit hangs under the previous model on its path, so the tree shows why it was reached."""
    tree = Tree(_label(root) + ("  [dim]built on ↓[/]" if up else "  [dim]built upon ↓[/]"))
    branches = {root: tree}
    for hit in sorted(hits, key=lambda h: h["depth"]):
        parent = branches.get(hit["path"][-2], tree)
        relation = hit["relation"]
        label = _label(hit["id"], relation, hit.get("stub", False))
        if up:
            style = RELATION_STYLE.get(relation, "white")
            label = f"[{style}]{MADE_FROM.get(relation, relation)}[/] {_label(hit['id'], None, hit.get('stub', False))}"
        branches[hit["id"]] = parent.add(label)
    return tree


def repos_table(repos: list[dict[str, Any]], title: str) -> Table:
    t = Table("repository", "loads, through", "depth", title=title)
    for repo in repos:
        t.add_row(escape(repo["repo"]), escape(" → ".join(repo["path"][:-1])), str(repo["depth"]))
    return t


def lineage(report: dict[str, Any]) -> None:
    model = report["model"]
    if "ancestors" in report:
        if report["ancestors"]:
            out.print(lineage_tree(model, report["ancestors"], up=True))
        else:
            out.print(f"{_label(model)} declares no base model in this store.")
    if "descendants" in report:
        if report["descendants"]:
            out.print(lineage_tree(model, report["descendants"], up=False))
        else:
            out.print(f"Nothing in this store is built on {_label(model)}.")
        if report["repos"]:
            out.print(repos_table(report["repos"], f"GitHub projects that load {model} or a descendant"))
        err.print(f"{len(report['descendants'])} descendant(s), {len(report['repos'])} repo(s)", style="dim")


def affected(report: dict[str, Any]) -> None:
    scope = "all relations" if report["relations"] is None else ", ".join(report["relations"]) or "no relation"
    t = Table("model", "downloads", "depth", "path", title=f"downstream of {report['model']} ({scope})")
    for m in report["models"][:200]:
        t.add_row(escape(m["id"]), "" if m["downloads"] is None else f"{m['downloads']:,}", str(m["depth"]),
                  escape(" → ".join(m["path"])))
    out.print(t)
    if report["repos"]:
        out.print(repos_table(report["repos"], "GitHub projects exposed"))
    err.print(f"{len(report['models'])} model(s), {len(report['repos'])} repo(s)", style="dim")


def why(report: dict[str, Any]) -> None:
    out.print(f"[bold]{escape(report['subject'])}[/] ({report['kind']})")
    if not report["flags"] and not report["inherited"]:
        out.print("no flag reaches it")
    for f in report["flags"]:
        out.print(f"  [bold red]{escape(f['flag'])}[/] {escape(f['kind'])} ({f['severity']}) raised on it: "
                  f"{escape(f['summary'] or '')}")
    for f in report["inherited"]:
        steps = " ".join(f"{escape(a)} ←{rel}—" for a, rel in zip(f["path"], f["relations"])) + " " + escape(
            f["path"][-1])
        out.print(f"  [bold yellow]{escape(f['flag'])}[/] {escape(f['kind'])} ({f['severity']}) inherited at depth "
                  f"{f['depth']}: {steps}")


def demo(result: dict[str, Any]) -> None:
    stats_ = result["stats"]
    out.rule("[bold]ptmgraph demo")
    out.print(f"Loaded the shipped sample into [bold]{escape(result['store'])}[/]: "
              f"{stats_['nodes']['Model']} models ({stats_['stub_models']} stubs), {stats_['nodes']['Repo']} GitHub "
              f"projects, {stats_['edges']['DERIVED_FROM']} lineage edges, {stats_['edges']['USES']} usage links.")
    out.rule("1. What is built on Llama 2 7B, and who loads it?")
    lineage(result["lineage"])
    out.rule("2. What is a community quantization built on?")
    lineage(result["ancestry"])
    out.rule("3. A flagged model and what it reaches")
    flagged = result["flagged"]
    for flag in flagged["flags"]:
        out.print(f"[bold red]{escape(flag['flag'])}[/] {escape(flag['kind'])} ({escape(flag['severity'])}) on "
                  f"[bold]{escape(flag['model'])}[/]: {escape(flag['summary'])}")
    lineage(flagged)
    out.rule("4. Names that do not say what a model is, and who inherits that")
    for flag in result["naming"]:
        out.print(f"• [bold]{escape(flag['model'])}[/]: {escape(flag['summary'])}")
    p = result["propagation"]
    out.print(f"Propagating {p['flags']} flags reached {p['inherited_models']} models and {p['inherited_repos']} "
              f"projects. Why is {escape(result['why']['subject'])} exposed?")
    why(result["why"])
    out.rule()
    out.print("Next: [bold]ptmgraph lineage MODEL[/], [bold]ptmgraph query \"MATCH (m:Model) RETURN m.id LIMIT 5\"[/], "
              "[bold]ptmgraph stats[/]. Add [bold]--json[/] for scripts.")


@contextlib.contextmanager
def steps(description: str, total: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A bar over a known number of steps; each call advances it and may change the description."""
    if not enabled or not err.is_terminal:
        yield lambda _text="": None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err) as progress:
        task = progress.add_task(description, total=total)

        def advance(text: str = "") -> None:
            progress.update(task, advance=1, description=text or description)

        yield advance


def scores(title: str, result: dict[str, Any]) -> None:
    rows = [[target, result[target]["n"], f"{result[target]['accuracy']:.2%}", f"{result[target]['f1']:.4f}",
             ", ".join(f"{c['true']}→{c['predicted']} ×{c['count']}" for c in result[target]["confusions"][:4])]
            for target in ("model_type", "architecture") if target in result]
    table(["target", "n", "accuracy", "weighted F1", "most frequent confusions"], rows, title=title)


def report(data: dict[str, Any]) -> None:
    t = data["totals"]
    out.print(f"[bold]{t['origins']}[/] flagged origins, [bold]{t['models_reached']}[/] models reached, "
              f"[bold]{t['repos_exposed']}[/] repositories exposed "
              f"({escape(', '.join(f'{k} {v}' for k, v in t['by_kind'].items()) or 'no flags')})", highlight=False)
    t2 = Table(title=f"most far-reaching {t['shown']} of {t['origins']} (--format json|md|html for every path)")
    for column in ("kind", "severity", "origin", "models", "repos", "an explaining path"):
        # Ids are the point of this table: wrap them, never cut them.
        t2.add_column(column, overflow="fold")
    for o in data["origins"]:
        first = (o["repos"] or o["models"] or [None])[0]
        path = first["path"] if first else (o["explained_by"]["path"] if o.get("explained_by") else [])
        t2.add_row(*(escape(str(v)) for v in (o["kind"], o["severity"], o["subject"], len(o["models"]),
                                               len(o["repos"]), " → ".join(path))))
    out.print(t2)
