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
_MAX_ATOM_VALUES = 16  # distinct cut values in a dimension split into atoms
_MAX_ATOM_PARTS = 64
_INDEX_PRODUCT = 4096  # boxes times cuts above which cuts are indexed
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

    def estimate(self, box: Box) -> int:
        """Return how many entries a lookup of ``box`` would test, without testing them."""
        best_size = len(self.entries)
        for key in _KEYS:
            values = box.get(key[0])
            if values is None or _bucket_count(key, values, _MAX_BUCKETS_PER_QUERY) \
                    > _MAX_BUCKETS_PER_QUERY:
                continue
            buckets = self._buckets[key]
            size = len(self._wide[key])
            for lo, hi in _bucket_ranges(key, values):
                for bucket in range(lo, hi + 1):
                    hits = buckets.get(bucket)
                    if hits:
                        size += len(hits)
                if size >= best_size:
                    break
            best_size = min(best_size, size)
        return best_size

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
    relevant: list[Box] = []
    clipped: list[Box] = []
    for cut in cuts:
        part = box.intersect(cut)
        if part is not None:
            relevant.append(cut)
            clipped.append(part)
    if not relevant:
        return [box]
    if len(relevant) <= _SEQUENTIAL_LIMIT:
        if any(_covers(c, box, universe) for c in relevant):
            return []
        return subtract_all([box], relevant, universe)
    return coalesce(_subtract_clipped(box, clipped, universe, depth))


def subtract_boxes(boxes: list[Box], cuts: list[Box], universe: Universe) -> list[Box]:
    """Return disjoint boxes covering the union of ``boxes`` minus that of ``cuts``."""
    if len(boxes) * len(cuts) <= _INDEX_PRODUCT:
        out = [piece for box in boxes for piece in subtract_many(box, cuts, universe)]
    else:
        index: BoxIndex[None] = BoxIndex()
        for cut in cuts:
            index.add(cut, None)
        out = []
        for box in boxes:
            overlaps = [cut for cut, _ in index.overlapping(box)]
            out.extend(subtract_many(box, overlaps, universe) if overlaps else [box])
    return coalesce(out)


def _values(box: Box, dim: str, universe: Universe) -> IntervalSet:
    values = box.get(dim)
    return universe.full(dim) if values is None else values


def _subtract_clipped(box: Box, cuts: list[Box], universe: Universe,
                      depth: int) -> list[Box]:
    """Subtract cuts that lie inside ``box``.

    A cut that differs from the box in one dimension only is a slab: the
    box minus any number of slabs is still one box, whose values in each
    such dimension lose the union of the slabs'. Taking those out first
    keeps a wide range cut by a long block list in one box. What is left
    is split at a cut boundary until the remaining cuts are slabs too.
    """
    while True:
        slabs: dict[str, list[tuple[int, int]]] = {}
        rest: list[Box] = []
        for cut in cuts:
            differ = [dim for dim, values in cut.dims
                      if values != _values(box, dim, universe)]
            if not differ:
                return []
            if len(differ) == 1:
                slabs.setdefault(differ[0], []).extend(cut.get(differ[0]).bounds)
            else:
                rest.append(cut)
        if not slabs:
            break
        dims = box.as_dict()
        for dim, bounds in slabs.items():
            left = _values(box, dim, universe).subtract(IntervalSet(bounds))
            if not left:
                return []
            dims[dim] = left
        box = Box.of(dims)
        cuts = [part for cut in rest if (part := box.intersect(cut)) is not None]
        if not cuts:
            return [box]
    if len(cuts) <= _SEQUENTIAL_LIMIT or depth >= _MAX_DEPTH:
        return subtract_all([box], cuts, universe)
    atoms = _atom_split(box, cuts, universe)
    if atoms is not None:
        dim, parts = atoms
    else:
        split = _split_clipped(box, cuts, universe)
        if split is None:
            return subtract_all([box], cuts, universe)
        dim, point = split
        values = _values(box, dim, universe)
        parts = [values.intersect(IntervalSet.single(0, point - 1)),
                 values.intersect(IntervalSet.single(point, values.bounds[-1][1]))]
    out: list[Box] = []
    for part in parts:
        if part:
            half = box.as_dict()
            half[dim] = part
            half_box = Box.of(half)
            inside = [piece for cut in cuts if (piece := half_box.intersect(cut)) is not None]
            out.extend(_subtract_clipped(half_box, inside, universe, depth + 1)
                       if inside else [half_box])
    return out


