"""Exact results about one rule set: required flows, exposures and shadowed rules.

These functions turn engine outcomes into the facts a policy reports:
which rule drops part of a flow that must work, which rule accepts packets
that must not get in, and which rules can never match. Quantifiers follow
the product contract: every configured address must work; for a side that
is not configured (the internet, "any"), and for an interface that is not
mapped, one working choice is enough.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seglint.boxindex import BoxIndex, subtract_many
from seglint.engine import Engine, Outcome, forward_boxes, reply_boxes
from seglint.ir import TERMINAL, Rule, Span
from seglint.space import (
    STATE_INDEX,
    UNKNOWN_PREFIX,
    Box,
    IntervalSet,
    intersect_all,
    subtract_all,
)

ESTABLISHED = IntervalSet.single(STATE_INDEX["established"])


def _is_unknown(dim: str) -> bool:
    return dim.startswith(UNKNOWN_PREFIX)


def project_unknowns(boxes: Iterable[Box]) -> list[Box]:
    """Forget the unknown dimensions: "for some behaviour of the unknown constructs"."""
    return [box.drop_dims(_is_unknown) for box in boxes]


def has_unknowns(boxes: Iterable[Box]) -> bool:
    return any(_is_unknown(dim) for box in boxes for dim, _ in box.dims)


@dataclass(frozen=True)
class Decided:
    """Packets that one rule decided, as part of a check's result."""

    rule: Rule
    boxes: tuple[Box, ...]  # in the coordinates of the question (forward packets)
    definite: tuple[Box, ...]  # the part decided whatever unknown constructs do
    trace: tuple[Rule, ...]
    reply: bool = False  # the rule decided the replies of these packets


def _group(entries: Iterable[tuple[Rule, Box, tuple[Rule, ...], bool]]) -> list[
        tuple[Rule, bool, list[Box], tuple[Rule, ...]]]:
    grouped: dict[tuple[int, bool], tuple[Rule, bool, list[Box], tuple[Rule, ...]]] = {}
    for rule, box, trace, reply in entries:
        key = (id(rule), reply)
        if key not in grouped:
            grouped[key] = (rule, reply, [], trace)
        grouped[key][2].append(box)
    return list(grouped.values())


def blocked_flow(
    engine: Engine,
    hook: str,
    reply_hook: str | None,
    query: Sequence[Box],
    exist_dims: frozenset[str],
    accepts: list[Outcome] | None = None,
) -> tuple[list[Decided], bool]:
    """Check a required flow; return the rules that break it and whether that is only "may".

    The flow holds when some choice of the existential dimensions makes
    every packet of the rest accepted, and the replies of packets accepted
    without state are accepted on ``reply_hook`` too. An empty list means
    the flow holds.
    """
    query = list(query)
    entries: list[tuple[Rule, Box, tuple[Rule, ...], bool]] = []
    outcomes = engine.walk(hook, query)
    if accepts is not None:
        # The flow matrix names the rule that lets a working flow through.
        accepts.extend(o for o in outcomes if o.verdict == "accept")
    # A hook with no filter passes every packet without state of its own;
    # the replies still meet the filter of the reply hook.
    stateless_accepts: list[Box] = [] if engine.decides(hook) else list(query)
    for outcome in outcomes:
        if outcome.verdict == "drop":
            entries.extend((outcome.rule, box, outcome.trace, False) for box in outcome.boxes)
        elif not outcome.rule.action.stateful:
            stateless_accepts.extend(outcome.boxes)
    if reply_hook and stateless_accepts and engine.decides(reply_hook):
        for outcome in engine.walk(reply_hook, reply_boxes(stateless_accepts, ESTABLISHED)):
            if outcome.verdict == "drop":
                entries.extend((outcome.rule, box, outcome.trace, True)
                               for box in forward_boxes(outcome.boxes))
    if not entries:
        return [], False

    bad = [box for _, box, _, _ in entries]
    if has_unknowns(bad) or has_unknowns(box for o in outcomes for box in o.boxes):
        good = subtract_all(query, bad, engine.universe)
        bad_definite = subtract_all(query, project_unknowns(good), engine.universe)
        bad_possible = project_unknowns(bad)
    else:
        bad_definite = bad_possible = bad

    if _breaks(query, bad_definite, exist_dims, engine):
        may = False
    elif _breaks(query, bad_possible, exist_dims, engine):
        may = True
    else:
        return [], False

    groups = _group(entries)
    if exist_dims:
        groups = _cover(query, groups, exist_dims, engine)
    decided = []
    for rule, reply, boxes, trace in groups:
        projected = project_unknowns(boxes)
        definite = intersect_all(projected, bad_definite) if not may else []
        decided.append(Decided(rule, tuple(projected), tuple(definite), trace, reply))
    return decided, may


def _size(boxes: Iterable[Box], dims: frozenset[str], engine: Engine) -> int:
    total = 0
    for box in boxes:
        size = 1
        for dim in dims:
            size *= (box.get(dim) or engine.universe.full(dim)).size()
        total += size
    return total


