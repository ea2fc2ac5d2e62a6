"""IOS values and access-list entries.

:class:`IosValues` turns parse trees into address and service sets.
:class:`IosEntryReader` reads one entry, whose values come in order:
protocol, source, optional source port, destination, optional destination
port or ICMP message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lark import Token, Tree

from seglint.formats._cisco_lines import Line, subtrees, tokens
from seglint.formats._cisco_names import (
    ICMP4,
    ICMP6,
    IOS_ICMP,
    IOS_ICMP6,
    IOS_IPV6_PROTOCOLS,
    IOS_PORTS,
    IOS_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
)
from seglint.formats._cisco_objects import Group
from seglint.formats._cisco_tokens import NameTables, TokenValues
from seglint.formats._cisco_values import (
    ANY_ADDRESS,
    ANY_SERVICE,
    MAX_MASK_INTERVALS,
    MAY_NOTE,
    PORT_PROTOCOL_SET,
    AddressSet,
    ServiceSet,
    checked_network,
    entry_rules,
    mask_addresses,
    protocol_service,
    restrict_icmp,
    restrict_ports,
    service_box,
    unmodelled_rule,
)
from seglint.ir import (
    Action,
    Condition,
    Match,
    ParseError,
    Rule,
    Span,
    Unknown,
)
from seglint.space import (
    DPORT,
    SPORT,
    STATE,
    STATE_INDEX,
    IntervalSet,
    address_range,
)

if TYPE_CHECKING:
    from seglint.formats.ios import IosAcl, IosDevice, IosEntry

ACCEPT = Action("accept", stateful=False)
DROP = Action("drop")
ESTABLISHED = Match(STATE, IntervalSet.single(STATE_INDEX["established"]))
PORT_OPERATORS = ("eq", "neq", "lt", "gt", "range")
ADDRESS_VALUES = ("any", "host", "address_wildcard", "address", "prefix6", "group_ref")
OPTIONS = ("established", "log", "time_range", "reflect", "unmodelled")
IOS_NAMES = NameTables("IOS", IOS_PORTS, IOS_PROTOCOLS, IOS_ICMP, IOS_ICMP6)


class IosValues(TokenValues):
    """Reads addresses, ports, protocols and ICMP messages of one IOS device."""

    def __init__(self, device: IosDevice, path: str) -> None:
        super().__init__(path, IOS_NAMES)
        self.device = device

    def wildcard(self, address: str, wildcard: str, span: Span) -> AddressSet:
        values = mask_addresses(address, wildcard, span, wildcard=True)
        if values.unmodelled:
            self.device.warn(
                f"non-contiguous wildcard is not modelled ({address} {wildcard} "
                f"matches more than {MAX_MASK_INTERVALS} address ranges), {MAY_NOTE}",
                span,
            )
        return values

    def address(self, tree: Tree[Token], line: Line, family: int) -> AddressSet:
        """Return the address set of an entry's source or destination."""
        kind = tree.data
        items = [str(t) for t in tokens(tree)]
        span = line.tree_span(self.path, tree)
        if kind == "any":
            # The list's base chain receives only packets of its family.
            return ANY_ADDRESS
        if kind == "group_ref":
            token = tokens(tree)[0]
            span = line.token_span(self.path, token)
            return self.device.store.addresses(
                "object-group", str(token), span, "an address"
            )
        is_v6 = ":" in items[0]
        if family and is_v6 != (family == 6):
            raise ParseError(
                f"an ipv{'6' if family == 6 else '4'} access list needs "
                f"ipv{'6' if family == 6 else '4'} addresses ({items[0]})",
                span,
            )

        if kind == "host":
            return AddressSet(checked_network(items[0], span))
        if kind == "address_wildcard" and len(items) == 1:
            return AddressSet(checked_network(items[0], span))
        if kind == "address_wildcard":
            return self.wildcard(items[0], items[1], span)
        if kind == "prefix6":
            return AddressSet(checked_network(items[0], span))
        raise ParseError(
            f"expected a wildcard mask after {items[0]} (ADDRESS WILDCARD, "
            "host ADDRESS or any)",
            span,
        )

    def service(self, tree: Tree[Token], line: Line) -> ServiceSet:
        """Return the services of a service group line (``tcp eq 80``, ``icmp 8``)."""
        proto_token = tokens(tree)[0]
        text = str(proto_token)
        protocols: list[int | None] = (
            [TCP, UDP] if text == "tcp-udp" else [self.protocol(proto_token, line)]
        )

        # "eq" is optional in a service object group: "tcp 80", "tcp source 20".
        sport = dport = icmp = None
        bare: list[Token] = []
        for part in subtrees(tree):
            if part.data == "source_ports":
                sport = self.ports(subtrees(part)[0], line)
            elif part.data == "source_port":
                sport = IntervalSet.single(self.port(tokens(part)[0], line))
            elif part.data == "ports":
                dport = self.ports(subtrees(part)[0], line)
            else:
                bare.extend(tokens(part))
        carries_ports = all(p in (TCP, UDP, SCTP) for p in protocols)
        if bare and carries_ports:
            dport = IntervalSet.single(self.port(bare[0], line))
            bare = bare[1:]

        if (sport is not None or dport is not None) and not carries_ports:
            raise ParseError(
                f"ports need protocol tcp, udp or tcp-udp ({text})",
                line.tree_span(self.path, tree),
            )
        if bare:
            if protocols[0] != ICMP4:
                raise ParseError(
                    f"unexpected {str(bare[0])!r} after protocol {text}",
                    line.token_span(self.path, bare[0]),
                )
            icmp = self.icmp(bare, line, ICMP4)

        boxes = []
        for number in protocols:
            if number is None:
                return ANY_SERVICE
            dims: dict[str, IntervalSet] = {"proto": IntervalSet.single(number)}
            for key, values in (("sport", sport), ("dport", dport), ("icmp", icmp)):
                if values is not None:
                    dims[key] = values
            boxes.append(service_box(**dims))
        return ServiceSet(tuple(boxes))

    def member_value(self, group: Group, tree: Tree[Token], line: Line) -> Any:
        kind = tree.data
        items = [str(t) for t in tokens(tree)]
        span = line.tree_span(self.path, tree)
        if group.kind == "service":
            return self.service(tree, line)
        if kind == "any":
            return ANY_ADDRESS
        if kind in ("host", "prefix6"):
            return AddressSet(checked_network(items[0], span))
        try:
            if kind == "address_prefix":
                return AddressSet(checked_network(items[0] + items[1], span))
            if kind == "range":
                return AddressSet(address_range(items[0], items[1]))
        except ValueError as exc:
            raise ParseError(f"invalid address ({exc})", span) from None
        # Object groups take a subnet mask, not a wildcard.
        values = mask_addresses(items[0], items[1], span, wildcard=False)
        if values.unmodelled:
            self.device.warn(
                f"non-contiguous mask is not modelled ({items[0]} {items[1]})", span
            )
        return values


