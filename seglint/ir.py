"""Format-neutral intermediate representation of a firewall rule set.

Every format parser produces a :class:`Ruleset`. The engine needs nothing
from the parse tree: each rule keeps the :class:`Span` it came from, its
conditions as sets over the packet dimensions of :mod:`seglint.space`, and
its action.

Evaluation model shared by all formats:

* A hook (``input``, ``output``, ``forward``) has one or more base chains,
  evaluated in order. A drop in any of them drops the packet; an accept ends
  only that base chain and the packet goes on to the next one. The packet is
  accepted when the last base chain accepts it.
* Within a chain, the first rule whose conditions all match decides, as in
  iptables. Formats with other orders (last match wins, priorities, block
  wins) reorder or split their rules into this model.
* A rule's action is accept, drop, reject, jump, goto, return or next (a
  non-terminating rule such as LOG). At the end of a base chain its policy
  decides; at the end of a user chain the packet returns to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seglint.space import IntervalSet

HOOKS = ("input", "output", "forward")
Hook = Literal["input", "output", "forward"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns start at 1, end is inclusive."""

    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        # A region below line 1 is rejected by GitHub code scanning.
        if self.line < 1:
            object.__setattr__(self, "line", 1)
        if self.column < 1:
            object.__setattr__(self, "column", 1)
        if self.end_line < self.line:
            object.__setattr__(self, "end_line", self.line)
        if self.end_line == self.line and self.end_column < self.column:
            object.__setattr__(self, "end_column", self.column)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


# --- conditions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """The packet's value in ``dim`` lies in ``values`` (or not, when negated)."""

    dim: str
    values: IntervalSet
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InterfaceMatch:
    """The packet's input (``iif``) or output (``oif``) interface is one of ``names``.

    A name ending in ``+`` matches every interface whose name starts with
    the part before it, as iptables' ``eth+`` does. The engine turns the
    names into atoms, so the match is exact.
    """

    dim: str
    names: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class TupleMatch:
    """The packet's values in ``dims`` form one of ``rows`` (nftables concatenations)."""

    dims: tuple[str, ...]
    rows: tuple[tuple[IntervalSet, ...], ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Unknown:
    """A condition the engine does not model: it may or may not match.

    Each instance becomes a boolean dimension of its own, so findings that
    depend on it are "may" findings. ``key`` ties repeated uses of the same
    construct (a negated and a plain use) to one dimension.
    """

    text: str
    span: Span
    key: str = ""
    negated: bool = False


Condition = Match | InterfaceMatch | TupleMatch | Unknown


# --- rules and chains ----------------------------------------------------------

ActionKind = Literal["accept", "drop", "reject", "jump", "goto", "return", "next"]
TERMINAL = frozenset({"accept", "drop", "reject"})


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    target: str = ""  # chain name for jump and goto
    stateful: bool = False  # an accept that lets the replies through by itself


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a chain.

    ``text`` is the rule as written, normalised for whitespace; it is part
    of the SARIF fingerprint, so it must not contain the line number.
    ``implicit`` marks rules the format adds, such as a default deny or a
    policy that the file does not state. They still carry the span a user
    should look at.
    """

    span: Span
    conditions: tuple[Condition, ...]
    action: Action
    text: str
    implicit: bool = False
    label: str = ""  # short name for messages, e.g. "chain INPUT policy DROP"

    def describe(self) -> str:
        return self.label or self.text


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain; ``policy`` is set for base chains and None for user chains."""

    name: str
    rules: tuple[Rule, ...]
    policy: Rule | None = None
    # Base chains of an nftables ``ip`` or ``ip6`` table see only packets of
    # that family; packets of the other family pass by as if accepted.
    families: frozenset[int] = frozenset({4, 6})


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A message about the input that is not a finding of a policy rule.

    ``rule_id`` is SEG901 (parse error), SEG902 (unsupported construct) or
    SEG903 (configuration error). Level ``note`` marks constructs parsed and
    ignored on purpose, such as a nat table or an arp family.
    """

    rule_id: str
    message: str
    span: Span
    level: Literal["error", "warning", "note"] = "warning"


@dataclass(frozen=True, slots=True)
class Ruleset:
    """One firewall as a format parsed it.

    ``hooks`` maps each hook the file decides to its base chains in
    evaluation order. A hook that is absent is not decided by this file and
    produces no findings. ``families`` are the address families whose
    packets the file decides. ``kind`` records whether the file reads as a
    host firewall, a network firewall or could be either; the configuration
    overrides it. ``interfaces`` are the networks that the file itself
    assigns to interfaces (an ASA's ``nameif`` with its ``ip address``).
    """

    path: str
    format: str
    chains: dict[str, Chain]
    hooks: dict[str, tuple[str, ...]]
    families: frozenset[int] = frozenset({4, 6})
    kind: Literal["host", "network", "either"] = "either"
    diagnostics: tuple[Diagnostic, ...] = ()
    interfaces: dict[str, IntervalSet] = field(default_factory=dict)
    loopback: tuple[str, ...] = ("lo", "lo0", "Loopback+")
    directives: dict[str, str] = field(default_factory=dict)
    # Suppression comments: line -> {rule id: reason}; formats fill it.
    suppressions: dict[int, dict[str, str]] = field(default_factory=dict)
    name: str = ""  # for files holding several firewalls (Terraform resources)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The result of parsing one file: rule sets and diagnostics."""

    rulesets: tuple[Ruleset, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()


class ParseError(Exception):
    """A file could not be parsed; carries the span and the expected tokens."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
