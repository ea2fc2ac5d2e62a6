"""Fast set difference for many small boxes.

A chain walk subtracts every earlier rule's match from each later rule's
match. Done naively that costs one box operation per pair of rules. Rules
usually constrain a narrow slice of one dimension (a port, a /16).
:class:`BoxIndex` files each box under buckets of those dimensions and
returns only the boxes that can overlap a query. :func:`subtract_many`
removes many boxes from one by splitting it recursively, so each cut meets
only the part of the space it lies in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from seglint.space import (
    DPORT,
    DST,
    SPORT,
    SRC,
    V6_OFFSET,
    Box,
    IntervalSet,
    Universe,
    subtract_all,
)

T = TypeVar("T")

# Index keys: a dimension and the bit shift of its buckets. Ports go in
# buckets of 64; addresses in /16 and /24 buckets (IPv4) or /16 and /24 of
# IPv6. Each box is filed under the key that selects the fewest packets.
_KEYS = ((DPORT, 6), (SPORT, 6), (SRC, 16), (SRC, 8), (DST, 16), (DST, 8))
_MAX_BUCKETS_PER_ENTRY = 64
_MAX_BUCKETS_PER_QUERY = 512
_SEQUENTIAL_LIMIT = 8
_MAX_DEPTH = 64
_V6_BUCKETS = 1 << 40  # IPv6 bucket numbers start above every IPv4 one

Key = tuple[str, int]


def _bucket_ranges(key: Key, values: IntervalSet) -> Iterator[tuple[int, int]]:
    """Yield inclusive bucket-number ranges covering ``values``."""
    dim, shift = key
    for lo, hi in values.bounds:
        if dim in (DPORT, SPORT):
            yield lo >> shift, hi >> shift
            continue
        if lo < V6_OFFSET:
            top = min(hi, V6_OFFSET - 1)
            yield lo >> shift, top >> shift
        if hi >= V6_OFFSET:
            start = max(lo, V6_OFFSET) - V6_OFFSET
            v6_shift = shift + 96
            yield (_V6_BUCKETS + (start >> v6_shift),
                   _V6_BUCKETS + ((hi - V6_OFFSET) >> v6_shift))


def _bucket_count(key: Key, values: IntervalSet, limit: int) -> int:
    total = 0
    for lo, hi in _bucket_ranges(key, values):
        total += hi - lo + 1
        if total > limit:
            return total
    return total


class BoxIndex(Generic[T]):
    """Boxes with payloads, retrievable by the boxes they may overlap.

    Every box is filed under each key: in the buckets its values cover,
    or in the key's wide list when it covers too many. A lookup uses the
    one key where the query box selects the fewest entries, so an entry
    is returned only if it can overlap the query in that dimension.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[Box, T]] = []
        self._buckets: dict[Key, dict[int, list[int]]] = {key: {} for key in _KEYS}
        self._wide: dict[Key, list[int]] = {key: [] for key in _KEYS}

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, box: Box, payload: T) -> None:
        seq = len(self.entries)
        self.entries.append((box, payload))
        for key in _KEYS:
            values = box.get(key[0])
            if values is None or _bucket_count(key, values, _MAX_BUCKETS_PER_ENTRY) \
                    > _MAX_BUCKETS_PER_ENTRY:
                self._wide[key].append(seq)
                continue
            buckets = self._buckets[key]
            for lo, hi in _bucket_ranges(key, values):
                for bucket in range(lo, hi + 1):
                    buckets.setdefault(bucket, []).append(seq)

    def _candidates(self, box: Box) -> Iterable[int]:
        best: list[list[int]] | None = None
        best_size = len(self.entries)
        for key in _KEYS:
            values = box.get(key[0])
            if values is None or _bucket_count(key, values, _MAX_BUCKETS_PER_QUERY) \
                    > _MAX_BUCKETS_PER_QUERY:
                continue
            buckets = self._buckets[key]
            lists = [self._wide[key]]
            size = len(self._wide[key])
            for lo, hi in _bucket_ranges(key, values):
                for bucket in range(lo, hi + 1):
                    hits = buckets.get(bucket)
                    if hits:
                        lists.append(hits)
                        size += len(hits)
            if size < best_size:
                best, best_size = lists, size
        if best is None:
            return range(len(self.entries))
        return sorted(set().union(*best))

    def overlapping(self, box: Box) -> list[tuple[Box, T]]:
        """Return the entries that intersect ``box``, in insertion order."""
        out = []
        for seq in self._candidates(box):
            entry = self.entries[seq]
            if box.intersect(entry[0]) is not None:
                out.append(entry)
        return out


def _covers(cut: Box, box: Box, universe: Universe) -> bool:
    for dim, values in cut.dims:
        mine = box.get(dim)
        if mine is None:
            mine = universe.full(dim)
        if not mine.issubset(values):
            return False
    return True


def subtract_many(box: Box, cuts: Iterable[Box], universe: Universe, depth: int = 0) -> list[Box]:
    """Return disjoint boxes covering ``box`` minus the union of ``cuts``."""
    relevant = [c for c in cuts if box.intersect(c) is not None]
    if not relevant:
        return [box]
    if any(_covers(c, box, universe) for c in relevant):
        return []
    if len(relevant) <= _SEQUENTIAL_LIMIT or depth >= _MAX_DEPTH:
        return subtract_all([box], relevant, universe)
    split = _split_point(box, relevant, universe)
    if split is None:
        return subtract_all([box], relevant, universe)
    dim, point = split
    values = box.get(dim) or universe.full(dim)
    out: list[Box] = []
    for part in (values.intersect(IntervalSet.single(0, point - 1)),
                 values.intersect(IntervalSet.single(point, values.bounds[-1][1]))):
        if part:
            half = box.as_dict()
            half[dim] = part
            out.extend(subtract_many(Box.of(half), relevant, universe, depth + 1))
    return out


def _split_point(box: Box, cuts: list[Box], universe: Universe) -> tuple[str, int] | None:
    """Pick the dimension and median cut boundary that split the cuts most evenly.

    A cut that spans the point goes to both halves, so the best split is
    the one whose larger half contains the fewest cuts.
    """
    counts = Counter(dim for cut in cuts for dim, _ in cut.dims)
    best: tuple[int, str, int] | None = None
    for dim, _ in counts.most_common(6):
        values = box.get(dim) or universe.full(dim)
        low, high = values.min(), values.bounds[-1][1]
        points = []
        for cut in cuts:
            cut_values = cut.get(dim)
            if cut_values is None:
                continue
            for lo, hi in cut_values.bounds:
                if low < lo <= high:
                    points.append(lo)
                if low < hi + 1 <= high:
                    points.append(hi + 1)
        if not points:
            continue
        points.sort()
        point = points[len(points) // 2]
        left = right = 0
        for cut in cuts:
            cut_values = cut.get(dim) or universe.full(dim)
            left += cut_values.min() < point
            right += cut_values.bounds[-1][1] >= point
        worst = max(left, right)
        if best is None or worst < best[0]:
            best = (worst, dim, point)
    return None if best is None else (best[1], best[2])
