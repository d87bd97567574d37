"""`ptmgraph dara ...`: layer graphs, training, evaluation and naming-anomaly checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ptmgraph.cli import render
from ptmgraph.cli.app import JsonOption, _store_uri, emit_json, friendly_errors
from ptmgraph.errors import PtmgraphError
from ptmgraph.gnn.train import EPOCHS
from ptmgraph.graph.open import open_store

dara_app = typer.Typer(help="DARA: layer graphs, the architecture classifier and naming anomalies.",
                       no_args_is_help=True)


def _threads() -> None:
    import torch

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PtmgraphError(f"{path}: not a readable config.json ({exc})") from None
    if not isinstance(data, dict):
        raise PtmgraphError(f"{path}: a config.json holds one JSON object")
    return data


def resolve(target: str, from_config: bool, from_safetensors: bool, model_type: str | None,
            architecture: str | None, view: str = "trace") -> tuple[dict[str, Any] | None, Any]:
    """MODEL_OR_PATH → (declared config or None, layer graph). Paths: a config.json, a .safetensors file, or a
    folder with either; otherwise a model_type (with --model-type) or a Hub id (safetensors header only)."""
    from ptmgraph.gnn.trace import graph_from_config
    from ptmgraph.gnn.weights import graph_from_hub, graph_from_safetensors

    p = Path(target)
    config = None
    if model_type:
        return {"model_type": model_type}, graph_from_config(model_type, architecture, view=view)
    if p.exists():
        cfg_path = p / "config.json" if p.is_dir() else p if p.suffix == ".json" else None
        if cfg_path is not None and cfg_path.exists():
            config = _read_config(cfg_path)
        has_weights = p.suffix == ".safetensors" or (p.is_dir() and any(p.glob("*.safetensors")))
        if has_weights and not from_config:
            return config, graph_from_safetensors(p)
        if config is not None and not from_safetensors:
            return config, graph_from_config(config, architecture, source=str(cfg_path), view=view)
        raise PtmgraphError(f"{target}: found neither a config.json nor .safetensors weights to read")
    if from_config:
        raise PtmgraphError(f"{target}: no such config file (give a path to config.json, or --model-type)")
    return None, graph_from_hub(target)


GraphOpts = {
    "from_config": typer.Option("--from-config", help="Build from config.json even when weights are there."),
    "from_safetensors": typer.Option("--from-safetensors", help="Read the safetensors header only."),
    "model_type": typer.Option("--model-type", help="Build a transformers model_type's default architecture."),
    "architecture": typer.Option("--architecture", help="The architecture class to build (default: the "
                                                        "config's first)."),
}


@dara_app.command("graph")
@friendly_errors
def graph_command(
    target: Annotated[str, typer.Argument(metavar="MODEL_OR_PATH")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the graph as JSON here.")] = None,
    from_config: Annotated[bool, GraphOpts["from_config"]] = False,
    from_safetensors: Annotated[bool, GraphOpts["from_safetensors"]] = False,
    model_type: Annotated[str | None, GraphOpts["model_type"]] = None,
    architecture: Annotated[str | None, GraphOpts["architecture"]] = None,
    view: Annotated[str, typer.Option("--view", help="trace (data flow) or modules (module tree).")] = "trace",
    as_json: JsonOption = False,
) -> None:
    """Build a model's layer computation graph (no weights are downloaded)."""
    from collections import Counter

    _threads()
    config, graph = resolve(target, from_config, from_safetensors, model_type, architecture, view)
    if config and not graph.model_type:
        graph.model_type, graph.architecture = config.get("model_type"), next(iter(config.get("architectures")
                                                                                  or []), None)
    data = graph.to_json()
    if out:
        out.write_text(json.dumps(data) + "\n", encoding="utf-8")
    summary = {"source": graph.source, "view": graph.view, "nodes": len(graph.nodes), "edges": len(graph.edges),
               "repeats": graph.repeats, "model_type": graph.model_type, "architecture": graph.architecture,
               "ops": dict(Counter(n.op for n in graph.nodes).most_common(12)), "out": str(out) if out else None}
    if as_json:
        emit_json(data if out is None else summary)
    else:
        render.mapping(f"layer graph of {target}", summary)


