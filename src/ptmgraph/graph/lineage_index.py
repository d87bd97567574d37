"""An in-memory lineage index kept beside the embedded store.

The database answers a 20k-descendant query in ~0.2-2.7 s (measured on 1M models); a CSR adjacency in numpy
answers it in milliseconds. The index is derived data: it is rebuilt from the store whenever the store's write
generation moves, and cached on disk (memory-mapped) so a CLI call does not pay the rebuild.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ptmgraph.graph.lineage import PROVENANCE_RANK, Direction, LineageHit, RepoHit, cycle_groups

FORMAT = 2  # 2: downloads per model, for ranking without a query


@dataclass
class Csr:
    indptr: np.ndarray  # int64, len n+1
    targets: np.ndarray  # int64
    edge: np.ndarray  # int64 index into the edge attribute arrays

    @classmethod
    def build(cls, n: int, src: np.ndarray, dst: np.ndarray, order_key: np.ndarray) -> Csr:
        order = np.lexsort((order_key, src))
        counts = np.bincount(src, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(indptr, dst[order].astype(np.int64), order.astype(np.int64))

    def gather(self, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (source, target, edge) triples leaving ``frontier``, in CSR order."""
        starts = self.indptr[frontier]
        counts = self.indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        # Positions starts[i] .. starts[i]+counts[i]-1 for every i, without a Python loop.
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return np.repeat(frontier, counts), self.targets[offsets], self.edge[offsets]


