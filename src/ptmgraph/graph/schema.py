"""The graph's schema: node labels, relationship types and their properties, shared by every store.

Every node has ``key`` (the case-folded id, unique) and ``id`` (as declared) and ``stub`` (true for a placeholder
created because an edge pointed at something no source has described yet). A relationship is identified by its two
endpoints, so that writing the same fact twice leaves one edge; the two that may hold several times between the
same nodes are told apart by one property more: DERIVED_FROM by its ``provenance``, USES by ``disc`` (file and line).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 3  # 3: no disc but on USES (DERIVED_FROM is told apart by its provenance)

STRING = "STRING"
INT64 = "INT64"
DOUBLE = "DOUBLE"
BOOLEAN = "BOOLEAN"
STRING_LIST = "STRING[]"


@dataclass(frozen=True)
class NodeTable:
    label: str
    props: tuple[tuple[str, str], ...]  # (name, type) after the implicit key/id/stub

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return (("key", STRING), ("id", STRING), ("stub", BOOLEAN), *self.props)


@dataclass(frozen=True)
class RelTable:
    type: str
    pairs: tuple[tuple[str, str], ...]  # (from label, to label)
    props: tuple[tuple[str, str], ...]
    # The property that tells apart several edges between the same two nodes, for a type that may have them. A
    # separate column for it on every type (an empty string where the ends suffice, a copy of DERIVED_FROM's
    # provenance) was not free: the embedded store's final checkpoint of 1M models took 4.0-4.9 s with it on the
    # author and licence edges against 3.3-3.6 s without (batches built first, three interleaved pairs).
    told_apart_by: str | None = None

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The stored properties, in table order: all of ``props`` (an edge has no implicit ones, unlike a node)."""
        return self.props

    @property
    def identity(self) -> tuple[str, ...]:
        """The columns of an edge table (ends first, then :attr:`columns`) that identify an edge."""
        return ("from", "to") if self.told_apart_by is None else ("from", "to", self.told_apart_by)


MODEL = NodeTable(
    "Model",
    (
        ("author", STRING),
        ("sha", STRING),
        ("created_at", STRING),
        ("last_modified", STRING),
        ("downloads", INT64),
        ("likes", INT64),
        ("license", STRING),
        ("library", STRING),
        ("pipeline_tag", STRING),
        ("tags", STRING_LIST),
        ("model_type", STRING),
        ("architectures", STRING_LIST),
        ("files", STRING_LIST),
        ("gated", BOOLEAN),
        ("has_card", BOOLEAN),
        ("source", STRING),
    ),
)
REPO = NodeTable("Repo", (("url", STRING), ("licenses", STRING_LIST), ("source", STRING)))
AUTHOR = NodeTable("Author", ())
LICENSE = NodeTable("License", ())
DATASET = NodeTable("Dataset", ())
FLAG = NodeTable(
    "Flag",
    (
        ("kind", STRING),
        ("severity", STRING),
        ("summary", STRING),
        ("detector", STRING),
        ("evidence", STRING),
        ("created_at", STRING),
        ("reference_urls", STRING_LIST),
    ),
)

DERIVED_FROM = RelTable(
    "DERIVED_FROM",
    (("Model", "Model"),),
    (("relation", STRING), ("provenance", STRING), ("confidence", DOUBLE), ("source", STRING)),
    told_apart_by="provenance",
)
# ``disc`` is "file:line", or empty where the file is not known (a NULL file or line could not be matched on).
USES = RelTable("USES", (("Repo", "Model"),),
                (("disc", STRING), ("file", STRING), ("line", INT64), ("source", STRING)), told_apart_by="disc")
TRAINED_ON = RelTable("TRAINED_ON", (("Model", "Dataset"),), (("source", STRING),))
LICENSED_AS = RelTable("LICENSED_AS", (("Model", "License"), ("Repo", "License")), (("source", STRING),))
AUTHORED_BY = RelTable("AUTHORED_BY", (("Model", "Author"),), ())
HAS_FLAG = RelTable("HAS_FLAG", (("Model", "Flag"), ("Repo", "Flag")), ())
INHERITS = RelTable(
    "INHERITS",
    (("Model", "Flag"), ("Repo", "Flag")),
    (("via", STRING), ("relation", STRING), ("depth", INT64)),
)

NODE_TABLES: dict[str, NodeTable] = {t.label: t for t in (MODEL, REPO, AUTHOR, LICENSE, DATASET, FLAG)}
REL_TABLES: dict[str, RelTable] = {
    t.type: t for t in (DERIVED_FROM, USES, TRAINED_ON, LICENSED_AS, AUTHORED_BY, HAS_FLAG, INHERITS)
}
