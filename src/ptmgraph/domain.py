"""The typed records every source produces and every store accepts.

Records are frozen and validated on construction, so a bad value is rejected where it enters, with a message that
names it, and never reaches a store half-written. ``None`` means "this source does not know"; stores keep the
value they already have rather than erasing it, which is how a sparse source (a CSV of reuse links) can follow a
rich one (the Hub API) without losing facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ptmgraph.errors import InvalidRecord

MAX_ID_LENGTH = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Relation(StrEnum):
    FINETUNE = "finetune"
    ADAPTER = "adapter"
    QUANTIZED = "quantized"
    MERGE = "merge"
    UNKNOWN = "unknown"


class Provenance(StrEnum):
    DECLARED_CARD = "declared-card"
    DECLARED_TAG = "declared-tag"
    CONFIG = "config"
    ADAPTER_CONFIG = "adapter-config"
    LEADERBOARD = "leaderboard"
    NAME_INFERRED = "name-inferred"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class SubjectKind(StrEnum):
    MODEL = "Model"
    REPO = "Repo"


_MEMBERS: dict[type[StrEnum], dict[str, StrEnum]] = {
    enum_type: {member.value: member for member in enum_type}
    for enum_type in (Relation, Provenance, Severity, SubjectKind)
}


def node_key(identifier: str) -> str:
    """The Hub matches model ids case-insensitively; so do we, while keeping the declared spelling in ``id``."""
    return identifier.strip().casefold()


def is_plain_id(value: object) -> bool:
    """An id that :func:`check_id` accepts unchanged, decided in C (ingest checks millions): printable ASCII, no
    surrounding spaces. For ASCII text, isprintable() rejects exactly the control characters _CONTROL finds."""
    return (type(value) is str and 0 < len(value) <= MAX_ID_LENGTH and value.isascii() and value.isprintable()
            and value[0] != " " and value[-1] != " ")


def check_id(value: object, what: str) -> str:
    if is_plain_id(value):
        return value  # type: ignore[return-value]
    if not isinstance(value, str):
        raise InvalidRecord(f"{what} must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise InvalidRecord(f"{what} is empty")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidRecord(f"{what} is {len(text)} characters long (at most {MAX_ID_LENGTH}): {text[:40]!r}...")
    if _CONTROL.search(text):
        raise InvalidRecord(f"{what} contains control characters: {text[:80]!r}")
    return text


def _enum(enum_type: type[StrEnum], value: object, what: str) -> StrEnum:
    # A dict lookup instead of enum_type(value): members hash and compare as their values, and this runs per record.
    member = _MEMBERS[enum_type].get(value) if isinstance(value, str) else None
    if member is not None:
        return member
    try:
        return enum_type(value)
    except ValueError:
        allowed = " | ".join(member.value for member in enum_type)
        raise InvalidRecord(f"{what} is {value!r}; expected one of {allowed}") from None


def _tuple(value: object, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):  # type: ignore[union-attr]
        raise InvalidRecord(f"{what} must be a list of strings, got {value!r:.80}")
    return value if type(value) is tuple else tuple(value)  # type: ignore[arg-type, return-value]


def _count(value: object, what: str) -> int | None:
    if value is None or (type(value) is int and value >= 0):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRecord(f"{what} must be a non-negative integer, got {value!r:.40}")
    return value


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    author: str | None = None
    sha: str | None = None
    created_at: str | None = None
    last_modified: str | None = None
    downloads: int | None = None
    likes: int | None = None
    license: str | None = None
    library: str | None = None
    pipeline_tag: str | None = None
    tags: tuple[str, ...] | None = None
    model_type: str | None = None
    architectures: tuple[str, ...] | None = None
    files: tuple[str, ...] | None = None
    gated: bool | None = None
    has_card: bool | None = None
    source: str = ""

    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "id", check_id(self.id, "model id"))
        for name in ("tags", "architectures", "files"):
            if getattr(self, name) is not None:
                setattr_(self, name, _tuple(getattr(self, name), f"{name} of {self.id}"))
        for name in ("downloads", "likes"):
            if getattr(self, name) is not None:
                setattr_(self, name, _count(getattr(self, name), f"{name} of {self.id}"))
        # A value of another type would only fail later, when the batch's typed columns are built, and take the
        # whole batch with it; here it costs one record.
        for name, kind in _MODEL_SCALARS:
            value = getattr(self, name)
            if value is not None and type(value) is not kind:
                raise InvalidRecord(f"{name} of {self.id} must be a {kind.__name__}, got {value!r:.40}")

    @property
    def key(self) -> str:
        return node_key(self.id)


_MODEL_SCALARS = (("author", str), ("sha", str), ("created_at", str), ("last_modified", str), ("license", str),
                  ("library", str), ("pipeline_tag", str), ("model_type", str), ("gated", bool), ("has_card", bool),
                  ("source", str))


@dataclass(frozen=True, slots=True)
class Repo:
    """A GitHub project, identified as ``owner/name``."""

    id: str
    url: str | None = None
    licenses: tuple[str, ...] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id(self.id, "repo id"))
        object.__setattr__(self, "licenses", _tuple(self.licenses, f"licenses of {self.id}"))

    @property
    def key(self) -> str:
        return node_key(self.id)


@dataclass(frozen=True, slots=True)
class Author:
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id(self.id, "author"))


@dataclass(frozen=True, slots=True)
class License:
    """A licence as declared (SPDX id where there is one); unknown ids are kept as they are, not dropped."""

    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id(self.id, "licence"))


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id(self.id, "dataset"))


@dataclass(frozen=True, slots=True)
class Lineage:
    """``child`` was built from ``parent``. One edge per (child, parent, provenance): evidence never overwrites
    other evidence, so a declared edge and a name-inferred one for the same pair both stay."""

    child: str
    parent: str
    relation: Relation = Relation.UNKNOWN
    provenance: Provenance = Provenance.DECLARED_CARD
    confidence: float = 1.0
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "child", check_id(self.child, "lineage child"))
        object.__setattr__(self, "parent", check_id(self.parent, "lineage parent"))
        object.__setattr__(self, "relation", _enum(Relation, self.relation, f"relation of {self.child}"))
        object.__setattr__(self, "provenance", _enum(Provenance, self.provenance, f"provenance of {self.child}"))
        if isinstance(self.confidence, bool) or not isinstance(self.confidence, (int, float)):
            raise InvalidRecord(f"confidence of {self.child} -> {self.parent} must be a number")
        if not 0.0 <= self.confidence <= 1.0:
            raise InvalidRecord(f"confidence of {self.child} -> {self.parent} is {self.confidence}; expected 0..1")
        object.__setattr__(self, "confidence", float(self.confidence))


@dataclass(frozen=True, slots=True)
class Uses:
    """A GitHub project loads a model; ``file``/``line`` say where, when a scan found it."""

    repo: str
    model: str
    file: str | None = None
    line: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "repo", check_id(self.repo, "repo id"))
        object.__setattr__(self, "model", check_id(self.model, "model id"))
        object.__setattr__(self, "line", _count(self.line, f"line of {self.repo} -> {self.model}"))


@dataclass(frozen=True, slots=True)
class TrainedOn:
    model: str
    dataset: str
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", check_id(self.model, "model id"))
        object.__setattr__(self, "dataset", check_id(self.dataset, "dataset"))


@dataclass(frozen=True, slots=True)
class LicensedAs:
    subject: str
    license: str
    subject_kind: SubjectKind = SubjectKind.MODEL
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", check_id(self.subject, "licensed subject"))
        object.__setattr__(self, "license", check_id(self.license, "licence"))
        object.__setattr__(self, "subject_kind", _enum(SubjectKind, self.subject_kind, "licensed subject kind"))


@dataclass(frozen=True, slots=True)
class AuthoredBy:
    model: str
    author: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", check_id(self.model, "model id"))
        object.__setattr__(self, "author", check_id(self.author, "author"))


@dataclass(frozen=True, slots=True)
class Flag:
    """A finding about one model or repo, shaped like an OSV record. ``evidence`` is a JSON text so that every
    store keeps it verbatim."""

    id: str
    subject: str
    kind: str
    severity: Severity = Severity.MEDIUM
    summary: str = ""
    detector: str = ""
    evidence: str = "{}"
    created_at: str | None = None
    references: tuple[str, ...] | None = None
    subject_kind: SubjectKind = SubjectKind.MODEL

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_id(self.id, "flag id"))
        object.__setattr__(self, "subject", check_id(self.subject, "flagged subject"))
        object.__setattr__(self, "kind", check_id(self.kind, f"kind of flag {self.id}"))
        object.__setattr__(self, "severity", _enum(Severity, self.severity, f"severity of flag {self.id}"))
        object.__setattr__(self, "subject_kind", _enum(SubjectKind, self.subject_kind, "flagged subject kind"))
        object.__setattr__(self, "references", _tuple(self.references, f"references of flag {self.id}"))


@dataclass(frozen=True, slots=True)
class InheritedFlag:
    """A flag that reaches ``subject`` ``depth`` steps from its origin. ``via`` is the model one step back on the
    shortest path (the origin's own subject at depth 1) and ``relation`` how ``subject`` came from it (``uses``
    for a repository). One step, not the whole path, is stored, so a 10,000-deep chain costs 10,000 small edges
    rather than 50 million path entries; paths are rebuilt on read (``ptmgraph.graph.paths``)."""

    flag: str
    subject: str
    via: str
    relation: str
    depth: int
    subject_kind: SubjectKind = SubjectKind.MODEL

    def __post_init__(self) -> None:
        object.__setattr__(self, "flag", check_id(self.flag, "flag id"))
        object.__setattr__(self, "subject", check_id(self.subject, "inheriting subject"))
        object.__setattr__(self, "via", check_id(self.via, f"step before {self.subject}"))
        object.__setattr__(self, "subject_kind", _enum(SubjectKind, self.subject_kind, "inheriting subject kind"))
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise InvalidRecord(f"inherited flag {self.flag} on {self.subject}: depth must be a positive integer, "
                                f"got {self.depth!r}")
        if not isinstance(self.relation, str) or not self.relation:
            raise InvalidRecord(f"inherited flag {self.flag} on {self.subject}: the relation is missing")

    @classmethod
    def derived(cls, flag: str, subject: str, via: str, relation: str, depth: int,
                subject_kind: SubjectKind = SubjectKind.MODEL) -> InheritedFlag:
        """Built by propagation from ids the store already holds: no re-validation (tens of thousands per run)."""
        record = object.__new__(cls)
        for name, value in (("flag", flag), ("subject", subject), ("via", via), ("relation", relation),
                            ("depth", depth), ("subject_kind", subject_kind)):
            object.__setattr__(record, name, value)
        return record


Record = (
    Model | Repo | Author | License | Dataset | Lineage | Uses | TrainedOn | LicensedAs | AuthoredBy | Flag
    | InheritedFlag
)
