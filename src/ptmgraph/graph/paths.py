"""Explaining paths of inherited flags, rebuilt from the one step each INHERITS edge stores (``via``,
``relation``): from the flag's origin to the subject, as model ids and one relation per step."""

from __future__ import annotations

from typing import Any

from ptmgraph.domain import node_key
from ptmgraph.graph.store import GraphStore

#: Paths longer than this are shown as the origin, "…", then the last steps: a report listing every model of a
#: 10,000-deep chain with its whole path would be quadratic. `why` on one subject always gives the whole path.
SHOWN_STEPS = 50
ELIDED = "…"

_STEPS = ("MATCH (m:Model)-[i:INHERITS]->(f:Flag {key: $f}) RETURN m.id, i.via, i.relation")
_ORIGIN = ("MATCH (s:Model)-[:HAS_FLAG]->(f:Flag {key: $f}) RETURN s.id",
           "MATCH (s:Repo)-[:HAS_FLAG]->(f:Flag {key: $f}) RETURN s.id")


class Steps:
    """Every model one flag reaches, with its step back towards the origin."""

    def __init__(self, origin: str, rows: Any) -> None:
        self.origin = origin
        self._back = {node_key(m): (m, via, rel) for m, via, rel in rows}

    @classmethod
    def of_flag(cls, store: GraphStore, flag_id: str) -> Steps:
        origin = [row[0] for cypher in _ORIGIN for row in store.query(cypher, {"f": node_key(flag_id)}).rows]
        return cls(origin[0] if origin else "", store.query(_STEPS, {"f": node_key(flag_id)}).rows)

    def path(self, subject: str, via: str, relation: str,
             limit: int | None = None) -> tuple[list[str], list[str], bool]:
        """(path, relations, elided) from the origin to ``subject`` whose last step is ``via`` --relation-->.
        With ``limit``, at most that many steps are walked and the rest is one "…"."""
        nodes, relations = [subject], [relation]
        current, seen = via, {node_key(subject)}
        origin_key = node_key(self.origin)
        while node_key(current) != origin_key:
            step = self._back.get(node_key(current))
            if step is None or node_key(current) in seen:
                break  # a step missing (written by an older run) or a loop: show what is known
            if limit is not None and len(relations) >= limit:
                nodes.append(current)
                nodes.reverse()
                relations.reverse()
                return [self.origin, ELIDED, *nodes], [ELIDED, ELIDED, *relations], True
            seen.add(node_key(current))
            nodes.append(current)
            relations.append(step[2])
            current = step[1]
        nodes.append(current)
        nodes.reverse()
        relations.reverse()
        return nodes, relations, False
