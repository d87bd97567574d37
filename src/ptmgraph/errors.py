"""Errors a user can act on. Each message is one line that names the input and what to do about it; the CLI
prints it as it is and exits non-zero."""


class PtmgraphError(Exception):
    """Base class: anything ptmgraph reports to a person rather than crashing on."""


class InvalidRecord(PtmgraphError, ValueError):
    """A record that cannot enter the graph (missing or malformed field)."""


class StoreError(PtmgraphError):
    """The store cannot be opened or used."""


class StoreNotFound(StoreError):
    pass


class StoreLocked(StoreError):
    pass


class StoreVersionMismatch(StoreError):
    pass


class StoreUnavailable(StoreError):
    """A database server that cannot be reached or refused us."""


class UnknownStoreURI(StoreError):
    pass


class QueryError(PtmgraphError):
    """A Cypher query the store rejected (syntax, unknown label, missing parameter, write on a read-only store)."""


class ModelNotFound(PtmgraphError):
    pass
