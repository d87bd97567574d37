"""Choosing a store from a URI: a folder path is the embedded store, bolt:// or neo4j:// (+s, +ssc) is Neo4j."""

from __future__ import annotations

import os
import re

from ptmgraph.errors import UnknownStoreURI
from ptmgraph.graph.store import GraphStore

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def resolve_uri(uri: str | None) -> str:
    if uri:
        return uri
    from ptmgraph.graph.embedded import default_path

    return os.environ.get("PTMGRAPH_STORE") or str(default_path())


def reset_store(uri: str | None = None) -> str:
    """Empty the store; an embedded store from another version, which cannot be opened, is wiped instead."""
    from ptmgraph.errors import StoreVersionMismatch

    target = resolve_uri(uri)
    try:
        with open_store(target) as store:
            store.reset()
    except StoreVersionMismatch:
        if _SCHEME.match(target) and not target.startswith("file://"):
            raise
        from pathlib import Path

        from ptmgraph.graph.embedded import wipe

        wipe(Path(target.removeprefix("file://")).expanduser())
    return target


def open_store(uri: str | None = None, *, read_only: bool = False) -> GraphStore:
    target = resolve_uri(uri)
    match = _SCHEME.match(target)
    scheme = match.group(1).lower() if match else None
    if scheme in NEO4J_SCHEMES:
        from ptmgraph.graph.neo4j_store import Neo4jStore

        return Neo4jStore.from_env(target, read_only=read_only)
    if scheme == "file":
        target = target[len("file://"):]
    elif scheme is not None:
        raise UnknownStoreURI(
            f"unknown store {target!r}: use a folder path for the embedded store, or "
            f"bolt://host:7687 / neo4j+s://host for Neo4j"
        )
    from ptmgraph.graph.embedded import EmbeddedStore

    return EmbeddedStore(target, read_only=read_only)
