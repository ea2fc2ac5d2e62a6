"""Security group rule entries (inline items or rule resources) as IR rules.

An entry allows packets of its protocol and ports from (ingress) or to
(egress) its peer. AWS semantics:

* ``IpProtocol`` ``-1`` (also written ``"-1"`` or ``all``) is every
  protocol and every port, whatever ``FromPort`` and ``ToPort`` contain.
* tcp (6) and udp (17) use ``FromPort``-``ToPort`` as destination ports.
* icmp (1) and icmpv6 (58) use ``FromPort`` as the ICMP type and ``ToPort``
  as the code, -1 meaning all.
* Any other protocol number allows all its traffic; ports are ignored.
* The peer is ``CidrIp``, ``CidrIpv6``, a prefix list or a security group.
  A group or prefix list contains addresses known only to AWS, so it is an
  unknown condition. Several peers in one entry are a union: one IR rule
  each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seglint.formats._cfn_intrinsics import NO_VALUE, Resolver, Unresolved, render
from seglint.formats._cfn_yaml import value_position
from seglint.ir import (
    Action,
    Condition,
    Diagnostic,
    Match,
    ParseError,
    Rule,
    Span,
    Unknown,
)
from seglint.space import DPORT, DST, ICMP, PROTO, SRC, IntervalSet, addresses

ACCEPT = Action("accept", stateful=True)
PROTOCOL_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
ALL_PROTOCOLS = ("-1", "all")
# Properties that describe an entry without restricting its packets.
DESCRIPTIVE = frozenset(
    {"Description", "GroupId", "GroupName", "SourceSecurityGroupOwnerId"}
)
PEERS = {
    "ingress": (
        "CidrIp",
        "CidrIpv6",
        "SourcePrefixListId",
        "SourceSecurityGroupId",
        "SourceSecurityGroupName",
    ),
    "egress": (
        "CidrIp",
        "CidrIpv6",
        "DestinationPrefixListId",
        "DestinationSecurityGroupId",
    ),
}
PROTOCOL_KEYS = frozenset({"IpProtocol", "FromPort", "ToPort"})


@dataclass
class EntryContext:
    """The location of an entry, its security group and its direction."""

    path: str
    group: str  # logical ID of the security group (or of the rule resource)
    direction: str  # "ingress" or "egress"
    span: Span  # the list item or the resource
    resolver: Resolver
    extra: tuple[Condition, ...] = ()  # conditions of Fn::If branches
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def line_span(self, line: int, column: int) -> Span:
        """Return the span from a column to the end of a template line."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Span(self.path, line, column, line, max(len(text.rstrip()), column))


def entry_rules(entry: Any, context: EntryContext) -> list[Rule]:
    """Return the IR rules of one entry and add its diagnostics to the context."""
    if not isinstance(entry, dict):
        return [_unknown_entry(entry, context)]

    base: list[Condition] = list(context.extra)
    protocol = _protocol(entry, context, base)
    if protocol in (6, 17):
        base.extend(_port_conditions(entry, context))
    elif protocol in (1, 58):
        base.extend(_icmp_conditions(entry, context))
    _note_unknown_properties(entry, context)

    text = entry_text(entry, context)
    label = f"{context.direction} rule of {context.group}"
    return [
        Rule(context.span, (*base, *peer), ACCEPT, text, label=label)
        for peer in _peer_options(entry, context)
    ]


def entry_text(entry: dict[str, Any], context: EntryContext) -> str:
    """Return the entry as one line; descriptions are left out so edits keep it."""
    parts = [f"{context.group} {context.direction}"]
    for key, value in entry.items():
        if key != "Description":
            parts.append(f"{key}={' '.join(render(value).split())}")
    return " ".join(parts)


def _unknown_entry(entry: Any, context: EntryContext) -> Rule:
    text = render(entry)
    message = (
        f"{context.direction} rule is not a mapping ({text}); "
        'checks that depend on it say "may"'
    )
    context.diagnostics.append(Diagnostic("SEG902", message, context.span, "warning"))
    condition = Unknown(f"{context.direction} rule {text}", context.span, f"cfn:{text}")
    return Rule(
        context.span, (*context.extra, condition), ACCEPT, f"{context.group} {text}"
    )


def _resolve(
    entry: dict[str, Any], key: str, context: EntryContext
) -> tuple[Any, Span]:
    """Return a property's value (or Unresolved) and the span of its line."""
    position = value_position(entry, key) or (context.span.line, context.span.column)
    span = context.line_span(*position)
    value = context.resolver.resolve(entry.get(key), position[0], position[1])
    return value, span


def unknown(
    context: EntryContext, what: str, value: Any, span: Span, reason: str = ""
) -> Unknown:
    """Return an unknown condition for a property and record its SEG902 warning."""
    shown = value.text if isinstance(value, Unresolved) else render(value)
    detail = f"{shown}: {reason}" if reason else shown
    message = f'{what} is not modelled ({detail}); checks that depend on it say "may"'
    context.diagnostics.append(Diagnostic("SEG902", message, span, "warning"))
    return Unknown(f"{what} {shown}", span, f"cfn:{what}:{shown}")


