"""Second pass of the nftables format: turn the statements of one rule into IR rules.

A rule is a list of statements read left to right. Matches (``ip saddr
10.0.0.0/8``, ``tcp dport { 22, 80 }``, ``ct state established``) become
conditions; ``counter``, ``log``, ``comment`` and packet changes (``meta mark
set 1``) are skipped because they do not decide a verdict; the verdict
(``accept``, ``drop``, ``reject``, ``jump``, ``goto``, ``return``,
``continue``) becomes the action. A verdict map (``vmap { key : verdict }``)
becomes one rule per element in element order, which is exact because nft
refuses overlapping keys. Stateful matches (``limit``, ``quota``, ``ct
count``, meters), dynamic sets and selectors the engine has no dimension
for become :class:`~seglint.ir.Unknown` conditions with a SEG902 warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from seglint.formats._nftables_load import Item, RuleSource, render, unquote
from seglint.formats._nftables_names import (
    ETHER_FAMILIES,
    ICMP4,
    ICMP6,
    NFPROTO_FAMILIES,
    PAYLOAD_PROTOCOLS,
    PORT_PROTOCOLS,
    PORT_SELECTORS,
    UNQUALIFIED_META,
)
from seglint.formats._nftables_values import (
    BITWISE,
    Resolver,
    Unresolved,
    Value,
    address_atom,
    family_range,
    family_set,
    icmp_code_atom,
    icmp_type_atom,
    port_atom,
    protocol_atom,
    read_elements,
    read_value,
    state_atom,
)
from seglint.ir import (
    Action,
    Condition,
    Diagnostic,
    InterfaceMatch,
    Match,
    ParseError,
    Span,
    TupleMatch,
    Unknown,
)
from seglint.space import DPORT, DST, ICMP, IIF, OIF, PROTO, SPORT, SRC, STATE, IntervalSet

VERDICTS = frozenset({"accept", "drop", "reject", "jump", "goto", "return",
                      "continue", "queue"})
_OPERATORS = {
    "==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<",
    ">": ">", "gt": ">", "<=": "<=", "le": "<=", ">=": ">=", "ge": ">=",
    "!": "!", "not": "!",
}
_LOG_OPTIONS = frozenset({"prefix", "level", "group", "snaplen", "queue-threshold"})
_LOG_FLAGS = frozenset({"tcp", "ip", "sequence", "options", "skuid", "ether", "all"})
_BYTE_UNITS = frozenset({"bytes", "kbytes", "mbytes", "gbytes", "packets"})
_TCP_OPTION_FIELDS = frozenset({"kind", "length", "size", "count", "left", "right",
                                "tsval", "tsecr", "value", "subtype"})
# Statements that nft allows only in nat chains or that hand the packet on;
# in a filter chain seglint keeps them as unknown.
_OTHER_STATEMENTS = frozenset({"snat", "dnat", "masquerade", "redirect", "tproxy",
                               "synproxy", "fwd", "xt", "numgen", "jhash", "symhash",
                               "osf"})
_PORT_PROTOCOL_SET = IntervalSet((p, p) for p in PORT_PROTOCOLS)
_RAW_PAYLOAD = frozenset({"@ll", "@nh", "@th", "@ih"})


@dataclass(frozen=True)
class Selector:
    """The left side of a match: ``ip saddr``, ``tcp dport``, ``ct state`` ..."""

    words: tuple[str, ...]
    span: Span
    kind: str  # addr port proto state icmp_type icmp_code iface ether nfproto other
    dim: str = ""
    family: int = 0
    restrict: frozenset[int] | None = None
    proto: IntervalSet | None = None

    @property
    def text(self) -> str:
        return " ".join(self.words)


def classify(words: tuple[str, ...], span: Span) -> Selector:
    """Return the selector for ``words``; unmodelled ones have kind ``other``."""
    key = words
    if len(words) == 2 and words[0] == "meta" and words[1] in UNQUALIFIED_META:
        key = words[1:]
    if len(key) == 2 and key[0] in ("ip", "ip6") and key[1] in ("saddr", "daddr"):
        family = 4 if key[0] == "ip" else 6
        dim = SRC if key[1] == "saddr" else DST
        return Selector(words, span, "addr", dim, family, frozenset({family}))
    if key in (("ip", "protocol"), ("ip6", "nexthdr")):
        family = 4 if key[0] == "ip" else 6
        return Selector(words, span, "proto", PROTO, family, frozenset({family}))
    if key == ("meta", "l4proto"):
        return Selector(words, span, "proto", PROTO)
    if key == ("meta", "protocol"):
        return Selector(words, span, "ether")
    if key == ("meta", "nfproto"):
        return Selector(words, span, "nfproto")
    if len(key) == 2 and key[1] in ("dport", "sport") and (
        key[0] in PORT_SELECTORS or key[0] == "th"
    ):
        dim = DPORT if key[1] == "dport" else SPORT
        protocols = (IntervalSet.single(PORT_SELECTORS[key[0]]) if key[0] != "th"
                     else _PORT_PROTOCOL_SET)
        return Selector(words, span, "port", dim, proto=protocols)
    if key == ("ct", "state"):
        return Selector(words, span, "state", STATE)
    if len(key) == 2 and key[0] in ("icmp", "icmpv6") and key[1] in ("type", "code"):
        family = 4 if key[0] == "icmp" else 6
        protocol = IntervalSet.single(ICMP4 if family == 4 else ICMP6)
        return Selector(words, span, f"icmp_{key[1]}", ICMP, family,
                        frozenset({family}), protocol)
    if key in (("iif",), ("iifname",), ("oif",), ("oifname",)):
        return Selector(words, span, "iface", IIF if key[0].startswith("i") else OIF)
    return Selector(words, span, "other")


@dataclass(frozen=True)
class ReadRule:
    """One IR rule made from a statement list; a verdict map gives several."""

    conditions: tuple[Condition, ...]
    action: Action
    label: str = ""


@dataclass
class TableContext:
    """What the statements of a rule may refer to: the table's chains and sets."""

    family: str
    name: str
    families: frozenset[int]
    chains: frozenset[str]
    resolver: Resolver

    def chain_id(self, name: str) -> str:
        return f"{self.family} {self.name}/{name}"


