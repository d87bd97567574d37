"""LayerGraph → tensors. Operations are hashed into a fixed number of buckets (no vocabulary file to ship or to
drift); shapes enter as log2 sizes, which is where look-alike families differ."""

from __future__ import annotations

import math
import zlib
from typing import Any

from ptmgraph.gnn.layer_graph import VIEWS, LayerGraph

OP_BUCKETS = 512
# Look-alike families differ by a few percent in one size (a vocabulary of 32,005 vs 30,522): periodic features
# of log2 sizes resolve such differences where a plain log2 cannot, and still generalise to nearby sizes. Whole-
# number frequencies alone cannot tell sizes a power of two apart (mistral's 32,000-token vocabulary and llama-3's
# 128,256 read the same), so slow, non-integer frequencies carry the magnitude.
_FREQS = (0.1, 0.3, 1.0, 3.0, 9.0)
NODE_FEATURES = 15 + 4 * len(_FREQS)
GRAPH_FEATURES = len(VIEWS) + 5 + 4 * len(_FREQS)
# Below this width a dimension is a task's label count (2 for sentiment, 9 for NER, 40 for intents), not part
# of the architecture: such dimensions all read as "small", so a head is recognised whatever its label count.
_SMALL = 64


def op_id(op: str) -> int:
    return zlib.crc32(op.encode()) % OP_BUCKETS


def _log(d: int) -> float:
    return math.log2(1 + max(d, 0)) / 8.0


def _periodic(d: int) -> list[float]:
    if d <= 0:
        return [0.0] * (2 * len(_FREQS))
    x = math.log2(d) * 2 * math.pi
    return [f(x * k) for k in _FREQS for f in (math.sin, math.cos)]


def width(d: int) -> int:
    return max(d, _SMALL) if d > 0 else 0


def _small(d: int) -> float:
    return 1.0 if 0 < d < _SMALL else 0.0


def _depth(module: str) -> float:
    # A base model wrapped by a head class sits one attribute deeper ("bert.encoder" vs "encoder"): the only
    # trace a tied, weightless head leaves in a weights file.
    return (module.count(".") + 1) / 8.0 if module else 0.0


def node_vector(node: Any) -> list[float]:
    out = node.out_shape
    first = node.params[0] if node.params else ()
    numel = sum(math.prod(width(d) for d in p) for p in node.params) if node.params else 0
    last = out[-1] if out else 0
    rows = first[0] if first else 0
    return [
        len(out) / 4.0,
        _log(width(last)),
        _log(out[-2]) if len(out) > 1 else 0.0,
        _log(math.prod(width(d) for d in out)) if out else 0.0,
        len(node.params) / 4.0,
        _log(width(rows)),
        _log(first[1]) if len(first) > 1 else 0.0,
        _log(first[-1]) if len(first) > 2 else 0.0,
        _log(numel),
        1.0 if node.params else 0.0,
        len(node.in_shapes) / 4.0,
        _log(node.in_shapes[0][-1]) if node.in_shapes and node.in_shapes[0] else 0.0,
        _small(last),
        _small(rows),
        _depth(node.module),
        *_periodic(width(rows)),
        *_periodic(width(last)),
    ]


def graph_vector(graph: LayerGraph) -> list[float]:
    view = [1.0 if graph.view == v else 0.0 for v in VIEWS]
    # The largest parameter is usually the vocabulary (or the first conv): the strongest single shape signal.
    largest = max((p for n in graph.nodes for p in n.params), key=math.prod, default=())
    dims = sorted(largest, reverse=True)[:2] + [0, 0]
    shallowest = min((_depth(n.module) for n in graph.nodes if n.params), default=0.0)
    return view + [_log(graph.repeats), _log(len(graph.nodes)), _log(dims[0]), _log(dims[1]), shallowest,
                   *_periodic(dims[0]), *_periodic(dims[1])]


def to_data(graph: LayerGraph, y_type: int = -1, y_arch: int = -1) -> Any:
    import torch
    from torch_geometric.data import Data

    ops = torch.tensor([op_id(n.op) for n in graph.nodes], dtype=torch.long)
    x = torch.tensor([node_vector(n) for n in graph.nodes], dtype=torch.float32)
    if graph.edges:
        e = torch.tensor(graph.edges, dtype=torch.long).t()
        # Messages flow both ways: a head is told what feeds it, an embedding what reads it.
        edge_index = torch.cat([e, e.flip(0)], dim=1)
    else:
        edge_index = torch.zeros((2, 0), dtype=torch.long)
    return Data(x=x, ops=ops, edge_index=edge_index, g=torch.tensor([graph_vector(graph)], dtype=torch.float32),
                y_type=torch.tensor([y_type]), y_arch=torch.tensor([y_arch]), num_nodes=len(graph.nodes))
