"""The conditions of one pf rule in one base chain.

pfctl expands every list of a rule (interfaces, addresses, ports) into one
rule per combination, so a rule matches the union of its combinations. Here
a rule becomes a list of alternatives, each a tuple of IR conditions that
must all hold. The builder turns each alternative into one IR rule with the
rule's action. Known addresses of a list merge into one set. An address that the
engine cannot know (a host name, ``(em0)``, a table filled at run time)
stays an alternative of its own, with an unknown condition.

``self`` depends on the chain: on the input path every destination is one
of the host's addresses, so ``to self`` matches every packet there; on the
output path ``from self`` does; a forwarded packet is neither from nor to
the host, so there ``self`` matches nothing. A source of ``self`` on the
input path (or a destination on the output path) is unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from seglint.formats._pf_model import Host, Interface, PfRule, Port, TableDef
from seglint.formats._pf_values import (
    ALL_PORTS,
    ICMP4,
    ICMP6,
    PORT_PROTOCOLS,
    TCP,
    address_set,
    families_of,
    icmp_values,
    parse_address,
    port_set,
    protocol_number,
    range_set,
)
from seglint.ir import Condition, InterfaceMatch, Match, ParseError, Span, Unknown
from seglint.space import (
    ADDR_ALL,
    DPORT,
    DST,
    EMPTY,
    ICMP,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    IntervalSet,
    addresses,
    family_addresses,
    family_of,
)

logger = logging.getLogger(__name__)

Alternatives = list[tuple[Condition, ...]]
ALWAYS: Alternatives = [()]
_TCP_FLAGS = "FSRPAUEW"


@dataclass(frozen=True)
class ChainView:
    """A base chain and what the chain context makes of ``on`` and ``self``."""

    name: str
    direction: str  # the rules of this direction (and of no direction) apply
    interface_dim: str
    self_source: str  # "all", "none" or "unknown"
    self_destination: str


VIEWS = (
    ChainView("input", "in", IIF, "unknown", "all"),
    ChainView("output", "out", OIF, "all", "unknown"),
    ChainView("forward-in", "in", IIF, "none", "none"),
    ChainView("forward-out", "out", OIF, "none", "none"),
)


@dataclass
class TableValue:
    """Content of a table: known addresses, ``self`` and entries with unknown ones."""

    known: IntervalSet
    has_self: bool = False
    unknown_entries: tuple[str, ...] = ()
    # Set when nothing is known about the content (filled at run time).
    unknown_reason: str = ""


# Registers a SEG902 warning at a span and returns the unknown condition.
FileEntries = list[tuple[str, bool, Span]]
UnknownFactory = Callable[[str, Span, str, str], Unknown]
TableLookup = Callable[[str], tuple[TableDef, TableValue] | None]


class RuleConditions:
    """Compiles rules into alternatives for one chain view."""

    def __init__(
        self, view: ChainView, tables: TableLookup, unknown: UnknownFactory
    ) -> None:
        self.view = view
        self.tables = tables
        self.unknown = unknown

    # --- whole rules -------------------------------------------------------------

    def alternatives(self, rule: PfRule) -> Alternatives:
        """Return the alternatives of a filter rule or of an anchor call's filter."""
        if rule.direction and rule.direction != self.view.direction:
            return []
        protocols = self.protocols(rule)
        head: list[Condition] = []
        if protocols is not None:
            head.append(Match(PROTO, IntervalSet((p, p) for p in sorted(protocols))))
        source_ports = self.ports(rule.source_ports, SPORT, protocols)
        destination_ports = self.ports(rule.destination_ports, DPORT, protocols)
        tail = [c for c in (self.icmp(rule, protocols),) if c is not None]
        tail.extend(self.flags(rule, protocols))
        tail.extend(
            self.unknown(
                word.text,
                word.span,
                "pf " + word.text,
                f"rule option not modelled ({word.text})",
            )
            for word in rule.unknowns
        )

        out: Alternatives = []
        for interfaces in self.interfaces(rule.interfaces):
            for source in self.hosts(rule.sources, SRC):
                for destination in self.hosts(rule.destinations, DST):
                    families = (
                        {4, 6}
                        & _side_families(source, SRC)
                        & _side_families(destination, DST)
                    )
                    if rule.family:
                        families &= {rule.family}
                    if not families:
                        continue
                    out.append(
                        (
                            *interfaces,
                            *head,
                            *_restrict(source, SRC, families),
                            *source_ports,
                            *_restrict(destination, DST, families),
                            *destination_ports,
                            *tail,
                        )
                    )
        return out

    def protocols(self, rule: PfRule) -> set[int] | None:
        if rule.protocols is None:
            return None
        return {protocol_number(word.text, word.span) for word in rule.protocols}

    # --- interfaces ----------------------------------------------------------------

    def interfaces(self, interfaces: tuple[Interface, ...] | None) -> Alternatives:
        """Return the alternatives of ``on``: the names, and each ``! name`` on its own.

        NOTE: an interface group (egress, lo, em) is matched as that name;
        which interfaces belong to it is not known from the file.
        """
        if interfaces is None or any(
            i.name == "any" and not i.negated for i in interfaces
        ):
            return ALWAYS
        dim = self.view.interface_dim
        names = tuple(dict.fromkeys(i.name for i in interfaces if not i.negated))
        out: Alternatives = [(InterfaceMatch(dim, names),)] if names else []
        out.extend(
            (InterfaceMatch(dim, (i.name,), negated=True),)
            for i in interfaces
            if i.negated and i.name != "any"
        )
        return out

    # --- addresses -----------------------------------------------------------------

    def hosts(self, host: Host | None, dim: str) -> Alternatives:
        if host is None:
            return ALWAYS
        if host.kind == "list":
            return _union([self.hosts(item, dim) for item in host.items], dim)
        alternatives, universe = self._atom(host, dim)
        if host.negated:
            return _negate(alternatives, dim, universe)
        return alternatives

    def _atom(self, host: Host, dim: str) -> tuple[Alternatives, IntervalSet]:
        side = "source" if dim == SRC else "destination"
        if host.kind == "any":
            return ALWAYS, ADDR_ALL
        if host.kind == "self":
            return self._self(host.span, dim), ADDR_ALL
        if host.kind in ("no-route", "urpf-failed"):
            return [
                (
                    self.unknown(
                        host.kind,
                        host.span,
                        f"pf {side} {host.kind}",
                        f"{host.kind} is not modelled",
                    ),
                )
            ], ADDR_ALL
        if host.kind == "dynamic":
            return [(self._name(host.text, host.span, dim),)], ADDR_ALL
        if host.kind == "table":
            return self._table(host, dim), ADDR_ALL
        if host.kind == "range":
            values = range_set(host.value, host.last, host.span)
        else:
            found = address_set(host.value, host.span)
            if found is None:
                return [(self._name(host.value, host.span, dim),)], ADDR_ALL
            values = found
        return _known(values, dim), families_of(values)

    def _self(self, span: Span, dim: str) -> Alternatives:
        mode = self.view.self_source if dim == SRC else self.view.self_destination
        if mode == "all":
            return ALWAYS
        if mode == "none":
            return []
        side = "source" if dim == SRC else "destination"
        return [
            (
                self.unknown(
                    "self",
                    span,
                    f"pf {side} self",
                    f"self as a {side} address on the {self.view.name} "
                    "path is not modelled (the host's addresses are not "
                    "known)",
                ),
            )
        ]

    def _name(self, text: str, span: Span, dim: str) -> Unknown:
        side = "source" if dim == SRC else "destination"
        return self.unknown(
            text,
            span,
            f"pf {side} {text}",
            f"addresses of an interface or host name are not known ({text})",
        )

    def _table(self, host: Host, dim: str) -> Alternatives:
        side = "source" if dim == SRC else "destination"
        found = self.tables(host.value)
        name = f"<{host.value}>"
        if found is None:
            return [
                (
                    self.unknown(
                        name,
                        host.span,
                        f"pf {side} {name}",
                        f"table {name} is not defined in the checked files; "
                        "it is filled at run time",
                    ),
                )
            ]
        _, value = found
        if value.unknown_reason:
            return [
                (
                    self.unknown(
                        name, host.span, f"pf {side} {name}", value.unknown_reason
                    ),
                )
            ]
        out = _known(value.known, dim)
        if value.has_self:
            out = _union([out, self._self(host.span, dim)], dim)
        if value.unknown_entries:
            listed = ", ".join(value.unknown_entries)
            message = (
                f"addresses of interface or host names in table {name} are not "
                f"known ({listed})"
            )
            names = self.unknown(
                f"{name} {listed}", host.span, f"pf {side} {name} names", message
            )
            out = _union([out, [(names,)]], dim)
        return out

    # --- ports, icmp and flags ------------------------------------------------------

    def ports(
        self, ports: tuple[Port, ...] | None, dim: str, protocols: set[int] | None
    ) -> tuple[Condition, ...]:
        if ports is None:
            return ()
        if protocols is None or not protocols <= PORT_PROTOCOLS:
            raise ParseError(
                "port only applies to tcp, udp or sctp (add proto tcp or "
                "proto udp to the rule)",
                ports[0].span,
            )
        values = EMPTY
        for port in ports:
            values = values.union(port_set(port.op, port.first, port.second, port.span))
        if values == ALL_PORTS:
            return ()
        return (Match(dim, values),)

    def icmp(self, rule: PfRule, protocols: set[int] | None) -> Condition | None:
        if not rule.icmp:
            return None
        values = EMPTY
        for item in rule.icmp:
            required = ICMP6 if item.keyword == "icmp6-type" else ICMP4
            if protocols != {required}:
                proto = "icmp6" if required == ICMP6 else "icmp"
                raise ParseError(
                    f"{item.keyword} only applies to proto {proto}", item.span
                )
            values = values.union(
                icmp_values(item.keyword, item.type, item.code, item.span)
            )
        return Match(ICMP, values)

    def flags(self, rule: PfRule, protocols: set[int] | None) -> list[Condition]:
        """Check ``flags F/M``, which needs no condition when a SYN matches it.

        The checks are about new connections, whose first packet carries SYN
        alone; ``flags S/SA`` (pf's default on pass rules that keep state)
        matches it. The packets a rule with other flags matches are unknown.
        """
        word = rule.flags
        if word is None or word.text == "any":
            return []
        if protocols is not None and TCP not in protocols:
            raise ParseError("flags only apply to tcp", word.span)
        flags, slash, mask = word.text.partition("/")
        if not slash or any(c not in _TCP_FLAGS for c in flags + mask):
            raise ParseError(
                f"invalid tcp flags ({word.text}); expected a form such as S/SA",
                word.span,
            )
        if not set(flags) <= set(mask):
            raise ParseError(f"flags are always false ({word.text})", word.span)
        if {"S"} & set(mask) == set(flags):
            return []
        return [
            self.unknown(
                f"flags {word.text}",
                word.span,
                f"pf flags {word.text}",
                f"flags {word.text} do not match the first packet of a "
                "connection; the packets they match are not modelled",
            )
        ]