def _cover(query: list[Box], groups: list[tuple[Rule, bool, list[Box], tuple[Rule, ...]]],
           exist_dims: frozenset[str], engine: Engine
           ) -> list[tuple[Rule, bool, list[Box], tuple[Rule, ...]]]:
    """Keep the fewest rules that together spoil every free choice (greedy set cover).

    When a flow may use any interface or any address of a side, a rule that
    drops it only on choices another rule already spoils is not the cause.
    """
    remaining = [box.project_out(exist_dims) for box in query]
    spoiled = [[box.project_out(exist_dims) for box in boxes] for _, _, boxes, _ in groups]
    chosen: list[int] = []
    while remaining:
        best, best_size = -1, 0
        for index, cuts in enumerate(spoiled):
            if index in chosen:
                continue
            size = _size(intersect_all(remaining, cuts), exist_dims, engine)
            if size > best_size:
                best, best_size = index, size
        if best < 0:
            break
        chosen.append(best)
        remaining = subtract_all(remaining, spoiled[best], engine.universe)
    return [groups[index] for index in sorted(chosen)]


def _breaks(query: list[Box], bad: list[Box], exist_dims: frozenset[str],
            engine: Engine) -> bool:
    if not bad:
        return False
    if not exist_dims:
        return True
    choices = [box.project_out(exist_dims) for box in query]
    spoiled = [box.project_out(exist_dims) for box in bad]
    return not subtract_all(choices, spoiled, engine.universe)


def accepted_packets(engine: Engine, hook: str, query: Sequence[Box]) -> list[Decided]:
    """Return, per accepting rule, the packets of ``query`` that ``hook`` accepts."""
    query = list(query)
    has_unknown_rules = bool(engine.unknowns)
    outcomes = engine.walk(hook, query, drops=has_unknown_rules)
    accepted = [o for o in outcomes if o.verdict == "accept"]
    if not accepted:
        return []
    all_boxes = [box for o in outcomes for box in o.boxes]
    if has_unknowns(all_boxes):
        not_accepted = subtract_all(query, [b for o in accepted for b in o.boxes],
                                    engine.universe)
        certain = subtract_all(query, project_unknowns(not_accepted), engine.universe)
    else:
        certain = None
    grouped: dict[int, tuple[Rule, list[Box], tuple[Rule, ...]]] = {}
    for outcome in accepted:
        slot = grouped.setdefault(id(outcome.rule), (outcome.rule, [], outcome.trace))
        slot[1].extend(outcome.boxes)
    result = []
    plain_world = Box.of({dim: IntervalSet.single(0) for dim in engine.unknowns})
    for rule, boxes, trace in grouped.values():
        projected = project_unknowns(boxes)
        if certain is None:
            definite = projected
        else:
            # Blame a certain accept on the rule that takes it when no unknown
            # construct matches, so a rule that accepts only through one is "may".
            plain = project_unknowns(intersect_all(boxes, [plain_world]))
            definite = intersect_all(plain, certain)
        result.append(Decided(rule, tuple(projected), tuple(definite), trace))
    return result


@dataclass(frozen=True)
class Shadowed:
    rule: Rule
    covering: tuple[Rule, ...]
    never_matches: bool  # its own conditions contradict each other


def shadowed_rules(engine: Engine) -> list[Shadowed]:
    """Find rules that no packet can reach because earlier rules of the chain decide it.

    A rule is covered when every packet it matches (for every behaviour of
    the unknown constructs) is matched by earlier rules that end the walk
    through the chain: terminal verdicts, RETURN and goto. Jumps and
    non-terminating rules cover nothing, since packets come back from them.
    """
    found: list[Shadowed] = []
    # A rule that a format places in several chains (pf puts "pass in" in the
    # input and forward chains) is reported only when it is dead in all of them.
    occurrences: Counter[Span] = Counter()
    for _, compiled in engine.compiled_chains():
        occurrences.update(rule.span for rule, _ in compiled if not rule.implicit)
    for _, compiled in engine.compiled_chains():
        earlier: BoxIndex[Rule] = BoxIndex()
        for rule, match in compiled:
            if rule.implicit:
                continue
            if not match:
                found.append(Shadowed(rule, (), True))
                continue
            covering: dict[int, Rule] = {}
            remaining: list[Box] = []
            for box in match:
                cuts = []
                for cut, owner in earlier.overlapping(box):
                    if owner.span != rule.span:
                        cuts.append(cut)
                        covering.setdefault(id(owner), owner)
                remaining.extend(subtract_many(box, cuts, engine.universe))
                if remaining:
                    break
            if not remaining:
                ordered = sorted(covering.values(), key=lambda r: (r.span.line, r.span.column))
                found.append(Shadowed(rule, tuple(ordered), False))
            kind = rule.action.kind
            if kind in TERMINAL or kind in ("return", "goto"):
                for box in match:
                    earlier.add(box, rule)
    dead: Counter[Span] = Counter(item.rule.span for item in found)
    unique: dict[Span, Shadowed] = {}
    for item in found:
        if dead[item.rule.span] == occurrences[item.rule.span]:
            unique.setdefault(item.rule.span, item)
    return list(unique.values())
