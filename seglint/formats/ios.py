"""Cisco IOS and IOS-XE configurations (routers filtering with access lists).

Read: numbered standard (1-99, 1300-1999) and extended (100-199, 2000-2699)
access lists, ``ip access-list extended|standard NAME`` blocks with optional
sequence numbers, ``ipv6 access-list NAME`` blocks, ``object-group network``
and ``object-group service`` (IOS 12.4 and later), and ``interface`` blocks
(``ip address``, ``ipv6 address``, ``ip access-group NAME in|out``,
``ipv6 traffic-filter NAME in|out``, ``shutdown``). Also read are
``ipv6 unicast-routing`` and the ``no`` forms that remove earlier definitions
(``no access-list N``, ``no ip access-list extended NAME``,
``no object-group ...``, ``no 20`` inside a block). Every other command and
its indented sub-lines is skipped.

Each device is one network rule set. Its ``forward`` hook applies the
inbound list of the input interface, then the outbound list of the output
interface. An interface without a list passes everything, and so does one
whose list is not defined: IOS then permits all traffic, and seglint warns.
Every list ends with an implicit deny, and an IPv6 list first permits
neighbor discovery (``nd-na``, ``nd-ns``) as IOS does. IPv4 lists see only
IPv4 packets and IPv6 lists only IPv6 packets. The file decides IPv6 only
when it routes or filters IPv6 (``ipv6 unicast-routing``, an IPv6 address or
a traffic filter), and IPv4 alone otherwise.

Access lists are stateless: an accept lets no replies through by itself, and
``established`` matches the TCP packets of established connections only.

A file with several ``hostname`` commands (concatenated configurations) is
read as one device per ``hostname``, each a rule set named after it. The
lines before the first ``hostname`` belong to the first device.

Not modelled, each an unknown condition and a SEG902 warning so the checks
say "may": ``time-range``, ``fragments``, precedence, DSCP, TOS, TTL,
packet length, IP options, TCP flag matches, IPv6 extension header matches,
``dynamic`` (lock-and-key) entries, ``evaluate`` (reflexive) entries, and
non-contiguous wildcards that would take more than 1024 intervals. IOS
rejects an extended entry without a protocol (``access-list 102 deny any``).
seglint reads it as a rule that may or may not match, with a SEG902
warning, so the rest of the list is still checked. NAT is ignored with a
note.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from lark import Token, Tree

from seglint.formats._cisco_ios_chains import IosChains
from seglint.formats._cisco_ios_rules import IosValues
from seglint.formats._cisco_lines import (
    Command,
    Line,
    line_parser,
    parse_line,
    split_commands,
    subtrees,
    tokens,
)
from seglint.formats._cisco_objects import Group, Member, ObjectStore
from seglint.formats._cisco_values import checked_network
from seglint.formats.base import FileAccess, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import Diagnostic, ParseError, ParseResult, Span

logger = logging.getLogger(__name__)

Level = Literal["warning", "note"]

STARTS = (
    "numbered_extended_cmd",
    "numbered_standard_cmd",
    "numbered_name_cmd",
    "list_header_cmd",
    "extended_line_cmd",
    "standard_line_cmd",
    "ipv6_line_cmd",
    "group_cmd",
    "network_member_cmd",
    "service_member_cmd",
    "interface_cmd",
)
INTERFACE_WORDS = {
    ("ip", "address"),
    ("no", "ip", "address"),
    ("ip", "access-group"),
    ("no", "ip", "access-group"),
    ("ipv6", "address"),
    ("ipv6", "traffic-filter"),
    ("no", "ipv6", "traffic-filter"),
    ("shutdown",),
    ("no", "shutdown"),
}
DYNAMIC_ADDRESS_WORDS = {"dhcp", "negotiated", "unnumbered", "pool", "autoconfig"}
ENTRY_WORDS = {"permit", "deny", "evaluate", "dynamic", "sequence"}
LINE_STARTS = {
    "extended": "extended_line_cmd",
    "standard": "standard_line_cmd",
    "ipv6": "ipv6_line_cmd",
}
SEQUENCE_STEP = 10

_IOS_MARKERS = re.compile(
    r"^(?:\s*ip access-(?:list (?:extended|standard)|group) |access-list \d+ "
    r"(?:permit|deny|remark)\s|\s*ipv6 traffic-filter |version \d+\.\d+)",
    re.MULTILINE,
)
_ASA_MARKERS = re.compile(
    r"^(?:: Saved|ASA Version|PIX Version|\s*nameif\s"
    r"|\s*security-level\s)",
    re.MULTILINE,
)


def standard_number(number: int) -> bool | None:
    """Return True for a standard list number, False for extended, None otherwise."""
    if 1 <= number <= 99 or 1300 <= number <= 1999:
        return True
    if 100 <= number <= 199 or 2000 <= number <= 2699:
        return False
    return None


def _prefix(words: list[str], table: set[tuple[str, ...]]) -> bool:
    return any(tuple(words[: len(key)]) == key for key in table)


@dataclass
class IosInterface:
    name: str
    line: Line
    primary: str = ""
    secondary: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    # direction ("in", "out") -> (list name, binding line), per family
    ip_lists: dict[str, tuple[str, Line]] = field(default_factory=dict)
    ipv6_lists: dict[str, tuple[str, Line]] = field(default_factory=dict)
    shutdown: Line | None = None


@dataclass
class IosEntry:
    sequence: int
    line: Line
    tree: Tree[Token]
    text: str


@dataclass
class IosAcl:
    """An access list: ``kind`` is standard, extended or ipv6."""

    name: str
    kind: str
    last_line: Line
    entries: list[IosEntry] = field(default_factory=list)

    def label(self) -> str:
        if self.kind == "ipv6":
            return f"ipv6 access-list {self.name}"
        if self.name.isdigit():
            return f"access-list {self.name}"
        return f"ip access-list {self.kind} {self.name}"

    def add(self, entry: IosEntry, span: Span) -> None:
        if any(e.sequence == entry.sequence for e in self.entries):
            raise ParseError(
                f"duplicate sequence number ({entry.sequence}) in {self.label()}", span
            )
        self.entries.append(entry)
        self.entries.sort(key=lambda e: e.sequence)

    def next_sequence(self) -> int:
        return (self.entries[-1].sequence if self.entries else 0) + SEQUENCE_STEP


@dataclass
class IosDevice:
    """Everything the IOS format reads from one device's configuration."""

    path: str
    hostname: str = ""
    first_line: Line | None = None
    store: ObjectStore = field(default_factory=ObjectStore)
    interfaces: dict[str, IosInterface] = field(default_factory=dict)
    acls: dict[str, IosAcl] = field(default_factory=dict)
    ipv6_acls: dict[str, IosAcl] = field(default_factory=dict)
    ipv6: bool = False  # the device routes or filters IPv6
    diagnostics: list[Diagnostic] = field(default_factory=list)
    nat_noted: bool = False

    def warn(self, message: str, span: Span, level: Level = "warning") -> None:
        self.diagnostics.append(Diagnostic("SEG902", message, span, level))


