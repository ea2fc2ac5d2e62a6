"""Reader of ``netsh advfirewall`` text output (English).

Two outputs are read, alone or concatenated in one file:

* ``netsh advfirewall firewall show rule name=all verbose``: one block per
  rule, starting with ``Rule Name:``, a line of dashes, then ``Key: value``
  lines padded to a column. An ICMP rule prints its type/code pairs on
  indented lines under ``Protocol:`` (a ``Type  Code`` header, then one
  ``8  Any`` line per pair). A blank line or ``Ok.`` ends a block.
* ``netsh advfirewall show allprofiles`` (or ``currentprofile``): per
  profile a ``Domain Profile Settings:`` header, then ``State ON`` and
  ``Firewall Policy BlockInbound,AllowOutbound`` lines.
"""

from __future__ import annotations

import re

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
from seglint.ir import ParseError, Span

RULE_NAME = re.compile(r"^(\s*)Rule Name:[ \t]*(.*?)\s*$")
PROFILE_HEADER = re.compile(r"^\s*(Domain|Private|Public) Profile Settings:\s*$")
_FIELD = re.compile(r"^(\s*)([A-Za-z][A-Za-z ]*?):[ \t]*(.*?)\s*$")
_STATE = re.compile(r"^(\s*)State\s+(\S+)\s*$")
_POLICY = re.compile(r"^(\s*)Firewall Policy\s+(\S+)\s*$")
_DASHES = re.compile(r"^\s*-{3,}\s*$")
_ICMP_HEADER = re.compile(r"^\s+Type\s+Code\s*$")
_ICMP_ROW = re.compile(r"^\s+(\S+)\s+(\S+)\s*$")

# Fields that describe a rule without restricting the packets it matches.
# Edge traversal only decides whether packets tunnelled through a NAT edge
# device (Teredo) also match. Packets that reach the host directly match
# either way, and seglint checks only those.
IGNORED_FIELDS = frozenset({"description", "grouping", "edgetraversal", "rulesource"})
ACTIONS: dict[str, RuleAction] = {
    "allow": "allow",
    "block": "block",
    "bypass": "bypass",
}
CONDITION_FIELDS = frozenset(
    {
        "localip",
        "remoteip",
        "protocol",
        "localport",
        "remoteport",
        "program",
        "service",
        "interfacetypes",
        "security",
    }
)


def lines_of(text: str) -> list[str]:
    """Split on newlines only, so line numbers match what editors show."""
    return [line.rstrip("\r") for line in text.split("\n")]


def line_span(path: str, number: int, line: str, column: int = 1) -> Span:
    return Span(path, number, column, number, max(len(line.rstrip()), column))


def parse_netsh_rules(text: str, path: str) -> list[RawRule]:
    """Return the rules of ``show rule`` output in file order.

    Raises ParseError at the offending line for a rule without a valid
    ``Enabled``, ``Direction`` or ``Action`` value.
    """
    lines = lines_of(text)
    rules: list[RawRule] = []
    index = 0
    while index < len(lines):
        match = RULE_NAME.match(lines[index])
        if match is None:
            index += 1
            continue
        end = _block_end(lines, index)
        rules.append(_parse_block(lines, index, end, path))
        index = end + 1
    return rules


