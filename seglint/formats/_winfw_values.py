"""Windows Firewall field values as IR conditions.

A field such as ``RemoteIP: LocalSubnet,10.0.0.0/8`` matches when the packet
satisfies any of its entries. IR conditions are a conjunction, so each field
returns a list of options, each a tuple of conditions. The builder emits one
rule per combination of options. This is exact because every rule of a
Windows chain has the same action.
"""

from __future__ import annotations

import re

from seglint.formats._winfw_model import FieldValue
from seglint.ir import Condition, Diagnostic, Match, ParseError, Unknown
from seglint.space import ICMP, PROTO, IntervalSet, address_range, addresses

Options = list[tuple[Condition, ...]]

# Protocol names that netsh and Get-NetFirewallPortFilter print (IANA numbers).
PROTOCOL_NUMBERS = {
    "hopopt": 0,
    "icmpv4": 1,
    "icmp": 1,
    "igmp": 2,
    "tcp": 6,
    "udp": 17,
    "ipv6": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "gre": 47,
    "icmpv6": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "vrrp": 112,
    "pgm": 113,
    "l2tp": 115,
}

# Windows accepts port conditions only on TCP and UDP rules.
PORT_PROTOCOLS = IntervalSet([(6, 6), (17, 17)])

_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_ANY = ("any", "*", "")


def split_list(text: str) -> list[str]:
    """Split a netsh or CSV list (commas, or spaces from ``-join ' '``)."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def is_any(text: str) -> bool:
    return text.strip().lower() in _ANY


def unknown_warning(
    what: str, value: str, field: FieldValue, key: str
) -> tuple[Unknown, Diagnostic]:
    """Return an unknown condition and the SEG902 warning at its line."""
    condition = Unknown(f"{what} {value}", field.span, key)
    message = f'{what} is not modelled ({value}); checks that depend on it say "may"'
    return condition, Diagnostic("SEG902", message, field.span, "warning")


def address_options(
    field: FieldValue | None, dim: str, what: str
) -> tuple[Options, list[Diagnostic]]:
    """Return the options of an address field: exact addresses and keywords.

    Keywords such as ``LocalSubnet``, ``DNS`` or ``Internet`` stand for sets
    that Windows computes on the host at run time, so each is an unknown
    condition keyed by the dimension and keyword.
    """
    if field is None or is_any(field.text):
        return [()], []
    items = split_list(field.text)
    if any(is_any(item) for item in items):
        return [()], []

    exact = IntervalSet()
    options: Options = []
    diagnostics: list[Diagnostic] = []
    for item in items:
        values = _address_values(item)
        if values is not None:
            exact = exact.union(values)
            continue
        label = f"{what} keyword" if _KEYWORD.match(item) else f"invalid {what}"
        condition, diagnostic = unknown_warning(
            label, item, field, f"winfw:{dim}:{item.lower()}"
        )
        options.append((condition,))
        diagnostics.append(diagnostic)
    if exact:
        options.insert(0, (Match(dim, exact),))
    return options, diagnostics


def _address_values(item: str) -> IntervalSet | None:
    """Return the addresses of a host, CIDR, dotted mask or range; None if not one."""
    try:
        if "-" in item:
            first, last = item.split("-", 1)
            return address_range(first, last)
        return addresses([item])
    except ValueError:
        return None


def port_options(
    field: FieldValue | None, dim: str, what: str
) -> tuple[Options, list[Diagnostic]]:
    """Return the options of a port field: exact ports and ports named by keyword.

    Keywords (``RPC``, ``RPC-EPMap``, ``IPHTTPS``, ``Teredo``, ``Ply2Disc``,
    ``mDNS``) name ports that Windows assigns at run time, so each is an
    unknown condition.
    """
    if field is None or is_any(field.text):
        return [()], []
    items = split_list(field.text)
    if any(is_any(item) for item in items):
        return [()], []

    exact = IntervalSet()
    options: Options = []
    diagnostics: list[Diagnostic] = []
    for item in items:
        values = _port_values(item, field)
        if values is not None:
            exact = exact.union(values)
            continue
        label = f"{what} keyword" if _KEYWORD.match(item) else f"invalid {what}"
        condition, diagnostic = unknown_warning(
            label, item, field, f"winfw:{dim}:{item.lower()}"
        )
        options.append((condition,))
        diagnostics.append(diagnostic)
    if exact:
        options.insert(0, (Match(dim, exact),))
    return options, diagnostics


def _port_values(item: str, field: FieldValue) -> IntervalSet | None:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
    if match is None:
        return None
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high > 65535 or low > high:
        # Windows refuses such a rule, so the export cannot hold it as valid.
        raise ParseError(f"invalid port range {item!r} (ports are 0-65535, low-high)",
                         field.span)
    return IntervalSet.single(low, high)


def protocol_number(text: str) -> int | None:
    """Return the protocol number of a name or number; -1 for Any; None if unknown."""
    word = text.strip().lower()
    if word in _ANY:
        return -1
    if word.isdigit():
        number = int(word)
        return number if number <= 255 else None
    return PROTOCOL_NUMBERS.get(word)


def icmp_values(pairs: list[tuple[str, str]]) -> IntervalSet | None:
    """Return ICMP ``type * 256 + code`` values of type/code pairs; None for all.

    Raises ValueError on a value that is neither a number nor ``Any``.
    """
    values = IntervalSet()
    for type_text, code_text in pairs:
        if is_any(type_text):
            return None
        icmp_type = _byte(type_text)
        if is_any(code_text):
            values = values.union(
                IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255)
            )
        else:
            values = values.union(
                IntervalSet.single(icmp_type * 256 + _byte(code_text))
            )
    return values if values else None


def _byte(text: str) -> int:
    value = int(text.strip())
    if not 0 <= value <= 255:
        raise ValueError(f"icmp type or code out of range ({text})")
    return value


def icmp_condition(values: IntervalSet | None) -> tuple[Condition, ...]:
    return () if values is None else (Match(ICMP, values),)


def protocol_condition(number: int) -> tuple[Condition, ...]:
    return () if number < 0 else (Match(PROTO, IntervalSet.single(number)),)


def port_protocol_condition() -> Match:
    """Return the PROTO match a port condition needs when the protocol is Any."""
    return Match(PROTO, PORT_PROTOCOLS)
