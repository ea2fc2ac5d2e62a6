"""ASA values, access-list entries and the chains of the ``forward`` hook.

:class:`AsaValues` turns parse trees into address and service sets.
:class:`AsaEntryReader` reads one ``access-list ... extended`` entry: its
values come in order (protocol, source, optional source port, destination,
optional destination port or ICMP type) and ``object-group X`` after the
source is a source-port group or the destination depending on the kind of
X, so the roles are assigned here with the object store at hand.
:class:`AsaChains` builds the rule set (see :mod:`seglint.formats.asa`).
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
    Chain,
    Condition,
    InterfaceMatch,
    ParseError,
    Rule,
    Ruleset,
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
    from seglint.formats.asa import Acl, AsaDevice, AsaInterface

ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
IN_CHAIN = "access-group in"
OUT_CHAIN = "access-group out"
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
                f"interface {name} as an address is not modelled (the checks say may)",
                span,
            )
            return AddressSet(EMPTY, (part,))
        raise ParseError(f"expected an address, found {line.tree_text(tree)!r}", span)

    def _masked(self, address: str, mask: str, span: Span) -> AddressSet:
        values = mask_addresses(address, mask, span, wildcard=False)
        if values.unmodelled:
            self.device.warn(
                f"non-contiguous mask is not modelled ({address} {mask} "
                f"matches more than {MAX_MASK_INTERVALS} address ranges); "
                "the checks say may",
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
                    f"fqdn object {group.name} is not modelled ({name}); "
                    "the checks say may",
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
        self.device.warn(f"{kind} is not modelled ({text}); the checks say may", span)

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


class AsaChains:
    """Builds the rule set of an ASA: access-list chains and the two base chains."""

    def __init__(self, device: AsaDevice, path: str) -> None:
        self.device = device
        self.path = path
        self.values = AsaValues(device, path)
        self.chains: dict[str, Chain] = {}

    def ruleset(self) -> Ruleset:
        interfaces = self._named_interfaces()
        in_acls = self._bound_acls("in", interfaces)
        out_acls = self._bound_acls("out", interfaces)
        global_acl = self._global_acl()
        in_rules = self._in_rules(interfaces, in_acls, global_acl)
        out_rules = self._out_rules(interfaces, out_acls)
        anchor = self._anchor()
        self.chains[IN_CHAIN] = Chain(
            IN_CHAIN,
            tuple(in_rules),
            Rule(
                anchor,
                (),
                DROP,
                "drop traffic of interfaces without nameif",
                implicit=True,
                label="traffic on an interface without nameif is dropped",
            ),
        )
        self.chains[OUT_CHAIN] = Chain(
            OUT_CHAIN,
            tuple(out_rules),
            Rule(
                anchor,
                (),
                ACCEPT,
                "no outbound access-group",
                implicit=True,
                label="no outbound access-group on the output interface",
            ),
        )
        self._check_unused()
        networks = {i.nameif: i.networks for i in interfaces if i.networks}
        diagnostics = tuple(dict.fromkeys(self.device.diagnostics))
        return Ruleset(
            self.path,
            "asa",
            self.chains,
            {"forward": (IN_CHAIN, OUT_CHAIN)},
            frozenset({4, 6}),
            "network",
            diagnostics,
            networks,
        )

    def _check_unused(self) -> None:
        """Read the extended lists no access-group uses, for their errors only.

        They filter no traffic here (NAT, VPN and capture lists), so their
        SEG902 warnings would only distract and are dropped.
        """
        used = {
            chain.split(" ")[1]
            for chain in self.chains
            if chain.startswith("access-list ")
        }
        kept = list(self.device.diagnostics)
        for acl in self.device.acls.values():
            if acl.kind == "extended" and acl.name not in used:
                for line, tree in acl.entries:
                    AsaEntryReader(self.values, line, tree).rules()
        self.device.diagnostics[:] = kept

    # --- interfaces and bindings ------------------------------------------------------

    def _named_interfaces(self) -> list[AsaInterface]:
        from seglint.formats.asa import AsaInterface

        named = [i for i in self.device.interfaces if i.nameif]
        known = {i.nameif for i in named}
        for (nameif, _direction), (_acl, line) in self.device.bindings.items():
            if nameif not in known:
                # The file names the interface only in access-group: keep the
                # binding, with the ASA's default security level 0.
                known.add(nameif)
                named.append(AsaInterface(nameif, line, nameif))
                self.device.warn(
                    f"interface {nameif} has no interface block with "
                    "nameif; security level 0 assumed",
                    line.span(self.path),
                    "note",
                )
        return named

    def _acl_usable(self, name: str, line: Line) -> Acl | None:
        acl = self.device.acls.get(name)
        if acl is None:
            self.device.warn(
                f"access-group refers to access-list {name}, which is not "
                "defined; ignored, as the ASA rejects it",
                line.span(self.path),
            )
            return None
        if acl.kind != "extended":
            self.device.warn(
                f"access-group refers to {acl.kind} access-list {name}; "
                "ignored, as the ASA accepts only extended lists there",
                line.span(self.path),
            )
            return None
        return acl

    def _bound_acls(
        self, direction: str, interfaces: list[AsaInterface]
    ) -> dict[str, tuple[Acl, Line]]:
        out = {}
        for interface in interfaces:
            binding = self.device.bindings.get((interface.nameif, direction))
            if binding is None:
                continue
            acl = self._acl_usable(binding[0], binding[1])
            if acl is not None:
                out[interface.nameif] = (acl, binding[1])
        return out

    def _global_acl(self) -> tuple[Acl, Line] | None:
        binding = self.device.global_binding
        if binding is None:
            return None
        acl = self._acl_usable(binding[0], binding[1])
        return None if acl is None else (acl, binding[1])

    def _anchor(self) -> Span:
        for interface in self.device.interfaces:
            return interface.line.span(self.path)
        first = self.device.first_line
        return first.span(self.path) if first else Span(self.path, 1)

    # --- access-list chains -----------------------------------------------------------

    def _acl_chain(self, acl: Acl, implicit_deny: bool) -> str:
        name = f"access-list {acl.name}" + ("" if implicit_deny else " then global")
        if name in self.chains:
            return name
        rules: list[Rule] = []
        for line, tree in acl.entries:
            rules.extend(AsaEntryReader(self.values, line, tree).rules())
        if implicit_deny:
            label = f"implicit deny at the end of access-list {acl.name}"
            rules.append(
                Rule(
                    acl.last_line.span(self.path),
                    (),
                    DROP,
                    label,
                    implicit=True,
                    label=label,
                )
            )
        self.chains[name] = Chain(name, tuple(rules))
        return name

    # --- base chains ------------------------------------------------------------------

    def _in_rules(
        self,
        interfaces: list[AsaInterface],
        acls: dict[str, tuple[Acl, Line]],
        global_acl: tuple[Acl, Line] | None,
    ) -> list[Rule]:
        rules: list[Rule] = []
        for interface in interfaces:
            iif = InterfaceMatch("iif", (interface.nameif,))
            blocked = self._blocked(interface, iif)
            if blocked is not None:
                rules.append(blocked)
                continue
            rules.extend(self._same_security(interface, interfaces, iif))
            if interface.nameif in acls:
                acl, line = acls[interface.nameif]
                if global_acl is None:
                    action = Action("goto", self._acl_chain(acl, implicit_deny=True))
                else:
                    action = Action("jump", self._acl_chain(acl, implicit_deny=False))
                rules.append(
                    Rule(line.span(self.path), (iif,), action, line.normalized)
                )
            elif global_acl is None:
                rules.extend(self._level_default(interface, interfaces, iif))
        if global_acl is not None:
            acl, line = global_acl
            names = tuple(i.nameif for i in interfaces)
            rules.append(
                Rule(
                    line.span(self.path),
                    (InterfaceMatch("iif", names),),
                    Action("goto", self._acl_chain(acl, implicit_deny=True)),
                    line.normalized,
                )
            )
        return rules

    def _out_rules(
        self, interfaces: list[AsaInterface], acls: dict[str, tuple[Acl, Line]]
    ) -> list[Rule]:
        rules: list[Rule] = []
        for interface in interfaces:
            oif = InterfaceMatch("oif", (interface.nameif,))
            blocked = self._blocked(interface, oif)
            if blocked is not None:
                rules.append(blocked)
            elif interface.nameif in acls:
                acl, line = acls[interface.nameif]
                rules.append(
                    Rule(
                        line.span(self.path),
                        (oif,),
                        Action("goto", self._acl_chain(acl, implicit_deny=True)),
                        line.normalized,
                    )
                )
        return rules

    def _blocked(self, interface: AsaInterface, match: InterfaceMatch) -> Rule | None:
        name = interface.nameif
        if interface.shutdown is not None:
            label = f"interface {name} is shut down"
            return Rule(
                interface.shutdown.span(self.path),
                (match,),
                DROP,
                label,
                implicit=True,
                label=label,
            )
        if interface.management_only is not None:
            label = f"interface {name} is management-only (no traffic through the ASA)"
            return Rule(
                interface.management_only.span(self.path),
                (match,),
                DROP,
                label,
                implicit=True,
                label=label,
            )
        return None

    def _same_security(
        self,
        interface: AsaInterface,
        interfaces: list[AsaInterface],
        iif: InterfaceMatch,
    ) -> list[Rule]:
        names = []
        if not self.device.intra_interface:
            names.append(interface.nameif)
        if not self.device.inter_interface:
            names.extend(
                i.nameif
                for i in interfaces
                if i.level == interface.level and i is not interface
            )
        if not names:
            return []
        label = (
            f"same-security traffic is not permitted (interface {interface.nameif}, "
            f"security level {interface.level})"
        )
        return [
            Rule(
                interface.anchor.span(self.path),
                (iif, InterfaceMatch("oif", tuple(names))),
                DROP,
                label,
                implicit=True,
                label=label,
            )
        ]

    def _level_default(
        self,
        interface: AsaInterface,
        interfaces: list[AsaInterface],
        iif: InterfaceMatch,
    ) -> list[Rule]:
        level = interface.level
        lower = [i.nameif for i in interfaces if i.level < level]
        if self.device.inter_interface:
            lower += [
                i.nameif for i in interfaces if i.level == level and i is not interface
            ]
        if self.device.intra_interface:
            lower.append(interface.nameif)
        span = interface.anchor.span(self.path)
        rules = []
        where = f"interface {interface.nameif}, security level {level}"
        if lower:
            label = (
                f"security-level default: traffic to lower levels is allowed ({where})"
            )
            rules.append(
                Rule(
                    span,
                    (iif, InterfaceMatch("oif", tuple(lower))),
                    ACCEPT,
                    label,
                    implicit=True,
                    label=label,
                )
            )
        label = f"security-level default: traffic to higher levels is dropped ({where})"
        rules.append(Rule(span, (iif,), DROP, label, implicit=True, label=label))
        return rules
