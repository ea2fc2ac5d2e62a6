"""The chains of an ASA's ``forward`` hook (see :mod:`seglint.formats.asa`).

Each bound access list becomes a chain that ends with its implicit deny. The
base chain ``access-group in`` dispatches on the input interface to the
inbound list or to the security-level default, and ``access-group out`` on
the output interface to the outbound list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seglint.formats._cisco_asa_rules import ACCEPT, DROP, AsaEntryReader, AsaValues
from seglint.formats._cisco_lines import Line
from seglint.ir import Action, Chain, InterfaceMatch, Rule, Ruleset, Span

if TYPE_CHECKING:
    from seglint.formats.asa import Acl, AsaDevice, AsaInterface

IN_CHAIN = "access-group in"
OUT_CHAIN = "access-group out"


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

        anchor = self._anchor()
        label = "traffic on an interface without nameif is dropped"
        in_policy = Rule(anchor, (), DROP, label, implicit=True, label=label)
        in_rules = self._in_rules(interfaces, in_acls, global_acl)
        self.chains[IN_CHAIN] = Chain(IN_CHAIN, tuple(in_rules), in_policy)

        label = "no outbound access-group on the output interface"
        out_policy = Rule(anchor, (), ACCEPT, label, implicit=True, label=label)
        out_rules = self._out_rules(interfaces, out_acls)
        self.chains[OUT_CHAIN] = Chain(OUT_CHAIN, tuple(out_rules), out_policy)

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