def _known(values: IntervalSet, dim: str) -> Alternatives:
    if not values:
        return []
    if values == ADDR_ALL:
        return ALWAYS
    return [(Match(dim, values),)]


def _union(groups: Sequence[Alternatives], dim: str) -> Alternatives:
    """Return the alternatives matching what any group matches."""
    merged = EMPTY
    others: Alternatives = []
    for group in groups:
        for alternative in group:
            if not alternative:
                return ALWAYS
            first = alternative[0]
            if len(alternative) == 1 and isinstance(first, Match) and first.dim == dim:
                merged = merged.union(first.values)
            elif alternative not in others:
                others.append(alternative)
    if merged == ADDR_ALL:
        return ALWAYS
    return _known(merged, dim) + others


def _negate(
    alternatives: Alternatives, dim: str, universe: IntervalSet
) -> Alternatives:
    """Return ``! host``: the universe of the host's family minus what it matches."""
    if alternatives == ALWAYS:
        return []
    conditions: list[Condition] = []
    covered = EMPTY
    for alternative in alternatives:
        for condition in alternative:
            if isinstance(condition, Match):
                covered = covered.union(condition.values)
            elif isinstance(condition, Unknown):
                conditions.append(replace(condition, negated=not condition.negated))
    rest = universe.subtract(covered)
    if not rest:
        return []
    if rest != ADDR_ALL:
        conditions.insert(0, Match(dim, rest))
    return [tuple(conditions)]


