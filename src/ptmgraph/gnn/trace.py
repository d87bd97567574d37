"""Layer graphs of transformers architectures built from a config on the meta device: no weights, no download,
never remote code. The data flow is recorded by running the model on meta tensors under a torch function mode;
when a forward pass fails, the module tree (parameterised modules in order) stands in for it."""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from contextlib import ExitStack
from functools import lru_cache
from typing import Any

from ptmgraph.gnn.layer_graph import GraphError, LayerGraph, Node, canonical_op

#: Blocks traced per stack; the rest are identical copies whose count is kept as `repeats`.
TRACED_LAYERS = 2
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers", "decoder_layers",
               "num_decoder_layers")
_STAGE_KEYS = ("depths",)
# Ops that only read metadata or move data without computing: kept out so graphs stay small and comparable.
_SKIP = {"get", "size", "dim", "set_grad_enabled", "is_floating_point", "numel", "stride", "element_size",
         "is_contiguous", "data_ptr", "requires_grad_", "get_device", "is_complex", "has_torch_function",
         "tolist", "item", "len", "repr", "format", "bool", "iter", "contains", "eq_", "type_as"}


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:  # pragma: no cover - the gnn extra is part of the README's install
        raise GraphError("DARA needs the gnn extra: pip install -e '.[gnn]'") from None
    transformers.logging.set_verbosity_error()
    return transformers


