"""A snapshot source with small batches, importable by reader processes (a class local to a test is not)."""

from ptmgraph.ingest.sources import HfJsonl


class SmallParts(HfJsonl):
    models_per_batch = 40
