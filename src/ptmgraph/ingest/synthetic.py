"""A seeded, **synthetic** PTM ecosystem for scale benchmarks. Every id starts with ``synthetic-`` and every record
says ``source="synthetic"``: none of it describes a real model or project.

Shape: model families whose sizes follow a heavy-tailed distribution, each a random recursive tree (so depths grow
like log n, as fine-tune chains do), one hub family with exactly ``hub_descendants`` descendants (the "popular base"
case), ~3 % merges with a second parent inside the family, and repositories that prefer shallow, popular models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ptmgraph import domain as d

SOURCE = "synthetic"
RELATIONS = ("finetune", "quantized", "adapter")
RELATION_WEIGHTS = (0.62, 0.25, 0.13)
LICENSES = ("apache-2.0", "mit", "llama2", "cc-by-nc-4.0", "openrail", "other")
MODEL_TYPES = ("llama", "mistral", "bert", "roberta", "gpt2", "t5", "qwen2", "whisper")


@dataclass
class SyntheticGraph:
    """Arrays first (cheap to build and to hand to a baseline), records on demand."""

    n_models: int
    parent: np.ndarray  # parent offset per model, -1 for roots
    relation: np.ndarray  # index into RELATIONS
    merge_child: np.ndarray  # models with a second parent
    merge_parent: np.ndarray
    repo_model: np.ndarray  # (repo offset, model offset) usage pairs
    repo_of_use: np.ndarray
    n_repos: int
    hub: int  # offset of the base with exactly hub_descendants descendants
    license: np.ndarray
    model_type: np.ndarray
    downloads: np.ndarray

    @staticmethod
    def model_id(i: int) -> str:
        return f"synthetic-org{i % 997}/model-{i}"

    @staticmethod
    def repo_id(r: int) -> str:
        return f"synthetic-owner{r % 499}/project-{r}"

    def edges(self) -> Iterator[tuple[int, int, str]]:
        """(child, parent, relation) offsets."""
        children = np.nonzero(self.parent >= 0)[0]
        for child, parent, rel in zip(children.tolist(), self.parent[children].tolist(), self.relation[children].tolist()):
            yield child, parent, RELATIONS[rel]
        for child, parent in zip(self.merge_child.tolist(), self.merge_parent.tolist()):
            yield child, parent, "merge"

    def records(self) -> Iterator[d.Record]:
        mid = self.model_id
        for i in range(self.n_models):
            yield d.Model(mid(i), license=LICENSES[self.license[i]], model_type=MODEL_TYPES[self.model_type[i]],
                          downloads=int(self.downloads[i]), source=SOURCE)
        for child, parent, rel in self.edges():
            yield d.Lineage(mid(child), mid(parent), rel, "declared-card", 1.0, SOURCE)
        for r in range(self.n_repos):
            yield d.Repo(self.repo_id(r), licenses=(LICENSES[r % 2],), source=SOURCE)
        for r, m in zip(self.repo_of_use.tolist(), self.repo_model.tolist()):
            yield d.Uses(self.repo_id(r), mid(m), source=SOURCE)


def generate(n_models: int, seed: int = 7, hub_descendants: int = 20_000, repos_per_model: float = 0.1) -> SyntheticGraph:
    rng = np.random.default_rng(seed)
    parent = np.full(n_models, -1, dtype=np.int64)
    hub_size = min(hub_descendants + 1, n_models)
    # The hub family: model 0 and exactly hub_descendants models below it.
    _recursive_tree(rng, parent, 0, hub_size)
    start = hub_size
    while start < n_models:
        # Heavy-tailed family sizes, capped below the hub so the hub stays the benchmark's biggest base.
        size = int(min(rng.pareto(1.2) * 3 + 1, hub_descendants // 2, n_models - start))
        _recursive_tree(rng, parent, start, size)
        start += size
    relation = rng.choice(len(RELATIONS), size=n_models, p=RELATION_WEIGHTS)
    # Merges: a second parent that is an earlier member of the same tree (its own parent's parent, when there is one).
    candidates = np.nonzero((parent >= 0) & (parent[np.maximum(parent, 0)] >= 0))[0]
    merge_child = rng.choice(candidates, size=int(len(candidates) * 0.03), replace=False) if len(candidates) else candidates
    merge_child.sort()
    merge_parent = parent[parent[merge_child]]
    n_repos = max(1, int(n_models * repos_per_model))
    uses_per_repo = rng.integers(1, 4, size=n_repos)
    repo_of_use = np.repeat(np.arange(n_repos), uses_per_repo)
    # Projects load popular models more often: a mild skew towards low offsets, where the hub family sits (it holds
    # 2 % of a 1M-model graph and receives ~7 % of the usage links).
    repo_model = np.minimum((rng.random(len(repo_of_use)) ** 1.5 * n_models).astype(np.int64), n_models - 1)
    pairs = np.unique(np.stack([repo_of_use, repo_model], axis=1), axis=0)
    return SyntheticGraph(
        n_models=n_models, parent=parent, relation=relation, merge_child=merge_child, merge_parent=merge_parent,
        repo_model=pairs[:, 1], repo_of_use=pairs[:, 0], n_repos=n_repos, hub=0,
        license=rng.integers(0, len(LICENSES), size=n_models), model_type=rng.integers(0, len(MODEL_TYPES), size=n_models),
        downloads=(rng.pareto(1.1, size=n_models) * 100).astype(np.int64),
    )


def _recursive_tree(rng: np.random.Generator, parent: np.ndarray, start: int, size: int) -> None:
    """Each member after the first picks a uniformly random earlier member as its parent."""
    if size <= 1:
        return
    picks = (rng.random(size - 1) * np.arange(1, size)).astype(np.int64)
    parent[start + 1:start + size] = start + picks