def join_spans(first: Span, last: Span) -> Span:
    if first.path != last.path or (last.end_line, last.end_column) < (first.line, first.column):
        return first
    return Span(first.path, first.line, first.column, last.end_line, last.end_column)


@dataclass
class RuleReader:
    """Reads the statements of one rule; :meth:`read` returns IR rules and diagnostics."""

    table: TableContext
    rule: RuleSource
    pos: int = 0
    conditions: list[Condition] = field(default_factory=list)
    family: frozenset[int] = frozenset()
    action: Action | None = None
    results: list[ReadRule] | None = None
    # Warnings about unknown conditions; they matter only when the rule decides.
    notes: list[Diagnostic] = field(default_factory=list)
    # Diagnostics about side effects that matter whatever the rule's verdict.
    effects: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items = self.rule.items
        self.family = self.table.families

    def read(self) -> tuple[list[ReadRule], list[Diagnostic]]:
        while self.pos < len(self.items):
            if self.action is not None or self.results is not None:
                self._after_verdict()
            else:
                self._statement()
        if self.results is None:
            self.results = [ReadRule(tuple(self.conditions), self.action or Action("next"))]
        decides = any(result.action.kind != "next" for result in self.results)
        return self.results, self.effects + (self.notes if decides else [])

    # -- cursor -----------------------------------------------------------------

    def _item(self, offset: int = 0) -> Item | None:
        index = self.pos + offset
        return self.items[index] if index < len(self.items) else None

    def _kind(self, offset: int = 0) -> str | None:
        item = self._item(offset)
        return item.kind if item is not None else None

    def _word(self, offset: int = 0) -> str | None:
        item = self._item(offset)
        return item.text if item is not None and item.kind == "word" else None

    def _take(self) -> Item:
        item = self._item()
        if item is None:
            raise ParseError("unexpected end of rule", self.items[-1].span)
        self.pos += 1
        return item

    def _expect(self, what: str) -> Item:
        item = self._item()
        if item is None:
            raise ParseError(f"expected {what} (found end of rule)", self.items[-1].span)
        self.pos += 1
        return item

    def _skip_words(self, words: frozenset[str]) -> None:
        while self._word() in words:
            self.pos += 1

    # -- statements ---------------------------------------------------------------

    def _after_verdict(self) -> None:
        item = self._take()
        if item.kind == "word" and item.text == "comment":
            self._expect("a comment")
            return
        raise ParseError(
            f"statement after the verdict has no effect ({item.text}); nft rejects it",
            item.span,
        )

    def _statement(self) -> None:
        item = self.items[self.pos]
        word = item.text if item.kind == "word" else ""
        after = self._item(1)
        if word in VERDICTS:
            self._verdict()
        elif word == "counter":
            self._counter()
        elif word == "log":
            self._log()
        elif word == "comment":
            self.pos += 1
            self._expect("a comment")
        elif word in ("limit", "quota", "meter") or (word == "ct" and self._word(1) == "count"):
            self._stateful(word)
        elif word in ("add", "update", "delete") and after is not None \
                and after.kind == "setref":
            self._set_update()
        elif word == "notrack":
            self.pos += 1
            self.effects.append(Diagnostic(
                "SEG902",
                "notrack is not modelled: later rules see these packets as untracked "
                f"({self.rule.text})",
                item.span,
            ))
        elif word == "flow":
            # flow add @flowtable offloads accepted connections; no verdict.
            self.pos += 1
            self._skip_words(frozenset({"add", "offload"}))
            table = self._item()
            if table is not None and table.kind == "setref":
                self.pos += 1
        elif word == "dup":
            self.pos += 1
            self._skip_words(frozenset({"to"}))
            _, self.pos = read_value(self.items, self.pos)
            if self._word() == "device":
                self.pos += 2
        elif word in _OTHER_STATEMENTS:
            self._unknown_rest()
        else:
            selectors = self._selectors()
            if selectors is None:
                self._unknown_rest()
            else:
                self._after_selectors(selectors)

    def _counter(self) -> None:
        self.pos += 1
        if self._word() == "name":
            self.pos += 2
            return
        while self._word() in ("packets", "bytes"):
            self.pos += 2

    def _log(self) -> None:
        self.pos += 1
        while True:
            word = self._word()
            if word in _LOG_OPTIONS:
                self.pos += 2
            elif word == "flags":
                self.pos += 1
                while self._word() in _LOG_FLAGS or self._kind() == "comma":
                    self.pos += 1
            else:
                return

    def _stateful(self, word: str) -> None:
        """Read limit, quota, meter or ct count: a match whose answer changes over time."""
        start = self.pos
        self.pos += 1
        if word == "ct":
            self.pos += 1
            self._skip_words(frozenset({"over"}))
            self._expect("a connection count")
        elif self._word() == "name":
            self.pos += 2
        elif word == "meter":
            self._expect("a meter name")
            if self._word() == "size":
                self.pos += 2
            self._expect("a { } meter statement")
        elif word == "limit":
            if self._word() == "rate":
                self.pos += 1
            self._skip_words(frozenset({"over", "until"}))
            amount = self._expect("a rate")
            if "/" not in amount.text:
                self._expect("a rate unit")
            if self._word() == "burst":
                self.pos += 2
                self._skip_words(_BYTE_UNITS)
        else:
            self._skip_words(frozenset({"over", "until"}))
            self._expect("a quota")
            self._skip_words(_BYTE_UNITS)
            if self._word() == "used":
                self.pos += 2
                self._skip_words(_BYTE_UNITS)
        what = {"limit": "rate limit", "quota": "quota", "meter": "meter",
                "ct": "connection count limit"}[word]
        self._occurrence_unknown(self.items[start:self.pos], what)

    def _set_update(self) -> None:
        """Read ``add @set { key [stateful statement] }``, which may be a match."""
        start = self.pos
        self.pos += 2
        body = self._expect("a { } set element")
        inner = [item.text for item in body.children if item.kind == "word"]
        if "limit" in inner or "quota" in inner or "count" in inner:
            self._occurrence_unknown(self.items[start:self.pos], "limit in a set update")

    def _occurrence_unknown(self, items: tuple[Item, ...], what: str) -> None:
        """Add an unknown for a stateful construct; every use has its own state."""
        text = render(items)
        span = join_spans(items[0].span, items[-1].span)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        self.conditions.append(Unknown(text, span, key))
        self.notes.append(Diagnostic("SEG902", f"{what} is not modelled ({text})", span))

    def _unknown_rest(self) -> None:
        """Keep a statement seglint cannot read as one unknown, up to the verdict."""
        start = self.pos
        while self.pos < len(self.items):
            word = self._word()
            if word in VERDICTS or word == "vmap":
                break
            self.pos += 1
        items = self.items[start:self.pos]
        if not items:
            raise ParseError("expected a statement", self.items[start].span)
        span = join_spans(items[0].span, items[-1].span)
        text = render(items)
        if self._word() == "vmap":
            self._vmap([Selector((text,), span, "other")])
            return
        self.conditions.append(Unknown(text, span, text))
        self.notes.append(Diagnostic("SEG902", f"statement is not modelled ({text})", span))

    # -- verdicts -------------------------------------------------------------------

    def _verdict(self) -> None:
        word = self._take().text
        if word in ("accept", "drop"):
            self.action = Action(word)  # type: ignore[arg-type]
        elif word == "continue":
            self.action = Action("next")
        elif word == "return":
            self.action = Action("return")
        elif word == "reject":
            self._reject()
            self.action = Action("reject")
        elif word in ("jump", "goto"):
            self.action = self._jump(word, self._expect("a chain name"))
        else:
            self._queue()

    def _reject(self) -> None:
        if self._word() != "with":
            return
        self.pos += 1
        protocol = self._expect("icmp, icmpv6, icmpx or tcp").text
        if protocol == "tcp":
            self._skip_words(frozenset({"reset"}))
            return
        if self._word() == "type":
            self.pos += 1
        self._expect("a reject code")

    def _jump(self, kind: str, target: Item) -> Action:
        if target.kind == "brace":
            # An anonymous chain: its verdict is not read, so it may be anything.
            self._uncertain_verdicts(f"{kind} {render([target])}", target.span,
                                     "anonymous chain is not modelled")
            return Action("next")
        name = unquote(target.text)
        if name not in self.table.chains:
            raise ParseError(f"{kind} to unknown chain ({name})", target.span)
        return Action(kind, target=self.table.chain_id(name))  # type: ignore[arg-type]

    def _queue(self) -> None:
        start = self.pos - 1
        while True:
            word = self._word()
            if word == "flags":
                self.pos += 1
                _, self.pos = read_value(self.items, self.pos)
            elif word in ("num", "to"):
                self.pos += 1
                _, self.pos = read_value(self.items, self.pos)
            elif word in ("bypass", "fanout"):
                self.pos += 1
            else:
                break
        items = self.items[start:self.pos]
        text = render(items)
        span = join_spans(items[0].span, items[-1].span)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        base = tuple(self.conditions)
        # A userspace program accepts or drops the packet.
        self.results = [
            ReadRule(base + (Unknown(text, span, key),), Action("accept")),
            ReadRule(base, Action("drop")),
        ]
        self.notes.append(Diagnostic(
            "SEG902", f"queue verdict is decided by a userspace program ({text})", span))

    def _uncertain_verdicts(self, text: str, span: Span, what: str) -> None:
        """Make the rule accept, drop or go on, each under its own unknown."""
        base = tuple(self.conditions)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        self.results = [
            ReadRule(base + (Unknown(f"{text} ({kind})", span, f"{key} {kind}"),),
                     Action(kind))  # type: ignore[arg-type]
            for kind in ("accept", "drop")
        ]
        self.notes.append(Diagnostic("SEG902", f"{what} ({text})", span))

    def _map_verdict(self, data: tuple[Item, ...], span: Span) -> Action:
        words = [item.text for item in data]
        if len(words) == 1 and words[0] in ("accept", "drop", "continue", "return"):
            kind = "next" if words[0] == "continue" else words[0]
            return Action(kind)  # type: ignore[arg-type]
        if len(words) == 2 and words[0] in ("jump", "goto"):
            return self._jump(words[0], data[1])
        raise ParseError(f"invalid verdict in a verdict map ({render(data) or 'nothing'})",
                         data[0].span if data else span)

    # -- matches ----------------------------------------------------------------------

    def _selectors(self) -> list[Selector] | None:
        first = self._selector()
        if first is None:
            return None
        selectors = [first]
        while self._word() == ".":
            self.pos += 1
            nxt = self._selector()
            if nxt is None:
                item = self._item()
                raise ParseError(
                    f"expected a selector after '.' (found {item.text if item else 'nothing'})",
                    item.span if item else self.items[-1].span,
                )
            selectors.append(nxt)
        return selectors

    def _selector(self) -> Selector | None:
        words = self._selector_words()
        if not words:
            return None
        start = self.pos
        self.pos += len(words)
        span = join_spans(self.items[start].span, self.items[self.pos - 1].span)
        return classify(tuple(words), span)

    def _selector_words(self) -> list[str]:
        item = self._item()
        if item is None:
            return []
        if item.kind == "setref" and item.text in _RAW_PAYLOAD:
            # A raw payload expression: @th,16,16.
            texts = [item.text]
            while len(texts) < 5 and self._kind(len(texts)) in ("comma", "word"):
                texts.append(self.items[self.pos + len(texts)].text)
            return texts
        first = self._word()
        if first is None:
            return []
        peek = [self._word(i) for i in range(1, 5)]
        if first in PAYLOAD_PROTOCOLS:
            if peek[0] is None or peek[0] == ".":
                return []
            if peek[0] == "option" and peek[1] is not None:
                extra = [peek[2]] if peek[2] in _TCP_OPTION_FIELDS else []
                return [first, "option", peek[1], *extra]
            return [first, peek[0]]
        if first == "meta":
            return [first, peek[0]] if peek[0] is not None else []
        if first in UNQUALIFIED_META:
            return [first]
        if first == "ct" and peek[0] is not None:
            if peek[0] in ("original", "reply") and peek[1] is not None:
                if peek[1] in ("ip", "ip6") and peek[2] is not None:
                    return [first, peek[0], peek[1], peek[2]]
                return [first, peek[0], peek[1]]
            return [first, peek[0]]
        if first == "fib":
            return self._fib_words()
        if first == "rt" and peek[0] is not None:
            if peek[0] in ("ip", "ip6") and peek[1] is not None:
                return [first, peek[0], peek[1]]
            return [first, peek[0]]
        if first == "socket" and peek[0] is not None:
            if peek[0] == "cgroupv2" and peek[1] == "level" and peek[2] is not None:
                return [first, peek[0], peek[1], peek[2]]
            return [first, peek[0]]
        if first == "ipsec" and peek[0] in ("in", "out"):
            words = [first, peek[0]]
            rest = peek[1:]
            if rest[0] == "spnum" and rest[1] is not None:
                words += rest[:2]
                rest = rest[2:]
            if rest and rest[0] is not None:
                words.append(rest[0])
                if rest[0] in ("ip", "ip6") and len(rest) > 1 and rest[1] is not None:
                    words.append(rest[1])
            return words
        if first == "exthdr" and peek[0] is not None and peek[1] is not None:
            return [first, peek[0], peek[1]]
        return []

    def _fib_words(self) -> list[str]:
        # fib FLAG [. FLAG]... RESULT, where oif can be a flag or the result.
        words = ["fib"]
        offset = 1
        while True:
            word = self._word(offset)
            if word is None:
                return []
            words.append(word)
            offset += 1
            if word in ("oif", "oifname", "type") and self._word(offset) != ".":
                return words

    def _after_selectors(self, selectors: list[Selector]) -> None:
        word = self._word()
        if word == "set":
            self._mangle()
            return
        if word == "vmap":
            self._vmap(selectors)
            return
        masked = False
        while True:
            item = self._item()
            if item is None or not (
                (item.kind == "op" and item.text in BITWISE)
                or (item.kind == "word" and item.text in ("and", "or", "xor"))
            ):
                break
            self.pos += 1
            _, self.pos = read_value(self.items, self.pos)
            masked = True
        if self._word() == "vmap":
            self._vmap([Selector(selectors[0].words + ("&",), selectors[0].span, "other")])
            return
        operator = self._operator()
        value, self.pos = read_value(self.items, self.pos)
        self._match(selectors, operator, value, masked)

    def _operator(self) -> str | None:
        item = self._item()
        if item is None or item.kind not in ("op", "word") or item.text not in _OPERATORS:
            return None
        if item.kind == "word" and item.text in ("and", "or", "xor"):
            return None
        self.pos += 1
        return _OPERATORS[item.text]

    def _mangle(self) -> None:
        """Skip ``SELECTOR set VALUE``: it changes the packet, not the verdict."""
        self.pos += 1
        if self._selectors() is None:
            _, self.pos = read_value(self.items, self.pos)
        while True:
            item = self._item()
            if item is not None and item.kind == "word" and item.text == "map":
                self.pos += 1
                _, self.pos = read_value(self.items, self.pos)
            elif item is not None and item.kind == "op" and item.text in BITWISE:
                self.pos += 1
                _, self.pos = read_value(self.items, self.pos)
            else:
                return

    def _vmap(self, selectors: list[Selector]) -> None:
        self.pos += 1
        target = self._expect("a { } verdict map or an @map")
        resolver = self.table.resolver
        if target.kind == "brace":
            elements = read_elements(target.children)
        elif target.kind == "setref":
            try:
                elements = resolver.elements(Value("ref", target.span, target.text))
            except Unresolved as exc:
                text = " ".join(s.text for s in selectors) + f" vmap {target.text}"
                self._uncertain_verdicts(text, join_spans(selectors[0].span, target.span),
                                         exc.reason)
                return
        else:
            raise ParseError(f"expected a {{ }} verdict map or an @map (found {target.text})",
                             target.span)
        prefix = list(self.conditions)
        family = self.family
        results: list[ReadRule] = []
        selector_text = " . ".join(s.text for s in selectors)
        for element in elements:
            self.conditions = list(prefix)
            self.family = family
            self._match(selectors, None, element.key, False)
            action = self._map_verdict(element.data, element.span)
            label = f"{selector_text} {element.key.text} : {render(element.data)}"
            results.append(ReadRule(tuple(self.conditions), action, label))
        self.results = results

    # -- conditions -------------------------------------------------------------------

    def _restrict(self, families: frozenset[int], emit: bool) -> None:
        narrowed = self.family & families
        if narrowed == self.family:
            return
        self.family = narrowed
        if emit:
            self.conditions.append(Match(SRC, family_set(narrowed)))

    def _match(
        self, selectors: list[Selector], operator: str | None, value: Value, masked: bool
    ) -> None:
        span = join_spans(selectors[0].span, value.span)
        unknown = masked or value.kind == "expr" or any(
            s.kind == "other" for s in selectors)
        try:
            if unknown:
                self._implied(selectors, explicit_family=True)
                raise Unresolved("match is not modelled")
            if len(selectors) > 1:
                self._concat(selectors, operator, value)
            else:
                self._single(selectors[0], operator, value)
        except Unresolved as exc:
            self._unknown_match(selectors, operator, value, span, exc)

    def _implied(self, selectors: list[Selector], explicit_family: bool) -> None:
        """Add the family and protocol conditions that selectors imply."""
        for selector in selectors:
            if selector.restrict is not None:
                emit = explicit_family or selector.kind != "addr"
                self._restrict(selector.restrict, emit)
            if selector.proto is not None:
                self.conditions.append(Match(PROTO, selector.proto))

    def _unknown_match(
        self,
        selectors: list[Selector],
        operator: str | None,
        value: Value,
        span: Span,
        exc: Unresolved,
    ) -> None:
        # The implied family may still be missing when resolving failed.
        for selector in selectors:
            if selector.kind == "addr" and selector.restrict is not None:
                self._restrict(selector.restrict, True)
        selector_text = " . ".join(s.text for s in selectors)
        negated = operator in ("!=", "!")
        shown_op = f" {operator}" if operator is not None else ""
        text = f"{selector_text}{shown_op} {value.text}"
        key_op = "" if operator in (None, "==", "!=", "!") else f" {operator}"
        key = f"{selector_text}{key_op} {value.text}"
        if exc.key_scope:
            key = f"{exc.key_scope}: {key}"
        self.conditions.append(Unknown(text, span, key, negated))
        message = f"{exc.reason} ({text})"
        if exc.hint:
            message += f"; {exc.hint}"
        self.notes.append(Diagnostic("SEG902", message, span))

    def _single(self, selector: Selector, operator: str | None, value: Value) -> None:
        negated = operator in ("!=", "!")
        resolver = self.table.resolver
        kind = selector.kind
        if kind == "addr":
            values = self._values(value, address_atom(selector.family), operator, selector)
            self._implied([selector], explicit_family=False)
            full = family_range(selector.family)
            self.conditions.append(
                Match(selector.dim, full.subtract(values) if negated else values))
            return
        if kind in ("ether", "nfproto"):
            names = ETHER_FAMILIES if kind == "ether" else NFPROTO_FAMILIES
            if operator not in (None, "==", "!=", "!"):
                raise Unresolved(f"operator {operator} is not modelled")
            found = resolver.families(value, names, selector.text)
            allowed = self.table.families - found if negated else found
            self._restrict(frozenset(allowed), True)
            return
        if kind == "iface":
            if operator not in (None, "==", "!=", "!"):
                raise Unresolved(f"operator {operator} is not modelled")
            names_found = resolver.names(value)
            self.conditions.append(InterfaceMatch(selector.dim, names_found, negated))
            return
        self._implied([selector], explicit_family=False)
        atom = self._atom(selector)
        values = self._values(value, atom, operator, selector)
        if kind == "state":
            self._state(values, operator, value)
            return
        self.conditions.append(Match(selector.dim, values, negated))

    def _state(self, values: IntervalSet, operator: str | None, value: Value) -> None:
        # A comma list of ct states is one bitmask. nft tests it bit by bit only
        # without an operator (or with !); == and != compare the whole mask,
        # and a packet has exactly one state bit.
        several = value.kind in ("list", "atom") and values.size() > 1
        if operator == "==" and several:
            self.conditions.append(Match(STATE, IntervalSet()))
        elif operator == "!=" and several:
            return
        else:
            self.conditions.append(Match(STATE, values, operator in ("!=", "!")))

    def _atom(self, selector: Selector) -> Callable[[Value], IntervalSet]:
        if selector.kind == "port":
            return port_atom
        if selector.kind == "proto":
            return protocol_atom
        if selector.kind == "state":
            return state_atom
        if selector.kind == "icmp_type":
            return icmp_type_atom(selector.family)
        if selector.kind == "icmp_code":
            return icmp_code_atom(selector.family)
        if selector.kind == "addr":
            return address_atom(selector.family)
        raise Unresolved("match is not modelled")

    def _values(
        self,
        value: Value,
        atom: Callable[[Value], IntervalSet],
        operator: str | None,
        selector: Selector,
    ) -> IntervalSet:
        values = self.table.resolver.values(value, atom)
        if operator not in ("<", ">", "<=", ">="):
            return values
        if value.kind != "atom" or selector.kind not in ("port", "proto", "addr"):
            raise Unresolved(f"operator {operator} is not modelled for this value")
        if selector.kind == "addr":
            domain = family_range(selector.family)
        else:
            domain = IntervalSet.single(0, 65535 if selector.kind == "port" else 255)
        low, high = values.min(), max(hi for _, hi in values)
        bounds = {
            "<": (domain.min(), low - 1), "<=": (domain.min(), high),
            ">": (high + 1, max(hi for _, hi in domain)), ">=": (low, max(hi for _, hi in domain)),
        }[operator]
        return IntervalSet.single(*bounds)

    def _concat(self, selectors: list[Selector], operator: str | None, value: Value) -> None:
        if operator not in (None, "==", "!="):
            raise Unresolved(f"operator {operator} is not modelled on a concatenation")
        negated = operator == "!="
        # The family condition is stated even when an address part implies
        # it, so that it stays when the set turns out to be unknown.
        self._implied(selectors, explicit_family=True)
        if any(s.kind in ("ether", "nfproto") for s in selectors):
            raise Unresolved("match is not modelled")
        dims = tuple(s.dim for s in selectors)
        if len(set(dims)) != len(dims):
            raise Unresolved("match is not modelled")
        rows: list[tuple[IntervalSet | tuple[str, ...], ...]] = []
        for element in self.table.resolver.elements(value):
            key = element.key
            if key.kind != "concat" or len(key.parts) != len(selectors):
                raise ParseError(
                    f"element does not match the concatenation ({key.text}); "
                    f"it needs {len(selectors)} parts joined by '.'",
                    key.span,
                )
            rows.append(tuple(self._part(s, part) for s, part in zip(selectors, key.parts)))
        if len(rows) == 1 and not negated:
            for selector, part in zip(selectors, rows[0]):
                if isinstance(part, tuple):
                    self.conditions.append(InterfaceMatch(selector.dim, part))
                else:
                    self.conditions.append(Match(selector.dim, part))
            return
        if any(s.kind == "iface" for s in selectors):
            raise Unresolved("interface names in a concatenated set are not modelled")
        interval_rows = tuple(
            tuple(part for part in row if isinstance(part, IntervalSet)) for row in rows)
        self.conditions.append(TupleMatch(dims, interval_rows, negated))

    def _part(self, selector: Selector, value: Value) -> IntervalSet | tuple[str, ...]:
        if selector.kind == "iface":
            return self.table.resolver.names(value)
        return self.table.resolver.values(value, self._atom(selector))
