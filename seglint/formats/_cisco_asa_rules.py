"""ASA values and access-list entries.

:class:`AsaValues` turns parse trees into address and service sets.
:class:`AsaEntryReader` reads one ``access-list ... extended`` entry. Its
values come in order: protocol, source, optional source port, destination,
optional destination port or ICMP type. ``object-group X`` after the source
is a source port group or the destination, depending on the kind of X, so
the roles are assigned here with the object store at hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lark import Token, Tree

from seglint.formats._cisco_lines import Line, subtrees, tokens
from seglint.formats._cisco_names import (
    ASA_ICMP,
    ASA_ICMP6,
    ASA_PORTS,
    ASA_PROTOCOLS,
    ICMP4,
    ICMP6,
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
    Unmodelled,
    checked_network,
    entry_rules,
    mask_addresses,
    protocol_service,
    restrict_icmp,
    restrict_ports,
    service_box,
)
from seglint.ir import (
    Action,
    Condition,
    ParseError,
    Rule,
    Span,
    Unknown,
)
from seglint.space import (
    DPORT,
    EMPTY,
    SPORT,
    V4_ALL,
    V6_ALL,
    IntervalSet,
    address_range,
)

if TYPE_CHECKING:
    from seglint.formats.asa import AsaDevice

ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
PORT_OPERATORS = ("eq", "neq", "lt", "gt", "range")
ADDRESS_VALUES = (
    "any",
    "any4",
    "any6",
    "host",
    "address_mask",
    "alias_mask",
    "prefix6",
    "object_ref",
    "group_ref",
    "interface_ref",
)
OPTIONS = ("log", "inactive", "time_range")


ASA_NAMES = NameTables("ASA", ASA_PORTS, ASA_PROTOCOLS, ASA_ICMP, ASA_ICMP6)


class AsaValues(TokenValues):
    """Reads addresses, ports, protocols and ICMP types of one ASA configuration."""

    def __init__(self, device: AsaDevice, path: str) -> None:
        super().__init__(path, ASA_NAMES)
        self.device = device

    # --- single values ----------------------------------------------------------------

    def alias(self, token: Token, line: Line) -> str:
        text = str(token)
        if text in self.device.names:
            return self.device.names[text]
        raise ParseError(
            f"name {text} is not defined (add a 'name ADDRESS {text}' command)",
            line.token_span(self.path, token),
        )

    def host(self, token: Token, line: Line) -> AddressSet:
        text = str(token)
        if token.type == "NAME":
            text = self.alias(token, line)
        return AddressSet(checked_network(text, line.token_span(self.path, token)))

    # --- addresses --------------------------------------------------------------------

    def address(self, tree: Tree[Token], line: Line) -> AddressSet:
        """Return the address set of an address value of an entry or object."""
        kind = tree.data
        items = tokens(tree)
        span = line.tree_span(self.path, tree)

        if kind == "any":
            return ANY_ADDRESS
        if kind == "any4":
            return AddressSet(V4_ALL)
        if kind == "any6":
            return AddressSet(V6_ALL)
        if kind in ("host", "network_host"):
            return self.host(items[0], line)
        if kind in ("address_mask", "network_mask"):
            return self._masked(str(items[0]), str(items[1]), span)
        if kind in ("alias_mask", "network_alias_mask"):
            return self._masked(self.alias(items[0], line), str(items[1]), span)
        if kind in ("prefix6", "network_prefix6"):
            return AddressSet(checked_network(str(items[0]), span))
        if kind == "range":
            try:
                return AddressSet(address_range(str(items[0]), str(items[1])))
            except ValueError as exc:
                raise ParseError(f"invalid address range ({exc})", span) from None

        if kind == "object_ref":
            return self._reference("object", items[0], line)
        if kind == "group_ref":
            return self._reference("object-group", items[0], line)
        if kind == "interface_ref":
            name = str(items[0])
            part = Unmodelled(f"address of interface {name}", span, f"interface:{name}")
            self.device.warn(
                f"interface {name} as an address is not modelled ({name}), {MAY_NOTE}",
                span,
            )
            return AddressSet(EMPTY, (part,))
        raise ParseError(f"expected an address, found {line.tree_text(tree)!r}", span)

    def _masked(self, address: str, mask: str, span: Span) -> AddressSet:
        values = mask_addresses(address, mask, span, wildcard=False)
        if values.unmodelled:
            self.device.warn(
                f"non-contiguous mask is not modelled ({address} {mask} matches "
                f"more than {MAX_MASK_INTERVALS} address ranges), {MAY_NOTE}",
                span,
            )
        return values

    def _reference(self, word: str, token: Token, line: Line) -> AddressSet:
        span = line.token_span(self.path, token)
        return self.device.store.addresses(word, str(token), span, "an address")

    # --- services ---------------------------------------------------------------------

    def service_spec(self, tree: Tree[Token], line: Line) -> ServiceSet:
        """Return the services of ``PROTOCOL [source OP] [destination OP] [ICMP]``."""
        proto_token = tokens(tree)[0]
        text = str(proto_token)
        if text == "tcp-udp":
            protocols: list[int | None] = [TCP, UDP]
        else:
            protocols = [self.protocol(proto_token, line)]

        sport = dport = icmp = None
        icmp_items: list[Token] = []
        for part in subtrees(tree):
            if part.data == "source_ports":
                sport = self.ports(subtrees(part)[0], line)
            elif part.data in ("destination_ports", "bare_ports"):
                dport = self.ports(subtrees(part)[0], line)
            else:
                icmp_items.extend(tokens(part))

        if (sport is not None or dport is not None) and not all(
            p in (TCP, UDP, SCTP) for p in protocols
        ):
            raise ParseError(
                f"ports need protocol tcp, udp, tcp-udp or sctp ({text})",
                line.tree_span(self.path, tree),
            )
        if icmp_items:
            if protocols[0] not in (ICMP4, ICMP6):
                raise ParseError(
                    f"an icmp type needs protocol icmp or icmp6 ({text})",
                    line.token_span(self.path, icmp_items[0]),
                )
            icmp = self.icmp(icmp_items, line, protocols[0] or ICMP4)

        boxes = []
        for number in protocols:
            if number is None:
                return ANY_SERVICE
            dims: dict[str, IntervalSet] = {"proto": IntervalSet.single(number)}
            if sport is not None:
                dims["sport"] = sport
            if dport is not None:
                dims["dport"] = dport
            if icmp is not None:
                dims["icmp"] = icmp
            boxes.append(service_box(**dims))
        return ServiceSet(tuple(boxes))

    # --- object and group members -----------------------------------------------------

    def member_value(
        self, group: Group, tree: Tree[Token], line: Line, span: Span
    ) -> Any:
        kind = tree.data
        if group.kind == "network":
            if kind == "fqdn":
                name = str(tokens(tree)[-1])
                part = Unmodelled(f"fqdn {name}", span, f"fqdn:{group.name}")
                self.device.warn(
                    f"fqdn object {group.name} is not modelled ({name}), {MAY_NOTE}",
                    span,
                )
                return AddressSet(EMPTY, (part,))
            return self.address(tree, line)
        if kind == "port_object":
            return self.ports(subtrees(tree)[0], line)
        if kind in ("service_object", "object_service_cmd"):
            return self.service_spec(subtrees(tree)[0], line)
        if kind == "protocol_object":
            return protocol_service(self.protocol(tokens(tree)[0], line))
        if kind == "icmp_object":
            return self.icmp(tokens(tree), line, ICMP4)
        raise ParseError(f"{line.words[0]} does not belong in {group.name}", span)


class AsaEntryReader:
    """Reads one ``access-list NAME extended`` entry into rules."""

    def __init__(self, values: AsaValues, line: Line, tree: Tree[Token]) -> None:
        self.values = values
        self.device = values.device
        self.path = values.path
        self.line = line
        self.ace = next(t for t in subtrees(tree) if t.data == "ace")
        self.extra: list[Condition] = []

    def rules(self) -> list[Rule]:
        parts = subtrees(self.ace)
        action_tree, protocol_tree = parts[0], parts[1]
        options = [p for p in parts[2:] if p.data in OPTIONS]
        if any(option.data == "inactive" for option in options):
            return []

        values = [p for p in parts[2:] if p.data not in OPTIONS]
        for index in reversed(range(len(values))):
            if values[index].data == "identity":
                self._unknown(values.pop(index), "user identity")

        service = self._protocol(protocol_tree)
        src, position = self._address(values, 0, "source")
        service, position = self._ports(values, position, service, SPORT)
        dst, position = self._address(values, position, "destination")
        service, position = self._destination_qualifier(values, position, service)
        if position < len(values):
            extra = values[position]
            raise ParseError(
                f"unexpected {self.line.tree_text(extra)!r} after the destination",
                self.line.tree_span(self.path, extra),
            )

        for option in options:
            if option.data == "time_range":
                self._unknown(option, "time-range")
        action = ACCEPT if str(tokens(action_tree)[0]) == "permit" else DROP
        return entry_rules(
            self.line.span(self.path),
            self.line.normalized,
            action,
            src,
            dst,
            service,
            tuple(self.extra),
        )

    def _unknown(self, tree: Tree[Token], kind: str) -> None:
        text = self.line.tree_text(tree)
        span = self.line.tree_span(self.path, tree)
        self.extra.append(Unknown(text, span, f"{kind}:{text}"))
        self.device.warn(
            f"{kind} is not modelled ({text}), {MAY_NOTE}",
            span,
        )

    def _protocol(self, tree: Tree[Token]) -> ServiceSet:
        token = tokens(tree)[0]
        span = self.line.token_span(self.path, token)
        store = self.device.store
        if tree.data in ("protocol_name", "protocol_number"):
            return protocol_service(self.values.protocol(token, self.line))
        if tree.data == "protocol_object":
            return store.services(
                "object", str(token), span, ("service",), "the protocol"
            )
        return store.services(
            "object-group", str(token), span, ("protocol", "service"), "the protocol"
        )

    def _address(
        self, values: list[Tree[Token]], position: int, role: str
    ) -> tuple[AddressSet, int]:
        if position >= len(values):
            column = len(self.line.text.rstrip()) + 1
            raise ParseError(
                f"missing {role} address (any, any4, any6, host ADDRESS, "
                "ADDRESS MASK, object NAME, object-group NAME, interface NAME)",
                Span(self.path, self.line.number, column),
            )
        tree = values[position]
        if tree.data not in ADDRESS_VALUES:
            raise ParseError(
                f"expected the {role} address, found {self.line.tree_text(tree)!r}",
                self.line.tree_span(self.path, tree),
            )
        return self.values.address(tree, self.line), position + 1

    def _ports(
        self, values: list[Tree[Token]], position: int, service: ServiceSet, dim: str
    ) -> tuple[ServiceSet, int]:
        """Apply a port operator or a port group at ``position``, if there is one."""
        if position >= len(values):
            return service, position
        tree = values[position]
        if tree.data in PORT_OPERATORS:
            self._need_ports(service, tree)
            return restrict_ports(
                service, dim, self.values.ports(tree, self.line)
            ), position + 1
        if tree.data == "group_ref":
            group = self.device.store.group(str(tokens(tree)[0]))
            if group is not None and group.kind == "port":
                self._need_ports(service, tree)
                ports = self.device.store.value(group)
                return restrict_ports(service, dim, ports), position + 1
        return service, position

    def _need_ports(self, service: ServiceSet, tree: Tree[Token]) -> None:
        if not service.protocols().intersect(PORT_PROTOCOL_SET):
            raise ParseError(
                "a port operator needs protocol tcp, udp or sctp "
                f"({self.line.tree_text(tree)})",
                self.line.tree_span(self.path, tree),
            )

    def _destination_qualifier(
        self, values: list[Tree[Token]], position: int, service: ServiceSet
    ) -> tuple[ServiceSet, int]:
        service, after = self._ports(values, position, service, DPORT)
        if after != position or position >= len(values):
            return service, after
        tree = values[position]
        store = self.device.store
        if tree.data == "group_ref":
            token = tokens(tree)[0]
            span = self.line.token_span(self.path, token)
            group, value = store.lookup(
                "object-group",
                str(token),
                span,
                ("icmp", "service"),
                "the destination port or icmp type",
            )
            if group.kind == "icmp":
                assert isinstance(value, IntervalSet)
                return self._icmp(service, tree, value), position + 1
            assert isinstance(value, ServiceSet)
            return service.intersect(value), position + 1
        protocols = service.protocols()
        if tree.data in ("word", "number") and (
            ICMP4 in protocols or ICMP6 in protocols
        ):
            items = tokens(tree)
            position += 1
            if position < len(values) and values[position].data == "number":
                items = items + tokens(values[position])
                position += 1
            protocol = ICMP6 if ICMP4 not in protocols else ICMP4
            return self._icmp(
                service, tree, self.values.icmp(items, self.line, protocol)
            ), position
        return service, position

    def _icmp(
        self, service: ServiceSet, tree: Tree[Token], values: IntervalSet
    ) -> ServiceSet:
        protocols = service.protocols()
        if ICMP4 not in protocols and ICMP6 not in protocols:
            raise ParseError(
                "an icmp type needs protocol icmp or icmp6 "
                f"({self.line.tree_text(tree)})",
                self.line.tree_span(self.path, tree),
            )
        return restrict_icmp(service, values)