def _side_families(alternative: tuple[Condition, ...], dim: str) -> set[int]:
    for condition in alternative:
        if isinstance(condition, Match) and condition.dim == dim:
            return family_of(condition.values)
    return {4, 6}


def _restrict(
    alternative: tuple[Condition, ...], dim: str, families: set[int]
) -> tuple[Condition, ...]:
    """Keep an address side to the rule's one family (``inet``, or its addresses')."""
    if families >= {4, 6}:
        return alternative
    (family,) = families
    allowed = family_addresses(family)
    out: list[Condition] = []
    restricted = False
    for condition in alternative:
        if isinstance(condition, Match) and condition.dim == dim:
            condition = Match(dim, condition.values.intersect(allowed))
            restricted = True
        out.append(condition)
    if not restricted:
        out.insert(0, Match(dim, allowed))
    return tuple(out)


def table_value(table: TableDef, file_entries: FileEntries | None) -> TableValue:
    """Compute a table's content; ``file_entries`` is None when a file is unknown.

    A table matches an address when its most specific entry containing the
    address is not negated (pf tables are radix trees), so entries are
    applied from the shortest prefix to the longest.
    """
    name = f"<{table.name}>"
    if file_entries is None:
        return TableValue(
            EMPTY,
            unknown_reason=f"a file of table {name} is not in the "
            "checked files; its entries are unknown",
        )
    entries = [(e.kind, e.value, e.last, e.negated, e.span) for e in table.entries]
    entries += [
        ("address", value, "", negated, span) for value, negated, span in file_entries
    ]
    if not entries:
        if table.const:
            return TableValue(EMPTY)
        return TableValue(
            EMPTY,
            unknown_reason=f"table {name} has no entries in the "
            "checked files; it is filled at run time",
        )
    prefixed: list[tuple[int, bool, IntervalSet]] = []
    has_self = False
    unknown: list[str] = []
    for kind, value, last, negated, span in entries:
        if kind == "self":
            has_self = has_self or not negated
            if negated:
                return TableValue(
                    EMPTY,
                    unknown_reason=f"table {name} excludes self, "
                    "whose addresses are not known",
                )
            continue
        if kind == "range":
            prefixed.append((129, negated, range_set(value, last, span)))
            continue
        network = parse_address(value) if kind == "address" else None
        if network is None:
            if negated:
                return TableValue(
                    EMPTY,
                    unknown_reason=f"table {name} excludes an "
                    f"interface or host name ({value})",
                )
            unknown.append(value if kind == "address" else f"({value})")
            continue
        prefixed.append((network.prefixlen, negated, addresses([network])))
    known = EMPTY
    for _, negated, values in sorted(prefixed, key=lambda item: (item[0], item[1])):
        known = known.subtract(values) if negated else known.union(values)
    return TableValue(known, has_self, tuple(unknown))
