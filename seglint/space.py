"""Exact sets of packets: interval sets per dimension and boxes built from them.

A packet is a point in a space of named dimensions (protocol, addresses,
ports, ICMP type, interfaces, connection state and one boolean dimension per
construct the engine does not model). A rule's match is a union of boxes, a
box being the product of one interval set per dimension. Every operation here
is exact; nothing is ever expanded to single values.

Addresses of both families share one integer line: an IPv4 address ``a`` is
``a`` and an IPv6 address ``a`` is ``V6_OFFSET + a``. A set of addresses is
therefore one interval set, and ``0.0.0.0/0`` and ``::/0`` are disjoint by
construction.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

V6_OFFSET = 1 << 32
ADDR_MAX = V6_OFFSET + (1 << 128) - 1

PROTO = "proto"
SRC = "src"
DST = "dst"
SPORT = "sport"
DPORT = "dport"
ICMP = "icmp"  # ICMP type * 256 + code, for ICMP and ICMPv6 packets
IIF = "iif"
OIF = "oif"
STATE = "state"
UNKNOWN_PREFIX = "unknown:"

STATES = ("new", "established", "related", "invalid", "untracked")
STATE_INDEX = {name: index for index, name in enumerate(STATES)}

_FIXED_MAX = {
    PROTO: 255,
    SRC: ADDR_MAX,
    DST: ADDR_MAX,
    SPORT: 65535,
    DPORT: 65535,
    ICMP: 65535,
    STATE: len(STATES) - 1,
}

# Dimensions swapped when a packet is turned into its reply.
REPLY_SWAP = {SRC: DST, DST: SRC, SPORT: DPORT, DPORT: SPORT, IIF: OIF, OIF: IIF}


class IntervalSet:
    """A finite union of closed integer intervals, kept sorted and merged."""

    __slots__ = ("bounds", "_hash")

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted((int(a), int(b)) for a, b in intervals if a <= b):
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1][1] = hi
            else:
                merged.append([lo, hi])
        self.bounds: tuple[tuple[int, int], ...] = tuple((a, b) for a, b in merged)
        self._hash: int | None = None

    @classmethod
    def _trusted(cls, bounds: tuple[tuple[int, int], ...]) -> IntervalSet:
        result = cls.__new__(cls)
        result.bounds = bounds
        result._hash = None
        return result

    @classmethod
    def single(cls, lo: int, hi: int | None = None) -> IntervalSet:
        return cls._trusted(((lo, lo if hi is None else hi),)) if (
            hi is None or lo <= hi
        ) else cls._trusted(())

    def __bool__(self) -> bool:
        return bool(self.bounds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self.bounds == other.bounds

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.bounds)
        return self._hash

    def __repr__(self) -> str:
        return f"IntervalSet({list(self.bounds)!r})"

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.bounds)

    def __contains__(self, value: int) -> bool:
        bounds = self.bounds
        lo_index, hi_index = 0, len(bounds)
        while lo_index < hi_index:
            mid = (lo_index + hi_index) // 2
            if bounds[mid][1] < value:
                lo_index = mid + 1
            else:
                hi_index = mid
        return lo_index < len(bounds) and bounds[lo_index][0] <= value

    def min(self) -> int:
        return self.bounds[0][0]

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.bounds)

    def union(self, other: IntervalSet) -> IntervalSet:
        if not other.bounds:
            return self
        if not self.bounds:
            return other
        return IntervalSet(self.bounds + other.bounds)

    def intersect(self, other: IntervalSet) -> IntervalSet:
        a, b = self.bounds, other.bounds
        if not a or not b:
            return _EMPTY
        if len(a) == 1 and len(b) == 1:
            # Two single intervals, the most common case.
            (a_lo, a_hi), (b_lo, b_hi) = a[0], b[0]
            lo = a_lo if a_lo > b_lo else b_lo
            hi = a_hi if a_hi < b_hi else b_hi
            if lo > hi:
                return _EMPTY
            if lo == a_lo and hi == a_hi:
                return self
            if lo == b_lo and hi == b_hi:
                return other
            return IntervalSet._trusted(((lo, hi),))
        if len(a) > _FAST_RATIO * len(b) + _FAST_MIN:
            return _intersect_few(a, b)
        if len(b) > _FAST_RATIO * len(a) + _FAST_MIN:
            return _intersect_few(b, a)
        out: list[tuple[int, int]] = []
        i = j = 0
        while i < len(a) and j < len(b):
            lo = a[i][0] if a[i][0] > b[j][0] else b[j][0]
            hi = a[i][1] if a[i][1] < b[j][1] else b[j][1]
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(tuple(out))

    def subtract(self, other: IntervalSet) -> IntervalSet:
        if not self.bounds or not other.bounds:
            return self
        if len(self.bounds) > _FAST_RATIO * len(other.bounds) + _FAST_MIN:
            return _subtract_few(self.bounds, other.bounds)
        out: list[tuple[int, int]] = []
        cut = other.bounds
        j = 0
        for lo, hi in self.bounds:
            while j < len(cut) and cut[j][1] < lo:
                j += 1
            k = j
            start = lo
            while k < len(cut) and cut[k][0] <= hi:
                if cut[k][0] > start:
                    out.append((start, cut[k][0] - 1))
                start = max(start, cut[k][1] + 1)
                k += 1
            if start <= hi:
                out.append((start, hi))
        return IntervalSet._trusted(tuple(out))

    def issubset(self, other: IntervalSet) -> bool:
        return not self.subtract(other)


_EMPTY = IntervalSet()
EMPTY = _EMPTY

# A set with many intervals (addresses that block lists cut into thousands
# of pieces) often meets one with few (a rule's network). Binary search then
# finds the few places that change, and slices copy the rest in C.
_FAST_RATIO = 8
_FAST_MIN = 16


def _high(interval: tuple[int, int]) -> int:
    return interval[1]


def _low(interval: tuple[int, int]) -> int:
    return interval[0]


def _intersect_few(many: tuple[tuple[int, int], ...],
                   few: tuple[tuple[int, int], ...]) -> IntervalSet:
    out: list[tuple[int, int]] = []
    count = len(many)
    start = 0
    for lo, hi in few:
        first = bisect_left(many, lo, start, count, key=_high)
        end = bisect_right(many, hi, first, count, key=_low)
        if first >= end:
            start = first
            continue
        head, tail = many[first], many[end - 1]
        if first == end - 1:
            out.append((max(lo, head[0]), min(hi, head[1])))
        else:
            out.append((max(lo, head[0]), head[1]))
            out.extend(many[first + 1:end - 1])
            out.append((tail[0], min(hi, tail[1])))
        # The last interval may reach past ``hi`` into the next one of ``few``.
        start = end - 1
    return IntervalSet._trusted(tuple(out))


def _subtract_few(many: tuple[tuple[int, int], ...],
                  few: tuple[tuple[int, int], ...]) -> IntervalSet:
    out: list[tuple[int, int]] = []
    count = len(many)
    pos = 0  # many[pos:] is not copied yet
    head: tuple[int, int] | None = None  # what is left of many[pos] after earlier cuts
    for lo, hi in few:
        first = bisect_left(many, lo, pos, count, key=_high)
        if first >= count:
            break
        if first > pos:
            if head is not None:
                out.append(head)
                out.extend(many[pos + 1:first])
                head = None
            else:
                out.extend(many[pos:first])
            pos = first
        current = head if head is not None else many[pos]
        if current[0] > hi:
            continue
        if current[0] < lo:
            out.append((current[0], lo - 1))
        end = bisect_right(many, hi, pos, count, key=_low)
        last = head if (end - 1 == pos and head is not None) else many[end - 1]
        if last[1] > hi:
            head = (hi + 1, last[1])
            pos = end - 1
        else:
            head = None
            pos = end
    if pos < count:
        if head is not None:
            out.append(head)
            out.extend(many[pos + 1:])
        else:
            out.extend(many[pos:])
    return IntervalSet._trusted(tuple(out))


def dimension_max(dim: str, interface_count: int = 0) -> int:
    """Return the largest value of a dimension (interfaces are atoms 0..n-1)."""
    if dim in _FIXED_MAX:
        return _FIXED_MAX[dim]
    if dim in (IIF, OIF):
        return max(interface_count - 1, 0)
    if dim.startswith(UNKNOWN_PREFIX):
        return 1
    raise KeyError(f"unknown packet dimension {dim!r}")


# --- addresses --------------------------------------------------------------

V4_ALL = IntervalSet.single(0, V6_OFFSET - 1)
V6_ALL = IntervalSet.single(V6_OFFSET, ADDR_MAX)
ADDR_ALL = IntervalSet.single(0, ADDR_MAX)


def network_interval(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    offset = 0 if net.version == 4 else V6_OFFSET
    lo = int(net.network_address)
    return offset + lo, offset + lo + net.num_addresses - 1


def address_value(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    return int(addr) + (0 if addr.version == 4 else V6_OFFSET)


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a host or CIDR, keeping host bits out (``10.1.2.3/8`` is 10/8).

    Raises ValueError with the text when it is not an address.
    """
    return ipaddress.ip_network(text.strip(), strict=False)


