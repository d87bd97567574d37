"""Cypher that both stores run unchanged (the portable subset). Hot paths with store-specific plans live beside
each store. Labels and relationship types come from :mod:`ptmgraph.graph.schema`, never from user input; values
are always parameters."""

MODEL_BY_KEY = "MATCH (m:Model {key: $k}) RETURN m"
STUB_MODELS = "MATCH (m:Model) WHERE m.stub = true RETURN count(m)"
FLAGGED_MODELS = "MATCH (m:Model)-[:HAS_FLAG]->(:Flag) RETURN count(DISTINCT m)"


def count_nodes(label: str) -> str:
    return f"MATCH (n:{label}) RETURN count(n)"


def count_edges(rel_type: str) -> str:
    return f"MATCH ()-[e:{rel_type}]->() RETURN count(e)"
