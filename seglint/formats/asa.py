"""Cisco ASA (and PIX 7) running configurations.

Read: ``interface`` blocks (``nameif``, ``security-level``, ``ip address``,
``ipv6 address``, ``shutdown``, ``management-only``), ``name`` aliases,
``object network|service``, ``object-group network|service|protocol|icmp-type``
(nested to any depth, referenced before their definition),
``access-list NAME [extended]`` entries, ``access-group NAME in|out interface
X`` and ``access-group NAME global``, ``same-security-traffic permit``,
``no access-list ...`` and ``clear configure access-list|object-group|object``.
Every other command and its indented sub-lines is skipped.

The file becomes one network rule set for both address families, because an
ASA 9 ``any`` matches IPv4 and IPv6. The ``forward`` hook has two base chains:

* ``access-group in`` dispatches on the input interface (its ``nameif``) to
  the interface's inbound access list. An interface without one gets the
  security-level default: traffic towards lower levels is accepted, towards
  equal levels only with ``same-security-traffic permit inter-interface``,
  and the rest is dropped. A global access list runs after the interface
  lists of every interface and the implicit deny comes after it, so with a
  global list no security-level default applies. Traffic between two
  interfaces of the same level, or back out of its input interface, is
  dropped unless ``same-security-traffic`` permits it. Shut down and
  ``management-only`` interfaces pass no traffic.
* ``access-group out`` applies the outbound access list of the output
  interface. An interface without one passes everything.

Accepts are stateful: the ASA's connection table lets replies through.

Not modelled, each an unknown condition and a SEG902 warning so the checks
say "may": ``time-range``, user and security-group identity, ``interface X``
as an address, ``fqdn`` objects, non-contiguous masks that would take more
than 1024 intervals. Ignored with a note: NAT (ACLs of ASA 8.3 and later use
real addresses), ``webtype`` and ``ethertype`` access lists, and
``control-plane`` access groups. An access group of a ``standard`` or
undefined list is a SEG902 warning and is ignored, as the ASA rejects it, and
so is an unknown sub-command inside an object or object group. ``inactive``
entries are ignored.

NOTE: before ASA 9.0, ``any`` meant IPv4 only and IPv6 had separate
``ipv6 access-list`` commands; seglint reads ``any`` as both families for
every version and does not read ``ipv6 access-list``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from lark import Token, Tree

from seglint.formats._cisco_asa_chains import AsaChains
from seglint.formats._cisco_asa_rules import AsaValues
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
from seglint.space import EMPTY, IntervalSet, addresses

logger = logging.getLogger(__name__)

Level = Literal["warning", "note"]

STARTS = (
    "acl_cmd",
    "access_group_cmd",
    "same_security_cmd",
    "name_cmd",
    "interface_cmd",
    "object_cmd",
    "object_network_cmd",
    "object_service_cmd",
    "group_cmd",
    "group_member_cmd",
)

INTERFACE_WORDS = {
    ("nameif",),
    ("no", "nameif"),
    ("security-level",),
    ("no", "security-level"),
    ("ip", "address"),
    ("no", "ip", "address"),
    ("ipv6", "address"),
    ("shutdown",),
    ("no", "shutdown"),
    ("management-only",),
    ("no", "management-only"),
}
# Member commands of each kind of object group; "port" is the ASA 8.2 form
# "object-group service NAME tcp|udp|tcp-udp" holding port-object lines.
GROUP_WORDS = {
    "network": ("network-object", "group-object"),
    "service": ("service-object", "group-object"),
    "port": ("port-object", "group-object"),
    "protocol": ("protocol-object", "group-object"),
    "icmp": ("icmp-object", "group-object"),
}
GROUP_KINDS = {
    "network": "network",
    "service": "service",
    "protocol": "protocol",
    "icmp-type": "icmp",
}
OBJECT_WORDS = {"network": ("host", "subnet", "range", "fqdn"), "service": ("service",)}
NAT_COMMANDS = {"nat", "static", "global"}

_ASA_MARKERS = re.compile(
    r"^(?:: Saved|ASA Version|PIX Version|\s*nameif\s|\s*security-level\s"
    r"|access-group \S+ (?:in|out) interface\s|access-list \S+ extended\s)",
    re.MULTILINE,
)
_CISCO_MARKERS = re.compile(
    r"^(?:access-list \S+ |object-group network )", re.MULTILINE
)


def _prefix(words: list[str], table: set[tuple[str, ...]]) -> bool:
    return any(tuple(words[: len(key)]) == key for key in table)


def _group_kind(words: list[str]) -> str:
    """Return the kind of an ``object-group`` header: network, port, ... or other."""
    kind = GROUP_KINDS.get(words[1], "other") if len(words) > 1 else "other"
    if kind == "service" and len(words) > 3:
        return "port"
    return kind


@dataclass
class AsaInterface:
    """An ``interface`` block: its nameif, security level and connected networks."""

    hardware: str
    line: Line
    nameif: str = ""
    level: int = 0
    level_line: Line | None = None
    networks: IntervalSet = EMPTY
    shutdown: Line | None = None
    management_only: Line | None = None

    @property
    def anchor(self) -> Line:
        """Return the line a user should look at for this interface's defaults."""
        return self.level_line or self.line