def load_config(spec: dict[str, Any] | str, source: str = "") -> Any:
    """A transformers config from a config.json dict or a bare model_type; unknown types are refused."""
    tf = _transformers()
    data: dict[str, Any] = {"model_type": spec} if isinstance(spec, str) else dict(spec)
    model_type = data.get("model_type")
    where = source or "config"
    if not isinstance(model_type, str) or not model_type:
        raise GraphError(f"{where}: no model_type in the config; give one (e.g. --model-type bert)")
    mapping = tf.models.auto.configuration_auto.CONFIG_MAPPING
    if model_type not in mapping:
        raise GraphError(f"{where}: unknown model_type {model_type!r} (transformers {tf.__version__} does not "
                         "know it; remote code is never run) — recorded as not assessable")
    data = {k: v for k, v in data.items() if k not in ("auto_map", "transformers_version", "_name_or_path")}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mapping[model_type].from_dict(data)
    except Exception as exc:  # transformers raises many types for a bad override
        raise GraphError(f"{where}: transformers rejects this {model_type} config ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def architecture_class(config: Any, architecture: str | None = None) -> Any:
    tf = _transformers()
    wanted = architecture or next(iter(getattr(config, "architectures", None) or ()), None)
    if wanted:
        cls = getattr(tf, wanted, None)
        if cls is None:
            raise GraphError(f"architecture {wanted!r} is not a transformers class (transformers "
                             f"{tf.__version__}); recorded as not assessable")
        return cls
    mapping = tf.models.auto.modeling_auto.MODEL_MAPPING_NAMES
    name = mapping.get(config.model_type)
    if not name or not hasattr(tf, name if isinstance(name, str) else name[0]):
        raise GraphError(f"model_type {config.model_type!r} has no base architecture in transformers")
    return getattr(tf, name if isinstance(name, str) else name[0])


def cap_layers(config: Any) -> int:
    """Cuts every stack to TRACED_LAYERS blocks; returns the real number of blocks (the largest stack)."""
    real = 1
    for key in _LAYER_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > TRACED_LAYERS:
            real = max(real, value)
            setattr(config, key, TRACED_LAYERS)
    for key in _STAGE_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
            real = max(real, sum(value))
            setattr(config, key, [min(v, TRACED_LAYERS) for v in value])
    if real > TRACED_LAYERS:
        # Per-layer lists (layer_types, attention_window ...) must shrink with the stack they describe.
        for key, value in list(vars(config).items()):
            if isinstance(value, list) and len(value) == real:
                setattr(config, key, value[:TRACED_LAYERS])
    return real


def config_hash(config: dict[str, Any] | str, architecture: str | None) -> str:
    blob = json.dumps([config, architecture], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def graph_from_config(config: dict[str, Any] | str, architecture: str | None = None, source: str = "",
                      view: str = "trace") -> LayerGraph:
    """The layer graph of the architecture a config describes (cached by config hash). `view` is "trace" (data
    flow, falling back to the module tree when the forward pass fails) or "modules" (the module tree only)."""
    return graphs_from_config(config, architecture, source)[view]


def graphs_from_config(config: dict[str, Any] | str, architecture: str | None = None,
                       source: str = "") -> dict[str, LayerGraph]:
    """Both views from one build: the traced data flow and the module tree (what a weights header shows)."""
    key = config_hash(config, architecture)
    cached = _cached(key, json.dumps(config, sort_keys=True, default=str), architecture, source)
    return {view: LayerGraph.from_json(data, source=source) for view, data in cached.items()}


@lru_cache(maxsize=64)
def _cached(key: str, config_json: str, architecture: str | None, source: str) -> dict[str, dict[str, Any]]:
    import torch

    cfg = load_config(json.loads(config_json), source)
    cls = architecture_class(cfg, architecture)
    real = cap_layers(cfg)
    where = source or cfg.model_type
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            model = cls(cfg)
    except Exception as exc:
        raise GraphError(f"{where}: {cls.__name__} does not build from this config ({_one_line(exc)}); "
                         "recorded as not assessable") from None
    model.eval()
    modules = module_tree(model)
    try:
        traced: LayerGraph | None = _trace(model, cfg)
    except Exception:  # any forward failure on meta: the module tree still describes the model
        traced = None
    if traced is None or len(traced.nodes) < 3:
        traced = module_tree(model)
    out = {}
    for view, graph in (("trace", traced), ("modules", modules)):
        graph.repeats, graph.traced_layers = real, min(real, TRACED_LAYERS)
        graph.model_type, graph.architecture, graph.source = cfg.model_type, cls.__name__, where
        out[view] = graph.to_json()
    return out


def module_tree(model: Any) -> LayerGraph:
    """Parameterised modules in registration order, chained: what a safetensors header also shows."""
    return from_named_shapes(((name, tuple(p.shape)) for name, p in model.named_parameters()), view="modules")


def from_named_shapes(items: Any, view: str = "modules", source: str = "") -> LayerGraph:
    """Tensor names and shapes (a state dict, a safetensors header) → one node per module, chained in order."""
    modules: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    repeats = 1
    for name, shape in items:
        # A real checkpoint's stack of identical blocks is cut like a traced one: the first blocks stand for all.
        block = _BLOCK.search(name)
        if block:
            index = int(block.group(1))
            repeats = max(repeats, index + 1)
            if index >= TRACED_LAYERS:
                continue
        module, _, leaf = name.rpartition(".")
        modules.setdefault(module, []).append((leaf, tuple(int(d) for d in shape)))
    # Files list tensors in any order (safetensors sorts them; a state dict keeps registration order): one
    # canonical order, natural by module path and weight-before-bias, makes every source give the same graph.
    nodes = []
    for module in sorted(modules, key=_natural):
        tensors = sorted(modules[module], key=lambda t: (_ROLE.get(t[0], 2), t[0]))
        nodes.append(Node(op=_module_op(module, tensors), params=tuple(s for _, s in tensors),
                          out_shape=_module_out(tensors), module=module))
    if not nodes:
        raise GraphError(f"{source or 'weights'}: no tensors to build a graph from")
    graph = LayerGraph(nodes, [(i, i + 1) for i in range(len(nodes) - 1)], view=view, source=source)
    graph.repeats, graph.traced_layers = repeats, min(repeats, TRACED_LAYERS)
    return graph


_ROLE = {"weight": 0, "bias": 1}


def _natural(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p]


_BLOCK = re.compile(r"\.(?:h|layer|layers|block|blocks)\.(\d+)\.")


def _module_op(module: str, tensors: list[tuple[str, tuple[int, ...]]]) -> str:
    """A generic op for a module seen only through its tensors; names say little, ranks and roles say more."""
    shapes = {leaf: s for leaf, s in tensors}
    weight = shapes.get("weight") or next(iter(shapes.values()))
    last = module.rsplit(".", 1)[-1].lower()
    if len(weight) == 4:
        return "conv2d"
    if len(weight) == 3:
        return "conv1d"
    if len(weight) == 1:
        if "running_mean" in shapes:
            return "batch_norm"
        return "layer_norm" if "bias" in shapes else "rms_norm"
    if len(weight) == 2 and ("embed" in last or "wte" == last or "wpe" == last or "shared" == last):
        return "embedding"
    if len(weight) == 2:
        return "linear"
    return "parameter"


def _module_out(tensors: list[tuple[str, tuple[int, ...]]]) -> tuple[int, ...]:
    weight = dict(tensors).get("weight") or tensors[0][1]
    return (weight[0],) if weight else ()


def dummy_inputs(model: Any, config: Any) -> dict[str, Any]:
    import torch

    name = getattr(model, "main_input_name", "input_ids")
    meta = torch.device("meta")
    if name == "pixel_values":
        size = getattr(config, "image_size", 224)
        size = size if isinstance(size, int) else int(size[0])
        channels = getattr(config, "num_channels", 3)
        inputs = {name: torch.zeros((1, channels, size, size), device=meta)}
    elif name == "input_values":
        inputs = {name: torch.zeros((1, 16000), device=meta)}
    elif name == "input_features":
        frames = 2 * getattr(config, "max_source_positions", 1500)
        inputs = {name: torch.zeros((1, getattr(config, "num_mel_bins", 80), frames), device=meta)}
    else:
        shape = (1, 2, 8) if type(model).__name__.endswith("ForMultipleChoice") else (1, 8)
        inputs = {"input_ids": torch.ones(shape, dtype=torch.long, device=meta)}
    if getattr(config, "is_encoder_decoder", False):
        inputs["decoder_input_ids"] = torch.ones((1, 4), dtype=torch.long, device=meta)
    return inputs


def _trace(model: Any, config: Any) -> LayerGraph:
    import torch
    from torch.overrides import TorchFunctionMode

    nodes: list[Node] = []
    edges: list[tuple[int, int]] = []
    producer: dict[int, int] = {}
    alive: list[Any] = []  # keeps outputs referenced so their ids are not reused during the trace
    stack: list[str] = [""]
    params = {id(p) for p in model.parameters()}

    def tensors(obj: Any) -> list[Any]:
        if isinstance(obj, torch.Tensor):
            return [obj]
        if isinstance(obj, (list, tuple)):
            return [t for o in obj for t in tensors(o)]
        if isinstance(obj, dict):
            return [t for o in obj.values() for t in tensors(o)]
        return []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            kwargs = kwargs or {}
            raw = getattr(func, "__name__", "") or str(func)
            if raw in _DATA_DEPENDENT and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
                return _meta_value(args[0], raw)
            op = canonical_op(raw)
            out = func(*args, **kwargs)
            outs = tensors(out)
            if op in _SKIP or not outs:
                return out
            ins = tensors(args) + tensors(kwargs)
            node = Node(op=op, out_shape=tuple(outs[0].shape),
                        in_shapes=tuple(tuple(t.shape) for t in ins if id(t) not in params)[:4],
                        params=tuple(tuple(t.shape) for t in ins if id(t) in params)[:4],
                        hyper=_hyper(args, kwargs), module=stack[-1])
            idx = len(nodes)
            nodes.append(node)
            for t in ins:
                src = producer.get(id(t))
                if src is not None:
                    edges.append((src, idx))
            for t in outs:
                producer[id(t)] = idx
                alive.append(t)
            return out

    names = {m: n for n, m in model.named_modules()}
    hooks = []
    for module in names:
        hooks.append(module.register_forward_pre_hook(lambda m, a: stack.append(names[m]) and None))
        hooks.append(module.register_forward_hook(lambda m, a, o: stack.pop() and None))
    try:
        with ExitStack() as ctx:
            ctx.enter_context(torch.no_grad())
            ctx.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
            inputs = dummy_inputs(model, config)
            ctx.enter_context(Recorder())
            model(**inputs)
    finally:
        for h in hooks:
            h.remove()
    return LayerGraph(nodes, sorted(set(edges)), view="trace")


# Meta tensors have no values; masks and checks that read one get the value of "no padding, all valid".
_DATA_DEPENDENT = {"item", "tolist", "__bool__", "__int__", "__float__", "__index__"}


def _meta_value(tensor: Any, op: str) -> Any:
    import torch

    if op == "tolist":
        return [1] * (tensor.numel() if tensor.dim() else 1)
    if tensor.dtype == torch.bool or op == "__bool__":
        return True
    return 1.0 if tensor.is_floating_point() or op == "__float__" else 1


def _hyper(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, float]:
    """Scalar arguments (dropout p, eps, scale, dims): part of what an op computes."""
    out: dict[str, float] = {}
    for i, a in enumerate(args):
        if isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a):
            out[f"a{i}"] = float(a)
    for k, v in kwargs.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[k] = float(v)
    return dict(list(out.items())[:4])