def addresses(items: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network]) -> IntervalSet:
    """Return the address set of hosts and CIDRs of either family."""
    intervals = []
    for item in items:
        net = parse_network(item) if isinstance(item, str) else item
        intervals.append(network_interval(net))
    return IntervalSet(intervals)


def address_range(first: str, last: str) -> IntervalSet:
    """Return the addresses ``first``-``last`` inclusive (same family)."""
    a = ipaddress.ip_address(first.strip())
    b = ipaddress.ip_address(last.strip())
    if a.version != b.version:
        raise ValueError(f"address range mixes families ({first}-{last})")
    return IntervalSet.single(address_value(a), address_value(b))


def value_address(value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if value >= V6_OFFSET:
        return ipaddress.IPv6Address(value - V6_OFFSET)
    return ipaddress.IPv4Address(value)


def family_of(values: IntervalSet) -> set[int]:
    """Return the address families (4, 6) that occur in an address set."""
    found = set()
    if values.intersect(V4_ALL):
        found.add(4)
    if values.intersect(V6_ALL):
        found.add(6)
    return found


def family_addresses(family: int) -> IntervalSet:
    return V4_ALL if family == 4 else V6_ALL


# --- boxes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Box:
    """A product of interval sets; a dimension that is absent is unconstrained."""

    dims: tuple[tuple[str, IntervalSet], ...]

    @staticmethod
    def of(mapping: Mapping[str, IntervalSet]) -> Box:
        return Box(tuple(sorted(mapping.items())))

    def get(self, dim: str) -> IntervalSet | None:
        for name, values in self.dims:
            if name == dim:
                return values
        return None

    def as_dict(self) -> dict[str, IntervalSet]:
        return dict(self.dims)

    def is_empty(self) -> bool:
        return any(not values for _, values in self.dims)

    def intersect(self, other: Box) -> Box | None:
        """Return the intersection, or None when it is empty."""
        if not other.dims:
            return self
        if not self.dims:
            return other
        # Both dimension tuples are sorted by name, so one merge pass builds
        # the sorted result.
        mine, theirs = self.dims, other.dims
        out: list[tuple[str, IntervalSet]] = []
        i = j = 0
        while i < len(mine) and j < len(theirs):
            name, values = mine[i]
            other_name, other_values = theirs[j]
            if name == other_name:
                both = values.intersect(other_values)
                if not both:
                    return None
                out.append((name, both))
                i += 1
                j += 1
            elif name < other_name:
                out.append(mine[i])
                i += 1
            else:
                out.append(theirs[j])
                j += 1
        out.extend(mine[i:])
        out.extend(theirs[j:])
        return Box(tuple(out))

    def subtract(self, other: Box, universe: Universe) -> list[Box]:
        """Return disjoint boxes covering ``self`` minus ``other``."""
        if self.intersect(other) is None:
            return [self]
        pieces: list[Box] = []
        current = dict(self.dims)
        for dim, values in other.dims:
            mine = current.get(dim)
            if mine is None:
                mine = universe.full(dim)
            outside = mine.subtract(values)
            if outside:
                piece = dict(current)
                piece[dim] = outside
                pieces.append(Box(tuple(sorted(piece.items()))))
            current[dim] = mine.intersect(values)
        return pieces

    def project_out(self, keep: Iterable[str]) -> Box:
        wanted = set(keep)
        return Box(tuple((d, v) for d, v in self.dims if d in wanted))

    def drop_dims(self, predicate) -> Box:  # type: ignore[no-untyped-def]
        return Box(tuple((d, v) for d, v in self.dims if not predicate(d)))

    def rename(self, mapping: Mapping[str, str]) -> Box:
        return Box(tuple(sorted((mapping.get(d, d), v) for d, v in self.dims)))


class Universe:
    """Knows the size of every dimension, including the interface atoms."""

    def __init__(self, interface_count: int) -> None:
        self.interface_count = max(interface_count, 1)
        self._full: dict[str, IntervalSet] = {}

    def full(self, dim: str) -> IntervalSet:
        values = self._full.get(dim)
        if values is None:
            values = IntervalSet.single(0, dimension_max(dim, self.interface_count))
            self._full[dim] = values
        return values

    def complement(self, dim: str, values: IntervalSet) -> IntervalSet:
        return self.full(dim).subtract(values)


def intersect_all(left: list[Box], right: list[Box]) -> list[Box]:
    out = []
    for a in left:
        for b in right:
            both = a.intersect(b)
            if both is not None:
                out.append(both)
    return out


def subtract_all(left: list[Box], right: list[Box], universe: Universe) -> list[Box]:
    current = left
    for cut in right:
        nxt: list[Box] = []
        for box in current:
            nxt.extend(box.subtract(cut, universe))
        current = nxt
        if not current:
            break
    return current


def complement_boxes(boxes: list[Box], universe: Universe) -> list[Box]:
    return subtract_all([Box(())], boxes, universe)
