"""The statements of a pf.conf as the grammar read them, before they become IR.

Each piece keeps the span it came from, and rules keep their text as
written (macros not expanded, whitespace normalised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seglint.ir import Span

HostKind = Literal[
    "any",
    "self",
    "no-route",
    "urpf-failed",
    "address",
    "range",
    "table",
    "dynamic",
    "list",
]


@dataclass(frozen=True)
class Word:
    """A word of the file (a name, a number, an option as written) and where it is."""

    text: str
    span: Span


@dataclass(frozen=True)
class Host:
    """An address specification: ``any``, ``10/8``, ``<table>``, ``(em0)``, a list."""

    kind: HostKind
    text: str
    span: Span
    negated: bool = False
    value: str = ""  # the address, table name or interface
    last: str = ""  # the end of an address range
    items: tuple[Host, ...] = ()


@dataclass(frozen=True)
class Port:
    """A port expression: ``op`` is =, !=, <, <=, >, >=, >< or <>."""

    op: str
    first: str
    second: str
    span: Span


@dataclass(frozen=True)
class Interface:
    """An interface (or interface group) of ``on``; ``dynamic`` for ``(em0)``."""

    name: str
    span: Span
    negated: bool = False
    dynamic: bool = False


@dataclass(frozen=True)
class IcmpType:
    keyword: str  # icmp-type or icmp6-type
    type: str
    code: str | None
    span: Span


@dataclass
class PfRule:
    """A filter rule, an anchor call or an old-style translation rule."""

    kind: Literal["filter", "anchor", "translation"]
    span: Span
    text: str
    action: str = ""  # pass or block for filter rules
    block_mode: str = ""  # drop or return; empty means the block-policy
    direction: str = ""  # in, out, or empty for both
    quick: bool = False
    interfaces: tuple[Interface, ...] | None = None
    family: int | None = None
    protocols: tuple[Word, ...] | None = None
    sources: Host | None = None  # None is any
    source_ports: tuple[Port, ...] | None = None
    destinations: Host | None = None
    destination_ports: tuple[Port, ...] | None = None
    flags: Word | None = None
    icmp: tuple[IcmpType, ...] | None = None
    state: str = ""  # keep, modulate, synproxy, no; empty is the default
    unknowns: list[Word] = field(default_factory=list)  # conditions not modelled
    notes: list[Word] = field(default_factory=list)  # routing and translation options
    anchor: str | None = None  # the name of an anchor call ("" when unnamed)
    body: tuple[Statement, ...] | None = None  # an inline anchor's statements
    translation: str = ""  # nat, rdr or binat
    translation_pass: bool = False  # `nat pass`: translated packets skip the rules
    translation_negated: bool = False  # `no nat`


@dataclass(frozen=True)
class TableEntry:
    kind: Literal["address", "range", "self", "dynamic"]
    value: str
    span: Span
    negated: bool = False
    last: str = ""


@dataclass(frozen=True)
class TableDef:
    name: str
    span: Span
    text: str
    const: bool
    persist: bool
    entries: tuple[TableEntry, ...]
    files: tuple[Word, ...]


@dataclass(frozen=True)
class SetSkip:
    interfaces: tuple[Interface, ...]
    span: Span
    text: str


@dataclass(frozen=True)
class BlockPolicy:
    policy: str  # drop or return
    span: Span


@dataclass(frozen=True)
class Antispoof:
    interfaces: tuple[Interface, ...]
    quick: bool
    family: int | None
    span: Span
    text: str
    unknowns: tuple[Word, ...] = ()


@dataclass(frozen=True)
class LoadAnchor:
    name: str
    path: Word
    span: Span


@dataclass(frozen=True)
class Include:
    """An include whose file could not be read (readable ones are spliced in)."""

    path: Word
    span: Span


@dataclass(frozen=True)
class Ignored:
    """A statement that does not filter: scrub, match, queues, nat-anchor, ..."""

    keyword: str
    span: Span
    text: str


Statement = (
    PfRule
    | TableDef
    | SetSkip
    | BlockPolicy
    | Antispoof
    | LoadAnchor
    | Include
    | Ignored
)
