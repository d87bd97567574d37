"""The architecture classifier: a GIN over the layer graph (hashed op embeddings + log-shape features), sum/mean/
max pooling, graph-level features, two heads (model_type, architecture class)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptmgraph.errors import PtmgraphError
from ptmgraph.gnn.features import GRAPH_FEATURES, NODE_FEATURES, OP_BUCKETS, to_data
from ptmgraph.gnn.layer_graph import LayerGraph

# /2: node and graph features gained slow frequencies; a /1 checkpoint reads features it was not trained on.
CHECKPOINT_FORMAT = "ptmgraph.dara-gnn/2"


def _net(n_types: int, n_archs: int, hidden: int, layers: int) -> Any:
    import torch
    from torch import nn
    from torch_geometric.nn import GINConv, global_add_pool, global_max_pool, global_mean_pool

    class GIN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.op = nn.Embedding(OP_BUCKETS, hidden // 2)
            self.num = nn.Linear(NODE_FEATURES, hidden // 2)
            self.convs = nn.ModuleList(
                GINConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)),
                        train_eps=True) for _ in range(layers))
            self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
            width = 3 * hidden * (layers + 1) + GRAPH_FEATURES
            self.trunk = nn.Sequential(nn.Linear(width, 2 * hidden), nn.ReLU(), nn.Dropout(0.1))
            self.type_head = nn.Linear(2 * hidden, n_types)
            self.arch_head = nn.Linear(2 * hidden, n_archs)

        def forward(self, data: Any) -> tuple[Any, Any]:
            h = torch.cat([self.op(data.ops), self.num(data.x)], dim=1)
            readouts = []
            for conv, norm in [(None, None), *zip(self.convs, self.norms)]:
                if conv is not None:
                    h = norm(torch.relu(conv(h, data.edge_index))) + h
                b = data.batch
                readouts += [global_add_pool(h, b) / 64.0, global_mean_pool(h, b), global_max_pool(h, b)]
            z = self.trunk(torch.cat([*readouts, data.g], dim=1))
            return self.type_head(z), self.arch_head(z)

    return GIN()


@dataclass
class Prediction:
    model_type: str
    model_type_p: float
    architecture: str
    architecture_p: float
    top_types: list[tuple[str, float]] = field(default_factory=list)


class GraphClassifier:
    def __init__(self, types: list[str], archs: list[str], hidden: int = 96, layers: int = 3,
                 state: dict[str, Any] | None = None, meta: dict[str, Any] | None = None) -> None:
        self.types, self.archs, self.hidden, self.layers = types, archs, hidden, layers
        self.net = _net(len(types), len(archs), hidden, layers)
        if state is not None:
            self.net.load_state_dict(state)
        self.meta = meta or {}

    def save(self, path: str | Path) -> None:
        import torch

        state = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in self.net.state_dict().items()}
        torch.save({"format": CHECKPOINT_FORMAT, "types": self.types, "archs": self.archs, "hidden": self.hidden,
                    "layers": self.layers, "state": state, "meta": self.meta}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "GraphClassifier":
        import torch

        try:
            blob = torch.load(str(path), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as exc:
            raise PtmgraphError(f"{path}: not a readable GNN checkpoint ({exc}); train one with "
                                "`ptmgraph dara train --out FILE`") from None
        if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
            raise PtmgraphError(f"{path}: not a ptmgraph GNN checkpoint (format {CHECKPOINT_FORMAT} expected)")
        state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state"].items()}
        return cls(blob["types"], blob["archs"], blob["hidden"], blob["layers"], state, blob.get("meta"))

    def logits(self, graphs: list[LayerGraph], batch_size: int = 256) -> tuple[Any, Any]:
        import torch
        from torch_geometric.loader import DataLoader

        self.net.eval()
        data = [to_data(g) for g in graphs]
        outs_t, outs_a = [], []
        with torch.no_grad():
            for batch in DataLoader(data, batch_size=batch_size):
                t, a = self.net(batch)
                outs_t.append(t)
                outs_a.append(a)
        return torch.cat(outs_t), torch.cat(outs_a)

    def predict(self, graphs: list[LayerGraph]) -> list[Prediction]:
        import torch

        if not graphs:
            return []
        lt, la = self.logits(graphs)
        pt, pa = torch.softmax(lt, 1), torch.softmax(la, 1)
        out = []
        for i in range(len(graphs)):
            ti, ai = int(pt[i].argmax()), int(pa[i].argmax())
            top = torch.topk(pt[i], min(3, len(self.types)))
            out.append(Prediction(self.types[ti], float(pt[i, ti]), self.archs[ai], float(pa[i, ai]),
                                  [(self.types[int(j)], float(p)) for p, j in zip(top.values, top.indices)]))
        return out
