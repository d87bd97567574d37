"""Turns domain records into per-table rows, the unit every store writes in bulk.

A batch keeps each record once per identity (a repeated fact is merged: later non-null values win) and builds
the tables only when a store asks, as columns: an ingest of a million models costs a list per column, not a
dict per row. This is also where a record's implied facts become graph shape: a model's declared licence becomes
a License node and a LICENSED_AS edge, its author an Author node and an AUTHORED_BY edge (every record of a model
given twice implies its own). Where an implied fact and an explicit record say different things about the same
node or edge, the explicit record wins.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter, itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ptmgraph import domain as d
from ptmgraph.graph import schema as s

Row = dict[str, Any]
EdgeGroup = tuple[str, str, str]  # (rel type, from label, to label)
EDGE_ENDS = ("from", "to", "from_id", "to_id")  # keys and ids of the two endpoints, before the rel's own columns
TRANSPOSED_ROWS = 256  # rows turned into columns at a time (see _transposed)
# An edge table's schema metadata: the ends ("from", "to") whose every key is a node of the same batch (see
# ends_in_batch).
ENDS_IN_BATCH = b"ptmgraph.ends_in_batch"
NO_ENDS: frozenset[str] = frozenset()
ARROW_TYPES = {
    s.STRING: pa.string(), s.INT64: pa.int64(), s.DOUBLE: pa.float64(), s.BOOLEAN: pa.bool_(),
    s.STRING_LIST: pa.list_(pa.string()),
}


@dataclass
class Edge:
    """One edge as a row (the view stores that write row by row use)."""

    from_key: str
    from_id: str
    to_key: str
    to_id: str
    props: Row


def _merged(old: Any, new: Any) -> Any:
    """``new`` with ``old``'s values where ``new`` does not know (None)."""
    record = object.__new__(type(new))
    for f in fields(new):
        value = getattr(new, f.name)
        object.__setattr__(record, f.name, getattr(old, f.name) if value is None else value)
    return record


