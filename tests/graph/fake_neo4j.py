"""A stand-in for the neo4j driver that records every statement, for asserting exactly what the store sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Responder = Callable[[str, dict], tuple[list[str], list[list[Any]], dict[str, int]]]


@dataclass
class Sent:
    mode: str
    cypher: str
    params: dict
    in_transaction: bool
    committed: bool = False


class _Counters:
    def __init__(self, values: dict[str, int]) -> None:
        self.nodes_created = values.get("nodes_created", 0)
        self.relationships_created = values.get("relationships_created", 0)


class _Summary:
    def __init__(self, counters: dict[str, int]) -> None:
        self.counters = _Counters(counters)


class _Record:
    def __init__(self, row: list[Any]) -> None:
        self._row = row

    def values(self) -> list[Any]:
        return list(self._row)


class _Result:
    def __init__(self, keys: list[str], rows: list[list[Any]], counters: dict[str, int]) -> None:
        self._keys, self._rows, self._counters = keys, rows, counters

    def keys(self) -> list[str]:
        return self._keys

    def __iter__(self):
        return iter(_Record(r) for r in self._rows)

    def consume(self) -> _Summary:
        return _Summary(self._counters)


class _Tx:
    def __init__(self, driver: FakeDriver, mode: str) -> None:
        self.driver, self.mode = driver, mode
        self.sent: list[Sent] = []
        self.closed = False

    def run(self, cypher: str, params: dict) -> _Result:
        sent = Sent(self.mode, cypher, params, True)
        self.sent.append(sent)
        self.driver.sent.append(sent)
        return _Result(*self.driver.respond(cypher, params))

    def commit(self) -> None:
        for sent in self.sent:
            sent.committed = True

    def close(self) -> None:
        self.closed = True
        self.driver.rolled_back += 0 if all(s.committed for s in self.sent) else 1


class _Session:
    def __init__(self, driver: FakeDriver, mode: str, database: str | None) -> None:
        self.driver, self.mode, self.database = driver, mode, database

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, cypher: str, params: dict) -> _Result:
        sent = Sent(self.mode, cypher, params, False, committed=True)
        self.driver.sent.append(sent)
        return _Result(*self.driver.respond(cypher, params))

    def begin_transaction(self) -> _Tx:
        return _Tx(self.driver, self.mode)


@dataclass
class FakeDriver:
    responder: Responder = lambda cypher, params: ([], [], {})
    sent: list[Sent] = field(default_factory=list)
    sessions: list[tuple[str | None, str]] = field(default_factory=list)
    rolled_back: int = 0
    closed: bool = False

    def session(self, database: str | None = None, default_access_mode: str = "WRITE") -> _Session:
        self.sessions.append((database, default_access_mode))
        return _Session(self, default_access_mode, database)

    def respond(self, cypher: str, params: dict) -> tuple[list[str], list[list[Any]], dict[str, int]]:
        return self.responder(cypher, params)

    def statements(self, containing: str = "") -> list[Sent]:
        return [s for s in self.sent if containing in s.cypher]

    def get_server_info(self):
        class Info:
            agent = "Neo4j/5.26.0"
        return Info()

    def close(self) -> None:
        self.closed = True
