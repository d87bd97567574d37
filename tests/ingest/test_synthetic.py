from __future__ import annotations

import numpy as np

from ptmgraph import domain as d
from ptmgraph.ingest.synthetic import generate


def test_seeded_and_shaped_as_promised():
    a, b = generate(5_000, seed=3, hub_descendants=1_000), generate(5_000, seed=3, hub_descendants=1_000)
    assert np.array_equal(a.parent, b.parent) and np.array_equal(a.repo_model, b.repo_model)
    assert not np.array_equal(a.parent, generate(5_000, seed=4, hub_descendants=1_000).parent)
    # The hub family is exactly its 1,000 descendants: members 1..1000 all lead back to model 0.
    assert (a.parent[1:1001] < np.arange(1, 1001)).all() and (a.parent[1001:] != 0).all()
    assert (a.parent[a.parent >= 0] < np.nonzero(a.parent >= 0)[0]).all()  # parents precede children: no cycles
    assert len(a.merge_child) > 0


def test_every_record_is_labelled_synthetic():
    graph = generate(2_000, seed=1, hub_descendants=300)
    for record in graph.records():
        if isinstance(record, (d.Model, d.Repo, d.Lineage, d.Uses)):
            assert record.source == "synthetic"
            ids = [getattr(record, f) for f in ("id", "child", "parent", "repo", "model") if hasattr(record, f)]
            assert all(i.startswith("synthetic-") for i in ids)
