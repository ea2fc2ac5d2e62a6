"""Property tests: the set-based engine agrees with a naive per-packet evaluator.

The reference evaluator walks one concrete packet through the chains the
obvious way. Hypothesis builds random rule sets (jumps, goto, RETURN,
negations, ranges, interface wildcards, unknown conditions, several base
chains) and random packets. For each packet's single-point box, the
engine's verdict and deciding rule must be the reference's.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seglint.engine import Engine
from seglint.ir import Action, Chain, InterfaceMatch, Match, Rule, Ruleset, Span, Unknown
from seglint.space import (
    DPORT,
    DST,
    IIF,
    PROTO,
    SPORT,
    SRC,
    STATE,
    UNKNOWN_PREFIX,
    Box,
    IntervalSet,
    Universe,
    intersect_all,
    subtract_all,
)

NUMERIC_DIMS = {PROTO: 20, SRC: 40, DST: 40, SPORT: 30, DPORT: 30, STATE: 4}
INTERFACES = ("eth0", "eth1", "ppp0", "lo")
INTERFACE_PATTERNS = ("eth0", "eth1", "eth+", "ppp+", "lo", "+")
UNKNOWN_KEYS = ("u1", "u2")


@st.composite
def interval_sets(draw, maximum: int) -> IntervalSet:
    pairs = draw(st.lists(st.tuples(st.integers(0, maximum), st.integers(0, 6)),
                          min_size=1, max_size=3))
    return IntervalSet((lo, min(lo + width, maximum)) for lo, width in pairs)


@st.composite
def conditions(draw):
    kind = draw(st.sampled_from(["num", "num", "num", "iface", "unknown"]))
    negated = draw(st.booleans())
    if kind == "num":
        dim = draw(st.sampled_from(sorted(NUMERIC_DIMS)))
        return Match(dim, draw(interval_sets(NUMERIC_DIMS[dim])), negated)
    if kind == "iface":
        names = draw(st.lists(st.sampled_from(INTERFACE_PATTERNS), min_size=1, max_size=2))
        return InterfaceMatch(IIF, tuple(names), negated)
    key = draw(st.sampled_from(UNKNOWN_KEYS))
    return Unknown(f"-m {key}", Span("t", 1), key=key, negated=negated)


@st.composite
def rulesets(draw) -> Ruleset:
    user_chains = draw(st.integers(0, 3))
    names = [f"c{i}" for i in range(user_chains)]
    line = iter(range(1, 10_000))
    chains: dict[str, Chain] = {}

    def make_rules(index: int) -> tuple[Rule, ...]:
        rules = []
        # A chain may only jump to later user chains, so there are no loops.
        targets = names[index + 1:] if index >= 0 else names
        for _ in range(draw(st.integers(0, 6))):
            conds = tuple(draw(st.lists(conditions(), max_size=3)))
            kinds = ["accept", "drop", "reject", "next"]
            if index >= 0:
                kinds.append("return")
            if targets:
                kinds += ["jump", "goto"]
            kind = draw(st.sampled_from(kinds))
            target = draw(st.sampled_from(targets)) if kind in ("jump", "goto") else ""
            rules.append(Rule(Span("t", next(line)), conds, Action(kind, target), "r"))
        return tuple(rules)

    for index, name in reversed(list(enumerate(names))):
        chains[name] = Chain(name, make_rules(index))
    bases = []
    for number in range(draw(st.integers(1, 2))):
        name = f"base{number}"
        policy_kind = draw(st.sampled_from(["accept", "drop"]))
        policy = Rule(Span("t", next(line)), (), Action(policy_kind), "policy")
        chains[name] = Chain(name, make_rules(-1), policy)
        bases.append(name)
    return Ruleset("t", "test", chains, {"input": tuple(bases)})


@st.composite
def packets(draw) -> dict[str, object]:
    packet: dict[str, object] = {dim: draw(st.integers(0, top)) for dim, top in
                                 NUMERIC_DIMS.items()}
    packet[IIF] = draw(st.sampled_from(INTERFACES))
    for key in UNKNOWN_KEYS:
        packet[key] = draw(st.booleans())
    return packet


def _matches(condition, packet) -> bool:
    if isinstance(condition, Match):
        hit = packet[condition.dim] in condition.values
    elif isinstance(condition, InterfaceMatch):
        name = packet[IIF]
        hit = any(name.startswith(n[:-1]) if n.endswith("+") else name == n
                  for n in condition.names)
    else:
        hit = bool(packet[condition.key])
    return hit != condition.negated


def _run(ruleset: Ruleset, name: str, packet) -> tuple[str, Rule | None]:
    for rule in ruleset.chains[name].rules:
        if not all(_matches(c, packet) for c in rule.conditions):
            continue
        kind = rule.action.kind
        if kind in ("accept", "drop", "reject"):
            return ("accept" if kind == "accept" else "drop"), rule
        if kind == "return":
            return "return", None
        if kind == "jump":
            verdict, decided = _run(ruleset, rule.action.target, packet)
            if verdict != "return":
                return verdict, decided
        if kind == "goto":
            return _run(ruleset, rule.action.target, packet)
    return "return", None


def reference(ruleset: Ruleset, packet) -> tuple[str, Rule]:
    """Walk the base chains; blame an accept on the last stated rule, else the last policy."""
    last_accept: Rule | None = None
    policies = {id(chain.policy) for chain in ruleset.chains.values() if chain.policy}
    for name in ruleset.hooks["input"]:
        chain = ruleset.chains[name]
        verdict, rule = _run(ruleset, name, packet)
        if verdict == "return":
            verdict, rule = chain.policy.action.kind, chain.policy
        if verdict in ("drop", "reject"):
            return "drop", rule
        rank = 1 if id(rule) in policies else 2
        if last_accept is None or rank >= (1 if id(last_accept) in policies else 2):
            last_accept = rule
    return "accept", last_accept


def point_box(engine: Engine, packet) -> Box:
    dims = {dim: IntervalSet.single(packet[dim]) for dim in NUMERIC_DIMS}
    dims[IIF] = engine.atoms.match([packet[IIF]])
    for key in UNKNOWN_KEYS:
        dims[UNKNOWN_PREFIX + key] = IntervalSet.single(int(packet[key]))
    return Box.of(dims)


@settings(max_examples=400, deadline=None)
@given(rulesets(), st.lists(packets(), min_size=1, max_size=8))
def test_engine_agrees_with_reference(ruleset, sample):
    engine = Engine(ruleset, INTERFACES)
    for packet in sample:
        outcomes = engine.walk("input", [point_box(engine, packet)])
        assert len(outcomes) == 1
        verdict, rule = reference(ruleset, packet)
        assert outcomes[0].verdict == verdict
        assert outcomes[0].rule is rule


@settings(max_examples=200, deadline=None)
@given(rulesets())
def test_outcomes_partition_the_query(ruleset):
    engine = Engine(ruleset, INTERFACES)
    query = [Box.of({PROTO: IntervalSet.single(0, 20), DPORT: IntervalSet.single(0, 30)})]
    outcomes = engine.walk("input", query)
    boxes = [box for outcome in outcomes for box in outcome.boxes]
    universe: Universe = engine.universe
    assert not subtract_all(query, boxes, universe)
    for i, left in enumerate(boxes):
        for right in boxes[i + 1:]:
            assert not intersect_all([left], [right])


@settings(max_examples=300, deadline=None)
@given(interval_sets(100), interval_sets(100), st.integers(0, 100))
def test_interval_set_algebra(left, right, value):
    assert (value in left.intersect(right)) == (value in left and value in right)
    assert (value in left.union(right)) == (value in left or value in right)
    assert (value in left.subtract(right)) == (value in left and value not in right)