@dataclass
class Acl:
    """An access list: its entries (parse trees) in order, and its last line."""

    name: str
    kind: str
    last_line: Line
    entries: list[tuple[Line, Tree[Token]]] = field(default_factory=list)


@dataclass
class AsaDevice:
    """Everything the ASA format reads from one configuration."""

    path: str
    store: ObjectStore = field(default_factory=ObjectStore)
    interfaces: list[AsaInterface] = field(default_factory=list)
    acls: dict[str, Acl] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    # (nameif, "in" or "out") -> (access list name, access-group line)
    bindings: dict[tuple[str, str], tuple[str, Line]] = field(default_factory=dict)
    global_binding: tuple[str, Line] | None = None
    inter_interface: bool = False
    intra_interface: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    first_line: Line | None = None

    def warn(self, message: str, span: Span, level: Level = "warning") -> None:
        self.diagnostics.append(Diagnostic("SEG902", message, span, level))


class AsaReader:
    """Reads the commands seglint needs from an ASA configuration into an AsaDevice."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parser = line_parser("asa", STARTS)
        self.device = AsaDevice(path)
        self.values = AsaValues(self.device, path)
        self._nat_noted = False
        self._noted_lists: set[str] = set()

    def parse(self, line: Line, start: str, what: str) -> Tree[Token]:
        return parse_line(self.parser, line, start, self.path, what)

    def read(self, text: str) -> AsaDevice:
        for command in split_commands(text, _continues):
            if self.device.first_line is None:
                self.device.first_line = command.line
            self._command(command)
        return self.device

    def _command(self, command: Command) -> None:
        words = command.words
        head = words[0]
        if head == "interface" and len(words) >= 2:
            self._interface(command)
        elif head == "name" and len(words) >= 3:
            self._name(command.line)
        elif head == "object" and len(words) >= 2 and words[1] in OBJECT_WORDS:
            self._object(command)
        elif head == "object-group" and len(words) >= 2:
            self._group(command)
        elif head == "access-list":
            self._access_list(command.line)
        elif words[:2] == ["no", "access-list"]:
            self._no_access_list(command.line)
        elif (
            head == "clear" and len(words) >= 3 and words[1] in ("configure", "config")
        ):
            self._clear(words[2:])
        elif head == "access-group":
            self._access_group(command.line)
        elif words[:2] == ["no", "access-group"]:
            self._no_access_group(command.line)
        elif head == "same-security-traffic":
            self._same_security(command.line)
        elif head in NAT_COMMANDS:
            self._note_nat(command.line)

    def _note_nat(self, line: Line) -> None:
        """Add one note for the first NAT command of the file."""
        if self._nat_noted:
            return
        self._nat_noted = True
        self.device.warn(
            "nat is not modelled: access lists are read with the addresses they "
            f"name ({line.words[0]})",
            line.span(self.path),
            "note",
        )

    # --- interfaces -------------------------------------------------------------------

    def _interface(self, command: Command) -> None:
        interface = AsaInterface(command.words[1], command.line)
        v4: list[str] = []
        v6: list[str] = []
        for line in command.body:
            if not _prefix(line.words, INTERFACE_WORDS):
                continue
            tree = self.parse(line, "interface_cmd", "interface sub-command")
            values = [str(token) for token in tokens(tree)]
            kind = tree.data
            if kind == "nameif":
                interface.nameif = values[0]
            elif kind == "no_nameif":
                interface.nameif = ""
            elif kind == "security_level":
                interface.level = int(values[0])
                interface.level_line = line
                if interface.level > 100:
                    raise ParseError(
                        f"invalid security level ({interface.level} > 100)",
                        line.span(self.path),
                    )
            elif kind == "no_security_level":
                interface.level, interface.level_line = 0, line
            elif kind == "ip_address":
                v4 = [f"{values[0]}/{values[1]}"]
                checked_network(v4[0], line.span(self.path))
            elif kind in ("no_ip_address", "ip_address_dynamic"):
                v4 = []
            elif kind == "ipv6_address":
                v6.append(values[0])
                checked_network(values[0], line.span(self.path))
            elif kind == "shutdown":
                interface.shutdown = line
            elif kind == "no_shutdown":
                interface.shutdown = None
            elif kind == "management_only":
                interface.management_only = line
            elif kind == "no_management_only":
                interface.management_only = None
        interface.networks = addresses(v4 + v6)
        self.device.interfaces.append(interface)

    def _name(self, line: Line) -> None:
        tree = self.parse(line, "name_cmd", "name command")
        address, alias = (str(t) for t in tokens(tree)[:2])
        self.device.names[alias] = address

    def _same_security(self, line: Line) -> None:
        tree = self.parse(line, "same_security_cmd", "same-security-traffic command")
        scope = str(tokens(subtrees(tree)[0])[0])
        if scope == "inter-interface":
            self.device.inter_interface = True
        else:
            self.device.intra_interface = True

    # --- objects and object groups ----------------------------------------------------

    def _object(self, command: Command) -> None:
        tree = self.parse(command.line, "object_cmd", "object command")
        kind = "network" if tree.data == "object_network" else "service"
        name = str(tokens(tree)[0])
        group = Group(
            kind, name, command.line, command.line.span(self.path), is_object=True
        )
        for line in command.body:
            words = line.words
            if words[0] in OBJECT_WORDS[kind]:
                start = (
                    "object_network_cmd" if kind == "network" else "object_service_cmd"
                )
                member = self._member(
                    group, self.parse(line, start, f"object {kind} line"), line
                )
                # An object contains one definition; a later one replaces it.
                group.members = [member]
            elif words[0] == "nat":
                self._note_nat(line)
            elif words[0] != "description":
                self._unknown_sub(line, f"object {kind} {name}")
        self.device.store.add_object(group)

    def _group(self, command: Command) -> None:
        words = command.words
        kind = _group_kind(words)
        if kind == "other":
            # user, security and other groups: kept so that a reference
            # names its kind, their members are not read.
            name = words[2] if len(words) > 2 else ""
            self.device.store.add_group(
                Group("other", name, command.line, command.line.span(self.path))
            )
            return
        tree = self.parse(command.line, "group_cmd", "object-group command")
        values = tokens(tree)
        name = str(values[0])
        protocol = ""
        if kind == "port":
            protocol = str(tokens(subtrees(tree)[0])[0])
        group = Group(
            kind, name, command.line, command.line.span(self.path), protocol=protocol
        )
        for line in command.body:
            first = line.words[0]
            if first == "description":
                continue
            if first not in GROUP_WORDS[kind]:
                self._unknown_sub(line, f"object-group {words[1]} {name}")
                continue
            tree = self.parse(line, "group_member_cmd", "object-group member")
            group.members.append(self._member(group, tree, line))
        self.device.store.add_group(group)

    def _unknown_sub(self, line: Line, owner: str) -> None:
        self.device.warn(
            f"unknown sub-command in {owner} ignored ({line.words[0]}); "
            "the ASA rejects it",
            line.span(self.path),
        )

    def _member(self, group: Group, tree: Tree[Token], line: Line) -> Member:
        span = line.tree_span(self.path, tree)
        if tree.data == "group_object":
            return Member("group", line, span, name=str(tokens(tree)[0]))
        reference = _object_reference(tree)
        if reference:
            return Member("object", line, span, name=reference)
        return Member(
            "value", line, span, self.values.member_value(group, tree, line, span)
        )

    # --- access lists -----------------------------------------------------------------

    def _access_list(self, line: Line) -> None:
        words = line.words
        if len(words) < 3:
            self.parse(line, "acl_cmd", "access-list")  # raises for the short line
            return
        name, kind = words[1], words[2]
        acl = self.device.acls.get(name)
        if kind == "remark":
            if acl is not None:
                acl.last_line = line
            else:
                self.device.acls[name] = Acl(name, "extended", line)
            return
        if kind in ("webtype", "ethertype"):
            if name not in self._noted_lists:
                self._noted_lists.add(name)
                message = f"{kind} access-list {name} is not modelled"
                self.device.warn(message, line.span(self.path), "note")
            return
        if kind == "rename":
            return

        tree = self.parse(line, "acl_cmd", "access-list")
        acl_kind = "standard" if tree.data == "acl_standard" else "extended"
        if acl is None:
            acl = self.device.acls[name] = Acl(name, acl_kind, line)
        if not acl.entries:
            acl.kind = acl_kind
        acl.last_line = line

        position = next((t for t in subtrees(tree) if t.data == "acl_position"), None)
        if position is not None:
            index = max(int(tokens(position)[0]) - 1, 0)
            acl.entries.insert(min(index, len(acl.entries)), (line, tree))
        else:
            acl.entries.append((line, tree))

    def _no_access_list(self, line: Line) -> None:
        words = line.words
        acl = self.device.acls.get(words[2]) if len(words) > 2 else None
        if acl is None:
            return
        if len(words) == 3:
            del self.device.acls[words[2]]
            return
        wanted = _entry_key(words[1:])
        for index, (entry_line, _tree) in enumerate(acl.entries):
            if _entry_key(entry_line.words) == wanted:
                del acl.entries[index]
                return

    def _clear(self, words: list[str]) -> None:
        if words[0] == "access-list":
            if len(words) > 1:
                self.device.acls.pop(words[1], None)
            else:
                self.device.acls.clear()
        elif words[0] == "object-group":
            self.device.store.clear_groups()
        elif words[0] == "object":
            self.device.store.clear_objects()
        elif words[0] == "access-group":
            self.device.bindings.clear()
            self.device.global_binding = None

    def _access_group(self, line: Line) -> None:
        tree = self.parse(line, "access_group_cmd", "access-group command")
        values = [str(t) for t in tokens(tree)]
        if tree.data == "access_group_global":
            self.device.global_binding = (values[0], line)
        elif "control-plane" in line.words:
            self.device.warn(
                f"control-plane access-group {values[0]} is not modelled "
                "(it filters traffic to the ASA itself)",
                line.span(self.path),
                "note",
            )
        else:
            direction = "in" if tree.data == "access_group_in" else "out"
            self.device.bindings[(values[1], direction)] = (values[0], line)

    def _no_access_group(self, line: Line) -> None:
        tree = self.parse(
            line.blank_first_word(), "access_group_cmd", "access-group command"
        )
        values = [str(t) for t in tokens(tree)]
        if tree.data == "access_group_global":
            self.device.global_binding = None
        else:
            direction = "in" if tree.data == "access_group_in" else "out"
            self.device.bindings.pop((values[1], direction), None)


def _entry_key(words: list[str]) -> list[str]:
    """Return an access-list line's words without ``line N``, for ``no access-list``."""
    if len(words) > 3 and words[2] == "line":
        return words[:2] + words[4:]
    return words