class LineageIndex:
    """Models are addressed by the store's dense node offsets; ids and edge attributes live in Arrow arrays."""

    def __init__(self, arrays: dict[str, np.ndarray], strings: dict[str, pa.Array]) -> None:
        self.a = arrays
        self.s = strings
        n = len(self.s["model_id"])
        self.n = n
        self.up = Csr(arrays["up_indptr"], arrays["up_targets"], arrays["up_edge"])
        self.down = Csr(arrays["down_indptr"], arrays["down_targets"], arrays["down_edge"])
        self.uses = Csr(arrays["uses_indptr"], arrays["uses_targets"], arrays["uses_edge"])

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, models: pa.Table, edges: pa.Table, repos: pa.Table, uses: pa.Table) -> LineageIndex:
        """``models``: offset, id, stub, downloads; ``edges``: child, parent (offsets), relation, provenance;
        ``repos``: offset, id; ``uses``: repo, model (offsets), file, line."""
        n = _dense_size(models["offset"])
        model_id = _scatter(n, models["offset"], models["id"])
        stub = np.zeros(n, dtype=bool)
        stub[models["offset"].to_numpy()] = models["stub"].fill_null(False).to_numpy(zero_copy_only=False)
        downloads = np.full(n, -1, dtype=np.int64)
        if "downloads" in models.column_names:
            downloads[models["offset"].to_numpy()] = models["downloads"].fill_null(-1).to_numpy().astype(np.int64)
        child = edges["child"].to_numpy().astype(np.int64)
        parent = edges["parent"].to_numpy().astype(np.int64)
        provenance = edges["provenance"].fill_null("")
        rank = np.array([PROVENANCE_RANK.get(p, 9) for p in provenance.to_pylist()], dtype=np.int64)
        up = Csr.build(n, child, parent, rank)
        down = Csr.build(n, parent, child, rank)
        r = _dense_size(repos["offset"])
        repo_id = _scatter(r, repos["offset"], repos["id"])
        use_model = uses["model"].to_numpy().astype(np.int64)
        use_repo = uses["repo"].to_numpy().astype(np.int64)
        by_model = Csr.build(n, use_model, use_repo, np.zeros(len(use_model), dtype=np.int64))
        arrays = {
            "stub": stub,
            "downloads": downloads,
            "up_indptr": up.indptr, "up_targets": up.targets, "up_edge": up.edge,
            "down_indptr": down.indptr, "down_targets": down.targets, "down_edge": down.edge,
            "uses_indptr": by_model.indptr, "uses_targets": by_model.targets, "uses_edge": by_model.edge,
            "uses_line": uses["line"].fill_null(-1).to_numpy().astype(np.int64),
        }
        strings = {
            "model_id": model_id,
            "repo_id": repo_id,
            "relation": _array(edges["relation"].fill_null("unknown")),
            "provenance": _array(provenance),
            "uses_file": _array(uses["file"]),
        }
        return cls(arrays, strings)

    # -- persistence --------------------------------------------------------------------------------------------
    def save(self, directory: Path, stamp: dict) -> None:
        """Written to a temporary folder and renamed into place, so a reader never sees half an index."""
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=directory.parent))
        except OSError:
            return  # a store on a read-only file system, or a full disk, just means no cache
        try:
            for name, array in self.a.items():
                np.save(tmp / f"{name}.npy", array)
            table = pa.table({name: pa.chunked_array([arr]) for name, arr in self.s.items() if name.startswith("model")})
            _write_arrow(tmp / "models.arrow", table)
            _write_arrow(tmp / "repos.arrow", pa.table({"repo_id": self.s["repo_id"]}))
            _write_arrow(tmp / "edges.arrow", pa.table({"relation": self.s["relation"], "provenance": self.s["provenance"]}))
            _write_arrow(tmp / "uses.arrow", pa.table({"uses_file": self.s["uses_file"]}))
            (tmp / "stamp.json").write_text(json.dumps({**stamp, "format": FORMAT}))
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # as above: no cache

    @classmethod
    def load(cls, directory: Path, stamp: dict) -> LineageIndex | None:
        try:
            saved = json.loads((directory / "stamp.json").read_text())
            if saved != {**stamp, "format": FORMAT}:
                return None
            names = ("stub", "downloads", "up_indptr", "up_targets", "up_edge", "down_indptr", "down_targets", "down_edge",
                     "uses_indptr", "uses_targets", "uses_edge", "uses_line")
            arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in names}
            strings: dict[str, pa.Array] = {}
            for file in ("models", "repos", "edges", "uses"):
                table = pa.ipc.open_file(pa.memory_map(str(directory / f"{file}.arrow"))).read_all()
                for column in table.column_names:
                    strings[column] = _array(table[column])
            return cls(arrays, strings)
        except (OSError, ValueError, KeyError, pa.ArrowInvalid):
            return None

    # -- answers ------------------------------------------------------------------------------------------------
    def _allowed(self, relations: frozenset[str] | None) -> np.ndarray | None:
        if relations is None:
            return None
        cache = self.__dict__.setdefault("_allowed_cache", {})
        if relations not in cache:
            cache[relations] = pc.is_in(self.s["relation"], value_set=pa.array(sorted(relations), type=pa.string())).to_numpy(
                zero_copy_only=False)
        return cache[relations]

    def walk(self, start: int, direction: Direction, max_depth: int | None,
             relations: frozenset[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """BFS from ``start`` along edges of the given relations (all when None); returns reached offsets (in
        visit order), their depth, predecessor and edge."""
        csr = self.down if direction == "down" else self.up
        allowed = self._allowed(relations)
        depth, pred, via = self._scratch()
        depth[start] = 0
        frontier = np.array([start], dtype=np.int64)
        order = []
        level = 0
        while frontier.size and (max_depth is None or level < max_depth):
            level += 1
            src, dst, edge = csr.gather(frontier)
            if allowed is not None:
                keep = allowed[edge]
                src, dst, edge = src[keep], dst[keep], edge[keep]
            fresh = depth[dst] < 0
            src, dst, edge = src[fresh], dst[fresh], edge[fresh]
            dst, first = np.unique(dst, return_index=True)
            depth[dst] = level
            pred[dst] = src[first]
            via[dst] = edge[first]
            order.append(dst)
            frontier = dst
        reached = np.concatenate(order) if order else np.empty(0, dtype=np.int64)
        self._touched = np.append(reached, start)
        return reached, depth, pred, via

    def _scratch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-model work arrays, allocated once and reset where the previous walk wrote, so that a walk costs
        what it reaches rather than the size of the graph. Valid until the next walk (callers consume them
        first; the CLI is single-threaded)."""
        if getattr(self, "_buffers", None) is None:
            self._buffers = tuple(np.full(self.n, -1, dtype=np.int64) for _ in range(3))
            self._touched = None
        if self._touched is not None:
            for array in self._buffers:
                array[self._touched] = -1
        return self._buffers

    def hits(self, start: int, direction: Direction, max_depth: int | None,
             relations: frozenset[str] | None = None) -> tuple[list[LineageHit], np.ndarray]:
        """The hits in report order (depth, then id), and the offsets they sit at."""
        reached, depth, pred, via = self.walk(start, direction, max_depth, relations)
        start_id = self.s["model_id"][start].as_py()
        if not reached.size:
            return [], reached
        # Bulk conversions first: per-element access to memory-mapped arrays costs more than the walk itself.
        id_array = self.s["model_id"].take(pa.array(reached))
        depth_array = depth[reached]
        # Report order (depth, then id) sorted in Arrow; a parent always sorts before its children, so paths can be
        # built in this same pass.
        order = pc.sort_indices(pa.table({"d": depth_array, "k": pc.utf8_lower(id_array)}),
                                sort_keys=[("d", "ascending"), ("k", "ascending")]).to_numpy()
        reached = reached[order]
        ids = id_array.take(pa.array(order)).to_pylist()
        edges = pa.array(via[reached])
        relations = self.s["relation"].take(edges).to_pylist()
        provenances = self.s["provenance"].take(edges).to_pylist()
        preds = pred[reached].tolist()
        depths = depth_array[order].tolist()
        stubs = np.asarray(self.a["stub"])[reached].tolist()
        downloads = [None if d < 0 else d for d in np.asarray(self.a["downloads"])[reached].tolist()]
        by_offset: dict[int, LineageHit | None] = {start: None}
        out = []
        # Tens of thousands of new objects would trigger the cyclic collector repeatedly; none of them can form a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for offset, ident, rel, prov, before, level, stub, count in zip(
                    reached.tolist(), ids, relations, provenances, preds, depths, stubs, downloads):
                hit = LineageHit(ident, rel, prov, level, stub, by_offset[before], start_id, count)
                by_offset[offset] = hit
                out.append(hit)
        finally:
            if collecting:
                gc.enable()
        return out, reached

    def affected(self, start: int, max_depth: int | None, relations: frozenset[str] | None = None) -> list[RepoHit]:
        """Repositories that load ``start`` or a descendant, each through its shallowest model (ties: by model
        id), ordered by depth then repository id. Vectorised; only the winners' paths are assembled."""
        reached, depth, pred, _ = self.walk(start, "down", max_depth, relations)
        models = np.concatenate([np.array([start], dtype=np.int64), reached])
        model_of, repo, edge = self.uses.gather(models)
        if not repo.size:
            return []
        via_lower = pc.utf8_lower(self.s["model_id"].take(pa.array(model_of)))
        order = pc.sort_indices(pa.table({"r": repo, "d": depth[model_of], "v": via_lower}),
                                sort_keys=[("r", "ascending"), ("d", "ascending"), ("v", "ascending")]).to_numpy()
        _, first = np.unique(repo[order], return_index=True)
        win = order[first]
        depth_of = depth[model_of[win]]
        repo_names = self.s["repo_id"].take(pa.array(repo[win]))
        # Report order (depth, then repository id) decided in Arrow, before any Python object exists.
        final = pc.sort_indices(pa.table({"d": depth_of, "r": pc.utf8_lower(repo_names)}),
                                sort_keys=[("d", "ascending"), ("r", "ascending")]).to_numpy()
        win, depth_of = win[final], depth_of[final]
        win_model, win_edge = model_of[win], edge[win]
        repo_ids = repo_names.take(pa.array(final)).to_pylist()
        files = self.s["uses_file"].take(pa.array(win_edge)).to_pylist()
        lines = self.a["uses_line"][win_edge]
        lines = pa.array(lines, mask=lines < 0).to_pylist()
        vias = self.s["model_id"].take(pa.array(win_model)).to_pylist()
        paths = _RepoPaths(self, win_model, depth_of, pred, repo_names.take(pa.array(final)))
        collecting = gc.isenabled()
        gc.disable()
        try:
            return [RepoHit(repo_id, via, level, None, file, line, paths, row)
                    for row, (repo_id, via, level, file, line)
                    in enumerate(zip(repo_ids, vias, depth_of.tolist(), files, lines))]
        finally:
            if collecting:
                gc.enable()

    def cycles(self, limit: int = 20) -> list[list[str]]:
        child = np.repeat(np.arange(self.n), np.diff(self.up.indptr))
        groups = cycle_groups(self.n, child, np.asarray(self.up.targets), limit)
        return [sorted(self.s["model_id"].take(pa.array(g, type=pa.int64())).to_pylist()) for g in groups]


def _dense_size(offsets: pa.ChunkedArray) -> int:
    return int(pc.max(offsets).as_py() + 1) if len(offsets) else 0


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks else pa.array([], type=column.type)
    return column


def _scatter(n: int, offsets: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.Array:
    """Place ``values`` at their node offsets (offsets are dense unless nodes were deleted)."""
    off = offsets.to_numpy().astype(np.int64)
    if len(off) == n and (n == 0 or np.array_equal(off, np.arange(n))):
        return _array(values).cast(pa.string())
    slot = np.full(n, -1, dtype=np.int64)
    slot[off] = np.arange(len(off))
    return _array(values).cast(pa.string()).take(pa.array(slot, mask=slot < 0))


def _write_arrow(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


class _RepoPaths:
    """The paths of one `affected` answer. Which models each path holds is worked out at once, in numpy (the walk's
    buffers are reused by the next walk); the strings are made together on first use, so a caller that only
    counts or ranks repositories never pays for 14,000 tuples of model ids."""

    def __init__(self, index: LineageIndex, models: np.ndarray, depth: np.ndarray, pred: np.ndarray,
                 repos: pa.Array) -> None:
        # Row i: its depth[i] + 1 models root first (the model k steps up sits in column depth[i] - k), then the
        # repository.
        n = len(models)
        width = int(depth.max()) + 1
        steps = np.full((n, width), -1, dtype=np.int64)
        current, rows = models.copy(), np.arange(n)
        for k in range(width):
            alive = depth >= k
            steps[rows[alive], (depth - k)[alive]] = current[alive]
            current = np.where(depth > k, pred[current], current)
        self.flat = steps[steps >= 0]
        self.offsets = np.concatenate([[0], np.cumsum(depth + 2)])
        self.index, self.repos = index, repos
        self._all: list[tuple[str, ...]] | None = None

    def get(self, row: int) -> tuple[str, ...]:
        if self._all is None:
            self._all = self._build()
        return self._all[row]

    def _build(self) -> list[tuple[str, ...]]:
        offsets, flat = self.offsets, self.flat
        order = np.empty(int(offsets[-1]), dtype=np.int64)
        repo_slot = offsets[1:] - 1
        mask = np.ones(len(order), dtype=bool)
        mask[repo_slot] = False
        order[mask] = np.arange(len(flat))
        order[repo_slot] = len(flat) + np.arange(len(repo_slot))
        values = pa.concat_arrays([self.index.s["model_id"].take(pa.array(flat)).cast(pa.string()),
                                   self.repos.cast(pa.string())]).take(pa.array(order))
        lists = pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values).to_pylist()
        return [tuple(path) for path in lists]
