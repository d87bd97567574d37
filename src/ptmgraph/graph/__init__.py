"""Schema, stores, lineage queries and (later) propagation."""
