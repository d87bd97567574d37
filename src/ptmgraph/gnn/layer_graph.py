"""One type for a model's layer computation graph, whatever it was read from: a traced transformers model, a
module tree, a safetensors header, DARA's APTM graph JSON or a layer-operation sequence.

Node operations are generic (`linear`, `layer_norm`, `embedding`, `conv2d`, `add`, `matmul` ...): never a
transformers class name, which would leak the label a classifier is asked to find. The module path of each node
is kept for people reading the graph and is never a feature."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ptmgraph.errors import PtmgraphError

#: Graphs larger than this are "not assessable": classifying them would cost more than it tells.
MAX_NODES = 50_000

# Views say how a graph was obtained; a classifier sees them, since a module tree lacks functional ops.
VIEWS = ("trace", "modules", "sequence", "aptm")


class GraphError(PtmgraphError):
    """A layer graph that cannot be built or read."""


@dataclass(slots=True)
class Node:
    op: str
    out_shape: tuple[int, ...] = ()
    in_shapes: tuple[tuple[int, ...], ...] = ()
    params: tuple[tuple[int, ...], ...] = ()  # shapes of the parameters the op reads
    hyper: dict[str, float] = field(default_factory=dict)
    module: str = ""


@dataclass(slots=True)
class LayerGraph:
    nodes: list[Node]
    edges: list[tuple[int, int]]
    view: str = "trace"
    # A traced graph keeps `traced_layers` of `repeats` identical blocks: features scale by the real count.
    repeats: int = 1
    traced_layers: int = 1
    source: str = ""
    model_type: str | None = None
    architecture: str | None = None

    def __post_init__(self) -> None:
        if len(self.nodes) > MAX_NODES:
            raise GraphError(f"{self.source or 'graph'}: {len(self.nodes):,} nodes is over the {MAX_NODES:,} "
                             "this tool assesses; the model is recorded as not assessable")

    def __len__(self) -> int:
        return len(self.nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "ptmgraph.layer-graph/1",
            "source": self.source, "view": self.view, "repeats": self.repeats,
            "traced_layers": self.traced_layers,
            "model_type": self.model_type, "architecture": self.architecture,
            "nodes": [{"op": n.op, "out_shape": list(n.out_shape), "in_shapes": [list(s) for s in n.in_shapes],
                       "params": [list(p) for p in n.params], "hyper": n.hyper, "module": n.module}
                      for n in self.nodes],
            "edges": [list(e) for e in self.edges],
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "") -> "LayerGraph":
        """Reads ptmgraph's own format, or DARA's APTM list of nodes."""
        if isinstance(data, list):
            return from_aptm(data, source)
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise GraphError(f"{source or 'graph'}: not a layer graph (expected ptmgraph's JSON object with "
                             "'nodes' and 'edges', or DARA's APTM list)")
        try:
            nodes = [Node(op=canonical_op(str(n["op"])), out_shape=_shape(n.get("out_shape")),
                          in_shapes=tuple(_shape(s) for s in n.get("in_shapes") or ()),
                          params=tuple(_shape(p) for p in n.get("params") or ()),
                          hyper={str(k): float(v) for k, v in (n.get("hyper") or {}).items()},
                          module=str(n.get("module") or "")) for n in data["nodes"]]
            edges = [(int(a), int(b)) for a, b in data.get("edges") or ()]
        except (KeyError, TypeError, ValueError) as exc:
            raise GraphError(f"{source or 'graph'}: malformed node or edge ({exc}); re-create it with "
                             "`ptmgraph dara graph`") from None
        _check_edges(edges, len(nodes), source)
        return cls(nodes, edges, view=str(data.get("view") or "trace"), repeats=int(data.get("repeats") or 1),
                   traced_layers=int(data.get("traced_layers") or 1), source=source or str(data.get("source") or ""),
                   model_type=data.get("model_type"), architecture=data.get("architecture"))


def load(path: str | Path) -> LayerGraph:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GraphError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphError(f"{p}: not valid JSON ({exc}); a layer graph file is one JSON document") from None
    return LayerGraph.from_json(data, source=str(p))


def _shape(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, (int, float)):
        return (int(value),)
    return tuple(int(v) for v in value if isinstance(v, (int, float)))


def _check_edges(edges: list[tuple[int, int]], n: int, source: str) -> None:
    for a, b in edges:
        if not (0 <= a < n and 0 <= b < n):
            raise GraphError(f"{source or 'graph'}: edge ({a}, {b}) names a node that does not exist "
                             f"(the graph has {n} nodes)")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")
# Same computation, different spellings across torch functions, tensor methods, modules and torchview.
_ALIASES = {
    "iadd": "add", "radd": "add", "sub": "sub", "isub": "sub", "imul": "mul", "rmul": "mul", "truediv": "div",
    "rtruediv": "div", "floordiv": "div", "bmm": "matmul", "mm": "matmul", "einsum": "matmul",
    "baddbmm": "matmul", "addmm": "linear", "conv1d": "conv1d", "conv_2d": "conv2d", "layernorm": "layer_norm",
    "rms_norm": "rms_norm", "llama_rms_norm": "rms_norm", "t5_layer_norm": "rms_norm",
    "batchnorm2d": "batch_norm", "batch_norm2d": "batch_norm", "batch_norm": "batch_norm",
    "group_norm": "group_norm", "relu_": "relu", "gelu_new": "gelu", "new_gelu_activation": "gelu",
    "gelu_activation": "gelu", "geluactivation": "gelu", "add_": "add", "mul_": "mul", "ne_w_gelu_activation": "gelu", "silu_": "silu", "si_lu": "silu",
    "dropout2d": "dropout", "max_pool2d": "max_pool", "maxpool2d": "max_pool", "adaptive_avg_pool2d": "avg_pool",
    "avg_pool2d": "avg_pool", "adaptiveavgpool2d": "avg_pool", "softmax": "softmax", "log_softmax": "softmax",
    "scaled_dot_product_attention": "attention", "identity": "identity", "conv_transpose2d": "conv_transpose",
    "conv_transpose1d": "conv_transpose", "getitem": "getitem", "setitem": "setitem", "rsub": "sub",
}


def canonical_op(name: str) -> str:
    """`LayerNorm`, `layer_norm`, `F.layer_norm`, `__iadd__` → one spelling each."""
    base = name.strip().rsplit(".", 1)[-1].split(" ", 1)[0].strip("[]")
    base = base.strip("_")
    if not base:
        return "unknown"
    if any(c.isupper() for c in base):
        base = _CAMEL.sub("_", base).lower()
    base = base.lower()
    return _ALIASES.get(base, _ALIASES.get(base.replace("_", ""), base))


def from_aptm(items: list[Any], source: str = "") -> LayerGraph:
    """DARA's APTM graph: `[{operation, input_shape, output_shape, node_id, connects_to, type, parameters}]`."""
    index: dict[str, int] = {}
    nodes: list[Node] = []
    for pos, item in enumerate(items):
        if not isinstance(item, dict) or "node_id" not in item:
            raise GraphError(f"{source or 'APTM graph'}: item {pos} is not an APTM node (needs node_id, "
                             "operation, connects_to)")
        index[str(item["node_id"])] = len(nodes)
        op = item.get("operation") or item.get("type") or "unknown"
        if op == "Undefined":
            op = str(item.get("type") or "unknown")
        params = item.get("parameters") or {}
        hyper = {str(k): float(v) for k, v in params.items() if isinstance(v, (int, float))} \
            if isinstance(params, dict) else {}
        in_shape = item.get("input_shape")
        in_shapes: tuple[tuple[int, ...], ...] = ()
        if isinstance(in_shape, list) and in_shape and isinstance(in_shape[0], list):
            in_shapes = tuple(_shape(s) for s in in_shape)
        elif in_shape:
            in_shapes = (_shape(in_shape),)
        out = item.get("output_shape")
        if isinstance(out, list) and out and isinstance(out[0], list):
            out = out[0]
        nodes.append(Node(op=canonical_op(str(op)), out_shape=_shape(out), in_shapes=in_shapes, hyper=hyper))
    edges = []
    for pos, item in enumerate(items):
        for target in item.get("connects_to") or ():
            if str(target) in index:
                edges.append((pos, index[str(target)]))
    return LayerGraph(nodes, edges, view="aptm", source=source)


def from_sequence(tokens: Iterable[str], source: str = "") -> LayerGraph:
    """A DARA layer-operation sequence: a chain of operations, no shapes."""
    nodes = [Node(op=canonical_op(t)) for t in tokens if t.strip()]
    if not nodes:
        raise GraphError(f"{source or 'sequence'}: no operations in the layer sequence")
    return LayerGraph(nodes, [(i, i + 1) for i in range(len(nodes) - 1)], view="sequence", source=source)


def as_sequence(graph: LayerGraph) -> LayerGraph:
    """The same model as DARA's sequences see it: parameterised and functional ops in order, shapes dropped."""
    seq = from_sequence([n.op for n in graph.nodes], graph.source)
    seq.repeats, seq.traced_layers = graph.repeats, graph.traced_layers
    seq.model_type, seq.architecture = graph.model_type, graph.architecture
    return seq
