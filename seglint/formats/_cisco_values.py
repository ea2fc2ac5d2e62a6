"""Address sets, service sets and rule building shared by the ASA and IOS formats.

An ACL entry matches a set of sources, a set of destinations and a set of
services (protocol with ports or ICMP types). Object groups make each of
them a union. A service group can mix protocols, so a service set is a union
of boxes over protocol, source port, destination port and ICMP type. One box
becomes plain conditions, several become one :class:`~seglint.ir.TupleMatch`,
so that one ACL line stays one rule.

Some parts of an address set cannot be modelled: an FQDN object, the address
of an ASA interface, or a non-contiguous mask that would take more than
:data:`MAX_MASK_INTERVALS` intervals. They are kept as :class:`Unmodelled`
parts. An entry that uses one gets an extra rule per part, carrying an
:class:`~seglint.ir.Unknown` condition limited to the part's hull.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from seglint.formats._cisco_names import ICMP4, ICMP6, PORT_PROTOCOLS
from seglint.ir import (
    Action,
    Condition,
    Match,
    ParseError,
    Rule,
    Span,
    TupleMatch,
    Unknown,
)
from seglint.space import (
    ADDR_ALL,
    DPORT,
    DST,
    EMPTY,
    ICMP,
    PROTO,
    SPORT,
    SRC,
    IntervalSet,
    addresses,
)

# A non-contiguous mask with k free bits above its lowest run of free bits
# matches 2**k intervals. 1024 keeps every rule cheap for the engine; a
# larger set becomes an unknown condition within its contiguous hull.
MAX_MASK_INTERVALS = 1024

# Ends the SEG902 message of a construct that becomes an Unknown condition.
MAY_NOTE = "so findings that depend on it are marked may"

PORTS_ALL = IntervalSet.single(0, 65535)
SERVICE_DIMS = (PROTO, SPORT, DPORT, ICMP)
FULL = {
    PROTO: IntervalSet.single(0, 255),
    SPORT: PORTS_ALL,
    DPORT: PORTS_ALL,
    ICMP: IntervalSet.single(0, 65535),
}
PORT_PROTOCOL_SET = IntervalSet((p, p) for p in PORT_PROTOCOLS)
ICMP_PROTOCOL_SET = IntervalSet([(ICMP4, ICMP4), (ICMP6, ICMP6)])


class InvalidValue(ValueError):
    """An invalid value in an otherwise well-formed line (a port above 65535)."""


# --- addresses ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """Addresses the engine cannot compute, known only to lie within ``hull``."""

    text: str
    span: Span
    key: str
    hull: IntervalSet = ADDR_ALL


@dataclass(frozen=True, slots=True)
class AddressSet:
    known: IntervalSet
    unmodelled: tuple[Unmodelled, ...] = ()

    def union(self, other: AddressSet) -> AddressSet:
        parts = self.unmodelled + tuple(
            part for part in other.unmodelled if part not in self.unmodelled
        )
        return AddressSet(self.known.union(other.known), parts)


ANY_ADDRESS = AddressSet(ADDR_ALL)
NO_ADDRESS = AddressSet(EMPTY)


def ipv4_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


@lru_cache(maxsize=65536)
def masked_ipv4(address: str, mask: str, *, wildcard: bool) -> tuple[IntervalSet, bool]:
    """Return the IPv4 addresses that ``address`` and ``mask`` match.

    ``mask`` is a subnet mask (ASA, bits set = compared) or, with
    ``wildcard``, an IOS wildcard (bits set = ignored). Either may be
    non-contiguous. The flag is False when the exact set would take more
    than MAX_MASK_INTERVALS intervals. The set returned is then the
    contiguous hull: every address that agrees on the bits above the highest
    ignored bit.
    """
    value = ipv4_int(address)
    bits = ipv4_int(mask)
    free = bits if wildcard else ~bits & 0xFFFFFFFF
    base = value & ~free & 0xFFFFFFFF

    # The ignored bits from bit 0 up form each interval; every combination
    # of the other ignored bits starts a new one.
    low = free & ~(free + 1)
    high_bits = [bit for bit in range(32) if (free & ~low) >> bit & 1]
    if 2 ** len(high_bits) > MAX_MASK_INTERVALS:
        top = high_bits[-1]
        span = (1 << (top + 1)) - 1
        start = base & ~span
        return IntervalSet.single(start, start | span), False
    intervals = []
    for index in range(2 ** len(high_bits)):
        combination = 0
        for position, bit in enumerate(high_bits):
            if index >> position & 1:
                combination |= 1 << bit
        start = base | combination
        intervals.append((start, start | low))
    return IntervalSet(intervals), True


def mask_addresses(
    address: str, mask: str, span: Span, *, wildcard: bool
) -> AddressSet:
    """Return an address set for ``address mask``, unknown past the interval limit."""
    values, exact = masked_ipv4(address, mask, wildcard=wildcard)
    if exact:
        return AddressSet(values)
    kind = "wildcard" if wildcard else "mask"
    text = f"{address} {mask}"
    return AddressSet(
        EMPTY,
        (Unmodelled(f"non-contiguous {kind} ({text})", span, f"mask:{text}", values),),
    )


# --- services -------------------------------------------------------------------------

ServiceBox = tuple[tuple[str, IntervalSet], ...]


def service_box(**dims: IntervalSet) -> ServiceBox:
    """Return a box over SERVICE_DIMS; keyword names are the dimension names."""
    return tuple(sorted(dims.items()))


@dataclass(frozen=True, slots=True)
class ServiceSet:
    """A union of boxes over protocol, ports and ICMP type.

    A box without a dimension allows every value of it.
    """

    boxes: tuple[ServiceBox, ...]

    def union(self, other: ServiceSet) -> ServiceSet:
        return ServiceSet(
            self.boxes + tuple(b for b in other.boxes if b not in self.boxes)
        )

    def intersect(self, other: ServiceSet) -> ServiceSet:
        out: list[ServiceBox] = []
        for left in self.boxes:
            for right in other.boxes:
                merged = dict(left)
                empty = False
                for dim, values in right:
                    both = merged[dim].intersect(values) if dim in merged else values
                    if not both:
                        empty = True
                        break
                    merged[dim] = both
                if not empty and tuple(sorted(merged.items())) not in out:
                    out.append(tuple(sorted(merged.items())))
        return ServiceSet(tuple(out))

    def protocols(self) -> IntervalSet:
        out = EMPTY
        for box in self.boxes:
            out = out.union(dict(box).get(PROTO, FULL[PROTO]))
        return out


ANY_SERVICE = ServiceSet(((),))
NO_SERVICE = ServiceSet(())


def protocol_service(number: int | None) -> ServiceSet:
    if number is None:
        return ANY_SERVICE
    return ServiceSet((service_box(proto=IntervalSet.single(number)),))


def restrict(
    service: ServiceSet, allowed_protocols: IntervalSet, dim: str, values: IntervalSet
) -> ServiceSet:
    """Limit every box to ``allowed_protocols`` and ``values`` in ``dim``.

    A port operator only matches packets that carry ports, and an ICMP type
    only ICMP packets, so the boxes of other protocols fall out: applying a
    port qualifier to a protocol group keeps the qualifier (never drops it).
    """
    kwargs = {"proto": allowed_protocols, _KEYWORD[dim]: values}
    return service.intersect(ServiceSet((service_box(**kwargs),)))


_KEYWORD = {PROTO: "proto", SPORT: "sport", DPORT: "dport", ICMP: "icmp"}


def restrict_ports(service: ServiceSet, dim: str, ports: IntervalSet) -> ServiceSet:
    return restrict(service, PORT_PROTOCOL_SET, dim, ports)


def restrict_icmp(service: ServiceSet, values: IntervalSet) -> ServiceSet:
    return restrict(service, ICMP_PROTOCOL_SET, ICMP, values)


def port_values(operator: str, ports: list[int]) -> IntervalSet:
    """Return the ports of ``eq``, ``neq``, ``lt``, ``gt`` or ``range``.

    Raises InvalidValue for a port above 65535 or a reversed range.
    """
    for port in ports:
        if port > 65535:
            raise InvalidValue(f"port out of range ({port} > 65535)")
    first = ports[0]
    if operator == "eq":
        return IntervalSet.single(first)
    if operator == "neq":
        return PORTS_ALL.subtract(IntervalSet.single(first))
    if operator == "lt":
        return IntervalSet.single(0, first - 1)
    if operator == "gt":
        return IntervalSet.single(first + 1, 65535)
    if ports[1] < first:
        raise InvalidValue(f"port range is reversed ({first} > {ports[1]})")
    return IntervalSet.single(first, ports[1])


def icmp_values(type_: int, code: int | None = None) -> IntervalSet:
    """Return the ICMP dimension values of a type, or of one type and code."""
    if type_ > 255 or (code is not None and code > 255):
        raise InvalidValue(f"icmp type or code out of range ({type_} {code})")
    if code is None:
        return IntervalSet.single(type_ * 256, type_ * 256 + 255)
    return IntervalSet.single(type_ * 256 + code)


def _merge_boxes(boxes: list[dict[str, IntervalSet]]) -> list[dict[str, IntervalSet]]:
    """Merge boxes that differ in one dimension, and drop boxes inside others."""
    changed = True
    while changed:
        changed = False
        for i, left in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                right = boxes[j]
                differ = [d for d in SERVICE_DIMS if left[d] != right[d]]
                if len(differ) <= 1:
                    if differ:
                        left = {
                            **left,
                            differ[0]: left[differ[0]].union(right[differ[0]]),
                        }
                    boxes = boxes[:i] + [left] + boxes[i + 1 : j] + boxes[j + 1 :]
                    changed = True
                    break
                if all(right[d].issubset(left[d]) for d in SERVICE_DIMS):
                    boxes = boxes[:j] + boxes[j + 1 :]
                    changed = True
                    break
                if all(left[d].issubset(right[d]) for d in SERVICE_DIMS):
                    boxes = boxes[:i] + boxes[i + 1 :]
                    changed = True
                    break
            if changed:
                break
    return boxes


def service_conditions(service: ServiceSet) -> tuple[Condition, ...]:
    """Return the conditions that match exactly the packets of ``service``."""
    if not service.boxes:
        return (Match(PROTO, EMPTY),)
    boxes = _merge_boxes(
        [{d: dict(box).get(d, FULL[d]) for d in SERVICE_DIMS} for box in service.boxes]
    )
    if len(boxes) == 1:
        box = boxes[0]
        return tuple(Match(d, box[d]) for d in SERVICE_DIMS if box[d] != FULL[d])
    dims = tuple(d for d in SERVICE_DIMS if any(box[d] != FULL[d] for box in boxes))
    return (TupleMatch(dims, tuple(tuple(box[d] for d in dims) for box in boxes)),)


# --- rules ----------------------------------------------------------------------------


def address_alternatives(dim: str, values: AddressSet) -> list[tuple[Condition, ...]]:
    """Return condition lists whose union is ``values`` (one per unmodelled part)."""
    out: list[tuple[Condition, ...]] = []
    if values.known == ADDR_ALL:
        out.append(())
    elif values.known or not values.unmodelled:
        out.append((Match(dim, values.known),))
    for part in values.unmodelled:
        condition = Unknown(part.text, part.span, part.key)
        if part.hull == ADDR_ALL:
            out.append((condition,))
        else:
            out.append((condition, Match(dim, part.hull)))
    return out


def entry_rules(
    span: Span,
    text: str,
    action: Action,
    src: AddressSet,
    dst: AddressSet,
    service: ServiceSet,
    extra: tuple[Condition, ...] = (),
) -> list[Rule]:
    """Build the rules of one ACL entry, in the order they must be evaluated.

    Usually one rule. An address set with unmodelled parts adds a rule per
    part with the same span and text, so the entry matches the union.
    """
    rules = []
    service_part = service_conditions(service)
    for src_part in address_alternatives(SRC, src):
        for dst_part in address_alternatives(DST, dst):
            conditions = src_part + dst_part + service_part + extra
            rules.append(Rule(span, conditions, action, text))
    return rules


def unmodelled_rule(
    span: Span, text: str, action: Action, reason: str, key: str
) -> Rule:
    """Return a rule that may or may not match (an entry seglint cannot read)."""
    return Rule(span, (Unknown(reason, span, key),), action, text)


# Configurations repeat the same hosts and networks many times; IntervalSet is
# never changed after it is built, so results can be shared.
@lru_cache(maxsize=65536)
def network_values(text: str) -> IntervalSet:
    """Return the addresses of a CIDR or a host address of either family.

    Raises ValueError for an invalid address, prefix length or mask.
    """
    return addresses([text])


def checked_network(text: str, span: Span) -> IntervalSet:
    """Return :func:`network_values` of ``text``, or raise ParseError at ``span``."""
    try:
        return network_values(text)
    except ValueError:
        raise ParseError(f"invalid address or mask ({text})", span) from None
