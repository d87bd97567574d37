"""Where the shipped classifiers live, and loading them once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ptmgraph.errors import PtmgraphError

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "dara"
GNN = SHIPPED / "gnn.pt"
MLP = SHIPPED / "dara-mlp.pt"


def _need(path: Path) -> Path:
    if not path.exists():
        raise PtmgraphError(f"{path}: the shipped checkpoint is missing; rebuild it with `ptmgraph dara train "
                            f"--out {path}`")
    return path


@lru_cache(maxsize=4)
def gnn(path: str | None = None):  # noqa: ANN201 - torch types stay out of import time
    from ptmgraph.gnn.model import GraphClassifier

    return GraphClassifier.load(_need(Path(path) if path else GNN))


@lru_cache(maxsize=4)
def mlp(path: str | None = None):  # noqa: ANN201
    from ptmgraph.gnn.vectors import VectorClassifier

    return VectorClassifier.load(_need(Path(path) if path else MLP))