def _merged_values(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(was if value is None else value for was, value in zip(old, new, strict=True))


class _Table:
    """Rows of one table, one per identity; a repeated identity merges into the first row (non-null wins).

    A table can also start as whole columns (:meth:`load`, for the one contributor per batch that fills most rows):
    building a list per row and transposing them back costs more than everything else in a batch of models. A
    later :meth:`add` turns the columns into rows first, so the merge rules stay the same either way."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.rows: dict[Hashable, list[Any]] = {}
        self._columns: list[Sequence[Any]] | None = None  # set by load(), one sequence per name
        self._identity: tuple[int, ...] = (0,)
        self.ends_in_batch: frozenset[str] | None = None  # of an edge table: None until rows come

    def load(self, columns: list[Sequence[Any] | pa.Array], identity: tuple[int, ...],
             ends_in_batch: frozenset[str] = NO_ENDS) -> None:
        """Rows given as columns (one per name: Python values, or an Arrow array of the column's type), each row's
        identity made of the ``identity`` columns; rows must be distinct. Identities are only built if a later
        :meth:`add` needs them. ``ends_in_batch``: the edge ends the caller knows to be nodes of this batch."""
        ends = ends_in_batch if self.ends_in_batch is None else self.ends_in_batch & ends_in_batch
        if self.rows or self._columns is not None:
            self._add_columns(columns, identity)
        else:
            self._columns, self._identity = columns, identity
        self.ends_in_batch = ends

    def _add_columns(self, columns: list[Sequence[Any] | pa.Array], identity: tuple[int, ...]) -> None:
        columns = [c.to_pylist() if isinstance(c, pa.Array) else c for c in columns]
        picks = [columns[i] for i in identity]
        identities = picks[0] if len(picks) == 1 else zip(*picks, strict=True)
        for key, values in zip(identities, zip(*columns, strict=True)):
            self.add(key, list(values))

    def add(self, identity: Hashable, values: list[Any]) -> None:
        """One row (an edge added this way vouches for none of its ends)."""
        self.ends_in_batch = NO_ENDS
        if self._columns is not None:  # rows from now on: the loaded columns become rows first
            columns, self._columns = self._columns, None
            self._add_columns(columns, self._identity)
        old = self.rows.get(identity)
        if old is None:
            self.rows[identity] = values
        else:
            for i, value in enumerate(values):
                if value is not None:
                    old[i] = value

    def arrow(self, types: tuple[str, ...]) -> pa.Table:
        if self._columns is not None:
            columns: Iterable[Any] = self._columns
        else:
            columns = _transposed(list(self.rows.values()), len(self.names))
        table = pa.table([values if isinstance(values, pa.Array) else pa.array(values, type=ARROW_TYPES[kind])
                          for values, kind in zip(columns, types, strict=True)], names=list(self.names))
        return _with_ends_in_batch(table, self.ends_in_batch or NO_ENDS)


def ends_in_batch(edges: pa.Table) -> frozenset[str]:
    """The ends of an edge table (``"from"``, ``"to"``) whose every key is a node of the batch the table came with:
    a store need not look those up (nor make stubs for them). Known where the batch built the table from its own
    models (each model's author and licence; lineage between models of the batch), else none."""
    metadata = edges.schema.metadata or {}
    return frozenset(end for end in metadata.get(ENDS_IN_BATCH, b"").decode().split(",") if end)


def _with_ends_in_batch(edges: pa.Table, ends: frozenset[str]) -> pa.Table:
    return edges.replace_schema_metadata({ENDS_IN_BATCH: ",".join(sorted(ends)).encode()} if ends else None)


def _transposed(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows → columns, a block of rows at a time: a pass per column over a batch's hundred thousand rows (each
    pass out of the core's caches) took twice as long, and so did ``zip(*rows)`` over all of them at once."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for start in range(0, len(rows), TRANSPOSED_ROWS):
        for column, values in zip(columns, zip(*rows[start:start + TRANSPOSED_ROWS])):
            column.extend(values)
    return columns


class Batch:
    def __init__(self) -> None:
        self._records: dict[type, dict[Hashable, Any]] = {}
        self._built: tuple[dict[str, pa.Table], dict[EdgeGroup, pa.Table]] | None = None
        self._repeats = _Repeats()
        self._tail = _Tail()  # models (and their bases) added as columns after everything in _records
        self._lineage_children: set[str] = set()  # child keys of the Lineage bucket

    @classmethod
    def prebuilt(cls, nodes: dict[str, pa.Table], edges: dict[EdgeGroup, pa.Table]) -> Batch:
        """A batch whose tables were built elsewhere (in the ingest worker process)."""
        batch = cls()
        batch._built = (nodes, edges)
        return batch

    @classmethod
    def of(cls, records: Iterable[d.Record]) -> Batch:
        batch = cls()
        for record in records:
            batch.add(record)
        return batch

    def add(self, record: d.Record) -> None:
        kind = type(record)
        if kind is d.Model:
            self.add_model_values(_MODEL_VALUES(record))
            return
        if kind is d.Lineage:
            self.add_lineage_values(record.child, record.parent, record.relation, record.provenance,
                                    record.confidence, record.source)
            return
        identity = _IDENTITIES.get(kind)
        if identity is None:
            raise TypeError(f"not a ptmgraph record: {kind.__name__}")
        self._put(kind, identity(record), record, _merged)

    def _put(self, kind: type, key: Hashable, value: Any, merged: Callable[[Any, Any], Any],
             repeats: _Repeats | None = None) -> None:
        """Keep ``value`` under ``key``, merged into what the batch already holds there (later non-null wins); a
        repeated key is also told to ``repeats``."""
        if self._tail.keys and (kind is d.Model or kind is d.Lineage):
            self._flush_tail()  # the tail's rows came first: they go in first
        bucket = self._records.get(kind)
        if bucket is None:
            bucket = self._records[kind] = {}
        old = bucket.get(key)
        if old is None:
            bucket[key] = value
        else:
            if repeats is not None:
                repeats.add(len(bucket), key, old, value)
            bucket[key] = merged(old, value)
        self._built = None

    # Models and lineage edges are kept as the values their records hold (the two kinds an ingest has millions of),
    # so that a source may add them without building the records: see hf_model.add_plain.
    def add_model_values(self, values: tuple[Any, ...]) -> str:
        """A model as the values of :class:`~ptmgraph.domain.Model`'s fields, in order: only values that the
        record would hold unchanged (a plain id, tuples of strings, counts >= 0). Returns the model's key."""
        key = d.node_key(values[0])
        self._put(d.Model, key, values, _merged_values, self._repeats)
        return key

    def add_lineage_values(self, child: str, parent: str, relation: str, provenance: str, confidence: float,
                           source: str, child_key: str | None = None) -> bool:
        """A lineage edge as the values of :class:`~ptmgraph.domain.Lineage`'s fields: plain ids, a relation
        and provenance of their enums, a confidence in 0..1 as a float (and the child's key, where the caller
        has it already). True when it is a self-loop (ingest reports those)."""
        child_key = d.node_key(child) if child_key is None else child_key
        parent_key = d.node_key(parent)
        self._put(d.Lineage, (child_key, parent_key, provenance), (child, parent, relation, confidence, source),
                  _merged_values)
        self._lineage_children.add(child_key)
        return child_key == parent_key

    def add_model_columns(self, keys: list[str], columns: Sequence[list[Any]],
                          lineage: list[list[tuple[str, str, str]]], source: str) -> None:
        """Models as columns (one list per field of :class:`~ptmgraph.domain.Model`, the rows keyed by ``keys``),
        each with its ``lineage`` entry: (base, relation, provenance) of each lineage edge to a base, all from
        ``source`` with confidence 1, a plain id and one edge per base and provenance. The same as
        :meth:`add_model_values` and :meth:`add_lineage_values` row by row, and much faster where the models are
        new to the batch, as they are in a snapshot: the columns are kept as they are, to become the tables' last
        rows, and no row is built."""
        tail = self._tail
        models = self._records.get(d.Model, {})
        if (len(set(keys)) != len(keys) or not tail.key_set.isdisjoint(keys) or any(map(models.__contains__, keys))
                or not self._lineage_children.isdisjoint(keys) or (tail.keys and source != tail.source)):
            # A model given again merges with its earlier rows, row by row, in order.
            for values, key, edges in zip(zip(*columns), keys, lineage, strict=True):
                self._add_model_row(key, values, edges, source)
            return
        tail.extend(keys, columns, lineage, source)
        self._built = None

    def _add_model_row(self, key: str, values: tuple[Any, ...], edges: list[tuple[str, str, str]],
                       source: str) -> None:
        self.add_model_values(values)
        for base, relation, provenance in edges:
            self.add_lineage_values(values[0], base, relation, provenance, 1.0, source, key)

    def _flush_tail(self) -> None:
        tail, self._tail = self._tail, _Tail()
        for key, values, edges in tail.rows():
            self._add_model_row(key, values, edges, tail.source)

    @property
    def models(self) -> int:
        """Distinct models in the batch."""
        return len(self._records.get(d.Model, ())) + len(self._tail.keys)

    def __len__(self) -> int:
        """Distinct records (a fact repeated in the batch counts once); rows, for a prebuilt batch."""
        if self._built is not None and not self._records and not self._tail.keys:
            return sum(table.num_rows for tables in self._built for table in tables.values())
        return sum(len(bucket) for bucket in self._records.values()) + len(self._tail)

    # -- tables -------------------------------------------------------------------------------------------------
    def tables(self) -> tuple[dict[str, pa.Table], dict[EdgeGroup, pa.Table]]:
        """Node tables (label → Arrow table, columns in schema order) and edge tables ((rel, from, to) → ``from``,
        ``to``, ``from_id``, ``to_id``, then the rel's columns), each row once."""
        if self._built is None:
            nodes: dict[str, _Table] = {}
            edges: dict[EdgeGroup, _Table] = {}
            models = self._records.get(d.Model) or {}
            tail = self._tail
            sink = _Sink(nodes, edges, models, tail.key_set)
            if models or tail.keys:
                _models(models, sink, self._repeats, tail)
            for kind, contribute in _CONTRIBUTORS:
                bucket = self._records.get(kind)
                if kind is d.Lineage and tail.edges[0]:
                    _lineage(bucket or {}, sink, tail)
                elif bucket:
                    contribute(bucket, sink)
            ends = tuple(s.STRING for _ in EDGE_ENDS)
            self._built = (
                {label: t.arrow(tuple(kind for _, kind in s.NODE_TABLES[label].columns))
                 for label, t in nodes.items()},
                {group: t.arrow((*ends, *(kind for _, kind in s.REL_TABLES[group[0]].columns)))
                 for group, t in edges.items()},
            )
        return self._built

    @property
    def nodes(self) -> dict[str, dict[str, Row]]:
        """Node tables as rows keyed by node key (for stores that write row by row)."""
        return {label: {row["key"]: row for row in table.to_pylist()} for label, table in self.tables()[0].items()}

    @property
    def edges(self) -> dict[EdgeGroup, dict[tuple[str, str, str], Edge]]:
        """Edge tables as :class:`Edge` rows keyed by identity (both keys, and what tells the edge apart from others
        between the same two nodes, or "")."""
        out: dict[EdgeGroup, dict[tuple[str, str, str], Edge]] = {}
        for group, table in self.tables()[1].items():
            told_apart_by = s.REL_TABLES[group[0]].told_apart_by
            rows = {}
            for row in table.to_pylist():
                edge = Edge(row.pop("from"), row.pop("from_id"), row.pop("to"), row.pop("to_id"), row)
                rows[(edge.from_key, edge.to_key, "" if told_apart_by is None else row[told_apart_by])] = edge
            out[group] = rows
        return out


class _Sink:
    """Where contributors put rows: one :class:`_Table` per node label and per edge group."""

    def __init__(self, nodes: dict[str, _Table], edges: dict[EdgeGroup, _Table], models: dict[str, Any],
                 more_models: set[str]) -> None:
        self._nodes, self._edges, self._models, self._more_models = nodes, edges, models, more_models

    def are_models(self, keys: Iterable[str]) -> bool:
        """Are these keys all models of the batch (rows of its Model table: _models writes every one)?"""
        models, more = self._models, self._more_models
        if not more:
            return all(map(models.__contains__, keys))
        if not models:
            return more.issuperset(keys)
        return all(key in models or key in more for key in keys)

    def node_table(self, label: str) -> _Table:
        table = self._nodes.get(label)
        if table is None:
            table = self._nodes[label] = _Table(tuple(name for name, _ in s.NODE_TABLES[label].columns))
        return table

    def edge_table(self, rel: str, from_label: str, to_label: str) -> _Table:
        group = (rel, from_label, to_label)
        table = self._edges.get(group)
        if table is None:
            table = self._edges[group] = _Table((*EDGE_ENDS, *(name for name, _ in s.REL_TABLES[rel].columns)))
        return table

    def named(self, label: str, identifiers: Iterable[str]) -> None:
        """Nodes that are nothing but a name (authors, licences, datasets)."""
        table = self.node_table(label)
        for identifier in identifiers:
            key = d.node_key(identifier)
            table.add(key, [key, identifier, False])

    def edge(self, rel: str, from_label: str, to_label: str, from_id: str, to_id: str,
             props: Iterable[Any] = ()) -> None:
        """One edge, ``props`` in the rel's column order."""
        from_key, to_key = d.node_key(from_id), d.node_key(to_id)
        values = [from_key, to_key, from_id, to_id, *props]
        told_apart_at = _TOLD_APART_AT.get(rel)
        self.edge_table(rel, from_label, to_label).add(
            (from_key, to_key) if told_apart_at is None else (from_key, to_key, values[told_apart_at]), values)


# Where in an edge row (ends first) the property that tells edges between two nodes apart is, for the rels with one.
_TOLD_APART_AT = {rel.type: len(EDGE_ENDS) + [name for name, _ in rel.columns].index(rel.told_apart_by)
                  for rel in s.REL_TABLES.values() if rel.told_apart_by is not None}


_MODEL_VALUES = attrgetter("id", *(name for name, _ in s.MODEL.props))
# add_model_values takes Model's fields in order, and the Model table stores them in that same order.
assert tuple(f.name for f in fields(d.Model)) == ("id", *(name for name, _ in s.MODEL.props))


class _Repeats:
    """The records of the models a batch was given more than once, and where they came. The batch keeps one row
    per model (its records merged), but each record implies its own author and licence edge, and a store never
    removes an edge: a later record with another author, or with none (""), adds to the edges of the earlier ones.
    So that a batch writes what its records written one by one would, whatever the batch boundaries, the implied
    edges of a batch with repeats are built from every record, in order."""

    def __init__(self) -> None:
        self._firsts: dict[str, tuple[Any, ...]] = {}  # a repeated model's first record
        self._later: list[tuple[int, str, tuple[Any, ...]]] = []  # (models held before it, key, values)

    def add(self, held: int, key: str, first: tuple[Any, ...], values: tuple[Any, ...]) -> None:
        """A later record (``values``) of the model ``key``, which the batch holds as ``first`` so far."""
        self._firsts.setdefault(key, first)
        self._later.append((held, key, values))

    def __bool__(self) -> bool:
        return bool(self._later)

    def in_order(self, bucket: dict[str, tuple[Any, ...]]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The keys and values of every record, in the order the batch was given them."""
        firsts = self._firsts
        keys, records = list(bucket), [firsts.get(key, merged) for key, merged in bucket.items()]
        keys_out: list[str] = []
        records_out: list[tuple[Any, ...]] = []
        start = 0
        for held, key, values in self._later:
            keys_out += keys[start:held]
            records_out += records[start:held]
            keys_out.append(key)
            records_out.append(values)
            start = held
        return keys_out + keys[start:], records_out + records[start:]


class _Tail:
    """Models a batch was given as columns (:meth:`Batch.add_model_columns`), none of them in its buckets, and
    their lineage edges."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.key_set: set[str] = set()
        self.columns: list[list[Any]] = [[] for _ in range(1 + len(s.MODEL.props))]
        self.lineage: list[list[tuple[str, str, str]]] = []  # each model's
        self.edges: list[list[str]] = [[], [], [], [], []]  # all of them: child key and id, base, relation, provenance
        self.source = ""

    def extend(self, keys: list[str], columns: Sequence[list[Any]], lineage: list[list[tuple[str, str, str]]],
               source: str) -> None:
        self.keys += keys
        self.key_set.update(keys)
        for column, more in zip(self.columns, columns, strict=True):
            column += more
        self.lineage += lineage
        self.source = source
        if any(lineage):
            ids = columns[0]
            rows = [(keys[i], ids[i], *edge) for i, edges in enumerate(lineage) for edge in edges]
            for column, more in zip(self.edges, zip(*rows), strict=True):
                column += more

    def __len__(self) -> int:
        return len(self.keys) + len(self.edges[0])

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...], list[tuple[str, str, str]]]]:
        """(key, Model values, lineage edges) of each model, in order."""
        return zip(self.keys, zip(*self.columns), self.lineage)


def _models(bucket: dict[str, tuple[Any, ...]], sink: _Sink, repeats: _Repeats, tail: _Tail) -> None:
    """The Model table, and the Author and License nodes and edges each model implies, built column by column:
    this runs once per model of every ingest (a million in the benchmark). The columns the implied edges share
    with the Model table are converted to Arrow once, and the edges are cut from them. The tail's models (none of
    them in the bucket) come last."""
    if not bucket:
        keys, (ids, *props) = tail.keys, tail.columns
    else:
        keys = list(bucket)
        ids, *props = _transposed(list(bucket.values()), 1 + len(s.MODEL.props))
        if tail.keys:
            keys += tail.keys
            for column, more in zip((ids, *props), tail.columns, strict=True):
                column += more
    names = dict(zip((name for name, _ in s.MODEL.props), range(len(props)), strict=True))
    implied = (names["author"], names["license"], names["source"])
    for i in implied:
        props[i] = pa.array(props[i], type=pa.string())
    key_column, id_column = pa.array(keys, type=pa.string()), pa.array(ids, type=pa.string())
    sink.node_table("Model").load([key_column, id_column, [False] * len(keys), *props], identity=(0,))
    if repeats:  # every record of the bucket, in order; the tail's (each model once) after them
        record_keys, records = repeats.in_order(bucket)
        key_column = pa.array(record_keys + tail.keys, type=pa.string())
        id_column = pa.array(list(map(itemgetter(0), records)) + tail.columns[0], type=pa.string())
        for i in implied:
            props[i] = pa.array(list(map(itemgetter(1 + i), records)) + tail.columns[1 + i], type=pa.string())
    author, licence, source = (props[i] for i in implied)
    _implied(sink, key_column, id_column, author, "Author", "AUTHORED_BY", None, distinct=not repeats)
    _implied(sink, key_column, id_column, licence, "License", "LICENSED_AS", source, distinct=not repeats)


def _implied(sink: _Sink, keys: pa.Array, ids: pa.Array, targets: pa.Array, label: str, rel: str,
             sources: pa.Array | None, distinct: bool) -> None:
    """Named nodes (``label``) for the non-empty ``targets``, and an edge ``rel`` from each model to its target.
    Unless the models are ``distinct``, one model may name one target several times: one edge, as for any
    repeated edge."""
    chosen = pc.fill_null(pc.not_equal(targets, ""), False)
    picked = targets.filter(chosen)
    if not len(picked):
        return
    spellings = pc.unique(picked)  # in order of first occurrence
    spelled = spellings.to_pylist()
    spelled_keys = [d.node_key(target) for target in spelled]
    if len(set(spelled_keys)) == len(spelled_keys):
        named_keys, named_ids = spelled_keys, spelled
    else:
        # One node spelled several ways: its first occurrence fixes its place, its last spelling its id, as adding
        # the models one by one would.
        key_of = dict(zip(spelled, spelled_keys, strict=True))
        named = {key_of[target]: target for target in picked.to_pylist()}
        named_keys, named_ids = list(named), list(named.values())
    sink.node_table(label).load([named_keys, named_ids, [False] * len(named_keys)], identity=(0,))
    to_keys = pa.array(spelled_keys, type=pa.string()).take(pc.index_in(picked, value_set=spellings))
    columns = [keys.filter(chosen), to_keys, ids.filter(chosen), picked]
    if sources is not None:
        columns.append(sources.filter(chosen))
    table = sink.edge_table(rel, "Model", label)
    if not distinct:
        rows = _one_row_each(pa.table(columns, names=list(table.names)), ("from", "to"))
        columns = [column.combine_chunks() for column in rows.columns]
    # Each edge runs from a model of the batch to a node loaded just above.
    table.load(columns, identity=(0, 1), ends_in_batch=_BOTH_ENDS)


_BOTH_ENDS = frozenset(("from", "to"))


def _lineage(bucket: dict[tuple[str, str, str], tuple[Any, ...]], sink: _Sink, tail: _Tail | None = None) -> None:
    # The identity holds both keys and the provenance already; by columns, as for models.
    children, parents, provenances = _transposed(list(bucket), 3)
    child_ids, parent_ids, relations, confidences, sources = _transposed(list(bucket.values()), 5)
    if tail is not None and tail.edges[0]:
        child_keys, child_tail_ids, bases, base_relations, base_provenances = tail.edges
        # The tail's bases are plain ids (ASCII): their keys are their lower case.
        base_keys = pc.ascii_lower(pa.array(bases, pa.string())).to_pylist()
        for column, more in zip((children, parents, child_ids, parent_ids, relations, provenances),
                                (child_keys, base_keys, child_tail_ids, bases, base_relations, base_provenances),
                                strict=True):
            column += more
        confidences += [1.0] * len(bases)
        sources += [tail.source] * len(bases)
    sink.edge_table("DERIVED_FROM", "Model", "Model").load(
        [children, parents, child_ids, parent_ids, relations, provenances, confidences, sources],
        identity=(0, 1, _TOLD_APART_AT["DERIVED_FROM"]),
        ends_in_batch=frozenset(end for end, keys in (("from", children), ("to", parents)) if sink.are_models(keys)))


def _repos(bucket: dict[str, d.Repo], sink: _Sink) -> None:
    table = sink.node_table("Repo")
    for key, r in bucket.items():
        table.add(key, [key, r.id, False, r.url, r.licenses, r.source])
    for r in bucket.values():
        sink.named("License", r.licenses or ())
        for licence in r.licenses or ():
            sink.edge("LICENSED_AS", "Repo", "License", r.id, licence, (r.source,))


def _flags(bucket: dict[str, d.Flag], sink: _Sink) -> None:
    table = sink.node_table("Flag")
    for key, f in bucket.items():
        table.add(key, [key, f.id, False, f.kind, f.severity.value, f.summary, f.detector, f.evidence, f.created_at,
                        f.references])
    for f in bucket.values():
        sink.edge("HAS_FLAG", f.subject_kind.value, "Flag", f.subject, f.id)


def _each(contribute: Callable[[Any, _Sink], None]) -> Callable[[dict[Hashable, Any], _Sink], None]:
    def contribute_all(bucket: dict[Hashable, Any], sink: _Sink) -> None:
        for record in bucket.values():
            contribute(record, sink)

    return contribute_all


def _uses(u: d.Uses, sink: _Sink) -> None:
    where = f"{u.file}:{u.line}" if u.file else ""
    sink.edge("USES", "Repo", "Model", u.repo, u.model, (where, u.file, u.line, u.source))


# Explicit records come after the facts models (built first, by _models) and repos imply, so they win where both
# describe one node or edge.
_CONTRIBUTORS: tuple[tuple[type, Callable[[Any, _Sink], None]], ...] = (
    (d.Repo, _repos),
    (d.Flag, _flags),
    (d.Author, lambda bucket, sink: sink.named("Author", (a.id for a in bucket.values()))),
    (d.License, lambda bucket, sink: sink.named("License", (lic.id for lic in bucket.values()))),
    (d.Dataset, lambda bucket, sink: sink.named("Dataset", (ds.id for ds in bucket.values()))),
    (d.Lineage, _lineage),
    (d.Uses, _each(_uses)),
    (d.TrainedOn, _each(lambda t, sink: sink.edge("TRAINED_ON", "Model", "Dataset", t.model, t.dataset,
                                                  (t.source,)))),
    (d.LicensedAs, _each(lambda la, sink: sink.edge("LICENSED_AS", la.subject_kind.value, "License", la.subject,
                                                    la.license, (la.source,)))),
    (d.AuthoredBy, _each(lambda a, sink: sink.edge("AUTHORED_BY", "Model", "Author", a.model, a.author))),
    (d.InheritedFlag, _each(lambda f, sink: sink.edge("INHERITS", f.subject_kind.value, "Flag", f.subject, f.flag,
                                                      (f.via, f.relation, f.depth)))),
)

_IDENTITIES: dict[type, Callable[[Any], Hashable]] = {
    d.Repo: lambda r: d.node_key(r.id),
    d.Author: lambda a: d.node_key(a.id),
    d.License: lambda lic: d.node_key(lic.id),
    d.Dataset: lambda ds: d.node_key(ds.id),
    d.Flag: lambda f: d.node_key(f.id),
    d.Uses: lambda u: (d.node_key(u.repo), d.node_key(u.model), u.file, u.line),
    d.TrainedOn: lambda t: (d.node_key(t.model), d.node_key(t.dataset)),
    d.LicensedAs: lambda la: (la.subject_kind, d.node_key(la.subject), d.node_key(la.license)),
    d.AuthoredBy: lambda a: (d.node_key(a.model), d.node_key(a.author)),
    d.InheritedFlag: lambda f: (f.subject_kind, d.node_key(f.subject), d.node_key(f.flag)),
}


Tables = tuple[dict[str, pa.Table], dict[EdgeGroup, pa.Table]]


def merged_tables(parts: Sequence[Tables]) -> Tables:
    """Several batches' tables as one batch's, such that writing the result equals writing the parts one after the
    other: a node or edge in more than one part is one row, placed where it first occurs, with the last non-null
    value of each column."""
    if len(parts) == 1:
        return parts[0]
    merged: Tables = ({}, {})
    apart: set[str] = set()  # labels of which no node is in two parts
    for side in (0, 1):
        names = dict.fromkeys(name for part in parts for name in part[side])
        for name in names:
            identity = ("key",) if side == 0 else s.REL_TABLES[name[0]].identity
            tables = [part[side][name] for part in parts if name in part[side]]
            whole = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
            if side == 0:
                merged[side][name] = table = _one_row_each(whole, identity) if len(tables) > 1 else whole
                if table is whole:
                    apart.add(name)
                continue
            # The merged nodes hold each part's: an end that every part's nodes hold, they hold too. And an edge in two
            # parts would have such an end's node in both: where that label's nodes are apart, the edges are too (the
            # check costs a hash of every edge's start, a million of them per million models).
            ends = frozenset.intersection(*map(ends_in_batch, tables))
            _, from_label, to_label = name
            if len(tables) > 1 and not any(end in ends and label in apart
                                           for end, label in (("from", from_label), ("to", to_label))):
                whole = _one_row_each(whole, identity)
            merged[side][name] = _with_ends_in_batch(whole, ends)
    return merged


def _one_row_each(table: pa.Table, identity: tuple[str, ...]) -> pa.Table:
    """One row per identity (merged as the batch merges them); the table itself where its rows are distinct."""
    if pc.count_distinct(table.column(identity[0])).as_py() == table.num_rows:
        return table  # distinct in the first column already (a model key; an edge's start, mostly)
    ids = identity_strings([table.column(name) for name in identity])
    distinct = pc.unique(ids)  # in order of first occurrence
    if len(distinct) == table.num_rows:
        return table
    first = pc.index_in(distinct, value_set=ids)  # each identity's first row
    counts = pc.value_counts(ids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    # Rows of a repeated identity are merged by the batch's own rule (few: the same author or licence in several
    # batches).
    repeats = pc.is_in(ids, value_set=repeated)
    merged = _Table(tuple(table.column_names))
    for key, row in zip(ids.filter(repeats).to_pylist(), table.filter(repeats).to_pylist(), strict=True):
        merged.add(key, list(row.values()))
    once = pc.invert(pc.is_in(distinct, value_set=repeated))
    merged_rows = pa.Table.from_arrays(_transposed(list(merged.rows.values()), table.num_columns), schema=table.schema)
    result = pa.concat_tables([table.take(first.filter(once)), merged_rows])
    places = pa.concat_arrays([first.filter(once), pc.index_in(pa.array(list(merged.rows), ids.type),
                                                                value_set=ids)])
    return result.take(pc.sort_indices(places))


def identity_strings(columns: Sequence[pa.ChunkedArray | pa.Array]) -> pa.Array:
    """One string per row for an identity of one or more string columns, so that Arrow can hash and compare it."""
    columns = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    return columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, "\x00")