def _continues(command: Command, line: Line) -> bool:
    words = command.words
    first = line.words
    if words[0] == "interface":
        return _prefix(first, INTERFACE_WORDS)
    if words[0] == "object-group":
        return (
            first[0] in GROUP_WORDS.get(_group_kind(words), ())
            or first[0] == "description"
        )
    if words[0] == "object" and len(words) > 1:
        return first[0] in OBJECT_WORDS.get(words[1], ()) or first[0] == "description"
    return False


def _object_reference(tree: Tree[Token]) -> str:
    """Return the object a member line names (``network-object object X``), or ""."""
    if tree.data == "network_object":
        return str(tokens(tree)[0])
    if tree.data == "service_object":
        spec = tree.children[0]
        if isinstance(spec, Tree) and spec.data == "service_object_ref":
            return str(tokens(spec)[0])
    return ""


class AsaFormat:
    """The ``asa`` input format."""

    id = "asa"
    patterns = ("*.asa", "*.asa.cfg", "*-asa.cfg", "*_asa.cfg")

    def detect(self, path: str, head: str) -> int:
        if _ASA_MARKERS.search(head):
            return 2
        return 1 if _CISCO_MARKERS.search(head) and "ip access-" not in head else 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        device = AsaReader(source.path).read(source.text)
        device.store.resolve_all()
        ruleset = AsaChains(device, source.path).ruleset()
        return ParseResult((ruleset,))


@hookimpl
def seglint_formats() -> list[AsaFormat]:
    return [AsaFormat()]
