"""The chains of an IOS device's ``forward`` hook (see :mod:`seglint.formats.ios`).

Each bound access list becomes a chain that ends with the implicit rules of
IOS. The base chains dispatch on the input or output interface to its list,
one pair for IPv4 lists and one for IPv6 lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seglint.formats._cisco_ios_rules import ACCEPT, DROP, IosEntryReader, IosValues
from seglint.formats._cisco_names import ICMP6
from seglint.ir import Action, Chain, InterfaceMatch, Match, Rule, Ruleset, Span
from seglint.space import ICMP, PROTO, IntervalSet, addresses

if TYPE_CHECKING:
    from seglint.formats.ios import IosAcl, IosDevice

BASE_CHAINS = {
    (4, "in"): "ip access-group in",
    (4, "out"): "ip access-group out",
    (6, "in"): "ipv6 traffic-filter in",
    (6, "out"): "ipv6 traffic-filter out",
}
# IOS ends every IPv6 access list with these, before the implicit deny.
ND_TYPES = ((136, "nd-na"), (135, "nd-ns"))


class IosChains:
    """Builds the rule set of one IOS device."""

    def __init__(self, device: IosDevice, path: str) -> None:
        self.device = device
        self.path = path
        self.values = IosValues(device, path)
        self.chains: dict[str, Chain] = {}

    def ruleset(self, name: str = "") -> Ruleset:
        families = (4, 6) if self.device.ipv6 else (4,)
        hooks: list[str] = []
        for family in families:
            for direction in ("in", "out"):
                chain = BASE_CHAINS[(family, direction)]
                self.chains[chain] = Chain(
                    chain,
                    tuple(self._base_rules(family, direction)),
                    self._policy(family, direction),
                    frozenset({family}),
                )
                hooks.append(chain)
        self._check_unused()
        diagnostics = tuple(dict.fromkeys(self.device.diagnostics))
        return Ruleset(
            self.path,
            "ios",
            self.chains,
            {"forward": tuple(hooks)},
            frozenset(families),
            "network",
            diagnostics,
            self._networks(),
            name=name,
        )

    def _check_unused(self) -> None:
        """Read the lists no interface uses, for their errors only.

        They filter no traffic here (NAT, route maps, VTY lines), so their
        SEG902 warnings would only distract and are dropped.
        """
        kept = list(self.device.diagnostics)
        for acl in list(self.device.acls.values()) + list(
            self.device.ipv6_acls.values()
        ):
            if acl.label() not in self.chains:
                for entry in acl.entries:
                    IosEntryReader(self.values, acl, entry).rules()
        self.device.diagnostics[:] = kept

    def _networks(self) -> dict[str, IntervalSet]:
        out = {}
        for interface in self.device.interfaces.values():
            cidrs = (
                ([interface.primary] if interface.primary else [])
                + interface.secondary
                + interface.ipv6
            )
            if cidrs:
                out[interface.name] = addresses(cidrs)
        return out

    def _anchor(self) -> Span:
        for interface in self.device.interfaces.values():
            return interface.line.span(self.path)
        first = self.device.first_line
        return first.span(self.path) if first else Span(self.path, 1)

    def _policy(self, family: int, direction: str) -> Rule:
        word = "inbound" if direction == "in" else "outbound"
        label = f"no {word} ipv{family} access list on the interface"
        return Rule(self._anchor(), (), ACCEPT, label, implicit=True, label=label)

    def _base_rules(self, family: int, direction: str) -> list[Rule]:
        rules = []
        dim = "iif" if direction == "in" else "oif"
        table = self.device.ipv6_acls if family == 6 else self.device.acls
        for interface in self.device.interfaces.values():
            match = InterfaceMatch(dim, (interface.name,))
            if interface.shutdown is not None:
                label = f"interface {interface.name} is shut down"
                rules.append(
                    Rule(
                        interface.shutdown.span(self.path),
                        (match,),
                        DROP,
                        label,
                        implicit=True,
                        label=label,
                    )
                )
                continue
            lists = interface.ipv6_lists if family == 6 else interface.ip_lists
            binding = lists.get(direction)
            if binding is None:
                continue
            acl_name, line = binding
            acl = table.get(acl_name)
            if acl is None:
                self.device.warn(
                    f"access list {acl_name} applied to {interface.name} is "
                    "not defined; IOS then permits all traffic",
                    line.span(self.path),
                )
                continue
            rules.append(
                Rule(
                    line.span(self.path),
                    (match,),
                    Action("goto", self._acl_chain(acl)),
                    line.normalized,
                )
            )
        return rules

    def _acl_chain(self, acl: IosAcl) -> str:
        name = acl.label()
        if name in self.chains:
            return name
        rules: list[Rule] = []
        for entry in acl.entries:
            rules.extend(IosEntryReader(self.values, acl, entry).rules())
        span = acl.last_line.span(self.path)
        if acl.kind == "ipv6":
            for icmp_type, word in ND_TYPES:
                label = f"implicit permit icmp any any {word} in {name}"
                conditions = (
                    Match(PROTO, IntervalSet.single(ICMP6)),
                    Match(
                        ICMP,
                        IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255),
                    ),
                )
                rules.append(
                    Rule(span, conditions, ACCEPT, label, implicit=True, label=label)
                )
        label = f"implicit deny at the end of {name}"
        rules.append(Rule(span, (), DROP, label, implicit=True, label=label))
        self.chains[name] = Chain(name, tuple(rules))
        return name
