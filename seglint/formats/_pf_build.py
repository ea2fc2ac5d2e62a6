"""Turn the statements of a pf.conf into the IR's first-match chains.

pf evaluates every rule and the last one that matches decides, unless a
matching rule is ``quick``, which decides at once. In first-match order that
is exactly: the quick rules in file order, then the other rules in reverse
file order, then pf's default, which passes the packet without keeping
state. Each base chain is built that way from the rules of its direction.

Anchors are evaluated where they are called, as if their rules stood there:
a ``quick`` rule inside one decides at once, and the others join the
last-match order. An anchor called with ``quick`` ends the evaluation when
any of its rules matched, and its own last match (or first quick match)
decides. Its rules therefore become one block of quick rules, ordered the
same way inside the block. The filter of the anchor call (direction,
interface, addresses, ...) is added to each rule of the anchor. An anchor
whose rules are not in the checked files (loaded at run time, or a wildcard
such as ``relayd/*`` with no known children) may pass or block any packet
that reaches it. It becomes two rules conditioned on unknown constructs, one
that drops and one that accepts, in its place among the quick rules and,
unless the call is quick, among the other rules too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from seglint.formats._pf_match import (
    VIEWS,
    Alternatives,
    ChainView,
    FileEntries,
    RuleConditions,
    TableValue,
    table_value,
)
from seglint.formats._pf_model import (
    Antispoof,
    Ignored,
    Include,
    Interface,
    PfRule,
    SetSkip,
    Statement,
    TableDef,
)
from seglint.ir import (
    Action,
    ActionKind,
    Chain,
    Condition,
    Diagnostic,
    InterfaceMatch,
    Match,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import DPORT, DST, ICMP, IIF, OIF, PROTO, SPORT, SRC

logger = logging.getLogger(__name__)

Level = Literal["error", "warning", "note"]
FORMAT_ID = "pf"
DEFAULT_LOOPBACK = ("lo", "lo0", "Loopback+")
HOOKS = {
    "input": ("input",),
    "output": ("output",),
    "forward": ("forward-in", "forward-out"),
}
# The order of conditions in a rule: interface, protocol, source, destination.
_DIMENSION_ORDER = {
    IIF: 0,
    OIF: 0,
    PROTO: 1,
    SRC: 2,
    SPORT: 3,
    DST: 4,
    DPORT: 5,
    ICMP: 6,
}
_IGNORED_NOTES = {
    "scrub": "scrub rules normalise packets and do not filter; parsed and ignored",
    "no scrub": "scrub rules normalise packets and do not filter; parsed and ignored",
    "match": "match rules set options for later rules and do not pass or block; "
    "parsed and ignored",
    "nat-anchor": "nat-anchor calls translation rules; address translation is not "
    "modelled",
    "rdr-anchor": "rdr-anchor calls translation rules; address translation is not "
    "modelled",
    "binat-anchor": "binat-anchor calls translation rules; address translation is not "
    "modelled",
    "altq": "queueing (altq) does not filter; parsed and ignored",
    "queue": "queue definitions do not filter; parsed and ignored",
}


@dataclass
class Anchors:
    """Anchor contents known from the checked files, by full name (``a/b``)."""

    contents: dict[str, tuple[Statement, ...]] = field(default_factory=dict)
    # Tables defined inside an anchor, by anchor name; the main ruleset is "".
    tables: dict[str, dict[str, TableDef]] = field(default_factory=dict)

    def children(self, parent: str) -> list[str]:
        prefix = parent + "/" if parent else ""
        return sorted(
            name
            for name in self.contents
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        )


@dataclass
class _Item:
    quick: bool
    rules: list[Rule]


def anchor_path(parent: str, name: str) -> str:
    """Return the full name of anchor ``name`` called from anchor ``parent``."""
    if name.startswith("/"):
        return name.strip("/")
    return f"{parent}/{name}".strip("/") if parent else name.strip("/")


class RulesetBuilder:
    """Builds the rule set of one pf.conf and the anchors it loads."""

    def __init__(
        self,
        path: str,
        first_line: Span,
        anchors: Anchors,
        table_files: dict[int, FileEntries | None],
        block_policy: str,
    ) -> None:
        self.path = path
        self.first_line = first_line
        self.anchors = anchors
        self.table_files = table_files
        self.block_policy = block_policy
        self.diagnostics: dict[tuple[str, str, int, str], Diagnostic] = {}
        self._table_values: dict[int, TableValue] = {}
        self.depth = 0

    # --- diagnostics -------------------------------------------------------------

    def report(self, message: str, span: Span, level: Level = "warning") -> None:
        key = (span.path, level, span.line, message)
        self.diagnostics.setdefault(key, Diagnostic("SEG902", message, span, level))

    def unknown(self, text: str, span: Span, key: str, message: str) -> Unknown:
        self.report(message, span)
        return Unknown(text, span, key)

    # --- the rule set ---------------------------------------------------------------

    def build(self, statements: tuple[Statement, ...]) -> Ruleset:
        skip = [s for s in statements if isinstance(s, SetSkip)]
        chains: dict[str, Chain] = {}
        for view in VIEWS:
            conditions = RuleConditions(view, self._table_lookup(""), self.unknown)
            items = list(self._walk(statements, view, "", (), conditions))
            ordered = [rule for item in items if item.quick for rule in item.rules]
            ordered += [
                rule
                for item in reversed(items)
                if not item.quick
                for rule in item.rules
            ]
            front = self._skip_rules(skip, view)
            front += self._translation_rules(statements, view, conditions)
            chains[view.name] = Chain(view.name, tuple(front + ordered), self._policy())
        self._note_ignored(statements)
        loopback = tuple(
            dict.fromkeys(
                DEFAULT_LOOPBACK + tuple(i.name for s in skip for i in s.interfaces)
            )
        )
        return Ruleset(
            path=self.path,
            format=FORMAT_ID,
            chains=chains,
            hooks=dict(HOOKS),
            families=frozenset({4, 6}),
            kind="either",
            diagnostics=tuple(self.diagnostics.values()),
            loopback=loopback,
        )

    def _policy(self) -> Rule:
        return Rule(
            self.first_line,
            (),
            Action("accept", stateful=False),
            "pass all",
            implicit=True,
            label="pf default pass (no rule matched)",
        )

    # --- walking statements and anchors ---------------------------------------------

    def _walk(
        self,
        statements: tuple[Statement, ...],
        view: ChainView,
        anchor: str,
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
    ) -> Iterator[_Item]:
        for statement in statements:
            if isinstance(statement, PfRule) and statement.kind == "filter":
                rules = self._rules(
                    statement, calls, conditions, self._action(statement)
                )
                if rules:
                    yield _Item(statement.quick, rules)
            elif isinstance(statement, PfRule) and statement.kind == "anchor":
                yield from self._anchor(statement, view, anchor, calls, conditions)
            elif isinstance(statement, Antispoof) and view.direction == "in":
                yield from self._antispoof(statement, calls, conditions)
            elif isinstance(statement, Include):
                yield from self._unknown_include(statement, calls, conditions)

    def _rules(
        self,
        rule: PfRule,
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
        action: Action,
        label: str = "",
        extra: tuple[Condition, ...] = (),
    ) -> list[Rule]:
        alternatives: Alternatives = [()]
        for part in (*calls, rule):
            found = conditions.alternatives(part)
            alternatives = [a + b for a in alternatives for b in found]
            if not alternatives:
                return []
        out = []
        for alternative in alternatives:
            merged = _merge(alternative + extra)
            if merged is not None:
                out.append(Rule(rule.span, merged, action, rule.text, label=label))
        return out

    def _action(self, rule: PfRule) -> Action:
        if rule.action == "pass":
            return Action("accept", stateful=rule.state != "no")
        mode = rule.block_mode or self.block_policy
        return Action("reject" if mode == "return" else "drop")

    def _anchor(
        self,
        call: PfRule,
        view: ChainView,
        parent: str,
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
    ) -> Iterator[_Item]:
        name = anchor_path(parent, call.anchor or f"_inline{call.span.line}")
        names = [name]
        if name.endswith("*"):
            names = self.anchors.children(name.rstrip("*").rstrip("/"))
        known = [n for n in names if n in self.anchors.contents]
        if not known or self.depth > 32:
            yield from self._unknown_anchor(call, name, calls, conditions)
            return
        inner: list[_Item] = []
        self.depth += 1
        for child in known:
            scoped = RuleConditions(view, self._table_lookup(child), self.unknown)
            inner.extend(
                self._walk(
                    self.anchors.contents[child], view, child, calls + (call,), scoped
                )
            )
        self.depth -= 1
        if not call.quick:
            yield from inner
            return
        block = [rule for item in inner if item.quick for rule in item.rules]
        block += [
            rule for item in reversed(inner) if not item.quick for rule in item.rules
        ]
        if block:
            yield _Item(True, block)

    def _unknown_anchor(
        self,
        call: PfRule,
        name: str,
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
    ) -> Iterator[_Item]:
        self.report(
            f"rules of anchor {name} are not in the checked files (loaded at "
            "run time); packets it sees may be passed or blocked",
            call.span,
        )
        places = (True,) if call.quick else (True, False)
        yield from self._unknown_rules(
            call, f"anchor {name}", places, calls, conditions
        )

    def _unknown_include(
        self, statement: Include, calls: tuple[PfRule, ...], conditions: RuleConditions
    ) -> Iterator[_Item]:
        """Model an unreadable include as unknown rules, as it may hold any rule."""
        subject = f"include {statement.path.text}"
        call = PfRule("anchor", statement.span, subject)
        yield from self._unknown_rules(call, subject, (True, False), calls, conditions)

    def _unknown_rules(
        self,
        call: PfRule,
        subject: str,
        places: tuple[bool, ...],
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
    ) -> Iterator[_Item]:
        """Yield rules that may drop or accept what ``call`` matches."""
        label = f"{subject} (rules not in the checked files)"
        for quick in places:
            place = "quick" if quick else "last-match"
            kinds: tuple[ActionKind, ...] = ("drop", "accept")
            for kind in kinds:
                unknown = Unknown(subject, call.span, f"pf {subject} {place} {kind}")
                action = Action(kind, stateful=kind == "accept")
                rules = self._rules(call, calls, conditions, action, label, (unknown,))
                if rules:
                    yield _Item(quick, rules)

    def _antispoof(
        self,
        statement: Antispoof,
        calls: tuple[PfRule, ...],
        conditions: RuleConditions,
    ) -> Iterator[_Item]:
        """Model ``antispoof for IF`` as pfctl expands it.

        pfctl writes ``block drop in on ! IF from IF's networks`` and, for an
        interface that is not a loopback, ``block drop in from IF's own
        addresses`` on every interface. The interface's networks and
        addresses are not in pf.conf, so both are unknown conditions.
        """
        for interface in statement.interfaces:
            name = interface.name
            network = self.unknown(
                f"{name}:network",
                statement.span,
                f"pf source {name}:network",
                f"antispoof: the networks of interface {name} are not known",
            )
            rule = PfRule(
                "filter",
                statement.span,
                statement.text,
                action="block",
                block_mode="drop",
                direction="in",
                quick=statement.quick,
                family=statement.family,
                interfaces=(Interface(name, interface.span, negated=True),),
            )
            rule.unknowns.extend(statement.unknowns)
            label = f"antispoof for {name} (its networks arriving on another interface)"
            rules = self._rules(
                rule, calls, conditions, Action("drop"), label, (network,)
            )
            if rules:
                yield _Item(statement.quick, rules)
            if _is_loopback(name):
                continue
            own = self.unknown(
                f"({name})",
                statement.span,
                f"pf source ({name})",
                f"antispoof: the addresses of interface {name} are not known",
            )
            rule = PfRule(
                "filter",
                statement.span,
                statement.text,
                action="block",
                block_mode="drop",
                direction="in",
                quick=statement.quick,
                family=statement.family,
            )
            rule.unknowns.extend(statement.unknowns)
            label = f"antispoof for {name} (its own addresses as source)"
            rules = self._rules(rule, calls, conditions, Action("drop"), label, (own,))
            if rules:
                yield _Item(statement.quick, rules)

    # --- rules before the filter rules ------------------------------------------------

    def _skip_rules(self, skip: list[SetSkip], view: ChainView) -> list[Rule]:
        """``set skip on IF``: pf does not filter packets on these interfaces at all."""
        out = []
        for statement in skip:
            names = tuple(i.name for i in statement.interfaces)
            condition = InterfaceMatch(view.interface_dim, names)
            out.append(
                Rule(
                    statement.span,
                    (condition,),
                    Action("accept", stateful=True),
                    statement.text,
                    label=f"{statement.text} (not filtered)",
                )
            )
        return out

    def _translation_rules(
        self,
        statements: tuple[Statement, ...],
        view: ChainView,
        conditions: RuleConditions,
    ) -> list[Rule]:
        """``rdr pass`` / ``nat pass``: the translated packets skip the filter rules.

        Translation happens before filtering, so these accept first, matched
        with the addresses before translation. rdr applies to inbound and nat
        to outbound packets; binat to both, with addresses that depend on the
        translation, so a binat pass is unknown.
        """
        out: list[Rule] = []
        for rule in statements:
            if not isinstance(rule, PfRule) or rule.kind != "translation":
                continue
            if not rule.translation_pass or rule.translation_negated:
                continue
            label = f"{rule.translation} pass (translated packets are not filtered)"
            action = Action("accept", stateful=True)
            if rule.translation == "binat":
                unknown = self.unknown(
                    "binat pass",
                    rule.span,
                    f"pf binat pass {rule.span.line}",
                    "binat pass accepts translated packets without filtering; "
                    "their addresses are not modelled",
                )
                out.append(Rule(rule.span, (unknown,), action, rule.text, label=label))
                continue
            if (rule.translation == "rdr") != (view.direction == "in"):
                continue
            out.extend(self._rules(rule, (), conditions, action, label))
        return out

    # --- tables ---------------------------------------------------------------------

    def _table_lookup(
        self, anchor: str
    ) -> Callable[[str], tuple[TableDef, TableValue] | None]:
        def lookup(name: str) -> tuple[TableDef, TableValue] | None:
            # A table in an anchor hides the main ruleset's table of that name.
            for scope in (anchor, ""):
                table = self.anchors.tables.get(scope, {}).get(name)
                if table is not None:
                    return table, self._value(table)
            return None

        return lookup

    def _value(self, table: TableDef) -> TableValue:
        key = id(table)
        if key not in self._table_values:
            self._table_values[key] = table_value(table, self.table_files.get(key, []))
        return self._table_values[key]

    # --- notes ------------------------------------------------------------------------

    def _note_ignored(self, statements: tuple[Statement, ...]) -> None:
        for statement in _all_statements(statements):
            if isinstance(statement, Ignored):
                note = _IGNORED_NOTES.get(statement.keyword)
                if statement.keyword == "ether":
                    self.report(
                        "ethernet (layer 2) rules are not modelled; they may "
                        "pass or block packets before the IP rules see them",
                        statement.span,
                    )
                elif note:
                    self.report(note, statement.span, "note")
            elif isinstance(statement, PfRule):
                self._note_rule(statement)

    def _note_rule(self, rule: PfRule) -> None:
        if rule.kind == "translation" and rule.translation_pass:
            self.report(
                f"{rule.translation} pass: the packets it translates are "
                "accepted without filtering, matched by their addresses before "
                "translation (address translation is not modelled)",
                rule.span,
                "note",
            )
        elif rule.kind == "translation":
            keyword = (
                "no " + rule.translation
                if rule.translation_negated
                else rule.translation
            )
            self.report(
                f"{keyword} rules are parsed and ignored for filtering (address "
                "translation is not modelled)",
                rule.span,
                "note",
            )
        for word in rule.notes:
            self.report(
                f"routing and translation options are not modelled "
                f"({word.text}); the rule is checked on the packet as it "
                "arrives",
                word.span,
                "note",
            )


def _all_statements(statements: tuple[Statement, ...]) -> Iterator[Statement]:
    for statement in statements:
        yield statement
        if isinstance(statement, PfRule) and statement.body:
            yield from _all_statements(statement.body)


def _merge(conditions: tuple[Condition, ...]) -> tuple[Condition, ...] | None:
    """Intersect the matches of one dimension (an anchor's and its rule's), in order.

    Returns None when the conditions exclude each other.
    """
    merged: list[Condition] = []
    where: dict[str, int] = {}
    for condition in conditions:
        if isinstance(condition, Match) and not condition.negated:
            if condition.dim in where:
                index = where[condition.dim]
                both = merged[index].values.intersect(condition.values)  # type: ignore[union-attr]
                if not both:
                    return None
                merged[index] = Match(condition.dim, both)
                continue
            where[condition.dim] = len(merged)
        if condition not in merged:
            merged.append(condition)
    return tuple(sorted(merged, key=_rank))


def _rank(condition: Condition) -> int:
    return _DIMENSION_ORDER.get(getattr(condition, "dim", ""), len(_DIMENSION_ORDER))


def _is_loopback(name: str) -> bool:
    return name == "lo" or (name.startswith("lo") and name[2:].isdigit())