class IosReader:
    """Reads the commands seglint needs from an IOS configuration.

    Each ``hostname`` command after the first starts a new device.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.parser = line_parser("ios", STARTS)
        self.devices = [IosDevice(path)]

    @property
    def device(self) -> IosDevice:
        return self.devices[-1]

    def parse(self, line: Line, start: str, what: str) -> Tree[Token]:
        return parse_line(self.parser, line, start, self.path, what)

    def read(self, text: str) -> list[IosDevice]:
        for command in split_commands(text, _continues, banners=True):
            words = command.words
            if words[0] == "hostname" and len(words) > 1:
                if self.device.hostname:
                    self.devices.append(IosDevice(self.path))
                self.device.hostname = words[1]
            if self.device.first_line is None:
                self.device.first_line = command.line
            self._command(command)
        return self.devices

    def _command(self, command: Command) -> None:
        words = command.words
        line = command.line
        if words[0] == "interface" and len(words) > 1:
            self._interface(command)
        elif words[0] == "access-list" and len(words) > 2:
            self._numbered(line)
        elif words[:2] == ["no", "access-list"]:
            tree = self.parse(
                line.blank_first_word(), "numbered_name_cmd", "access-list"
            )
            self.device.acls.pop(str(tokens(tree)[0]), None)
        elif words[:2] in (["ip", "access-list"], ["ipv6", "access-list"]):
            self._named(command)
        elif words[:3] in (["no", "ip", "access-list"], ["no", "ipv6", "access-list"]):
            self._no_named(line)
        elif words[0] == "object-group" and len(words) > 1:
            self._group(command)
        elif words[:2] == ["no", "object-group"] and len(words) > 3:
            self.device.store.groups.pop(words[3], None)
        elif words[:2] == ["ipv6", "unicast-routing"]:
            self.device.ipv6 = True
        elif words[:2] == ["ip", "nat"] and not self.device.nat_noted:
            self.device.nat_noted = True
            self.device.warn(
                "nat is not modelled: access lists are read with the "
                "addresses they name",
                line.span(self.path),
                "note",
            )

    # --- interfaces -------------------------------------------------------------------

    def _interface(self, command: Command) -> None:
        name = command.words[1]
        interface = self.device.interfaces.get(name)
        if interface is None:
            interface = self.device.interfaces[name] = IosInterface(name, command.line)
        for line in command.body:
            words = line.words
            if (
                not _prefix(words, INTERFACE_WORDS)
                or DYNAMIC_ADDRESS_WORDS & set(words)
                or "link-local" in words
            ):
                continue
            tree = self.parse(line, "interface_cmd", "interface sub-command")
            self._interface_line(interface, tree, line)

    def _interface_line(
        self, interface: IosInterface, tree: Tree[Token], line: Line
    ) -> None:
        values = [str(t) for t in tokens(tree)]
        kind = tree.data
        direction = next(
            (str(tokens(t)[0]) for t in subtrees(tree) if t.data == "direction"), ""
        )
        if kind == "ip_address":
            cidr = f"{values[0]}/{values[1]}"
            checked_network(cidr, line.span(self.path))
            if "secondary" in line.words:
                interface.secondary.append(cidr)
            else:
                interface.primary = cidr
        elif kind == "no_ip_address":
            interface.primary, interface.secondary = "", []
        elif kind == "ipv6_address":
            checked_network(values[0], line.span(self.path))
            interface.ipv6.append(values[0])
            self.device.ipv6 = True
        elif kind == "access_group":
            interface.ip_lists[direction] = (values[0], line)
        elif kind == "no_access_group":
            interface.ip_lists.pop(direction, None)
        elif kind == "traffic_filter":
            interface.ipv6_lists[direction] = (values[0], line)
            self.device.ipv6 = True
        elif kind == "no_traffic_filter":
            interface.ipv6_lists.pop(direction, None)
        elif kind == "shutdown":
            interface.shutdown = line
        elif kind == "no_shutdown":
            interface.shutdown = None

    # --- access lists -----------------------------------------------------------------

    def _numbered(self, line: Line) -> None:
        words = line.words
        if words[2] == "remark":
            acl = self.device.acls.get(words[1])
            if acl is not None:
                acl.last_line = line
            return
        number = int(words[1]) if words[1].isdigit() else -1
        standard = standard_number(number)
        if standard is None:
            if number < 0:
                self.parse(line, "numbered_name_cmd", "access-list")
            self.device.warn(
                f"access-list {words[1]} is not an IP access list (only "
                "1-199, 1300-2699 are read)",
                line.span(self.path),
                "note",
            )
            return
        kind = "standard" if standard else "extended"
        start = "numbered_standard_cmd" if standard else "numbered_extended_cmd"
        tree = self.parse(line, start, f"{kind} access-list")
        acl = self.device.acls.get(words[1])
        if acl is None or acl.kind != kind:
            acl = self.device.acls[words[1]] = IosAcl(words[1], kind, line)
        acl.last_line = line
        acl.add(
            IosEntry(acl.next_sequence(), line, tree, line.normalized),
            line.span(self.path),
        )

    def _named(self, command: Command) -> None:
        words = command.words
        if words[0] == "ip" and (
            len(words) < 3 or words[2] not in ("extended", "standard")
        ):
            return  # ip access-list logging, resequence, role-based: not filters
        tree = self.parse(command.line, "list_header_cmd", "access-list header")
        kind = {
            "header_extended": "extended",
            "header_standard": "standard",
            "header_ipv6": "ipv6",
        }[str(tree.data)]
        name = str(tokens(tree)[0])
        table = self.device.ipv6_acls if kind == "ipv6" else self.device.acls
        acl = table.get(name)
        if acl is None or acl.kind != kind:
            acl = table[name] = IosAcl(name, kind, command.line)
        if kind == "ipv6":
            self.device.ipv6 = True
        acl.last_line = command.line
        for line in command.body:
            acl.last_line = line
            self._list_line(acl, line)

    def _list_line(self, acl: IosAcl, line: Line) -> None:
        words = line.words
        first = words[0]
        if first == "remark" or (first.isdigit() and words[1:2] == ["remark"]):
            return
        if first == "no":
            self._remove_entry(acl, line)
            return
        if first in ("statistics", "fragments"):
            return
        if first not in ENTRY_WORDS and not first.isdigit():
            self.device.warn(
                f"unknown sub-command in {acl.label()} ignored ({first})",
                line.span(self.path),
            )
            return
        tree = self.parse(line, LINE_STARTS[acl.kind], f"{acl.label()} entry")
        numbers = [token for token in tokens(tree) if token.type == "INT"]
        sequence = int(numbers[0]) if numbers else acl.next_sequence()
        text = f"{acl.label()}: {line.normalized}"
        acl.add(IosEntry(sequence, line, tree, text), line.span(self.path))

    def _remove_entry(self, acl: IosAcl, line: Line) -> None:
        words = line.words[1:]
        if words[:1] == ["sequence"]:
            words = words[1:]
        if len(words) == 1 and words[0].isdigit():
            acl.entries = [e for e in acl.entries if e.sequence != int(words[0])]
            return
        wanted = " ".join(words)
        for entry in acl.entries:
            entry_words = entry.line.words
            if entry_words and (
                entry_words[0].isdigit() or entry_words[0] == "sequence"
            ):
                entry_words = entry_words[2 if entry_words[0] == "sequence" else 1 :]
            if " ".join(entry_words) == wanted:
                acl.entries.remove(entry)
                return

    def _no_named(self, line: Line) -> None:
        words = line.words
        if words[1] == "ipv6" and len(words) > 3:
            self.device.ipv6_acls.pop(words[3], None)
        elif len(words) > 4 and words[3] in ("extended", "standard"):
            acl = self.device.acls.get(words[4])
            if acl is not None and acl.kind == words[3]:
                del self.device.acls[words[4]]

    # --- object groups ----------------------------------------------------------------

    def _group(self, command: Command) -> None:
        words = command.words
        if words[1] not in ("network", "service"):
            if len(words) > 2:
                self.device.store.add_group(
                    Group("other", words[2], command.line, command.line.span(self.path))
                )
            return
        tree = self.parse(command.line, "group_cmd", "object-group command")
        kind = "network" if tree.data == "group_network" else "service"
        group = Group(
            kind, str(tokens(tree)[0]), command.line, command.line.span(self.path)
        )
        start = "network_member_cmd" if kind == "network" else "service_member_cmd"
        values = IosValues(self.device, self.path)
        for line in command.body:
            if line.words[0] == "description":
                continue
            member = self.parse(line, start, f"object-group {kind} member")
            span = line.tree_span(self.path, member)
            if member.data == "group_object":
                group.members.append(
                    Member("group", line, span, name=str(tokens(member)[0]))
                )
            else:
                value = values.member_value(group, member, line)
                group.members.append(Member("value", line, span, value))
        self.device.store.add_group(group)


def _continues(command: Command, line: Line) -> bool:
    words = command.words
    first = line.words
    if words[0] == "interface":
        return _prefix(first, INTERFACE_WORDS)
    if words[:2] in (["ip", "access-list"], ["ipv6", "access-list"]):
        return (
            first[0] in ENTRY_WORDS
            or first[0] == "remark"
            or first[0].isdigit()
            or (first[0] == "no" and len(first) > 1 and first[1].isdigit())
        )
    if words[0] == "object-group":
        return first[0] in ("group-object", "host", "range", "description")
    return False


class IosFormat:
    """The ``ios`` input format."""

    id = "ios"
    patterns = ("*.ios", "*.ios.cfg", "*-ios.cfg", "*_ios.cfg")

    def detect(self, path: str, head: str) -> int:
        if _ASA_MARKERS.search(head):
            return 0
        return 2 if _IOS_MARKERS.search(head) else 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        devices = IosReader(source.path).read(source.text)
        named = len(devices) > 1
        rulesets = []
        for device in devices:
            device.store.resolve_all()
            rulesets.append(
                IosChains(device, source.path).ruleset(device.hostname if named else "")
            )
        return ParseResult(tuple(rulesets))


@hookimpl
def seglint_formats() -> list[IosFormat]:
    return [IosFormat()]
