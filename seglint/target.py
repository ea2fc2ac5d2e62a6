"""The deployment side of a rule set: what it protects and the packet sets of its checks.

A :class:`Target` ties a parsed rule set to the deployment: whether it is
the host firewall of a SEG role or a network firewall between zones, which
addresses each party has, and which interface faces which networks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from seglint.engine import Engine
from seglint.ir import Ruleset
from seglint.policy import INTERNET_ROLES
from seglint.space import (
    ADDR_ALL,
    DPORT,
    DST,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    STATE,
    STATE_INDEX,
    Box,
    IntervalSet,
    addresses,
    family_addresses,
    family_of,
)

if TYPE_CHECKING:
    from seglint.config import Config
    from seglint.matrix import FlowCheck
    from seglint.policy import Requirement

Mode = Literal["host", "network", "unmapped"]

LOOPBACK_NETS = addresses(["127.0.0.0/8", "::1/128"])
# Sources that cannot open a connection from the internet: link-local
# addresses are never routed, and the kernel drops packets from 0.0.0.0/8,
# multicast and limited broadcast sources as martians (IPv6 forbids
# multicast sources, RFC 4291).
LINK_LOCAL_NETS = addresses([
    "169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32",
    "ff00::/8",
])
CLIENT_PORTS = IntervalSet.single(1024, 65535)
ALL_PORTS = IntervalSet.single(0, 65535)
NEW = IntervalSet.single(STATE_INDEX["new"])


@dataclass(frozen=True)
class Party:
    """One side of a flow: its addresses and whether the configuration named them."""

    label: str
    values: IntervalSet
    configured: bool
    entries: tuple[IntervalSet, ...] = ()
    internet: bool = False  # the addresses outside the trusted networks

    def families(self) -> set[int]:
        return family_of(self.values)


@dataclass
class Target:
    ruleset: Ruleset
    engine: Engine
    config: Config
    mode: Mode
    host_role: str | None = None
    # Interface name -> the networks it faces (host `interfaces` or network `zones`).
    interfaces: dict[str, IntervalSet] = field(default_factory=dict)
    # (port table entry, check) pairs for `seglint matrix`; None unless requested.
    verdicts: list[tuple[Requirement, FlowCheck]] | None = None

    def record(self, requirement: Requirement, check: FlowCheck) -> None:
        if self.verdicts is not None:
            self.verdicts.append((requirement, check))

    # --- parties -----------------------------------------------------------------

    @cached_property
    def configured_addresses(self) -> IntervalSet:
        """Every address the configuration gives a role."""
        values = IntervalSet()
        for role in self.config.roles.values():
            if role.configured:
                values = values.union(role.values)
        return values

    @cached_property
    def untrusted(self) -> IntervalSet:
        # Loopback sources never arrive from another host, trusted or not.
        outside = ADDR_ALL.subtract(self.config.trusted)
        return outside.subtract(LOOPBACK_NETS).subtract(LINK_LOCAL_NETS)

    def party(self, role: str) -> Party:
        if role == "any":
            return Party("any address", ADDR_ALL, False)
        if role == "internet":
            return Party("the internet", self.untrusted, False, internet=True)
        configured = self.config.roles.get(role)
        if configured is not None and configured.configured:
            entries = tuple(addresses([entry]) for entry in configured.entries)
            return Party(role, configured.values, True, entries)
        if role in INTERNET_ROLES:
            return Party(f"{role} (the internet)", self.untrusted, False, internet=True)
        return Party(role, ADDR_ALL, False)

    def host_party(self) -> Party:
        if self.host_role is None:
            label = "this host" if self.mode != "network" else "hosts behind this firewall"
            return Party(label, ADDR_ALL, False)
        return self.party(self.host_role)

    # --- interfaces ----------------------------------------------------------------

    def non_loopback(self) -> IntervalSet:
        return self.engine.universe.full(IIF).subtract(self.engine.loopback)

    def interface_split(self, values: IntervalSet) -> Iterator[tuple[IntervalSet, IntervalSet | None]]:
        """Split addresses by the interface that faces them.

        Yields (addresses, interface atoms); atoms are None where no mapping
        is known, meaning "any interface but loopback".
        """
        if not self.interfaces:
            yield values, None
            return
        rest = values
        for name, networks in self.interfaces.items():
            part = values.intersect(networks)
            if part:
                yield part, self.engine.atoms.match([name])
                rest = rest.subtract(networks)
        if rest:
            yield rest, None

    # --- packet sets ---------------------------------------------------------------

    def flow_boxes(
        self,
        hook: str,
        protocols: tuple[int, ...],
        ports: IntervalSet,
        src: IntervalSet,
        dst: IntervalSet,
        sports: IntervalSet = CLIENT_PORTS,
    ) -> tuple[list[Box], bool]:
        """Return the new-connection packets of a flow on ``hook``.

        The flag is True when the interfaces are not mapped, so the choice
        of interface is free (existential for required flows).
        """
        base = {
            PROTO: IntervalSet((p, p) for p in protocols),
            DPORT: ports,
            SPORT: sports,
            STATE: NEW,
        }
        boxes: list[Box] = []
        free = False
        any_iface = self.non_loopback()
        if hook == "input":
            for part, atoms in self.interface_split(src):
                free |= atoms is None
                boxes.append(Box.of({**base, SRC: part, DST: dst,
                                     IIF: any_iface if atoms is None else atoms}))
        elif hook == "output":
            for part, atoms in self.interface_split(dst):
                free |= atoms is None
                boxes.append(Box.of({**base, SRC: src, DST: part,
                                     OIF: any_iface if atoms is None else atoms}))
        else:
            for src_part, in_atoms in self.interface_split(src):
                for dst_part, out_atoms in self.interface_split(dst):
                    free |= in_atoms is None or out_atoms is None
                    for iif, oif in self._crossings(in_atoms, out_atoms):
                        boxes.append(Box.of({**base, SRC: src_part, DST: dst_part,
                                             IIF: iif, OIF: oif}))
        return [box for box in boxes if not box.is_empty()], free

    def _crossings(self, in_atoms: IntervalSet | None,
                   out_atoms: IntervalSet | None) -> Iterator[tuple[IntervalSet, IntervalSet]]:
        """Yield (input, output) interface sets of packets that cross the firewall.

        A packet through a network firewall leaves by another interface than
        it came in on, so pairs with the same interface are left out.
        """
        any_iface = self.non_loopback()
        ins = any_iface if in_atoms is None else in_atoms
        outs = any_iface if out_atoms is None else out_atoms
        for lo, hi in ins.bounds:
            for atom in range(lo, hi + 1):
                others = outs.subtract(IntervalSet.single(atom))
                if others:
                    yield IntervalSet.single(atom), others

    def families(self, *parties: Party) -> list[int]:
        allowed = set(self.ruleset.families)
        for party in parties:
            allowed &= party.families()
        return sorted(allowed)


def restrict(values: IntervalSet, family: int) -> IntervalSet:
    return values.intersect(family_addresses(family))
