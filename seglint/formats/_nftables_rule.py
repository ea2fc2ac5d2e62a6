"""Second pass of the nftables format: turn the statements of one rule into IR rules.

A rule is a list of statements read left to right. Matches (``ip saddr
10.0.0.0/8``, ``tcp dport { 22, 80 }``, ``ct state established``) become
conditions. ``counter``, ``log``, ``comment`` and packet changes (``meta
mark set 1``) are skipped because they do not decide a verdict. The verdict
(``accept``, ``drop``, ``reject``, ``jump``, ``goto``, ``return``,
``continue``) becomes the action. A verdict map (``vmap { key : verdict }``)
becomes one rule per element in element order, which is exact because nft
rejects maps with overlapping keys. Stateful matches (``limit``, ``quota``,
``ct count``, meters), dynamic sets and selectors the engine has no
dimension for become :class:`~seglint.ir.Unknown` conditions with a SEG902
warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from seglint.formats._nftables_match import ConditionBuilder, TableContext
from seglint.formats._nftables_model import RuleSource
from seglint.formats._nftables_select import (
    Selector,
    classify,
    join_spans,
    selector_words,
)
from seglint.formats._nftables_syntax import Item, render, unquote
from seglint.formats._nftables_values import (
    BITWISE,
    VERDICT_WORDS,
    Unresolved,
    Value,
    read_elements,
    read_value,
)
from seglint.ir import Action, Condition, Diagnostic, ParseError, Span, Unknown

__all__ = ["ReadRule", "RuleReader", "TableContext"]

_OPERATORS = {
    "==": "==",
    "eq": "==",
    "!=": "!=",
    "ne": "!=",
    "<": "<",
    "lt": "<",
    ">": ">",
    "gt": ">",
    "<=": "<=",
    "le": "<=",
    ">=": ">=",
    "ge": ">=",
    "!": "!",
    "not": "!",
}
# continue goes on with the next rule, which the IR calls "next".
_SIMPLE_VERDICTS = {
    "accept": Action("accept"),
    "drop": Action("drop"),
    "continue": Action("next"),
    "return": Action("return"),
}
_LOG_OPTIONS = frozenset({"prefix", "level", "group", "snaplen", "queue-threshold"})
_LOG_FLAGS = frozenset({"tcp", "ip", "sequence", "options", "skuid", "ether", "all"})
_BYTE_UNITS = frozenset({"bytes", "kbytes", "mbytes", "gbytes", "packets"})
# Statements that nft allows only in nat chains or that hand the packet on;
# in a filter chain seglint keeps them as unknown.
_OTHER_STATEMENTS = frozenset(
    {
        "snat",
        "dnat",
        "masquerade",
        "redirect",
        "tproxy",
        "synproxy",
        "fwd",
        "xt",
        "numgen",
        "jhash",
        "symhash",
        "osf",
    }
)


@dataclass(frozen=True)
class ReadRule:
    """One IR rule made from a statement list; a verdict map gives several."""

    conditions: tuple[Condition, ...]
    action: Action
    label: str = ""


class RuleReader(ConditionBuilder):
    """Reads the statements of one rule into IR rules and diagnostics."""

    def __init__(self, table: TableContext, rule: RuleSource) -> None:
        super().__init__(table)
        self.rule = rule
        self.items = rule.items
        self.pos = 0
        self.action: Action | None = None
        self.results: list[ReadRule] | None = None
        # Diagnostics about side effects that matter whatever the rule's verdict.
        self.effects: list[Diagnostic] = []

    def read(self) -> tuple[list[ReadRule], list[Diagnostic]]:
        while self.pos < len(self.items):
            if self.action is not None or self.results is not None:
                self._after_verdict()
            else:
                self._statement()
        if self.results is None:
            action = self.action or Action("next")
            self.results = [ReadRule(tuple(self.conditions), action)]
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

    def _expect(self, expected: str) -> Item:
        item = self._item()
        if item is None:
            raise ParseError(
                f"expected {expected} (found end of rule)", self.items[-1].span
            )
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
        if word in VERDICT_WORDS:
            self._verdict()
        elif word == "counter":
            self._counter()
        elif word == "log":
            self._log()
        elif word == "comment":
            self.pos += 1
            self._expect("a comment")
        elif word in ("limit", "quota", "meter") or (
            word == "ct" and self._word(1) == "count"
        ):
            self._stateful(word)
        elif (
            word in ("add", "update", "delete")
            and after is not None
            and after.kind == "setref"
        ):
            self._set_update()
        elif word == "notrack":
            self.pos += 1
            self.effects.append(
                Diagnostic(
                    "SEG902",
                    "notrack is not modelled: later rules see these packets as "
                    "untracked "
                    f"({self.rule.text})",
                    item.span,
                )
            )
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
        """Read limit, quota, meter or ct count, whose result changes over time."""
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
        construct = {
            "limit": "rate limit",
            "quota": "quota",
            "meter": "meter",
            "ct": "connection count limit",
        }[word]
        self._occurrence_unknown(self.items[start : self.pos], construct)

    def _set_update(self) -> None:
        """Read ``add @set { key [stateful statement] }``, which may be a match."""
        start = self.pos
        self.pos += 2
        body = self._expect("a { } set element")
        inner = [item.text for item in body.children if item.kind == "word"]
        if "limit" in inner or "quota" in inner or "count" in inner:
            self._occurrence_unknown(
                self.items[start : self.pos], "limit in a set update"
            )

    def _occurrence_unknown(self, items: tuple[Item, ...], construct: str) -> None:
        """Add an unknown for a stateful construct; every use has its own state."""
        text = render(items)
        span = join_spans(items[0].span, items[-1].span)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        self.conditions.append(Unknown(text, span, key))
        self.notes.append(
            Diagnostic("SEG902", f"{construct} is not modelled ({text})", span)
        )

    def _unknown_rest(self) -> None:
        """Keep a statement seglint cannot read as one unknown, up to the verdict."""
        start = self.pos
        while self.pos < len(self.items):
            word = self._word()
            if word in VERDICT_WORDS or word == "vmap":
                break
            self.pos += 1
        items = self.items[start : self.pos]
        if not items:
            raise ParseError("expected a statement", self.items[start].span)
        span = join_spans(items[0].span, items[-1].span)
        text = render(items)
        if self._word() == "vmap":
            self._vmap([Selector((text,), span, "other")])
            return
        self.conditions.append(Unknown(text, span, text))
        self.notes.append(
            Diagnostic("SEG902", f"statement is not modelled ({text})", span)
        )

    # -- verdicts -------------------------------------------------------------------

    def _verdict(self) -> None:
        word = self._take().text
        if word in _SIMPLE_VERDICTS:
            self.action = _SIMPLE_VERDICTS[word]
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
            self._uncertain_verdicts(
                f"{kind} {render([target])}",
                target.span,
                "anonymous chain is not modelled",
            )
            return Action("next")
        name = unquote(target.text)
        if name not in self.table.chains:
            raise ParseError(f"{kind} to unknown chain ({name})", target.span)
        target_id = self.table.chain_id(name)
        if kind == "goto":
            return Action("goto", target=target_id)
        return Action("jump", target=target_id)

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
        items = self.items[start : self.pos]
        text = render(items)
        span = join_spans(items[0].span, items[-1].span)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        base = tuple(self.conditions)
        # A userspace program accepts or drops the packet.
        self.results = [
            ReadRule(base + (Unknown(text, span, key),), Action("accept")),
            ReadRule(base, Action("drop")),
        ]
        self.notes.append(
            Diagnostic(
                "SEG902",
                f"queue verdict is decided by a userspace program ({text})",
                span,
            )
        )

    def _uncertain_verdicts(self, text: str, span: Span, reason: str) -> None:
        """Make the rule accept, drop or go on, each under its own unknown."""
        base = tuple(self.conditions)
        key = f"{text} at {span.path}:{span.line}:{span.column}"
        self.results = [
            ReadRule(
                base + (Unknown(f"{text} ({kind})", span, f"{key} {kind}"),),
                _SIMPLE_VERDICTS[kind],
            )
            for kind in ("accept", "drop")
        ]
        self.notes.append(Diagnostic("SEG902", f"{reason} ({text})", span))

    def _map_verdict(self, data: tuple[Item, ...], span: Span) -> Action:
        words = [item.text for item in data]
        if len(words) == 1 and words[0] in _SIMPLE_VERDICTS:
            return _SIMPLE_VERDICTS[words[0]]
        if len(words) == 2 and words[0] in ("jump", "goto"):
            return self._jump(words[0], data[1])
        raise ParseError(
            f"invalid verdict in a verdict map ({render(data) or 'nothing'})",
            data[0].span if data else span,
        )

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
                    "expected a selector after '.' "
                    f"(found {item.text if item else 'nothing'})",
                    item.span if item else self.items[-1].span,
                )
            selectors.append(nxt)
        return selectors

    def _selector(self) -> Selector | None:
        words = selector_words(self.items, self.pos)
        if not words:
            return None
        start = self.pos
        self.pos += len(words)
        span = join_spans(self.items[start].span, self.items[self.pos - 1].span)
        return classify(tuple(words), span)

    def _after_selectors(self, selectors: list[Selector]) -> None:
        word = self._word()
        if word == "set":
            self._mangle()
            return
        if word == "vmap":
            self._vmap(selectors)
            return
        # A bitwise mask on the selector: tcp flags & (syn | ack) == syn.
        mask_start = self.pos
        while True:
            item = self._item()
            if item is None or not (
                (item.kind == "op" and item.text in BITWISE)
                or (item.kind == "word" and item.text in ("and", "or", "xor"))
            ):
                break
            self.pos += 1
            _, self.pos = read_value(self.items, self.pos)
        mask = render(self.items[mask_start : self.pos])
        if mask and self._word() == "vmap":
            words = (" . ".join(s.text for s in selectors), mask)
            self._vmap([Selector(words, selectors[0].span, "other")])
            return
        operator = self._operator()
        value, self.pos = read_value(self.items, self.pos)
        self._match(selectors, operator, value, mask)

    def _operator(self) -> str | None:
        item = self._item()
        if (
            item is None
            or item.kind not in ("op", "word")
            or item.text not in _OPERATORS
        ):
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
                self._implied(selectors, explicit_family=True)
                text = " ".join(s.text for s in selectors) + f" vmap {target.text}"
                self._uncertain_verdicts(
                    text, join_spans(selectors[0].span, target.span), exc.reason
                )
                return
        else:
            raise ParseError(
                f"expected a {{ }} verdict map or an @map (found {target.text})",
                target.span,
            )
        prefix = list(self.conditions)
        family = self.family
        results: list[ReadRule] = []
        selector_text = " . ".join(s.text for s in selectors)
        for element in elements:
            self.conditions = list(prefix)
            self.family = family
            self._match(selectors, None, element.key)
            action = self._map_verdict(element.data, element.span)
            label = f"{selector_text} {element.key.text} : {render(element.data)}"
            results.append(ReadRule(tuple(self.conditions), action, label))
        self.results = results