@dara_app.command("train")
@friendly_errors
def train_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the checkpoint.")] = Path("dara-gnn.pt"),
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = EPOCHS,
    variants: Annotated[int, typer.Option(help="Generated fine-tune variants per preset and head.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same checkpoint.")] = 42,
    vectors: Annotated[Path | None, typer.Option(
        "--vectors", help="Train the DARA MLP on a DARA vectors file instead of the GNN.")] = None,
    labels: Annotated[Path | None, typer.Option(
        "--labels", help="With --vectors: {model_type: {architecture: [ids]}} (model_types.json).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Train the GNN on generated graphs (or, with --vectors, DARA's MLP) and write a checkpoint."""
    _threads()
    if vectors is not None:
        result = _train_mlp(vectors, labels, out, seed, not as_json)
    else:
        result = _train_gnn(out, epochs, variants, seed, not as_json)
    if as_json:
        emit_json(result)
    else:
        render.scores(f"held-out scores; checkpoint {out} ({out.stat().st_size / 1e6:.1f} MB)", result["held_out"])


def _train_gnn(out: Path, epochs: int, variants: int, seed: int, show: bool) -> dict[str, Any]:
    from ptmgraph.gnn import dataset, train

    items = dataset.samples(variants=variants, seed=seed)
    train_graphs, test_graphs = [], []
    with render.steps("building layer graphs", len(items), enabled=show) as advance:
        for sample, graph in dataset.graphs(items, on_item=advance):
            (train_graphs if sample.split == "train" else test_graphs).append(graph)
    with render.steps("training the GNN", epochs, enabled=show) as advance:
        clf = train.fit(train_graphs, epochs=epochs, seed=seed,
                        on_epoch=lambda e, loss: advance(f"training the GNN (loss {loss:.3f})"))
    clf.meta = {"seed": seed, "epochs": epochs, "variants": variants, "train_graphs": len(train_graphs)}
    clf.save(out)
    shaped = [g for g in test_graphs if g.view != "sequence"]
    return {"checkpoint": str(out), "train_graphs": len(train_graphs), "test_graphs": len(test_graphs),
            "held_out": train.accuracy(clf, shaped),
            "held_out_sequences": train.accuracy(clf, [g for g in test_graphs if g.view == "sequence"])}


def _train_mlp(vectors: Path, labels: Path | None, out: Path, seed: int, show: bool) -> dict[str, Any]:
    from ptmgraph.gnn.train import score
    from ptmgraph.gnn.vectors import VectorClassifier, arch_to_type, folds, read_json, read_vectors

    rows = read_vectors(vectors)
    a2t = arch_to_type(read_json(labels, "labels file")) if labels else {}
    truth, pred = [], []
    with render.steps("DARA MLP, 5-fold", 6, enabled=show) as advance:
        for tr, te in folds(len(rows), 5, seed):
            clf = VectorClassifier.fit([rows[i] for i in tr], a2t, seed=seed)
            pred += clf.predict([rows[i] for i in te])
            truth += [(a2t.get(rows[i][1]), rows[i][1]) for i in te]
            advance()
        VectorClassifier.fit(rows, a2t, seed=seed).save(out)
        advance()
    return {"checkpoint": str(out), "vectors": len(rows), "held_out": score(truth, pred), "protocol": "5-fold"}


@dara_app.command("eval")
@friendly_errors
def eval_command(
    vectors: Annotated[str | None, typer.Option("--vectors", help="DARA vectors grouped by architecture.")] = None,
    sequences: Annotated[str | None, typer.Option("--sequences", help="DARA layer-operation sequences.")] = None,
    graphs: Annotated[str | None, typer.Option("--graphs", help="A folder of layer-graph JSON files.")] = None,
    labels: Annotated[str | None, typer.Option("--labels", help="Architecture → model_type map "
                                                                "(model_types.json).")] = None,
    checkpoint: Annotated[str | None, typer.Option("--checkpoint", help="Score this checkpoint instead of the "
                                                                        "shipped one.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Score the shipped classifiers on a labelled file: accuracy, weighted F1, confusions."""
    from ptmgraph.gnn import evaluate

    _threads()
    given = [x for x in (vectors, sequences, graphs) if x]
    if len(given) != 1:
        raise PtmgraphError("dara eval: give exactly one of --vectors FILE, --sequences FILE, --graphs DIR")
    if vectors:
        result = evaluate.eval_vectors(vectors, labels, checkpoint)
    elif sequences:
        result = evaluate.eval_sequences(sequences, labels, checkpoint)
    else:
        result = evaluate.eval_graphs(graphs or "", labels, checkpoint)
    if as_json:
        emit_json({k: result[k] for k in ("model_type", "architecture")} | {"n": result["n"],
                                                                            "classifier": result["classifier"]})
    else:
        render.scores(f"{result['classifier']} on {given[0]} ({result['n']:,} items)", result)


def _assess_target(target: str, clf: Any, from_config: bool, from_safetensors: bool) -> Any:
    from ptmgraph.gnn.assess import assess
    from ptmgraph.gnn.layer_graph import GraphError

    try:
        config, graph = resolve(target, from_config, from_safetensors, None, None)
    except (GraphError, PtmgraphError) as exc:
        return assess(target, None, None, clf, graph_error=str(exc))
    name = (config or {}).get("_name_or_path") or target
    return assess(str(name), config, graph, clf)


@dara_app.command("check")
@friendly_errors
def check_command(
    target: Annotated[str, typer.Argument(metavar="MODEL_OR_PATH")],
    name: Annotated[str | None, typer.Option("--name", help="The model id to judge the name of (default: the "
                                                            "config's _name_or_path, or the argument).")] = None,
    from_config: Annotated[bool, GraphOpts["from_config"]] = False,
    from_safetensors: Annotated[bool, GraphOpts["from_safetensors"]] = False,
    write: Annotated[bool, typer.Option("--write", help="Record the findings as flags in the store.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Compare a model's name, declared config and architecture; report naming anomalies."""
    from ptmgraph.gnn import checkpoints
    from ptmgraph.gnn.assess import flags

    _threads()
    result = _assess_target(target, checkpoints.gnn(), from_config, from_safetensors)
    if name:
        from ptmgraph.gnn.assess import assess as reassess

        config = {"model_type": result.config_type, "architectures": result.config_architectures}
        redo = reassess(name, config if result.config_type else None)
        result.model_id, result.name_type = name, redo.name_type
        result.findings = [f for f in result.findings if f.check == "config-vs-architecture"] + \
            [f for f in redo.findings if f.check == "name-vs-config"]
    if write and result.findings:
        from ptmgraph.graph.batch import Batch

        with open_store(_store_uri()) as store:
            store.write(Batch.of(flags(result)))
    if as_json:
        emit_json(result.as_dict())
    else:
        render.mapping(f"naming check of {result.model_id}", {k: v for k, v in result.as_dict().items()
                                                              if k != "findings"})
        render.table(["check", "expected", "found", "p"], [[f.check, f.expected, f.found, f"{f.probability:.2f}"]
                                                            for f in result.findings],
                     title=f"{len(result.findings)} naming anomaly(ies)")


@dara_app.command("scan")
@friendly_errors
def scan_command(
    configs: Annotated[Path | None, typer.Option("--configs", help="A folder of <...>/<org>/<name>/config.json "
                                                                   "files to classify as well.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every model in the store: name vs declared model_type for all, and the GNN's view for those whose
    config.json is in --configs. Findings become `naming` flags; run `ptmgraph propagate` next."""
    from ptmgraph.gnn import checkpoints
    from ptmgraph.gnn.assess import assess, flags
    from ptmgraph.gnn.layer_graph import GraphError
    from ptmgraph.gnn.trace import graph_from_config
    from ptmgraph.graph.batch import Batch

    _threads()
    found: dict[str, Path] = {}
    if configs:
        for cfg in configs.rglob("config.json"):
            rel = cfg.parent.relative_to(configs).parts
            if len(rel) >= 2:
                found[f"{rel[-2]}/{rel[-1]}".casefold()] = cfg
            found.setdefault(rel[-1].casefold() if rel else "", cfg)
    records, counts = [], {"models": 0, "flagged": 0, "not_assessable": 0, "classified": 0}
    examples: list[dict[str, Any]] = []
    with open_store(_store_uri()) as store:
        rows = store.query("MATCH (m:Model) WHERE m.stub = false RETURN m.id AS id, m.model_type AS model_type, "
                           "m.architectures AS architectures ORDER BY m.id").records()
        with render.steps("checking names", len(rows), enabled=not as_json) as advance:
            for row in rows:
                counts["models"] += 1
                config = {"model_type": row["model_type"], "architectures": list(row["architectures"] or [])} \
                    if row["model_type"] else None
                graph, error, clf = None, None, None
                cfg_path = found.get(row["id"].casefold())
                if cfg_path is not None:
                    clf = checkpoints.gnn()
                    try:
                        config = _read_config(cfg_path)
                        graph = graph_from_config(config, source=str(cfg_path))
                        counts["classified"] += 1
                    except (GraphError, PtmgraphError) as exc:
                        error = str(exc)
                result = assess(row["id"], config, graph, clf, graph_error=error)
                counts["not_assessable"] += not result.assessable
                if result.findings:
                    counts["flagged"] += 1
                    records += flags(result)
                    if len(examples) < 20:
                        examples.append({"model": row["id"], "findings": [f.check + ": " + f.expected + " → " +
                                                                          f.found for f in result.findings]})
                advance()
        if records:
            store.write(Batch.of(records))
    result_json = {**counts, "flags": len(records), "examples": examples}
    if as_json:
        emit_json(result_json)
    else:
        render.table(["model", "findings"], [[e["model"], "; ".join(e["findings"])] for e in examples],
                     title=f"{counts['models']:,} models checked, {counts['flagged']:,} with naming anomalies, "
                           f"{counts['not_assessable']:,} not assessable (first 20 shown)")
