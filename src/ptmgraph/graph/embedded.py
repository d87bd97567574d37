"""The embedded default store: LadybugDB (the maintained successor of Kùzu), in-process, one folder per store.

Layout of a store folder: ``graph.lbdb`` (+ ``.wal``) is the database; ``ptmgraph-store.json`` says which
ptmgraph store format wrote it; ``lineage-index/`` is a disposable cache of the lineage index.

Writes go through ``COPY FROM`` an Arrow table for new rows (1M model rows in 2.4 s here; ``UNWIND`` row upserts
ran at ~850 rows/s) and ``LOAD FROM ... MATCH ... SET`` for rows that already exist, each statement committed on its
own (see ``_write``). A crash leaves the store as it was at the last checkpoint (see CHECKPOINT_ROWS), and
re-running the ingest converges.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import ladybug
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ptmgraph.domain import node_key
from ptmgraph.errors import (
    ModelNotFound,
    QueryError,
    StoreError,
    StoreLocked,
    StoreNotFound,
    StoreVersionMismatch,
)
from ptmgraph.graph import queries as q
from ptmgraph.graph import schema as s
from ptmgraph.graph.batch import ARROW_TYPES, EDGE_ENDS, Batch, Row, ends_in_batch, identity_strings
from ptmgraph.graph.lineage import Direction, LineageHit, RepoHit, cycle_groups
from ptmgraph.graph.lineage_index import LineageIndex
from ptmgraph.graph.store import GraphStore, QueryResult, WriteStats, check_parameters, reset_command

STORE_FORMAT = 2  # 2: Meta.lineage_generation
DB_FILE = "graph.lbdb"
MARKER = "ptmgraph-store.json"
INDEX_DIR = "lineage-index"
# `*1..` without an upper bound silently means `*1..30` in LadybugDB; lineage chains can be deeper than that.
VAR_LENGTH_MAX_DEPTH = 1000
# A committed COPY is durable only once LadybugDB checkpoints (its WAL holds ~1 KB per COPY, not the rows), and a
# checkpoint rewrites more the larger the store: checkpointing after every 200k-record batch took 16 of a 1M-model
# ingest's 29 s of writes. Bulk writes (``durable=False``) therefore checkpoint after this many rows, and the
# database is reopened then, because LadybugDB 0.22 also keeps the pages a writer touched in its buffer pool
# until it is closed (a 1M-model ingest once failed with "buffer pool is full"). This bounds both the memory an
# ingest holds and the work a crash can undo (which re-running the ingest redoes). The environment variable
# PTMGRAPH_CHECKPOINT_ROWS overrides it.
CHECKPOINT_ROWS = 2_000_000

_ENDS = tuple((name, s.STRING) for name in EDGE_ENDS)


def checkpoint_rows() -> int:
    text = os.environ.get("PTMGRAPH_CHECKPOINT_ROWS", "")
    if not text:
        return CHECKPOINT_ROWS
    if not text.isdigit() or int(text) < 1:
        raise StoreError(f"PTMGRAPH_CHECKPOINT_ROWS={text!r} is not a positive whole number of rows: fix or unset it")
    return int(text)


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "ptmgraph" / "graph"


def _ddl() -> list[str]:
    statements = ["CREATE NODE TABLE IF NOT EXISTS Meta(key STRING PRIMARY KEY, schema_version INT64, "
                  "generation INT64, lineage_generation INT64)"]
    for table in s.NODE_TABLES.values():
        cols = ", ".join(f"{name} {kind}" for name, kind in table.columns)
        statements.append(f"CREATE NODE TABLE IF NOT EXISTS {table.label}({cols}, PRIMARY KEY(key))")
    for rel in s.REL_TABLES.values():
        pairs = ", ".join(f"FROM {a} TO {b}" for a, b in rel.pairs)
        cols = "".join(f", {name} {kind}" for name, kind in rel.columns)
        statements.append(f"CREATE REL TABLE IF NOT EXISTS {rel.type}({pairs}{cols})")
    return statements


class EmbeddedStore(GraphStore):
    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.uri = str(self.path)
        self.read_only = read_only
        self._index: LineageIndex | None = None
        self._index_generation = -1
        self._rows_since_checkpoint = 0
        self._moved: set[str] = set()  # the generation counters the current write has moved
        self._durable_rows: dict[str, int] = {}  # per node label, as of the last checkpoint
        self._checkpoint_rows = checkpoint_rows()
        self._open()

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def _open(self) -> None:
        db_file = self.path / DB_FILE
        if self.read_only and not db_file.exists():
            raise StoreNotFound(
                f"no ptmgraph store at {self.path}: run `ptmgraph demo` or an ingest command first, or pass --store"
            )
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"store path {self.path} is a file, not a folder: pass a folder to --store")
        self._check_marker()
        if not self.read_only:
            self.path.mkdir(parents=True, exist_ok=True)
            marker = self.path / MARKER
            if not marker.exists():
                # Before the database exists: a process killed while creating it leaves a store that the next
                # run finishes creating, not a database that nothing claims.
                marker.write_text(json.dumps({"format": STORE_FORMAT, "schema_version": s.SCHEMA_VERSION,
                                              "ladybug": ladybug.__version__}))
        try:
            self._db = self._database(db_file)
            self._conn = ladybug.Connection(self._db)
        except RuntimeError as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreLocked(
                    f"store {self.path} is open for writing in another process (one writer at a time): "
                    "wait for it to finish, or use a read-only command"
                ) from None
            if "not a valid" in text or "version" in text.lower():
                raise StoreVersionMismatch(
                    f"{self.path} does not hold a database this ptmgraph can open ({text.splitlines()[0]}): "
                    f"run `{reset_command(str(self.path))}` to recreate it"
                ) from None
            raise StoreError(f"cannot open store {self.path} ({text.splitlines()[0]}): check that its disk has room "
                             "and that you may write there, then re-run the command") from None
        self._conn.execute(f"CALL var_length_extend_max_depth={VAR_LENGTH_MAX_DEPTH}")
        if not self.read_only:
            for statement in _ddl():
                self._conn.execute(statement)
            self._conn.execute(
                "MERGE (m:Meta {key: 'store'}) ON CREATE SET m.schema_version = $v, m.generation = 0, "
                "m.lineage_generation = 0",
                {"v": s.SCHEMA_VERSION},
            )
            self._count_durable_rows()

    def _database(self, db_file: Path) -> ladybug.Database:
        self._replay_log_in_a_child(db_file)
        # A writer killed while it appended to the WAL leaves a torn last record there, and LadybugDB then refused
        # to open the store ("the WAL file is corrupted") unless told to replay what precedes it and stop there.
        # That loses nothing a re-run does not redo: the crash undid everything since the last checkpoint anyway.
        try:
            # Checkpoints are ptmgraph's to schedule (see CHECKPOINT_ROWS), not one per committed transaction.
            return ladybug.Database(str(db_file), read_only=self.read_only, auto_checkpoint=False,
                                    throw_on_wal_replay_failure=False)
        except RuntimeError as exc:
            if not (self.read_only and "recovery is pending" in str(exc)):
                raise
        # A writer was killed mid-way: committed batches wait in the WAL. Replaying it needs one read-write open;
        # doing that here lets a read command work after a crash instead of failing on it.
        ladybug.Database(str(db_file), throw_on_wal_replay_failure=False).close()
        return ladybug.Database(str(db_file), read_only=True, throw_on_wal_replay_failure=False)

    def _replay_log_in_a_child(self, db_file: Path) -> None:
        """A log left beside the database means a writer was interrupted (closing removes it). Replay it in a child
        process first: where LadybugDB crashes doing so (as 0.22 does on an update of a node whose copy was not
        checkpointed, which older ptmgraph versions wrote), every command would die of SIGSEGV without a word."""
        log = db_file.with_name(db_file.name + ".wal")
        if not log.exists():
            return
        replay = ("import sys, ladybug\n"
                  "ladybug.Database(sys.argv[1], auto_checkpoint=False, throw_on_wal_replay_failure=False).close()")
        try:
            child = subprocess.run([sys.executable, "-c", replay, str(db_file)], capture_output=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            return  # no verdict: the open below says what it finds
        if child.returncode < 0:  # killed by a signal; a lock or a read-only disk exits 1, and the open says so
            raise StoreError(
                f"store {self.path}: LadybugDB crashed replaying {log.name}, the log of a write that was interrupted: "
                f"move that file out of {self.path} to go back to the store's last checkpoint, then re-run the "
                f"ingest (or run `{reset_command(str(self.path))}`)")

    def _check_marker(self) -> None:
        marker = self.path / MARKER
        if not marker.exists():
            if (self.path / DB_FILE).exists():
                raise StoreVersionMismatch(
                    f"{self.path} holds a database that ptmgraph did not create: "
                    "point --store at another folder, or delete that folder"
                )
            return
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            found = {}
        if found.get("format") != STORE_FORMAT or found.get("schema_version") != s.SCHEMA_VERSION:
            raise StoreVersionMismatch(
                f"store {self.path} was written by another ptmgraph version (store format {found.get('format')}, "
                f"schema {found.get('schema_version')}; this one reads format {STORE_FORMAT}, schema "
                f"{s.SCHEMA_VERSION}): run `{reset_command(str(self.path))}` and ingest again"
            )

    def close(self) -> None:
        """Closing checkpoints: everything written is durable afterwards."""
        conn, db = getattr(self, "_conn", None), getattr(self, "_db", None)
        try:
            if conn is not None:
                conn.close()
            if db is not None:
                db.close()
        except RuntimeError as exc:
            raise self._abandon(f"checkpoint of {self.path} failed", exc) from None
        self._rows_since_checkpoint = 0
        self._conn = self._db = None  # type: ignore[assignment]

    def reset(self) -> None:
        self._require_writable("reset")
        self.close()
        wipe(self.path)
        self._index = None
        self._open()

    # -- writes -------------------------------------------------------------------------------------------------
    def write(self, batch: Batch, *, durable: bool = True) -> WriteStats:
        self._require_writable("write")
        with _interrupts_deferred():
            return self._write(batch, durable)

    def _write(self, batch: Batch, durable: bool) -> WriteStats:
        stats = WriteStats()
        if not len(batch):
            if durable:
                self.sync()
            return stats
        node_tables, edge_tables = batch.tables()
        self._moved.clear()
        created_keys: dict[str, pa.Array] = {}  # per label: nodes this write created, so edges from them are new
        rows = 0
        # Not one transaction, so that a write can checkpoint part-way (see _checkpoint_before_updating); LadybugDB's
        # COPYs inside an explicit one also took longer, and so did the checkpoints after them (the store alone,
        # 1M models, faster in six of six interleaved pairs: see the README). What the transaction gave is kept
        # where it matters: a write that fails after changing something gives the store up (see _abandon), and a
        # crash goes back to the last checkpoint; either way re-running the ingest redoes what was lost.
        try:
            for label, table in node_tables.items():
                created, updated = self._upsert_nodes(s.NODE_TABLES[label], table)
                created_keys[label] = created
                stats.nodes_created += len(created)
                stats.nodes_updated += updated
                rows += table.num_rows
            batch_keys = {label: table.column("key").combine_chunks() for label, table in node_tables.items()}
            for (rel, from_label, to_label), table in edge_tables.items():
                in_batch = {}  # per end: which rows' endpoints this batch wrote
                known = ends_in_batch(table)  # ends the batch vouches for: hashing a million keys took 1.6 s
                for label, key, identifier in ((from_label, "from", "from_id"), (to_label, "to", "to_id")):
                    in_batch[key] = (_all(table.num_rows) if key in known
                                     else _members(table.column(key), batch_keys.get(label)))
                    stubs, _ = self._ensure_endpoints(label, table.column(key), table.column(identifier),
                                                      in_batch[key])
                    stats.stubs_created += stubs
                created_here = created_keys.get(from_label)
                if created_here is not None and len(created_here) == len(batch_keys[from_label]):
                    new_from = in_batch["from"]  # every node the batch wrote was new (as in a first ingest)
                else:
                    new_from = _members(table.column("from"), created_here)
                created, updated = self._upsert_edges(s.REL_TABLES[rel], from_label, to_label, table, new_from)
                stats.edges_created += created
                stats.edges_updated += updated
                rows += table.num_rows
        except BaseException as exc:
            if isinstance(self._conn, _Abandoned):
                raise  # a checkpoint inside the write failed, and has said so
            # Statements committed since the last checkpoint (this write's included) cannot be undone, and LadybugDB
            # 0.22 corrupted its memory when a failed statement was rolled back after such commits: give it up.
            if self._rows_since_checkpoint or self._moved:
                raise self._abandon(f"write to {self.path} failed", exc) from exc
            if isinstance(exc, RuntimeError):
                raise StoreError(f"write to {self.path} failed before it changed anything: {_first(exc)}") from None
            raise
        self._rows_since_checkpoint += rows
        if self._rows_since_checkpoint >= self._checkpoint_rows:
            self.close()  # checkpoints, and returns the buffer pool's pages (see CHECKPOINT_ROWS)
            self._open()
        elif durable:
            self.sync()
        return stats

    def _change(self, table: str, statement: str, params: Mapping[str, Any]) -> None:
        """Runs a statement that changes ``table``, once the generation counters say the graph changed (the lineage
        index's own one only for the tables it is built from). They move first, as statements of their own: a write
        is not one transaction, and a crash between the two then leaves a cache marked stale, never a stale cache
        marked current."""
        for counter in ("generation", "lineage_generation"):
            if counter not in self._moved and (counter == "generation" or table in _INDEXED_TABLES):
                # `counter` is one of the two names above, never user input.
                self._conn.execute(f"MATCH (m:Meta {{key: 'store'}}) SET m.{counter} = m.{counter} + 1")
                self._moved.add(counter)
        self._conn.execute(statement, params)

    def _checkpoint_before_updating(self, label: str, offsets: list[int]) -> None:
        """Checkpoint first if any of these stored nodes was copied in since the last checkpoint.

        LadybugDB 0.22 does not replay a COPY from its log after a crash, but does replay a later SET on a node it
        copied, and crashes (SIGSEGV) doing so, at every open: a kill -9 after such an update left a store that no
        command could open. New nodes take offsets past every earlier one (LadybugDB does not reuse a deleted node's
        offset), so those copied since the checkpoint are at or past the row count it left; where a `query --write`
        deleted nodes, the count is lower and the test errs towards a checkpoint. (A SET on an edge copied since then
        is not replayed at all, harmlessly.)"""
        if max(offsets) >= self._durable_rows[label]:
            self._checkpoint()

    def sync(self) -> None:
        if self._rows_since_checkpoint and not self.read_only:
            self._checkpoint()
        self._rows_since_checkpoint = 0

    def _checkpoint(self) -> None:
        try:
            self._conn.execute("CHECKPOINT")
        except RuntimeError as exc:
            raise self._abandon(f"checkpoint of {self.path} failed", exc) from None
        self._rows_since_checkpoint = 0
        self._count_durable_rows()

    def _count_durable_rows(self) -> None:
        """Right after a checkpoint (or an open): every node stored is durable (see _checkpoint_before_updating)."""
        self._durable_rows = {label: int(self._conn.execute(f"MATCH (n:{label}) RETURN count(*)").get_all()[0][0])
                              for label in s.NODE_TABLES}  # schema labels, never user input

    def _abandon(self, what: str, cause: BaseException) -> StoreError:
        """Give up this store's database after a failed bulk write or checkpoint, and say what to do.

        LadybugDB 0.22 corrupts its own memory when a transaction is rolled back while earlier commits wait for a
        checkpoint: the next statement, checkpoint or close segfaulted, and so did the database's destructor at
        exit. A failed checkpoint is treated alike: the close after it would only try the same checkpoint again. So
        the database is never touched again, and kept alive until the process ends. What the process leaves is the
        store as of its last checkpoint, the same as after a kill -9, and re-running the ingest finishes it."""
        for handle in (self._conn, self._db):
            if handle is not None:
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(handle))
        reason = _first(cause) if isinstance(cause, RuntimeError) else type(cause).__name__
        message = (f"{what} ({reason}); the store keeps what it held at its last checkpoint: "
                   "fix the cause (free disk space, for one) and re-run the command to finish")
        self._conn, self._db = _Abandoned(message), None  # type: ignore[assignment]
        self._rows_since_checkpoint = 0
        return StoreError(message)

    def _upsert_nodes(self, table: s.NodeTable, rows: pa.Table) -> tuple[pa.Array, int]:
        """Returns the keys it created and how many stored rows it changed."""
        names = [name for name, _ in table.columns]
        returned = ", ".join(f"n.{name}" for name in names)
        found = self._conn.execute(f"LOAD FROM $t MATCH (n:{table.label} {{key: c_key}}) "
                                   f"RETURN {returned}, offset(id(n))",
                                   {"t": pa.table({"c_key": rows.column("key")})}).get_as_arrow()
        if not found.num_rows:
            self._change(table.label, f"COPY {table.label} FROM $t", {"t": rows})
            return rows.column("key").combine_chunks(), 0
        stored_mask = pc.is_in(rows.column("key"), value_set=found.column(0).combine_chunks())
        new = rows.filter(pc.invert(stored_mask))
        if new.num_rows:
            self._change(table.label, f"COPY {table.label} FROM $t", {"t": new})
        # Only rows that would change something are updated: SET runs at ~20k rows/s here, while reading the stored
        # values back is ~10x faster, so re-running an ingest costs a read, not a rewrite.
        stored = _rows_by_key(found, [*names, "offset"], key_columns=1)
        old = [row for row in rows.filter(stored_mask).to_pylist() if _changes(row, stored[row["key"]], names)]
        if old:
            self._checkpoint_before_updating(table.label, [stored[row["key"]]["offset"] for row in old])
            # A later, sparser source must not erase what an earlier one knew: nulls keep the stored value.
            sets = ", ".join(f"n.{name} = coalesce(c_{name}, n.{name})" for name, _ in table.columns[3:])
            sets = "n.id = c_id, n.stub = false" + (", " + sets if sets else "")
            self._change(
                table.label, f"LOAD FROM $t MATCH (n:{table.label} {{key: c_key}}) SET {sets}",
                {"t": _arrow(table.columns, _transposed(old, names), prefix="c_")},
            )
        return new.column("key").combine_chunks(), len(old)

    def _ensure_endpoints(self, label: str, keys: pa.ChunkedArray, ids: pa.ChunkedArray,
                          known: pa.ChunkedArray | None) -> tuple[int, int]:
        """Create stubs for endpoints not stored yet, and give a stored stub the spelling this batch names it by;
        ``known`` marks the keys this batch wrote already. Returns (stubs created, stubs renamed).

        Within a batch the last spelling of an endpoint wins (as for any repeated fact), so across batches it does
        too: otherwise a stub's id would depend on where batches happen to end."""
        wanted = pa.table({"key": keys, "id": ids})
        if known is not None:
            wanted = wanted.filter(pc.invert(known))
        if not wanted.num_rows:
            return 0, 0
        latest = dict(zip(wanted.column("key").to_pylist(), wanted.column("id").to_pylist()))
        # Arrow, not row iteration: the row iterator costs ~3 µs a row, more than the lookup itself.
        stored = self._conn.execute(f"LOAD FROM $t MATCH (n:{label}) WHERE n.key = c_key "
                                    "RETURN c_key, n.id, n.stub, offset(id(n))",
                                    {"t": pa.table({"c_key": list(latest)})}).get_as_arrow()
        found = stored.column(0).to_pylist()
        renamed, offsets = [], []
        for key, ident, stub, offset in zip(found, *(stored.column(i).to_pylist() for i in (1, 2, 3))):
            if stub and ident != latest[key]:
                renamed.append(key)
                offsets.append(offset)
        if renamed:
            self._checkpoint_before_updating(label, offsets)
            self._change(label, f"LOAD FROM $t MATCH (n:{label}) WHERE n.key = c_key SET n.id = c_id",
                         {"t": pa.table({"c_key": renamed, "c_id": [latest[key] for key in renamed]})})
        stubs = sorted(latest.keys() - set(found))
        if stubs:
            columns = {"key": stubs, "id": [latest[key] for key in stubs], "stub": [True] * len(stubs)}
            self._change(label, f"COPY {label} FROM $t", {"t": _arrow(s.NODE_TABLES[label].columns, columns)})
        return len(stubs), len(renamed)

    def _upsert_edges(self, rel: s.RelTable, from_label: str, to_label: str, edges: pa.Table,
                      new_from: pa.ChunkedArray | None) -> tuple[int, int]:
        """Edges from a node this write created cannot exist yet: only the others are looked up (on a first
        ingest that is none of them, which halves the write time)."""
        # Anchored on `a` through its key index and expanded from there: the pattern form with both keys inline,
        # `(a {key: c_from})-[e]->(b {key: c_to})`, is planned as a hash join over every stored edge of the type
        # (0.5-0.8 s per probe at 1M edges, even for one row; this form takes 4 ms).
        apart = rel.told_apart_by  # a schema name, never user input
        pattern = (f"(a:{from_label}) WHERE a.key = c_from MATCH (a)-[e:{rel.type}]->(b:{to_label}) "
                   f"WHERE b.key = c_to{'' if apart is None else f' AND e.{apart} = c_{apart}'}")
        names = ["from", "to", *(name for name, _ in rel.columns)]  # in table order, as COPY wants them
        others = [name for name in names if name not in rel.identity]
        rows = edges.select(names)
        probed = rows if new_from is None else rows.filter(pc.invert(new_from))
        found = None
        if probed.num_rows:
            probe = pa.table({f"c_{name}": probed.column(name) for name in rel.identity})
            returned = ", ".join([*(f"c_{name}" for name in rel.identity), *(f"e.{name}" for name in others)])
            found = self._conn.execute(f"LOAD FROM $t MATCH {pattern} RETURN {returned}",
                                       {"t": probe}).get_as_arrow()
        options = f" (from='{from_label}', to='{to_label}')" if len(rel.pairs) > 1 else ""
        if found is None or not found.num_rows:
            self._change(rel.type, f"COPY {rel.type} FROM $t{options}", {"t": rows})
            return rows.num_rows, 0
        identity = len(rel.identity)  # the first columns of `found`
        stored_mask = pc.is_in(identity_strings([rows.column(name) for name in rel.identity]),
                               value_set=identity_strings(found.columns[:identity]))
        new = rows.filter(pc.invert(stored_mask))
        if new.num_rows:
            self._change(rel.type, f"COPY {rel.type} FROM $t{options}", {"t": new})
        stored = _rows_by_key(found, [*rel.identity, *others], key_columns=identity)
        old = [row for row in rows.filter(stored_mask).to_pylist()
               if _changes(row, stored[tuple(row[name] for name in rel.identity)], names)]
        if old and others:
            sets = ", ".join(f"e.{name} = coalesce(c_{name}, e.{name})" for name in others)
            self._change(rel.type, f"LOAD FROM $t MATCH {pattern} SET {sets}",
                         {"t": _arrow((*_ENDS[:2], *rel.columns), _transposed(old, names), prefix="c_")})
        return new.num_rows, len(old)

    # -- reads --------------------------------------------------------------------------------------------------
    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        given = check_parameters(cypher, params)
        try:
            result = self._conn.execute(cypher, given)
        except RuntimeError as exc:
            raise QueryError(_first_line(exc, self.read_only)) from None
        columns = result.get_column_names()
        rows = [[_plain(value) for value in row] for row in result.get_all()]
        return QueryResult(columns, rows)

    def model(self, model_id: str) -> dict[str, Any] | None:
        rows = self._conn.execute(q.MODEL_BY_KEY, {"k": node_key(model_id)}).get_all()
        return _plain(rows[0][0]) if rows else None

    def lineage(self, model_id: str, direction: Direction, max_depth: int | None = None,
                relations: Collection[str] | None = None) -> list[LineageHit]:
        index, start = self._start(model_id)
        hits, _ = index.hits(start, direction, max_depth, _relations(relations))
        return hits

    def affected_repos(self, model_id: str, max_depth: int | None = None,
                       relations: Collection[str] | None = None) -> list[RepoHit]:
        index, start = self._start(model_id)
        return index.affected(start, max_depth, _relations(relations))

    def lineage_cycles(self, limit: int = 20) -> list[list[str]]:
        """Groups of models whose declared lineage loops back on itself (kept as declared, reported here)."""
        index = self._cached_index(self._generation("lineage_generation"))
        if index is not None:
            return index.cycles(limit)
        # Every ingest asks this at its end; it needs only the edges, not the whole index (ids, downloads, repos),
        # which took 1.8 s of a 1M-model ingest. The next lineage query builds the index.
        edges = self._conn.execute("MATCH (c:Model)-[:DERIVED_FROM]->(p:Model) "
                                   "RETURN offset(id(c)) AS child, offset(id(p)) AS parent").get_as_arrow()
        if not edges.num_rows:
            return []
        child = edges.column("child").to_numpy().astype(np.int64)
        parent = edges.column("parent").to_numpy().astype(np.int64)
        groups = cycle_groups(int(max(child.max(), parent.max())) + 1, child, parent, limit)
        if not groups:
            return []
        found = self._conn.execute("MATCH (m:Model) WHERE offset(id(m)) IN $o RETURN offset(id(m)), m.id",
                                   {"o": sorted({int(x) for group in groups for x in group})}).get_all()
        ids = {int(offset): ident for offset, ident in found}
        return [sorted(ids[x] for x in group) for group in groups]

    def _start(self, model_id: str) -> tuple[LineageIndex, int]:
        rows = self._conn.execute("MATCH (m:Model {key: $k}) RETURN offset(id(m))", {"k": node_key(model_id)}).get_all()
        if not rows:
            raise ModelNotFound(f"model {model_id!r} is not in the store {self.uri}: check the id, or ingest it first")
        return self._lineage_index(), int(rows[0][0])

    def _generation(self, field: str = "generation") -> int:
        # `field` is one of two fixed property names, never user input.
        return int(self._conn.execute(f"MATCH (m:Meta {{key: 'store'}}) RETURN m.{field}").get_all()[0][0])

    def _cached_index(self, generation: int) -> LineageIndex | None:
        """The index of this generation if it is in memory or cached on disk; None if it must be built."""
        if self._index is None or self._index_generation != generation:
            self._index = LineageIndex.load(self.path / INDEX_DIR, self._stamp(generation))
            self._index_generation = generation
        return self._index

    @staticmethod
    def _stamp(generation: int) -> dict[str, int]:
        return {"generation": generation, "schema_version": s.SCHEMA_VERSION}

    def _lineage_index(self) -> LineageIndex:
        generation = self._generation("lineage_generation")
        index = self._cached_index(generation)
        if index is None:
            # The cache on disk must describe durable data: after a crash the generation counter goes back with
            # the batches the crash undid, and the next writes would reach the same number with other data.
            self.sync()
            index = self._build_index()
            index.save(self.path / INDEX_DIR, self._stamp(generation))
        self._index, self._index_generation = index, generation
        return index

    def _build_index(self) -> LineageIndex:
        def arrow(cypher: str) -> pa.Table:
            return self._conn.execute(cypher).get_as_arrow()

        models = arrow("MATCH (m:Model) RETURN offset(id(m)) AS offset, m.id AS id, m.stub AS stub, "
                       "m.downloads AS downloads")
        edges = arrow("MATCH (c:Model)-[e:DERIVED_FROM]->(p:Model) RETURN offset(id(c)) AS child, "
                      "offset(id(p)) AS parent, e.relation AS relation, e.provenance AS provenance")
        repos = arrow("MATCH (r:Repo) RETURN offset(id(r)) AS offset, r.id AS id")
        uses = arrow("MATCH (r:Repo)-[u:USES]->(m:Model) RETURN offset(id(r)) AS repo, offset(id(m)) AS model, "
                     "u.file AS file, u.line AS line")
        return LineageIndex.build(models, edges, repos, uses)

    def info(self) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file()) if self.path.exists() else 0
        return {
            "kind": "embedded", "engine": f"LadybugDB {ladybug.__version__}", "uri": self.uri,
            "store_format": STORE_FORMAT, "schema_version": s.SCHEMA_VERSION, "generation": self._generation(),
            "read_only": self.read_only, "size_bytes": size,
        }

    def _require_writable(self, what: str) -> None:
        if self.read_only:
            raise StoreError(f"store {self.uri} is open read-only; {what} needs it opened for writing")


