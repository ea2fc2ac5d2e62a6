"""Findings, their witness packets and rule metadata shared by policies and reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from seglint.ir import Span

Level = Literal["error", "warning", "note", "none"]
LEVELS: tuple[str, ...] = ("none", "note", "warning", "error")

PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}


def level_rank(level: str) -> int:
    return LEVELS.index(level)


@dataclass(frozen=True, slots=True)
class Packet:
    """A concrete packet: the witness of a finding."""

    proto: int
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    iif: str | None = None
    oif: str | None = None
    state: str = "new"

    @property
    def family(self) -> int:
        return 6 if ":" in self.src else 4

    def __str__(self) -> str:
        name = PROTOCOL_NAMES.get(self.proto, f"proto {self.proto}")
        src, dst = self.src, self.dst
        if self.family == 6:
            src, dst = f"[{src}]", f"[{dst}]"
        if self.sport is not None and self.dport is not None:
            text = f"{name} {src}:{self.sport} -> {dst}:{self.dport}"
        else:
            text = f"{name} {self.src} -> {self.dst}"
            if self.icmp_type is not None:
                text += f" type {self.icmp_type} code {self.icmp_code or 0}"
        if self.iif:
            text += f" in {self.iif}"
        if self.oif:
            text += f" out {self.oif}"
        if self.state != "new":
            text += f" ({self.state})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL_NAMES.get(self.proto, str(self.proto)),
            "source": self.src,
            "destination": self.dst,
            "sourcePort": self.sport,
            "destinationPort": self.dport,
            "icmpType": self.icmp_type,
            "inInterface": self.iif,
            "outInterface": self.oif,
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """Everything a user reads about a rule, declared once.

    SARIF ``rules[]``, ``seglint rules``, ``seglint explain`` and the rule
    reference page are all generated from these fields.
    """

    id: str
    name: str
    level: Level
    short: str
    full: str
    fix: str = ""
    fail_example: str = ""
    pass_example: str = ""
    row: str = ""  # text of the port table row the rule comes from
    tags: tuple[str, ...] = ("security",)
    security_severity: str = "5.0"


@dataclass(frozen=True, slots=True)
class Step:
    """One rule on the path a witness took, for traces and SARIF code flows."""

    span: Span
    message: str


@dataclass(frozen=True)
class Finding:
    """A result of a policy rule at one location.

    ``identity`` holds what the finding means (the rule text that decided,
    the flow) and is hashed into the SARIF fingerprint, so moving lines does
    not change it.
    """

    rule_id: str
    name: str
    level: Level
    message: str
    span: Span
    witness: Packet | None = None
    may: bool = False
    trace: tuple[Step, ...] = ()
    related: tuple[Step, ...] = ()
    identity: tuple[str, ...] = ()
    properties: dict[str, Any] = field(default_factory=dict)
    suppression: str | None = None  # the reason, when a suppression applies
    suppression_kind: str = ""  # "inSource" or "external"

    @property
    def fingerprint(self) -> str:
        parts = (self.rule_id, self.span.path.replace("\\", "/"), *self.identity)
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
        return digest[:32]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.path, self.span.line, self.span.column, self.rule_id)