class IosEntryReader:
    """Reads one access-list entry into rules."""

    def __init__(self, values: IosValues, acl: IosAcl, entry: IosEntry) -> None:
        self.values = values
        self.device = values.device
        self.path = values.path
        self.acl = acl
        self.line = entry.line
        self.text = entry.text
        self.tree = entry.tree
        self.family = 6 if acl.kind == "ipv6" else 4
        self.extra: list[Condition] = []

    @property
    def span(self) -> Span:
        return self.line.span(self.path)

    def rules(self) -> list[Rule]:
        tree = self.tree
        if tree.data == "evaluate":
            name = str(tokens(tree)[-1])
            message = f"reflexive access-list {name} is not modelled (evaluate {name})"
            self.device.warn(f"{message}, {MAY_NOTE}", self.span)
            return [
                unmodelled_rule(
                    self.span,
                    self.text,
                    ACCEPT,
                    f"evaluate {name}",
                    f"reflexive:{name}",
                )
            ]
        for part in subtrees(tree):
            if part.data == "dynamic":
                self._unknown(part, "dynamic entry (lock-and-key)")
        body = next(
            p for p in subtrees(tree) if p.data in ("extended_entry", "standard_entry")
        )
        if body.data == "standard_entry":
            return self._standard(body)
        return self._extended(body)

    def _action(self, body: Tree[Token]) -> Action:
        action = str(tokens(subtrees(body)[0])[0])
        return ACCEPT if action == "permit" else DROP

    def _unknown(self, tree: Tree[Token], kind: str) -> None:
        text = self.line.tree_text(tree)
        span = self.line.tree_span(self.path, tree)
        self.extra.append(Unknown(text, span, f"{kind}:{text}"))
        self.device.warn(
            f"{kind} is not modelled ({text}), {MAY_NOTE}",
            span,
        )

    def _standard(self, body: Tree[Token]) -> list[Rule]:
        source = subtrees(body)[1]
        src = self.values.address(source, self.line, 4)
        return entry_rules(
            self.span,
            self.text,
            self._action(body),
            src,
            ANY_ADDRESS,
            ANY_SERVICE,
            tuple(self.extra),
        )

    def _extended(self, body: Tree[Token]) -> list[Rule]:
        parts = subtrees(body)
        action = self._action(body)
        options = [p for p in parts[1:] if p.data in OPTIONS]
        values = [p for p in parts[1:] if p.data not in OPTIONS]
        first = values[0]
        if first.data not in ("word", "number", "group_ref"):
            self.device.warn(
                f"extended access-list entry without a protocol "
                f"({self.line.normalized}); IOS rejects it, so seglint reads "
                "it as an entry that may or may not match",
                self.span,
            )
            return [
                unmodelled_rule(
                    self.span,
                    self.text,
                    action,
                    "entry without a protocol",
                    f"noproto:{self.text}",
                )
            ]

        service = self._protocol(first)
        src, position = self._address(values, 1, "source")
        service, position = self._ports(values, position, service, SPORT)
        dst, position = self._address(values, position, "destination")
        service, position = self._ports(values, position, service, DPORT)
        service, position = self._icmp(values, position, service)
        if position < len(values):
            extra = values[position]
            raise ParseError(
                f"unexpected {self.line.tree_text(extra)!r} after the destination",
                self.line.tree_span(self.path, extra),
            )

        for option in options:
            self._option(option, service)
        return entry_rules(
            self.span, self.text, action, src, dst, service, tuple(self.extra)
        )

    def _option(self, option: Tree[Token], service: ServiceSet) -> None:
        if option.data == "log":
            return
        if option.data == "established":
            if service.protocols() != IntervalSet.single(TCP):
                raise ParseError(
                    "established needs protocol tcp",
                    self.line.tree_span(self.path, option),
                )
            self.extra.append(ESTABLISHED)
        elif option.data == "reflect":
            self.device.warn(
                "reflexive access lists are not modelled (the replies they "
                f"let in are not checked): {self.line.tree_text(option)}",
                self.line.tree_span(self.path, option),
                "note",
            )
        else:
            self._unknown(option, self.line.tree_text(option).split()[0])

    def _protocol(self, tree: Tree[Token]) -> ServiceSet:
        token = tokens(tree)[0]
        if tree.data == "group_ref":
            span = self.line.token_span(self.path, token)
            return self.device.store.services(
                "object-group", str(token), span, ("service",), "the protocol"
            )
        table = IOS_IPV6_PROTOCOLS if self.family == 6 else IOS_PROTOCOLS
        return protocol_service(self.values.protocol(token, self.line, table))

    def _address(
        self, values: list[Tree[Token]], position: int, role: str
    ) -> tuple[AddressSet, int]:
        if position >= len(values):
            column = len(self.line.text.rstrip()) + 1
            raise ParseError(
                f"missing {role} address (any, host ADDRESS, ADDRESS WILDCARD, "
                "object-group NAME)",
                Span(self.path, self.line.number, column),
            )
        tree = values[position]
        if tree.data not in ADDRESS_VALUES:
            raise ParseError(
                f"expected the {role} address, found {self.line.tree_text(tree)!r}",
                self.line.tree_span(self.path, tree),
            )
        return self.values.address(tree, self.line, self.family), position + 1

    def _ports(
        self, values: list[Tree[Token]], position: int, service: ServiceSet, dim: str
    ) -> tuple[ServiceSet, int]:
        if position >= len(values) or values[position].data not in PORT_OPERATORS:
            return service, position
        tree = values[position]
        if not service.protocols().intersect(PORT_PROTOCOL_SET):
            raise ParseError(
                "a port operator needs protocol tcp, udp or sctp "
                f"({self.line.tree_text(tree)})",
                self.line.tree_span(self.path, tree),
            )
        return restrict_ports(
            service, dim, self.values.ports(tree, self.line)
        ), position + 1

    def _icmp(
        self, values: list[Tree[Token]], position: int, service: ServiceSet
    ) -> tuple[ServiceSet, int]:
        if position >= len(values) or values[position].data not in ("word", "number"):
            return service, position
        tree = values[position]
        items = tokens(tree)
        position += 1
        if position < len(values) and values[position].data == "number":
            items = items + tokens(values[position])
            position += 1
        protocol = ICMP6 if self.family == 6 else ICMP4
        if protocol not in service.protocols():
            raise ParseError(
                f"unexpected {self.line.tree_text(tree)!r}: an icmp message "
                "needs protocol icmp",
                self.line.tree_span(self.path, tree),
            )
        return restrict_icmp(
            service, self.values.icmp(items, self.line, protocol)
        ), position