# What the lineage index is built from: writes that change none of it (flags, licences) leave it valid.
_INDEXED_TABLES = {"Model", "Repo", "DERIVED_FROM", "USES"}


def _rows_by_key(table: pa.Table, names: list[str], key_columns: int) -> dict[Any, dict[str, Any]]:
    """Stored rows keyed by their identity (the first ``key_columns`` columns), as {column name: value}."""
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    keys = zip(*columns[:key_columns]) if key_columns > 1 else iter(columns[0])
    return {key: dict(zip(names, values)) for key, values in zip(keys, zip(*columns))}


def _changes(row: Row, stored: dict[str, Any], names: list[str]) -> bool:
    """Would writing ``row`` change the stored values (nulls keep what is stored; a stub becomes real)?"""
    if stored.get("stub"):
        return True
    return any(row.get(name) is not None and row[name] != stored.get(name) for name in names)


class _Abandoned:
    """The connection of a store given up after a failed write or checkpoint (see EmbeddedStore._abandon): every use
    says why."""

    def __init__(self, message: str) -> None:
        self.message = message

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError(self.message)

    def close(self) -> None:
        pass


def _first(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _relations(relations: Collection[str] | None) -> frozenset[str] | None:
    return None if relations is None else frozenset(relations)


def wipe(path: Path) -> None:
    """Delete a store folder's files without opening it (it may be from another version or corrupt)."""
    for name in (DB_FILE, DB_FILE + ".wal", MARKER):
        target = path / name
        if target.exists():
            target.unlink()
    shutil.rmtree(path / INDEX_DIR, ignore_errors=True)


def _arrow(columns: tuple[tuple[str, str], ...], values: Mapping[str, list[Any]], prefix: str = "") -> pa.Table:
    """Columns in table order: ``COPY FROM`` maps them by position, not by name. Absent columns are nulls."""
    length = len(next(iter(values.values())))
    arrays = [pa.array(values[name], type=ARROW_TYPES[kind]) if name in values else pa.nulls(length, ARROW_TYPES[kind])
              for name, kind in columns]
    return pa.table(arrays, names=[prefix + name for name, _ in columns])


def _transposed(rows: list[Row], names: list[str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C takes effect when the write is over (its transaction, and the checkpoint it may start), not within it.

    LadybugDB 0.22 rolls back a statement that an interrupt stops, and a rollback while earlier commits wait for a
    checkpoint corrupts its memory: the next checkpoint, at close, segfaulted. A write takes seconds at most."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's own handler raises KeyboardInterrupt
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


def _members(values: pa.ChunkedArray, keys: pa.Array | None) -> pa.ChunkedArray | None:
    """Which ``values`` are among ``keys`` (None: no keys to look in)."""
    return None if keys is None else pc.is_in(values, value_set=keys)


def _all(n: int) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(np.ones(n, dtype=bool))])


def _plain(value: Any) -> Any:
    """Query values as JSON-ready Python: nodes and relationships become their property dicts."""
    if isinstance(value, dict):
        upper = {k.upper(): v for k, v in value.items() if k.startswith("_")}
        props = {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
        if "_NODES" in upper and "_RELS" in upper:
            return {"nodes": [_plain(n) for n in upper["_NODES"]], "relationships": [_plain(r) for r in upper["_RELS"]]}
        if "_SRC" in upper and "_LABEL" in upper:
            return {"_type": upper["_LABEL"], **props}
        if "_ID" in upper and "_LABEL" in upper:
            return {"_label": upper["_LABEL"], **props}
        return props
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _first_line(exc: Exception, read_only: bool) -> str:
    text = _first(exc).strip()
    if read_only and "read-only" in text:
        return "the query writes, but stores are opened read-only for queries: add --write to allow it"
    return f"the store rejected the query: {text}"
