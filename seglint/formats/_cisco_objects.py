"""Objects and object groups of the ASA and IOS formats, and their resolution.

Groups may nest to any depth and refer to groups defined further down the
file, so the formats first collect every definition (:class:`ObjectStore`)
and then resolve each group once, in file order. A reference cycle is a
ParseError at the header line of the first group of the cycle, not a hang.

Resolved values by kind:

* ``network`` groups and objects: :class:`AddressSet`
* ``service`` groups and objects, ``protocol`` groups: :class:`ServiceSet`
* ``port`` groups (ASA ``object-group service NAME tcp``): ports, an IntervalSet
* ``icmp`` groups (ASA ``object-group icmp-type``): ICMP values, an IntervalSet
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seglint.formats._cisco_lines import Line
from seglint.formats._cisco_values import NO_ADDRESS, NO_SERVICE, AddressSet, ServiceSet
from seglint.ir import ParseError, Span
from seglint.space import EMPTY, IntervalSet

KIND_WORDS = {
    "network": "network",
    "service": "service",
    "port": "service (with a protocol)",
    "protocol": "protocol",
    "icmp": "icmp-type",
    "other": "unsupported",
}


@dataclass(frozen=True, slots=True)
class Member:
    """One member line: a value of the group's kind, or a reference by name."""

    kind: str  # "value", "group" or "object"
    line: Line
    span: Span
    value: Any = None
    name: str = ""


@dataclass
class Group:
    """An ``object-group`` (or, with ``is_object``, an ``object``) definition."""

    kind: str
    name: str
    line: Line
    span: Span
    members: list[Member] = field(default_factory=list)
    protocol: str = ""  # for port groups: tcp, udp or tcp-udp
    is_object: bool = False


def empty_value(kind: str) -> Any:
    if kind == "network":
        return NO_ADDRESS
    if kind in ("service", "protocol"):
        return NO_SERVICE
    return EMPTY


def union(kind: str, left: Any, right: Any) -> Any:
    if kind == "network":
        assert isinstance(left, AddressSet)
        return left.union(right)
    if kind in ("service", "protocol"):
        assert isinstance(left, ServiceSet)
        return left.union(right)
    assert isinstance(left, IntervalSet)
    return left.union(right)


class ObjectStore:
    """All objects and object groups of one device, resolved on demand."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.objects: dict[str, Group] = {}
        self._values: dict[tuple[bool, str], Any] = {}
        self._resolving: list[str] = []

    def add_group(self, group: Group) -> None:
        # Entering an existing group's name again adds to it, as on the device.
        existing = self.groups.get(group.name)
        if existing is not None and existing.kind == group.kind:
            existing.members.extend(group.members)
            group.members = existing.members
        self.groups[group.name] = group

    def add_object(self, group: Group) -> None:
        self.objects[group.name] = group

    def clear_groups(self) -> None:
        self.groups.clear()

    def clear_objects(self) -> None:
        self.objects.clear()

    # --- resolution -------------------------------------------------------------------

    def resolve_all(self) -> None:
        """Resolve every definition, so a cycle is an error even in an unused group."""
        for group in list(self.objects.values()) + list(self.groups.values()):
            self._resolve(group)

    def group(self, name: str) -> Group | None:
        return self.groups.get(name)

    def object(self, name: str) -> Group | None:
        return self.objects.get(name)

    def value(self, group: Group) -> Any:
        return self._resolve(group)

    def _resolve(self, group: Group) -> Any:
        key = (group.is_object, group.name)
        if key in self._values:
            return self._values[key]
        label = _label(group)
        if label in self._resolving:
            start = self._resolving.index(label)
            chain = " -> ".join([*self._resolving[start:], label])
            first = self._by_label(self._resolving[start])
            raise ParseError(
                f"{_label(first)} is part of a reference cycle ({chain})", first.span
            )
        self._resolving.append(label)
        try:
            value = empty_value(group.kind)
            for member in group.members:
                value = union(group.kind, value, self._member_value(group, member))
        finally:
            self._resolving.pop()
        self._values[key] = value
        return value

    def _by_label(self, label: str) -> Group:
        is_object = label.startswith("object ")
        name = label.split(" ", 1)[1]
        return (self.objects if is_object else self.groups)[name]

    def _member_value(self, group: Group, member: Member) -> Any:
        if member.kind == "value":
            return member.value
        table = self.groups if member.kind == "group" else self.objects
        word = "object-group" if member.kind == "group" else "object"
        target = table.get(member.name)
        if target is None:
            raise ParseError(
                f"{word} {member.name} is not defined (referenced by {_label(group)})",
                member.span,
            )
        if group.kind != target.kind:
            raise ParseError(
                f"{word} {member.name} is a {KIND_WORDS[target.kind]} {word}, "
                f"but {_label(group)} needs a {KIND_WORDS[group.kind]} one",
                member.span,
            )
        return self._resolve(target)

    def lookup(
        self, word: str, name: str, span: Span, kinds: tuple[str, ...], role: str
    ) -> tuple[Group, Any]:
        """Return a referenced object or group and its value, or raise ParseError."""
        table = self.groups if word == "object-group" else self.objects
        target = table.get(name)
        if target is None:
            raise ParseError(f"{word} {name} is not defined", span)
        if target.kind not in kinds:
            wanted = " or ".join(KIND_WORDS[k] for k in kinds)
            raise ParseError(
                f"{word} {name} is a {KIND_WORDS[target.kind]} {word}, but "
                f"{role} needs a {wanted} one",
                span,
            )
        return target, self._resolve(target)

    def addresses(self, word: str, name: str, span: Span, role: str) -> AddressSet:
        """Return the addresses of a network object or group used as ``role``."""
        _target, value = self.lookup(word, name, span, ("network",), role)
        assert isinstance(value, AddressSet)
        return value

    def services(
        self, word: str, name: str, span: Span, kinds: tuple[str, ...], role: str
    ) -> ServiceSet:
        """Return the services of a service or protocol object or group."""
        _target, value = self.lookup(word, name, span, kinds, role)
        assert isinstance(value, ServiceSet)
        return value


def _label(group: Group) -> str:
    return f"{'object' if group.is_object else 'object-group'} {group.name}"
