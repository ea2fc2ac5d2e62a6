"""Windows Firewall rules and profile settings as read from netsh text or CSV.

Both input forms of the ``windows-firewall`` format produce the same records,
so one builder turns them into IR. Values are kept as written (``Any``,
``LocalSubnet``, ``5000-5010``); :mod:`seglint.formats._winfw_values`
interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from seglint.ir import Span

PROFILES = ("domain", "private", "public")

Direction = Literal["in", "out"]
RuleAction = Literal["allow", "block", "bypass"]


@dataclass
class FieldValue:
    """A field's text and the span of the line (or CSV row) that contains it."""

    text: str
    span: Span


@dataclass
class RawRule:
    """One firewall rule before interpretation.

    ``fields`` maps the canonical field names (``localip``, ``remoteip``,
    ``protocol``, ``localport``, ``remoteport``, ``icmp``, ``program``,
    ``service``, ``interfacetypes``, ``security``) to their values; absent
    fields mean ``Any``. ``extra`` contains the fields this format does not know,
    which become unknown conditions unless their value is empty or ``Any``.
    """

    name: str
    span: Span
    enabled: bool
    direction: Direction
    action: RuleAction
    profiles: frozenset[str]
    fields: dict[str, FieldValue] = field(default_factory=dict)
    extra: list[tuple[str, FieldValue]] = field(default_factory=list)
    # ICMP type/code pairs as written ("8", "Any"); empty means every type.
    icmp: list[tuple[str, str]] = field(default_factory=list)
    icmp_span: Span | None = None


InboundPolicy = Literal["block", "allow", "blockalways"]
OutboundPolicy = Literal["block", "allow"]


@dataclass
class ProfileSettings:
    """The state and default actions of one profile; None means not configured."""

    name: str
    enabled: bool | None = None
    inbound: InboundPolicy | None = None
    outbound: OutboundPolicy | None = None
    state_span: Span | None = None
    policy_span: Span | None = None
    policy_text: str = ""  # as written, e.g. "BlockInbound,AllowOutbound"


def parse_profile_list(text: str) -> frozenset[str] | None:
    """Return the profiles named in ``Domain,Private`` or ``Any``; None if invalid."""
    names: set[str] = set()
    for part in text.replace(";", ",").split(","):
        word = part.strip().lower()
        if not word:
            continue
        if word in ("any", "all"):
            return frozenset(PROFILES)
        if word not in PROFILES:
            return None
        names.add(word)
    return frozenset(names) if names else frozenset(PROFILES)


def parse_inbound_policy(word: str) -> InboundPolicy | None:
    """Map ``BlockInbound``/``Block`` and friends to a policy; None = not configured."""
    word = word.strip().lower()
    if word in ("blockinboundalways",):
        return "blockalways"
    if word in ("blockinbound", "block"):
        return "block"
    if word in ("allowinbound", "allow"):
        return "allow"
    return None


def parse_outbound_policy(word: str) -> OutboundPolicy | None:
    word = word.strip().lower()
    if word in ("blockoutbound", "block"):
        return "block"
    if word in ("allowoutbound", "allow"):
        return "allow"
    return None