def _block_end(lines: list[str], start: int) -> int:
    """Return the index of the last line of the block starting at ``start``."""
    last = start
    for index in range(start + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.lower() == "ok.":
            break
        if RULE_NAME.match(line) or PROFILE_HEADER.match(line):
            break
        last = index
    return last


def _parse_block(lines: list[str], start: int, end: int, path: str) -> RawRule:
    head = RULE_NAME.match(lines[start])
    assert head is not None
    name_column = len(head.group(1)) + 1
    rule_span = Span(path, start + 1, name_column, end + 1, max(len(lines[end]), 1))
    values: dict[str, FieldValue] = {}
    extra: list[tuple[str, FieldValue]] = []
    icmp: list[tuple[str, str]] = []
    icmp_span: Span | None = None
    in_icmp_table = False

    for index in range(start + 1, end + 1):
        line = lines[index]
        number = index + 1
        if _DASHES.match(line):
            continue
        if _ICMP_HEADER.match(line):
            in_icmp_table = True
            icmp_span = icmp_span or line_span(path, number, line)
            continue
        row = _ICMP_ROW.match(line)
        if in_icmp_table and row and ":" not in line:
            icmp.append((row.group(1), row.group(2)))
            continue
        field = _FIELD.match(line)
        if field is None:
            # A wrapped description line: it restricts nothing.
            continue
        in_icmp_table = False
        key = field.group(2).replace(" ", "").lower()
        column = len(field.group(1)) + 1
        value = FieldValue(field.group(3), line_span(path, number, line, column))
        if key in IGNORED_FIELDS:
            continue
        if key in CONDITION_FIELDS or key in (
            "enabled",
            "direction",
            "action",
            "profiles",
        ):
            values[key] = value
        else:
            extra.append((field.group(2), value))

    name = head.group(2)
    enabled = _choice(values, "enabled", ("yes", "no"), rule_span, name) == "yes"
    direction: Direction = "in"
    if _choice(values, "direction", ("in", "out"), rule_span, name) == "out":
        direction = "out"
    action = ACTIONS[_choice(values, "action", tuple(ACTIONS), rule_span, name)]
    profiles = _profiles(values.pop("profiles", None), rule_span)
    for key in ("enabled", "direction", "action"):
        values.pop(key, None)
    rule = RawRule(name, rule_span, enabled, direction, action, profiles, values, extra)
    rule.icmp = icmp
    rule.icmp_span = icmp_span
    return rule


def _choice(
    values: dict[str, FieldValue],
    key: str,
    allowed: tuple[str, ...],
    rule_span: Span,
    name: str,
) -> str:
    """Return the lowercased value of a required field, one of ``allowed``."""
    expected = ", ".join(word.capitalize() for word in allowed)
    field = values.get(key)
    if field is None:
        raise ParseError(
            f"rule has no {key.capitalize()}: line ({name}); "
            f"expected one of {expected}",
            rule_span,
        )
    word = field.text.strip().lower()
    if word not in allowed:
        raise ParseError(
            f"invalid {key} value ({field.text}); expected one of {expected}",
            field.span,
        )
    return word


def _profiles(field: FieldValue | None, rule_span: Span) -> frozenset[str]:
    if field is None:
        return parse_profile_list("Any") or frozenset()
    profiles = parse_profile_list(field.text)
    if profiles is None:
        raise ParseError(
            f"invalid profiles value ({field.text}); expected Domain, Private, "
            "Public or Any, separated by commas",
            field.span,
        )
    return profiles


def parse_netsh_profiles(text: str, path: str) -> dict[str, ProfileSettings]:
    """Return the profile settings of ``show allprofiles`` output, by profile."""
    profiles: dict[str, ProfileSettings] = {}
    current: ProfileSettings | None = None
    for index, line in enumerate(lines_of(text)):
        number = index + 1
        header = PROFILE_HEADER.match(line)
        if header:
            current = ProfileSettings(header.group(1).lower())
            profiles[current.name] = current
            continue
        if RULE_NAME.match(line):
            current = None
            continue
        if current is None:
            continue
        state = _STATE.match(line)
        if state:
            word = state.group(2).lower()
            current.enabled = {"on": True, "off": False}.get(word)
            current.state_span = line_span(path, number, line, len(state.group(1)) + 1)
            continue
        policy = _POLICY.match(line)
        if policy:
            parts = policy.group(2).split(",")
            current.inbound = parse_inbound_policy(parts[0])
            current.outbound = (
                parse_outbound_policy(parts[1]) if len(parts) > 1 else None
            )
            current.policy_span = line_span(
                path, number, line, len(policy.group(1)) + 1
            )
            current.policy_text = policy.group(2)
    return profiles
