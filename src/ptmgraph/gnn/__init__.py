"""DARA: layer computation graphs and the GNN that names an architecture (see the DARA issue)."""
