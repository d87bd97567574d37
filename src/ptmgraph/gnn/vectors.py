"""DARA's own feature vectors and its MLP, reproduced so the GNN is compared with the published method honestly.

A vectors file is `{architecture: {model_id: {feature: count}}}` (DARA's `vec_d` tensor-shape histograms, or its
`l`/`p` bigram and layer counts grouped the same way). Each key is hashed into a fixed number of buckets and
counted as log1p, so the checkpoint holds no strings from the file it was trained on and reads any file, keys it
never saw included; the network is DARA's 4-layer MLP."""

from __future__ import annotations

import json
import math
import random
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from ptmgraph.errors import PtmgraphError

CHECKPOINT_FORMAT = "ptmgraph.dara-mlp/2"
# vec_d_dev.json has 4,196 distinct shapes, over half seen in at most two models. 5-fold on it, 4,096 hashed buckets
# scored 81.4 % / 57.5 % (model_type / architecture), its 2,048 most frequent keys 82.2 % / 57.9 %.
BUCKETS = 4096


class VectorsError(PtmgraphError):
    pass


def read_json(path: str | Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise VectorsError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VectorsError(f"{path}: the {what} is not valid JSON ({exc})") from None


def read_vectors(path: str | Path) -> list[tuple[str, str, dict[str, float]]]:
    """(model_id, architecture, features) rows; a malformed group or vector is refused with its location."""
    data = read_json(path, "vectors file")
    if not isinstance(data, dict):
        raise VectorsError(f"{path}: expected {{architecture: {{model_id: {{feature: count}}}}}} like DARA's "
                           "vec_d_dev.json")
    first = next(iter(data.values()), None)
    if isinstance(first, dict) and first and all(isinstance(v, (int, float)) for v in first.values()):
        raise VectorsError(f"{path}: this is {{model_id: {{feature: count}}}} (like DARA's test_l/test_p files), not "
                           "grouped by architecture; group it as {architecture: {model_id: {feature: count}}} like "
                           "vec_d_dev.json")
    rows = []
    for arch, models in data.items():
        if not isinstance(models, dict):
            raise VectorsError(f"{path}: architecture {arch!r} does not map model ids to vectors")
        for model_id, vec in models.items():
            if not isinstance(vec, dict) or not all(isinstance(v, (int, float)) for v in vec.values()):
                raise VectorsError(f"{path}: the vector of {model_id!r} ({arch}) is not {{feature: count}}")
            rows.append((str(model_id), str(arch), {str(k): float(v) for k, v in vec.items()}))
    if not rows:
        raise VectorsError(f"{path}: no vectors in the file")
    return rows


def arch_to_type(labels: Any) -> dict[str, str]:
    """`{model_type: {architecture: [model ids]}}` → the model_type most models of each architecture declare."""
    votes: dict[str, Counter[str]] = {}
    if not isinstance(labels, dict):
        raise VectorsError("labels: expected {model_type: {architecture: [model ids]}} like model_types.json")
    for model_type, archs in labels.items():
        if not isinstance(archs, dict):
            continue
        for arch, models in archs.items():
            votes.setdefault(arch, Counter())[model_type] += len(models) if isinstance(models, list) else 1
    return {arch: c.most_common(1)[0][0] for arch, c in votes.items()}


def bucket(key: str, buckets: int = BUCKETS) -> int:
    return zlib.crc32(key.encode()) % buckets


def _matrix(rows: list[tuple[str, str, dict[str, float]]], buckets: int) -> Any:
    import torch

    x = torch.zeros((len(rows), buckets))
    for r, (_, _, vec) in enumerate(rows):
        for k, v in vec.items():
            x[r, bucket(k, buckets)] += math.log1p(max(v, 0.0))
    return x


def _mlp(n_in: int, n_out: int) -> Any:
    from torch import nn

    # DARA's classifier: four fully connected layers with ReLU and dropout.
    return nn.Sequential(nn.Linear(n_in, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 256), nn.ReLU(),
                         nn.Dropout(0.2), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, n_out))


class VectorClassifier:
    def __init__(self, archs: list[str], arch_types: dict[str, str], buckets: int = BUCKETS,
                 state: dict[str, Any] | None = None) -> None:
        self.buckets, self.archs, self.arch_types = buckets, archs, arch_types
        self.types = sorted({t for t in arch_types.values() if t})
        # One network, two heads side by side: architecture logits, then model_type logits.
        self.net = _mlp(buckets, len(archs) + len(self.types))
        if state is not None:
            self.net.load_state_dict(state)

    @classmethod
    def fit(cls, rows: list[tuple[str, str, dict[str, float]]], arch_types: dict[str, str], epochs: int = 60,
            seed: int = 42) -> "VectorClassifier":
        import torch

        torch.manual_seed(seed)
        archs = sorted({a for _, a, _ in rows})
        clf = cls(archs, {a: arch_types.get(a, "") for a in archs})
        x = _matrix(rows, clf.buckets)
        y = torch.tensor([archs.index(a) for _, a, _ in rows])
        types = [clf.arch_types[a] for _, a, _ in rows]
        yt = torch.tensor([clf.types.index(t) if t else -100 for t in types])
        n = len(archs)
        opt = torch.optim.Adam(clf.net.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(seed)
        clf.net.train()
        for _ in range(epochs):
            for idx in torch.randperm(len(rows), generator=gen).split(64):
                opt.zero_grad()
                out = clf.net(x[idx])
                loss = torch.nn.functional.cross_entropy(out[:, :n], y[idx])
                if clf.types:
                    loss = loss + torch.nn.functional.cross_entropy(out[:, n:], yt[idx], ignore_index=-100)
                loss.backward()
                opt.step()
        clf.net.eval()
        return clf

    def predict(self, rows: list[tuple[str, str, dict[str, float]]]) -> list[tuple[str, str]]:
        """(model_type, architecture) per row, each from its own head."""
        import torch

        n = len(self.archs)
        with torch.no_grad():
            out = self.net(_matrix(rows, self.buckets))
        archs = out[:, :n].argmax(1).tolist()
        types = out[:, n:].argmax(1).tolist() if self.types else [None] * len(rows)
        return [(self.types[t] if t is not None else self.arch_types.get(self.archs[a], ""), self.archs[a])
                for t, a in zip(types, archs)]

    def save(self, path: str | Path) -> None:
        import torch

        state = {k: v.to(torch.float16) for k, v in self.net.state_dict().items()}
        torch.save({"format": CHECKPOINT_FORMAT, "buckets": self.buckets, "archs": self.archs,
                    "arch_types": self.arch_types, "state": state}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "VectorClassifier":
        import torch

        try:
            blob = torch.load(str(path), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as exc:
            raise VectorsError(f"{path}: not a readable DARA-MLP checkpoint ({exc})") from None
        if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
            raise VectorsError(f"{path}: not a ptmgraph DARA-MLP checkpoint")
        state = {k: v.float() for k, v in blob["state"].items()}
        return cls(blob["archs"], blob["arch_types"], int(blob["buckets"]), state)


def folds(n: int, k: int = 5, seed: int = 42) -> Iterator[tuple[list[int], list[int]]]:
    """DARA's protocol: shuffled k-fold with a fixed seed."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    for f in range(k):
        test = order[f::k]
        held = set(test)
        yield [i for i in order if i not in held], test
