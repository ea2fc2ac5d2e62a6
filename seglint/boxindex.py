"""Fast set difference for many small boxes.

A chain walk subtracts every earlier rule's match from each later rule's
match. Done naively that costs one box operation per pair of rules. Rules
usually constrain a narrow slice of one dimension (a port, a /16), so
:class:`BoxIndex` files each box under buckets of its narrowest dimension and
returns only the boxes that can overlap a query; :func:`subtract_many`
removes many boxes from one by splitting it recursively, so each cut meets
only the part of the space it lies in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from seglint.space import DPORT, DST, SPORT, SRC, V6_OFFSET, Box, IntervalSet, Universe

T = TypeVar("T")

# Bucket widths: 64 ports; a /16 of IPv4 or a /16 of IPv6.
_INDEXED = (DPORT, SRC, DST, SPORT)
_MAX_BUCKETS_PER_ENTRY = 64
_MAX_BUCKETS_PER_QUERY = 512
_SEQUENTIAL_LIMIT = 8
_MAX_DEPTH = 64


def _bucket_ranges(dim: str, values: IntervalSet) -> Iterator[tuple[int, int]]:
    """Yield inclusive bucket-number ranges covering ``values``."""
    for lo, hi in values.bounds:
        if dim in (DPORT, SPORT):
            yield lo >> 6, hi >> 6
            continue
        # Addresses: IPv4 /16 buckets, then IPv6 /16 buckets after them.
        if lo < V6_OFFSET:
            top = min(hi, V6_OFFSET - 1)
            yield lo >> 16, top >> 16
        if hi >= V6_OFFSET:
            start = max(lo, V6_OFFSET) - V6_OFFSET
            yield (1 << 16) + (start >> 112), (1 << 16) + ((hi - V6_OFFSET) >> 112)


def _bucket_count(dim: str, values: IntervalSet, limit: int) -> int:
    total = 0
    for lo, hi in _bucket_ranges(dim, values):
        total += hi - lo + 1
        if total > limit:
            return total
    return total


class BoxIndex(Generic[T]):
    """Boxes with payloads, retrievable by the boxes they may overlap."""

    def __init__(self) -> None:
        self.entries: list[tuple[Box, T]] = []
        self._buckets: dict[str, dict[int, list[int]]] = {dim: {} for dim in _INDEXED}
        self._by_dim: dict[str, list[int]] = {dim: [] for dim in _INDEXED}
        self._wide: list[int] = []

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, box: Box, payload: T) -> None:
        seq = len(self.entries)
        self.entries.append((box, payload))
        best: tuple[int, str] | None = None
        for dim in _INDEXED:
            values = box.get(dim)
            if values is None:
                continue
            count = _bucket_count(dim, values, _MAX_BUCKETS_PER_ENTRY)
            if count <= _MAX_BUCKETS_PER_ENTRY and (best is None or count < best[0]):
                best = (count, dim)
        if best is None:
            self._wide.append(seq)
            return
        dim = best[1]
        buckets = self._buckets[dim]
        values = box.get(dim)
        assert values is not None
        for lo, hi in _bucket_ranges(dim, values):
            for bucket in range(lo, hi + 1):
                buckets.setdefault(bucket, []).append(seq)
        self._by_dim[dim].append(seq)

    def overlapping(self, box: Box) -> list[tuple[Box, T]]:
        """Return the entries that intersect ``box``, in insertion order."""
        seqs: set[int] = set(self._wide)
        for dim in _INDEXED:
            if not self._by_dim[dim]:
                continue
            values = box.get(dim)
            if values is None or _bucket_count(dim, values, _MAX_BUCKETS_PER_QUERY) \
                    > _MAX_BUCKETS_PER_QUERY:
                seqs.update(self._by_dim[dim])
                continue
            buckets = self._buckets[dim]
            for lo, hi in _bucket_ranges(dim, values):
                for bucket in range(lo, hi + 1):
                    hits = buckets.get(bucket)
                    if hits:
                        seqs.update(hits)
        out = []
        for seq in sorted(seqs):
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
        return _subtract_sequential(box, relevant, universe)
    split = _split_point(box, relevant, universe)
    if split is None:
        return _subtract_sequential(box, relevant, universe)
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


def _subtract_sequential(box: Box, cuts: list[Box], universe: Universe) -> list[Box]:
    current = [box]
    for cut in cuts:
        nxt: list[Box] = []
        for piece in current:
            nxt.extend(piece.subtract(cut, universe))
        current = nxt
        if not current:
            break
    return current


def _split_point(box: Box, cuts: list[Box], universe: Universe) -> tuple[str, int] | None:
    """Pick a dimension most cuts constrain and a median cut boundary inside the box."""
    counts = Counter(dim for cut in cuts for dim, _ in cut.dims)
    for dim, _ in counts.most_common():
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
        if points:
            points.sort()
            return dim, points[len(points) // 2]
    return None