def _unresolved(
    context: EntryContext, what: str, value: Unresolved, span: Span
) -> Unknown:
    return unknown(context, what, value, span, value.reason)


def _protocol(
    entry: dict[str, Any], context: EntryContext, base: list[Condition]
) -> int:
    """Add the PROTO condition; return the number, -1 for all, -2 when unknown."""
    value, span = _resolve(entry, "IpProtocol", context)
    if isinstance(value, Unresolved):
        base.append(_unresolved(context, "IpProtocol", value, span))
        return -2
    text = str(value).strip().lower() if value is not None else ""
    if text in ALL_PROTOCOLS:
        return -1
    number = PROTOCOL_NAMES.get(text)
    if number is None and text.isdigit() and int(text) <= 255:
        number = int(text)
    if number is None:
        reason = "missing" if value is None else "not a protocol name or number"
        base.append(unknown(context, "IpProtocol", value, span, reason))
        return -2
    base.append(Match(PROTO, IntervalSet.single(number)))
    return number


def _port_number(
    entry: dict[str, Any], key: str, context: EntryContext
) -> tuple[Any, Span]:
    value, span = _resolve(entry, key, context)
    if isinstance(value, Unresolved) or value is None or isinstance(value, bool):
        return value, span
    try:
        return int(str(value).strip()), span
    except ValueError:
        return value, span


def _port_conditions(entry: dict[str, Any], context: EntryContext) -> list[Condition]:
    low, low_span = _port_number(entry, "FromPort", context)
    high, high_span = _port_number(entry, "ToPort", context)
    for value, span, key in ((low, low_span, "FromPort"), (high, high_span, "ToPort")):
        if isinstance(value, Unresolved):
            return [_unresolved(context, key, value, span)]
        if isinstance(value, int) and value > 65535:
            # CloudFormation rejects such a template, as the other formats do.
            raise ParseError(f"invalid {key} {value} (ports are 0 to 65535)", span)
        if not isinstance(value, int) or not 0 <= value <= 65535:
            reason = "missing" if value is None else "not a port from 0 to 65535"
            return [unknown(context, key, value, span, reason)]
    if low > high:
        raise ParseError(
            f"invalid port range {low}-{high} (FromPort is above ToPort)", low_span)
    return [Match(DPORT, IntervalSet.single(low, high))]


def _icmp_conditions(entry: dict[str, Any], context: EntryContext) -> list[Condition]:
    icmp_type, type_span = _port_number(entry, "FromPort", context)
    code, code_span = _port_number(entry, "ToPort", context)
    if isinstance(icmp_type, Unresolved):
        return [_unresolved(context, "FromPort", icmp_type, type_span)]
    if isinstance(code, Unresolved):
        return [_unresolved(context, "ToPort", code, code_span)]
    if icmp_type is None or icmp_type == -1:
        return []
    if not isinstance(icmp_type, int) or not 0 <= icmp_type <= 255:
        return [unknown(context, "FromPort", icmp_type, type_span, "not an ICMP type")]
    if code is None or code == -1:
        return [Match(ICMP, IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255))]
    if not isinstance(code, int) or not 0 <= code <= 255:
        return [unknown(context, "ToPort", code, code_span, "not an ICMP code")]
    return [Match(ICMP, IntervalSet.single(icmp_type * 256 + code))]


def _peer_options(
    entry: dict[str, Any], context: EntryContext
) -> list[tuple[Condition, ...]]:
    """Return one condition tuple per peer the entry names (their union)."""
    dim = SRC if context.direction == "ingress" else DST
    options: list[tuple[Condition, ...]] = []
    for key in PEERS[context.direction]:
        if key not in entry:
            continue
        value, span = _resolve(entry, key, context)
        if value is NO_VALUE:
            continue
        if isinstance(value, Unresolved):
            options.append((_unresolved(context, key, value, span),))
        elif key.startswith("Cidr"):
            options.append((_cidr(context, key, value, span, dim),))
        else:
            options.append(
                (unknown(context, key, value, span, "addresses known only to AWS"),)
            )
    if not options:
        what = "source" if context.direction == "ingress" else "destination"
        options.append(
            (
                unknown(
                    context,
                    what,
                    "missing",
                    context.span,
                    "no CidrIp, CidrIpv6, prefix list or security group",
                ),
            )
        )
    return options


def _cidr(
    context: EntryContext, key: str, value: Any, span: Span, dim: str
) -> Condition:
    try:
        values = addresses([str(value)])
    except ValueError:
        return unknown(context, key, value, span, "not a CIDR")
    family = 6 if key == "CidrIpv6" else 4
    if (values.min() >= 1 << 32) != (family == 6):
        return unknown(context, key, value, span, f"not an IPv{family} CIDR")
    return Match(dim, values)


def _note_unknown_properties(entry: dict[str, Any], context: EntryContext) -> None:
    known = DESCRIPTIVE | PROTOCOL_KEYS | set(PEERS[context.direction])
    for key in entry:
        if key not in known:
            position = value_position(entry, key) or (context.span.line, 1)
            span = context.line_span(*position)
            message = f"property not used by seglint ({key})"
            context.diagnostics.append(Diagnostic("SEG902", message, span, "note"))
