"""Exact evaluation of a rule set over sets of packets.

The engine compiles every rule's conditions into a union of boxes (see
:mod:`seglint.space`) and pushes a set of packets through a hook's base
chains, splitting it at each rule into the part the rule matches and the
rest. The result is a list of :class:`Outcome`: disjoint packet sets, each
with its verdict and the rule that decided it. Nothing is sampled, so the
results for "is every packet accepted?" and "is any accepted?" are exact.

Constructs the engine does not model are :class:`seglint.ir.Unknown`
conditions. Each one is a boolean dimension of its own (``unknown:<key>``),
so an outcome that depends on it carries that dimension, and a policy can
tell "accepted whatever the construct does" from "may be accepted".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from seglint.boxindex import BoxIndex, subtract_boxes, subtract_many
from seglint.findings import Packet
from seglint.ir import (
    Chain,
    Condition,
    InterfaceMatch,
    Match,
    Rule,
    Ruleset,
    TupleMatch,
    Unknown,
)
from seglint.space import (
    DPORT,
    DST,
    ICMP,
    IIF,
    OIF,
    PROTO,
    REPLY_SWAP,
    SPORT,
    SRC,
    STATE,
    STATES,
    UNKNOWN_PREFIX,
    V6_OFFSET,
    Box,
    IntervalSet,
    Universe,
    complement_boxes,
    intersect_all,
    family_addresses,
    value_address,
)

logger = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 128
_FIRST_ROUTABLE_V4 = 1 << 24  # 1.0.0.0
_INDEX_INPUT_AT = 16  # input pieces of a chain above which they are indexed
_SPELL_OUT_AT = 256  # consumed boxes above which a jump's input is spelled out
_MAX_LEFT_BOXES = 64  # boxes of a spelled-out rest above which it is not kept
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})  # tcp, udp, dccp, sctp, udplite
_OTHER = "\x7f"  # marks a representative name that no rule names exactly


class EngineError(Exception):
    """A rule set the engine cannot evaluate (a chain loop, a missing chain)."""

    def __init__(self, message: str, rule: Rule | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Outcome:
    """A set of packets with the verdict a hook gave them.

    ``rule`` decided the verdict; for an accept across several base chains
    it is the last accepting rule the file states. ``trace`` lists the rules
    that decided in each base chain, jumps included, in order.
    """

    boxes: tuple[Box, ...]
    verdict: str  # "accept" or "drop"
    rule: Rule
    trace: tuple[Rule, ...]


@dataclass(slots=True)
class _Piece:
    boxes: list[Box]
    verdict: str  # "accept", "drop" or "return"
    rule: Rule | None
    trace: tuple[Rule, ...]


def _nonzero(values: IntervalSet | None) -> list[int]:
    """Return the lowest port above 0, so witnesses avoid the reserved port 0."""
    if values is None:
        return [1]
    for lo, hi in values.bounds:
        if hi >= 1:
            return [max(lo, 1)]
    return []


class _Left:
    """A chain's input minus what its rules consumed, brought up to date on demand.

    It is kept while it stays a few boxes. Once it is many boxes, it is
    dropped, and the chain passes its jumps' packets as input minus
    consumed boxes.
    """

    def __init__(self, boxes: list[Box], universe: Universe) -> None:
        self._boxes = boxes
        self._cuts: list[Box] = []
        self._universe = universe
        self.usable = True

    def cut(self, boxes: list[Box]) -> None:
        if self.usable:
            self._cuts.extend(boxes)

    def current(self) -> list[Box] | None:
        if self.usable and self._cuts:
            self._boxes = subtract_boxes(self._boxes, self._cuts, self._universe)
            self._cuts = []
            if len(self._boxes) > _MAX_LEFT_BOXES:
                self.usable = False
        return self._boxes if self.usable else None


class InterfaceAtoms:
    """Splits all interface names into finitely many classes.

    Every name a rule or the configuration mentions becomes an atom, and
    so does one representative for each prefix (``eth+``: "some other name
    starting with eth") and one for every other name. A match on names or
    prefixes is then a set of atom indexes, which is exact because two
    names in the same class match the same rules.
    """

    def __init__(self, names: Iterable[str]) -> None:
        exact: set[str] = set()
        prefixes: set[str] = set()
        for name in names:
            if name.endswith("+"):
                prefixes.add(name[:-1])
            else:
                exact.add(name)
        representatives = sorted(exact) + sorted(p + _OTHER for p in prefixes)
        if "" not in prefixes:
            representatives.append(_OTHER)
        self.names: tuple[str, ...] = tuple(representatives)
        self._index = {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def match(self, names: Iterable[str]) -> IntervalSet:
        """Return the atoms matching any of ``names`` (a ``+`` suffix is a prefix)."""
        hits = []
        for name in names:
            if name.endswith("+"):
                prefix = name[:-1]
                hits.extend(i for i, rep in enumerate(self.names) if rep.startswith(prefix))
            elif name in self._index:
                hits.append(self._index[name])
        return IntervalSet((i, i) for i in hits)

    def display(self, index: int) -> str:
        name = self.names[index]
        if name == _OTHER:
            return "any other interface"
        if name.endswith(_OTHER):
            return name[:-1] + "*"
        return name


class Engine:
    """Evaluates one rule set; build it once and query it many times."""

    def __init__(self, ruleset: Ruleset, interface_names: Iterable[str] = ()) -> None:
        self.ruleset = ruleset
        names = set(interface_names) | set(ruleset.loopback) | set(ruleset.interfaces)
        for chain in ruleset.chains.values():
            for rule in chain.rules:
                for condition in rule.conditions:
                    if isinstance(condition, InterfaceMatch):
                        names.update(condition.names)
        self.atoms = InterfaceAtoms(names)
        self.universe = Universe(len(self.atoms))
        self.loopback = self.atoms.match(ruleset.loopback)
        self.unknowns: dict[str, Unknown] = {}
        self._policies = {id(c.policy) for c in ruleset.chains.values() if c.policy}
        self._want_drops = True
        self._compiled: dict[str, list[tuple[Rule, list[Box]]]] = {
            name: [(rule, self._compile(rule)) for rule in chain.rules]
            for name, chain in ruleset.chains.items()
        }

    # --- compilation ---------------------------------------------------------

    def _compile(self, rule: Rule) -> list[Box]:
        boxes = [Box(())]
        for condition in rule.conditions:
            boxes = intersect_all(boxes, self._condition_boxes(condition))
            if not boxes:
                break
        return boxes

    def _condition_boxes(self, condition: Condition) -> list[Box]:
        universe = self.universe
        if isinstance(condition, Match):
            values = condition.values
            if condition.negated:
                values = universe.complement(condition.dim, values)
            return [Box(((condition.dim, values),))] if values else []
        if isinstance(condition, InterfaceMatch):
            values = self.atoms.match(condition.names)
            if condition.negated:
                values = universe.complement(condition.dim, values)
            return [Box(((condition.dim, values),))] if values else []
        if isinstance(condition, TupleMatch):
            rows = [Box.of(dict(zip(condition.dims, row, strict=True))) for row in condition.rows]
            rows = [row for row in rows if not row.is_empty()]
            return complement_boxes(rows, universe) if condition.negated else rows
        if isinstance(condition, Unknown):
            dim = self.unknown_dim(condition)
            value = 0 if condition.negated else 1
            return [Box(((dim, IntervalSet.single(value)),))]
        raise TypeError(f"unsupported condition {condition!r}")

    def unknown_dim(self, condition: Unknown) -> str:
        key = condition.key or f"{condition.span.path}:{condition.span.line}:" \
            f"{condition.span.column}:{condition.text}"
        dim = UNKNOWN_PREFIX + key
        self.unknowns.setdefault(dim, condition)
        return dim

    # --- evaluation ------------------------------------------------------------

    def compiled_chains(self) -> list[tuple[str, list[tuple[Rule, list[Box]]]]]:
        """Return each chain's rules with their compiled matches, in file order."""
        return list(self._compiled.items())

    def decides(self, hook: str) -> bool:
        return bool(self.ruleset.hooks.get(hook))

    def walk(self, hook: str, boxes: Iterable[Box], *, drops: bool = True) -> list[Outcome]:
        """Push ``boxes`` through the base chains of ``hook``.

        Packets that no base chain drops are accepted. The deciding rule of
        an accept is the last accept along the way that the file states,
        and an implicit accept only when there is no other. With
        ``drops=False`` the packets that a base chain's drop policy takes may
        be left out of the result, which saves computing what falls through.
        """
        self._want_drops = drops
        pending: list[tuple[list[Box], Rule | None, tuple[Rule, ...]]] = [
            (list(boxes), None, ())
        ]
        finished: list[Outcome] = []
        for chain_name in self.ruleset.hooks.get(hook, ()):
            chain = self.ruleset.chains[chain_name]
            next_pending: list[tuple[list[Box], Rule | None, tuple[Rule, ...]]] = []
            for group, accept_rule, trace in pending:
                inside, bypass = self._split_family(chain, group)
                if bypass:
                    next_pending.append((bypass, accept_rule, trace))
                if not inside:
                    continue
                for piece in self._run_base(chain, inside):
                    full_trace = trace + piece.trace
                    assert piece.rule is not None
                    if piece.verdict == "drop":
                        finished.append(
                            Outcome(tuple(piece.boxes), "drop", piece.rule, full_trace)
                        )
                        continue
                    chosen = piece.rule
                    if accept_rule is not None and (
                            self._accept_rank(accept_rule) > self._accept_rank(piece.rule)):
                        chosen = accept_rule
                    next_pending.append((piece.boxes, chosen, full_trace))
            pending = next_pending
        for group, accept_rule, trace in pending:
            if accept_rule is None or not group:
                continue
            finished.append(Outcome(tuple(group), "accept", accept_rule, trace))
        return finished

    def _accept_rank(self, rule: Rule) -> int:
        """Rank accepts for blame: a stated rule, then a stated policy, then an implicit one.

        A packet accepted by several base chains (iptables' mangle and filter
        tables, an ASA's inbound and outbound access lists) is blamed on the
        rule that most specifically let it through. On a tie the later one wins.
        """
        if rule.implicit:
            return 0
        return 1 if id(rule) in self._policies else 2

    def _split_family(self, chain: Chain, boxes: list[Box]) -> tuple[list[Box], list[Box]]:
        if chain.families >= {4, 6}:
            return boxes, []
        inside: list[Box] = []
        bypass: list[Box] = []
        for family in (4, 6):
            family_box = Box.of({SRC: family_addresses(family), DST: family_addresses(family)})
            target = inside if family in chain.families else bypass
            target.extend(intersect_all(boxes, [family_box]))
        return inside, bypass

    def _run_base(self, chain: Chain, boxes: list[Box]) -> list[_Piece]:
        if chain.policy is None:
            raise EngineError(f"base chain {chain.name} has no policy")
        need_rest = self._want_drops or chain.policy.action.kind == "accept"
        pieces = self._run_chain(chain.name, boxes, (chain.name,), rest=need_rest)
        out: list[_Piece] = []
        for piece in pieces:
            if piece.verdict == "return":
                # Packets that leave a base chain meet its policy.
                verdict = "accept" if chain.policy.action.kind == "accept" else "drop"
                trace = piece.trace + (chain.policy,)
                out.append(_Piece(piece.boxes, verdict, chain.policy, trace))
            else:
                out.append(piece)
        return out

    def _run_chain(self, name: str, boxes: list[Box], stack: tuple[str, ...],
                   rest: bool = True,
                   exclude: tuple[BoxIndex[None], ...] = ()) -> list[_Piece]:
        """Walk one chain; return its pieces, "return" for packets that fall off or RETURN.

        The chain's input is ``boxes`` minus the boxes filed in ``exclude``
        (what the calling chains consumed before the jump). Each rule's
        packets are its match within ``boxes`` minus the earlier rules' and
        the callers' consumed boxes, found through indexes, so the cost
        grows with the overlaps between rules rather than with their pairs,
        and a jump never spells out its whole input. The packets that fall
        off the end are computed only with ``rest``.
        """
        if len(stack) > MAX_CHAIN_DEPTH:
            raise EngineError(f"chain nesting deeper than {MAX_CHAIN_DEPTH} at {name}")
        compiled = self._compiled.get(name)
        if compiled is None:
            raise EngineError(f"chain {name} is not defined")
        consumed_index: BoxIndex[None] = BoxIndex()
        cuts = exclude + (consumed_index,)
        # A chain entered through a jump may get its input in many pieces;
        # an index finds the pieces each rule's match can overlap.
        inputs: BoxIndex[None] | None = None
        if len(boxes) > _INDEX_INPUT_AT:
            inputs = BoxIndex()
            for box in boxes:
                inputs.add(box, None)
        # Without callers' exclusions the chain's rest can be spelled out.
        left = _Left(boxes, self.universe) if not exclude else None
        out: list[_Piece] = []
        for rule, match in compiled:
            kind = rule.action.kind
            if not match or kind == "next":
                continue
            if inputs is None:
                reach = intersect_all(boxes, match)
            else:
                reach = [both for m in match for box, _ in inputs.overlapping(m)
                         if (both := box.intersect(m)) is not None]
            if not reach:
                continue
            # Together with the earlier rules, a terminal rule consumes all of
            # ``reach``. Filing ``reach`` (few whole boxes) instead of the
            # fragmented hit keeps the index small.
            consumed = reach
            # Only in a base chain: a caller needs a user chain's drops to
            # know which packets did not come back from it.
            if kind in ("drop", "reject") and not self._want_drops and len(stack) == 1:
                for box in consumed:
                    consumed_index.add(box, None)
                if left is not None:
                    left.cut(consumed)
                continue
            target = rule.action.target
            if kind == "jump" and target in self._compiled and target not in stack \
                    and len(stack) < MAX_CHAIN_DEPTH:
                # The callee gets ``reach`` minus what this chain and its
                # callers consumed, and that difference is not spelled out.
                # The packets that come back go on here without being named.
                # A long callee or many consumed boxes would make every lookup
                # meet them all, so then this chain's rest goes instead while
                # it is a few boxes.
                long_callee = len(self._compiled[target]) > _SPELL_OUT_AT
                rest_now = left.current() if left is not None and (
                    long_callee or len(consumed_index) > _SPELL_OUT_AT) else None
                if rest_now is not None:
                    consumed = self._enter(rule, intersect_all(rest_now, match), stack,
                                           out, ())
                else:
                    consumed = self._enter(rule, reach, stack, out, cuts)
            else:
                hit = self._reaching(reach, cuts, left, match)
                if not hit:
                    continue
                if kind in ("accept", "drop", "reject"):
                    verdict = "accept" if kind == "accept" else "drop"
                    out.append(_Piece(hit, verdict, rule, (rule,)))
                elif kind == "return":
                    out.append(_Piece(hit, "return", rule, ()))
                elif kind in ("jump", "goto"):
                    # A goto, or a jump that raises an error (a loop, a missing
                # chain, too deep), spells out its packets first.
                    consumed = self._enter(rule, hit, stack, out, ())
                else:
                    raise EngineError(f"unsupported action {kind}", rule)
            for box in consumed:
                consumed_index.add(box, None)
            if left is not None:
                left.cut(consumed)
        if not rest:
            return out
        remaining = self._reaching(boxes, cuts, left, None)
        if remaining:
            out.append(_Piece(remaining, "return", None, ()))
        return out

    def _reaching(self, boxes: list[Box], cuts: tuple[BoxIndex[None], ...],
                  left: _Left | None = None, match: list[Box] | None = None) -> list[Box]:
        """Return ``boxes`` minus the boxes filed in ``cuts`` (``boxes`` lie in ``match``).

        ``boxes`` may overlap many consumed boxes (a wide rule after a long
        block list, a chain's end). Then, while the chain's rest is kept,
        that rest is brought up to date instead. Each consumed box is so
        subtracted once for the whole chain rather than once per wide rule.
        """
        if left is not None and left.usable and \
                sum(index.estimate(box) for index in cuts for box in boxes) > _SPELL_OUT_AT:
            rest_now = left.current()
            if rest_now is not None:
                return rest_now if match is None else intersect_all(rest_now, match)
        reached: list[Box] = []
        for box in boxes:
            overlaps = [cut for index in cuts for cut, _ in index.overlapping(box)]
            reached.extend(subtract_many(box, overlaps, self.universe) if overlaps
                           else [box])
        return reached

    def _enter(self, rule: Rule, hit: list[Box], stack: tuple[str, ...],
               out: list[_Piece], exclude: tuple[BoxIndex[None], ...]) -> list[Box]:
        """Run a jump or goto; return the packets it decided (a jump's returns go on)."""
        target = rule.action.target
        if target in stack:
            raise EngineError(f"chain loop through {target}", rule)
        consumed: list[Box] = []
        goto = rule.action.kind == "goto"
        for piece in self._run_chain(target, hit, stack + (target,), rest=goto,
                                     exclude=exclude):
            if piece.verdict != "return":
                out.append(_Piece(piece.boxes, piece.verdict, piece.rule,
                                  (rule,) + piece.trace))
                consumed.extend(piece.boxes)
            elif goto:
                out.append(piece)
                consumed.extend(piece.boxes)
        return consumed

    # --- witnesses -------------------------------------------------------------

    def witness(self, box: Box, prefer: dict[str, list[int]] | None = None) -> Packet:
        """Pick one readable packet from ``box``: preferred values first, else the lowest."""
        prefer = prefer or {}

        def pick(dim: str, defaults: tuple[int, ...] = ()) -> int:
            values = box.get(dim) or self.universe.full(dim)
            for candidate in (*prefer.get(dim, ()), *defaults):
                if candidate in values:
                    return candidate
            return values.min()

        proto = pick(PROTO, (6, 17, 1, 58))
        has_ports = proto in PORT_PROTOCOLS
        icmp = pick(ICMP) if proto in (1, 58) else None
        return Packet(
            proto=proto,
            src=self._pick_address(box, SRC, prefer),
            dst=self._pick_address(box, DST, prefer),
            sport=pick(SPORT, (40000, 1024)) if has_ports else None,
            dport=pick(DPORT, tuple(_nonzero(box.get(DPORT)))) if has_ports else None,
            icmp_type=icmp // 256 if icmp is not None else None,
            icmp_code=icmp % 256 if icmp is not None else None,
            iif=self._pick_interface(box, IIF),
            oif=self._pick_interface(box, OIF),
            state=STATES[pick(STATE)],
        )

    def _pick_address(self, box: Box, dim: str, prefer: dict[str, list[int]]) -> str:
        values = box.get(dim) or self.universe.full(dim)
        for candidate in prefer.get(dim, ()):
            if candidate in values:
                return str(value_address(candidate))
        for lo, hi in values.bounds:
            offset = V6_OFFSET if lo >= V6_OFFSET else 0
            if offset == 0 and lo < _FIRST_ROUTABLE_V4 <= hi:
                lo = _FIRST_ROUTABLE_V4  # 0.0.0.0/8 is no real source or destination
            elif offset == 0 and hi < _FIRST_ROUTABLE_V4:
                continue
            # Skip a network's all-zero address when the set contains more than it.
            if hi > lo and (lo - offset) % 256 == 0:
                lo += 1
            return str(value_address(lo))
        return str(value_address(values.min()))

    def _pick_interface(self, box: Box, dim: str) -> str | None:
        """Name an interface only when the rules made it matter."""
        values = box.get(dim)
        full = self.universe.full(dim)
        if values is None or values == full or values == full.subtract(self.loopback):
            return None
        outside_loopback = values.subtract(self.loopback)
        chosen = (outside_loopback or values).min()
        return self.atoms.display(chosen)


def reply_boxes(boxes: Iterable[Box], established: IntervalSet) -> list[Box]:
    """Turn packets into their replies: swap addresses, ports and interfaces."""
    out = []
    for box in boxes:
        renamed = box.rename(REPLY_SWAP).as_dict()
        renamed[STATE] = established
        out.append(Box.of(renamed))
    return out


def forward_boxes(boxes: Iterable[Box]) -> list[Box]:
    """Undo :func:`reply_boxes` (dropping the state) to name the forward packets."""
    out = []
    for box in boxes:
        renamed = box.rename(REPLY_SWAP).as_dict()
        renamed.pop(STATE, None)
        out.append(Box.of(renamed))
    return out