def _atom_split(box: Box, cuts: list[Box],
                universe: Universe) -> tuple[str, list[IntervalSet]] | None:
    """Split the box where the cuts take few distinct values in one dimension.

    Cuts that differ from the box in a protocol, a port or an interface
    usually share a handful of values there. Cutting the box into the
    pieces those values separate leaves every cut either equal to a piece
    or disjoint from it in that dimension, one dimension fewer to split.
    """
    distinct: dict[str, set[IntervalSet]] = {}
    for cut in cuts:
        for dim, values in cut.dims:
            seen = distinct.setdefault(dim, set())
            if len(seen) <= _MAX_ATOM_VALUES and values != _values(box, dim, universe):
                seen.add(values)
    choices = sorted((len(seen), dim) for dim, seen in distinct.items()
                     if 0 < len(seen) <= _MAX_ATOM_VALUES)
    if not choices:
        return None
    dim = choices[0][1]
    parts = [_values(box, dim, universe)]
    for values in sorted(distinct[dim], key=lambda v: v.bounds):
        refined = []
        for part in parts:
            refined.extend(piece for piece in (part.intersect(values), part.subtract(values))
                           if piece)
        parts = refined
        if len(parts) > _MAX_ATOM_PARTS:
            return None
    return dim, parts


def _split_clipped(box: Box, cuts: list[Box], universe: Universe) -> tuple[str, int] | None:
    """Pick the dimension and median cut edge that split the cuts most evenly.

    Only a cut's lowest value and the value after its highest are
    candidate points, so a cut with many intervals costs no more than one.
    """
    edges: dict[str, list[int]] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for cut in cuts:
        for dim, values in cut.dims:
            mine = _values(box, dim, universe)
            if values == mine:
                continue
            low, high = mine.bounds[0][0], mine.bounds[-1][1]
            lo, hi = values.bounds[0][0], values.bounds[-1][1]
            points = edges.setdefault(dim, [])
            if low < lo <= high:
                points.append(lo)
            if low < hi + 1 <= high:
                points.append(hi + 1)
            spans.setdefault(dim, []).append((lo, hi))
    best: tuple[int, str, int] | None = None
    for dim in sorted(edges):
        points = sorted(edges[dim])
        if not points:
            continue
        point = points[len(points) // 2]
        mine = _values(box, dim, universe)
        whole = (mine.bounds[0][0], mine.bounds[-1][1])
        inside = spans[dim]
        # Cuts equal to the box in this dimension go to both halves.
        both = len(cuts) - len(inside)
        left = both + sum(lo < point for lo, _ in inside)
        right = both + sum(hi >= point for _, hi in inside)
        worst = max(left, right)
        if whole[0] < point <= whole[1] and (best is None or worst < best[0]):
            best = (worst, dim, point)
    return None if best is None else (best[1], best[2])


def coalesce(boxes: list[Box]) -> list[Box]:
    """Merge boxes that are equal in every dimension but one; the union is unchanged.

    The union of two boxes that agree on all dimensions but ``d`` is the
    box with the union of their ``d`` values, so the result covers the
    same packets with fewer boxes, and stays disjoint when the input was.
    """
    if len(boxes) < 2:
        return boxes
    changed = True
    while changed and len(boxes) > 1:
        changed = False
        names = sorted({dim for box in boxes for dim, _ in box.dims})
        for dim in names:
            groups: dict[tuple[tuple[str, IntervalSet], ...], list[int]] = {}
            for index, box in enumerate(boxes):
                if box.get(dim) is None:
                    continue
                key = tuple(item for item in box.dims if item[0] != dim)
                groups.setdefault(key, []).append(index)
            merged: dict[int, Box] = {}
            absorbed: set[int] = set()
            for key, members in groups.items():
                if len(members) < 2:
                    continue
                bounds: list[tuple[int, int]] = []
                for index in members:
                    bounds.extend(boxes[index].get(dim).bounds)
                dims = dict(key)
                dims[dim] = IntervalSet(bounds)
                merged[members[0]] = Box.of(dims)
                absorbed.update(members[1:])
            if merged:
                changed = True
                boxes = [merged.get(index, box) for index, box in enumerate(boxes)
                         if index not in absorbed]
    return boxes
