"""Reader of Windows Firewall CSV exports made with the NetSecurity cmdlets.

The rule export has one row per rule with the columns ``Name``,
``DisplayName``, ``Enabled``, ``Direction``, ``Profile``, ``Action``,
``Protocol``, ``LocalPort``, ``RemotePort``, ``LocalAddress`` and
``RemoteAddress`` (from ``Get-NetFirewallRule``, ``Get-NetFirewallPortFilter``
and ``Get-NetFirewallAddressFilter``), and optionally ``IcmpType``,
``Program`` (``Get-NetFirewallApplicationFilter``) and ``Service``
(``Get-NetFirewallServiceFilter``). List values are joined with commas. The
profile export has ``Name``, ``Enabled``, ``DefaultInboundAction``,
``DefaultOutboundAction`` and optionally ``AllowInboundRules`` (from
``Get-NetFirewallProfile``). The pipelines that make both files are in the
docstring of :mod:`seglint.formats.windows_firewall`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from seglint.formats._winfw_model import (
    Direction,
    FieldValue,
    ProfileSettings,
    RawRule,
    RuleAction,
    parse_inbound_policy,
    parse_outbound_policy,
    parse_profile_list,
)
from seglint.formats._winfw_netsh import lines_of
from seglint.ir import Diagnostic, ParseError, Span

RULE_COLUMNS = (
    "name",
    "displayname",
    "enabled",
    "direction",
    "profile",
    "action",
    "protocol",
    "localport",
    "remoteport",
    "localaddress",
    "remoteaddress",
)
OPTIONAL_RULE_COLUMNS = ("icmptype", "program", "service")
# Columns that describe a rule without restricting the packets it matches.
DESCRIPTIVE_COLUMNS = frozenset(
    {
        "description",
        "group",
        "displaygroup",
        "policystoresource",
        "policystoresourcetype",
        "primarystatus",
        "status",
        "enforcementstatus",
        "edgetraversalpolicy",
        "owner",
        "instanceid",
    }
)
PROFILE_COLUMNS = ("name", "enabled", "defaultinboundaction", "defaultoutboundaction")

# Column -> canonical field name shared with the netsh reader.
_FIELD_OF_COLUMN = {
    "protocol": "protocol",
    "localport": "localport",
    "remoteport": "remoteport",
    "localaddress": "localip",
    "remoteaddress": "remoteip",
    "program": "program",
    "service": "service",
}
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def header_columns(text: str) -> list[str] | None:
    """Return the lowercased column names of a CSV's header, skipping ``#TYPE``."""
    for line in lines_of(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        row = next(csv.reader([stripped]), [])
        return [column.strip().lower() for column in row]
    return None


def header_index(lines: list[str]) -> int:
    """Return the index of the header line: the first not blank and not ``#TYPE``."""
    position = 0
    while position < len(lines) and (
        not lines[position].strip() or lines[position].lstrip().startswith("#")
    ):
        position += 1
    return position


def is_rule_csv(text: str) -> bool:
    columns = header_columns(text)
    return columns is not None and set(RULE_COLUMNS) <= set(columns)


def is_profile_csv(text: str) -> bool:
    columns = header_columns(text)
    return columns is not None and set(PROFILE_COLUMNS) <= set(columns)


@dataclass
class Row:
    """A data row: values and cell spans by lowercased column, and the row's span."""

    values: dict[str, str]
    span: Span
    cells: dict[str, Span]


def cell_columns(line: str) -> list[tuple[int, int]]:
    """Return the first and last column (1-based) of each cell of a CSV line."""
    bounds: list[tuple[int, int]] = []
    start = 0
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            bounds.append((start + 1, max(index, start + 1)))
            start = index + 1
    bounds.append((start + 1, max(len(line.rstrip()), start + 1)))
    return bounds


def _rows(text: str, path: str) -> Iterator[tuple[Row, list[str]]]:
    """Yield each data row and the lowercased header."""
    lines = lines_of(text)
    position = header_index(lines)
    source = iter(line + "\n" for line in lines[position:])
    reader = csv.reader(source)
    header = [column.strip().lower() for column in next(reader, [])]
    previous = reader.line_num
    for row in reader:
        first = position + previous + 1
        last = position + reader.line_num
        previous = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        span = Span(path, first, 1, last, max(len(lines[last - 1]), 1))
        if len(row) != len(header):
            raise ParseError(
                f"row has {len(row)} columns but the header has {len(header)}; "
                "export the file again with Export-Csv",
                span,
            )
        cells = {column: span for column in header}
        if first == last:
            # A one-line row: each cell gets its own columns, so warnings
            # about two cells of a row do not share a location.
            bounds = cell_columns(lines[first - 1])
            if len(bounds) == len(header):
                cells = {
                    column: Span(path, first, low, first, high)
                    for column, (low, high) in zip(header, bounds, strict=True)
                }
        yield Row(dict(zip(header, row, strict=True)), span, cells), header


def parse_rule_csv(text: str, path: str) -> tuple[list[RawRule], list[Diagnostic]]:
    """Return the rules of a rule export and notes about unused columns."""
    rules: list[RawRule] = []
    diagnostics: list[Diagnostic] = []
    noted = False
    for row, header in _rows(text, path):
        if not noted:
            header_line = header_index(lines_of(text)) + 1
            diagnostics.extend(_unused_columns(header, Span(path, header_line)))
            noted = True
        rules.append(_rule(row))
    return rules, diagnostics


def _unused_columns(header: list[str], span: Span) -> list[Diagnostic]:
    known = set(RULE_COLUMNS) | set(OPTIONAL_RULE_COLUMNS) | DESCRIPTIVE_COLUMNS
    unused = [column for column in header if column not in known]
    if not unused:
        return []
    message = f"columns not used by seglint ({', '.join(unused)})"
    return [Diagnostic("SEG902", message, span, "note")]


def _rule(data: Row) -> RawRule:
    row, span = data.values, data.span
    for column, value in row.items():
        if value.strip() == "System.Object[]":
            raise ParseError(
                f"column {column} contains System.Object[] instead of its values; "
                "join array properties with -join ',' before Export-Csv",
                data.cells[column],
            )

    name = row["displayname"].strip() or row["name"].strip()
    enabled = _boolean(row["enabled"], "Enabled", span)
    direction = _direction(row["direction"], span)
    action = _action(row["action"], span)
    profiles = parse_profile_list(row["profile"])
    if profiles is None:
        raise ParseError(
            f"invalid Profile value ({row['profile']}); expected Domain, Private, "
            "Public or Any",
            span,
        )

    fields = {
        field: FieldValue(row[column], data.cells[column])
        for column, field in _FIELD_OF_COLUMN.items()
        if column in row
    }
    rule = RawRule(name, span, enabled, direction, action, profiles, fields)
    if "icmptype" in row:
        rule.icmp = _icmp_pairs(row["icmptype"])
        rule.icmp_span = data.cells["icmptype"]
    return rule


def _boolean(text: str, column: str, span: Span) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ParseError(f"invalid {column} value ({text}); expected True or False", span)


def _direction(text: str, span: Span) -> Direction:
    word = text.strip().lower()
    if word in ("inbound", "in"):
        return "in"
    if word in ("outbound", "out"):
        return "out"
    raise ParseError(
        f"invalid Direction value ({text}); expected Inbound or Outbound", span
    )


def _action(text: str, span: Span) -> RuleAction:
    word = text.strip().lower()
    if word == "allow":
        return "allow"
    if word == "block":
        return "block"
    if word == "bypass":
        return "bypass"
    raise ParseError(f"invalid Action value ({text}); expected Allow or Block", span)


def _icmp_pairs(text: str) -> list[tuple[str, str]]:
    """Return type/code pairs of ``8,3:4`` or ``Any`` (empty list = every type)."""
    pairs: list[tuple[str, str]] = []
    for item in text.replace(" ", ",").split(","):
        item = item.strip()
        if not item:
            continue
        if item.lower() == "any":
            return []
        icmp_type, _, code = item.partition(":")
        pairs.append((icmp_type, code or "Any"))
    return pairs


def parse_profile_csv(text: str, path: str) -> dict[str, ProfileSettings]:
    """Return the profile settings of a ``Get-NetFirewallProfile`` export."""
    profiles: dict[str, ProfileSettings] = {}
    for data, _ in _rows(text, path):
        row, span = data.values, data.span
        name = row["name"].strip().lower()
        if name not in ("domain", "private", "public"):
            continue
        settings = ProfileSettings(name)
        enabled = row["enabled"].strip().lower()
        settings.enabled = (
            True if enabled in _TRUE else False if enabled in _FALSE else None
        )
        settings.inbound = parse_inbound_policy(row["defaultinboundaction"])
        settings.outbound = parse_outbound_policy(row["defaultoutboundaction"])
        allow_rules = row.get("allowinboundrules", "").strip().lower()
        if allow_rules in _FALSE and settings.inbound != "allow":
            # AllowInboundRules False ignores every allow rule, as
            # netsh's BlockInboundAlways does.
            settings.inbound = "blockalways"
        settings.state_span = data.cells.get("enabled", span)
        settings.policy_span = span
        settings.policy_text = (
            f"DefaultInboundAction {row['defaultinboundaction'].strip()}, "
            f"DefaultOutboundAction {row['defaultoutboundaction'].strip()}"
        )
        profiles[name] = settings
    return profiles
