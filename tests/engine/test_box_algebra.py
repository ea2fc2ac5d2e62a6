"""Property tests for the set operations the engine's fast paths rely on.

Interval sets with many intervals take a binary-search path, subtracting
many cuts takes out slabs and splits on shared values, and results are
coalesced. Each must give exactly the packets of the plain algorithm, and
a walk of a wide query must put every packet in the outcome the
per-packet reference evaluator gives it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seglint.boxindex import coalesce, subtract_many
import seglint.engine as engine_module
from seglint.engine import Engine
from seglint.space import DPORT, PROTO, SRC, Box, IntervalSet, Universe, subtract_all
from tests.engine.test_engine_properties import (
    INTERFACES,
    packets,
    point_box,
    reference,
    rulesets,
)

DIMS = {PROTO: 6, SRC: 60, DPORT: 30}
UNIVERSE = Universe(3)


@st.composite
def wide_sets(draw, maximum: int, most: int) -> IntervalSet:
    pairs = draw(st.lists(st.tuples(st.integers(0, maximum), st.integers(0, 3)),
                          min_size=1, max_size=most))
    return IntervalSet((lo, min(lo + width, maximum)) for lo, width in pairs)


@st.composite
def boxes(draw) -> Box:
    dims = {}
    for dim, top in DIMS.items():
        if draw(st.booleans()):
            dims[dim] = draw(wide_sets(top, 4))
    return Box.of(dims)


def _members(boxes_: list[Box]) -> set[tuple[int, int, int]]:
    found = set()
    for proto in range(DIMS[PROTO] + 1):
        for src in range(DIMS[SRC] + 1):
            for dport in range(DIMS[DPORT] + 1):
                point = {PROTO: proto, SRC: src, DPORT: dport}
                if any(all(point[d] in v for d, v in box.dims) for box in boxes_):
                    found.add((proto, src, dport))
    return found


def _disjoint(boxes_: list[Box]) -> bool:
    return all(left.intersect(right) is None
               for i, left in enumerate(boxes_) for right in boxes_[i + 1:])


@settings(max_examples=300, deadline=None)
@given(wide_sets(400, 80), wide_sets(400, 6), st.integers(0, 400))
def test_many_against_few(many, few, value):
    both = value in many and value in few
    assert (value in many.intersect(few)) == both
    assert (value in few.intersect(many)) == both
    only_many = value in many and value not in few
    assert (value in many.subtract(few)) == only_many


@settings(max_examples=300, deadline=None)
@given(wide_sets(400, 80), wide_sets(400, 6))
def test_fast_paths_stay_normal(many, few):
    for result in (many.intersect(few), many.subtract(few)):
        assert IntervalSet(result.bounds) == result


@settings(max_examples=150, deadline=None)
@given(boxes(), st.lists(boxes(), min_size=9, max_size=24))
def test_subtract_many_is_exact(box, cuts):
    result = subtract_many(box, cuts, UNIVERSE)
    assert _members(result) == _members(subtract_all([box], cuts, UNIVERSE))


@settings(max_examples=150, deadline=None)
@given(boxes(), st.lists(boxes(), min_size=9, max_size=24))
def test_subtract_many_is_disjoint(box, cuts):
    assert _disjoint(subtract_many(box, cuts, UNIVERSE))


@settings(max_examples=150, deadline=None)
@given(boxes(), st.lists(boxes(), max_size=12))
def test_coalesce_keeps_the_union(box, cuts):
    pieces = subtract_all([box], cuts, UNIVERSE)
    merged = coalesce(pieces)
    assert _members(merged) == _members(pieces)
    assert _disjoint(merged)


@settings(max_examples=200, deadline=None)
@given(rulesets(), st.lists(packets(), min_size=1, max_size=10))
def test_wide_query_agrees_with_reference(ruleset, sample):
    """Each packet lies in the outcome with the reference's verdict and rule."""
    engine = Engine(ruleset, INTERFACES)
    outcomes = engine.walk("input", [Box(())])
    for packet in sample:
        point = point_box(engine, packet)
        holding = [o for o in outcomes if any(point.intersect(b) is not None
                                              for b in o.boxes)]
        verdict, rule = reference(ruleset, packet)
        assert len(holding) == 1
        assert holding[0].verdict == verdict
        assert holding[0].rule is rule


@settings(max_examples=200, deadline=None)
@given(rulesets(), st.lists(packets(), min_size=1, max_size=10))
def test_kept_rest_agrees_with_reference(ruleset, sample):
    """With every threshold at zero, jumps and rules take the chain's kept rest."""
    saved = engine_module._SPELL_OUT_AT, engine_module._MAX_LEFT_BOXES
    engine_module._SPELL_OUT_AT, engine_module._MAX_LEFT_BOXES = -1, 10_000
    try:
        engine = Engine(ruleset, INTERFACES)
        outcomes = engine.walk("input", [Box(())])
    finally:
        engine_module._SPELL_OUT_AT, engine_module._MAX_LEFT_BOXES = saved
    for packet in sample:
        point = point_box(engine, packet)
        holding = [o for o in outcomes if any(point.intersect(b) is not None
                                              for b in o.boxes)]
        verdict, rule = reference(ruleset, packet)
        assert len(holding) == 1
        assert holding[0].verdict == verdict
        assert holding[0].rule is rule


@settings(max_examples=300, deadline=None)
@given(boxes(), boxes())
def test_box_intersect_is_exact(left, right):
    both = left.intersect(right)
    expected = _members([left]) & _members([right])
    assert _members([both] if both is not None else []) == expected
    if both is not None:
        assert list(both.dims) == sorted(both.dims, key=lambda item: item[0])
