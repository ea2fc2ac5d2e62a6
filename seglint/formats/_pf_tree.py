"""Parse the pre-processed text of a pf.conf with grammars/pf.lark into statements.

The transformer turns the parse tree into the dataclasses of
:mod:`seglint.formats._pf_model`, with spans in the original files, and
checks what pfctl checks about a rule's meaning: a port needs tcp, udp or
sctp, icmp-type needs icmp and an address family.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    VisitError,
)
from lark.lexer import PatternStr

from seglint.formats._pf_model import (
    Antispoof,
    BlockPolicy,
    Host,
    HostKind,
    IcmpType,
    Ignored,
    Include,
    Interface,
    LoadAnchor,
    PfRule,
    Port,
    SetSkip,
    Statement,
    TableDef,
    TableEntry,
    Word,
)
from seglint.formats._pf_prepass import Expanded
from seglint.ir import ParseError, Span
from seglint.resources import grammar_text
from seglint.larkcache import build_parser

logger = logging.getLogger(__name__)

# Shown instead of the pattern of a regular-expression terminal.
_TERMINAL_NAMES = {
    "WORD": "a name or address",
    "STRING": "a quoted string",
    "PUNCT": "an operator",
    "_NL": "end of line",
    "PORT_UNARY": "a port operator",
    "PORT_BINARY": "'><' or '<>'",
}
_MAX_EXPECTED_SHOWN = 12
# Inline anchors nested deeper than this are rejected before the recursive
# transformer runs out of stack. Real rule sets nest a few levels.
MAX_ANCHOR_DEPTH = 32


@cache
def parser() -> Lark:
    """Return the pf parser, built once per process."""
    return build_parser(
        grammar_text("pf"), parser="lalr", lexer="contextual", propagate_positions=True
    )


def parse_statements(expanded: Expanded) -> list[Statement]:
    """Parse the expanded text into statements; raise ParseError with a position."""
    try:
        tree = parser().parse(expanded.text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, expanded) from None
    _check_depth(tree, expanded)
    try:
        return _Statements(expanded).transform(tree)  # type: ignore[no-any-return]
    except VisitError as exc:
        if isinstance(exc.orig_exc, ParseError):
            raise exc.orig_exc from None
        raise


def _check_depth(tree: Tree, expanded: Expanded) -> None:  # type: ignore[type-arg]
    """Raise ParseError at the first inline anchor nested deeper than MAX_ANCHOR_DEPTH."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]  # type: ignore[type-arg]
    while stack:
        node, depth = stack.pop()
        if node.data == "anchor_block":
            depth += 1
            if depth > MAX_ANCHOR_DEPTH:
                raise ParseError(
                    f"anchors are nested too deeply (more than {MAX_ANCHOR_DEPTH})",
                    expanded.span(node.meta.start_pos))
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


def _syntax_error(exc: UnexpectedInput, expanded: Expanded) -> ParseError:
    offset: int
    expected: set[str]
    if isinstance(exc, UnexpectedEOF):
        offset = len(expanded.text) - 1
        found = "end of file"
        expected = set(exc.expected)
    elif isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        found = repr(expanded.text[offset])
        expected = set(exc.allowed or ())
    else:
        token = exc.token  # type: ignore[attr-defined]
        offset = token.start_pos if token.start_pos is not None else 0
        if token.type == "$END":
            offset, found = len(expanded.text) - 1, "end of file"
        else:
            found = "end of line" if token.type == "_NL" else repr(str(token))
        expected = set(exc.expected)  # type: ignore[attr-defined]
    names = sorted({_describe_terminal(name) for name in expected})
    listed = ", ".join(names[:_MAX_EXPECTED_SHOWN])
    if len(names) > _MAX_EXPECTED_SHOWN:
        listed += f", ... ({len(names) - _MAX_EXPECTED_SHOWN} more)"
    return ParseError(f"unexpected {found} (expected {listed})", expanded.span(offset))


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    return name.lower()


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        quote = text[0]
        return text[1:-1].replace("\\" + quote, quote)
    return text


def _tagged(items: list[Any], tag: str) -> list[tuple[Any, ...]]:
    return [
        item for item in items if isinstance(item, tuple) and item and item[0] == tag
    ]


@v_args(meta=True)
class _Statements(Transformer):  # type: ignore[type-arg]
    """Build the statements; every method gets the rule's meta and its children."""

    def __init__(self, expanded: Expanded) -> None:
        super().__init__()
        self.expanded = expanded

    # --- helpers -----------------------------------------------------------------

    def _span(self, meta: Any) -> Span:
        return self.expanded.span(meta.start_pos, meta.end_pos)

    def _text(self, meta: Any) -> str:
        return " ".join(self.expanded.original(meta.start_pos, meta.end_pos).split())

    def _word(self, token: Token) -> Word:
        span = self.expanded.span(token.start_pos or 0, token.end_pos)
        return Word(_unquote(str(token)), span)

    def _option(self, meta: Any) -> Word:
        """Return an option with its macros expanded, for messages and unknown keys."""
        expanded = " ".join(self.expanded.text[meta.start_pos : meta.end_pos].split())
        return Word(expanded, self._span(meta))

    # --- file --------------------------------------------------------------------

    def start(self, meta: Any, items: list[Any]) -> list[Statement]:
        return [item for item in items if item is not None]

    # --- filter rules --------------------------------------------------------------

    def filter_rule(self, meta: Any, items: list[Any]) -> PfRule:
        action, mode = items[0]
        rule = PfRule(
            "filter", self._span(meta), self._text(meta), action=action, block_mode=mode
        )
        self._apply_items(rule, items[1:])
        return rule

    def action(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        if items[0].type == "PASS":
            return "pass", ""
        return "block", items[1] or ""

    def block_mode(self, meta: Any, items: list[Any]) -> str:
        return "drop" if items[0].type == "DROP" else "return"

    def _apply_items(self, rule: PfRule, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, Token):
                if item.type in ("IN", "OUT"):
                    rule.direction = item.type.lower()
                elif item.type == "QUICK":
                    rule.quick = True
                elif item.type in ("INET", "INET6"):
                    rule.family = 4 if item.type == "INET" else 6
                continue
            if not isinstance(item, tuple):
                continue
            tag = item[0]
            if tag == "interfaces":
                rule.interfaces = item[1]
            elif tag == "protocols":
                rule.protocols = item[1]
            elif tag == "from":
                rule.sources, rule.source_ports = item[1], item[2]
            elif tag == "to":
                rule.destinations, rule.destination_ports = item[1], item[2]
            elif tag == "flags":
                rule.flags = item[1]
            elif tag == "icmp":
                rule.icmp = (rule.icmp or ()) + item[1]
            elif tag == "state":
                rule.state = item[1]
            elif tag == "unknown":
                rule.unknowns.append(item[1])
            elif tag == "note":
                rule.notes.append(item[1])

    def log(self, meta: Any, items: list[Any]) -> tuple[str]:
        return ("log",)

    def on_iface(
        self, meta: Any, items: list[Any]
    ) -> tuple[str, tuple[Interface, ...]]:
        return "interfaces", items[0]

    def iface_list(self, meta: Any, items: list[Any]) -> tuple[Interface, ...]:
        interfaces = tuple(item for item in items if isinstance(item, Interface))
        if not interfaces:
            raise ParseError("empty interface list", self._span(meta))
        return interfaces

    def iface_item(self, meta: Any, items: list[Any]) -> Interface:
        negated, token = items[0] is not None, items[1]
        return Interface(_unquote(str(token)), self._span(meta), negated)

    def dynamic_iface(self, meta: Any, items: list[Any]) -> Interface:
        return Interface(str(items[1]), self._span(meta), items[0] is not None, True)

    def name(self, meta: Any, items: list[Any]) -> Word:
        return self._word(items[0])

    def proto_spec(self, meta: Any, items: list[Any]) -> tuple[str, tuple[Word, ...]]:
        protocols = tuple(self._word(item) for item in items if isinstance(item, Token))
        if not protocols:
            raise ParseError("empty protocol list", self._span(meta))
        return "protocols", protocols

    def from_spec(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return self._peer("from", items)

    def to_spec(self, meta: Any, items: list[Any]) -> tuple[Any, ...]:
        return self._peer("to", items)

    def _peer(self, tag: str, items: list[Any]) -> tuple[Any, ...]:
        hosts = next((item for item in items if isinstance(item, Host)), None)
        ports = next((item for item in items if isinstance(item, list)), None)
        return tag, hosts, tuple(ports) if ports is not None else None

    def os_spec(self, meta: Any, items: list[Any]) -> tuple[str, Word]:
        return "unknown", self._option(meta)

    # --- addresses ---------------------------------------------------------------

    def host_list(self, meta: Any, items: list[Any]) -> Host:
        members = tuple(item for item in items if isinstance(item, Host))
        if not members:
            raise ParseError("empty address list", self._span(meta))
        return Host("list", self._text(meta), self._span(meta), items=members)

    def host(self, meta: Any, items: list[Any]) -> Host:
        atom: Host = items[1]
        if items[0] is None:
            return atom
        return Host(
            atom.kind,
            atom.text,
            self._span(meta),
            True,
            atom.value,
            atom.last,
            atom.items,
        )

    def _atom(self, kind: HostKind, meta: Any, value: str = "", last: str = "") -> Host:
        return Host(
            kind,
            self._text(meta),
            self._span(meta),
            False,
            value,
            last,
        )

    def any_host(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("any", meta)

    def self_host(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("self", meta)

    def no_route(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("no-route", meta)

    def urpf_failed(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("urpf-failed", meta)

    def address(self, meta: Any, items: list[Any]) -> Host:
        value = _unquote(str(items[0]))
        if value == "self":
            return self._atom("self", meta)
        return self._atom("address", meta, value)

    def address_range(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("range", meta, str(items[0]), str(items[1]))

    def table_ref(self, meta: Any, items: list[Any]) -> Host:
        return self._atom("table", meta, str(items[0]))

    def dynamic_address(self, meta: Any, items: list[Any]) -> Host:
        return Host("dynamic", f"({items[0]})", self._span(meta), value=str(items[0]))

    # --- ports -----------------------------------------------------------------

    def ports(self, meta: Any, items: list[Any]) -> list[Port]:
        found = [item for item in items if isinstance(item, Port)]
        if not found:
            raise ParseError("empty port list", self._span(meta))
        return found

    def port_equal(self, meta: Any, items: list[Any]) -> Port:
        return Port("=", _unquote(str(items[0])), "", self._span(meta))

    def port_unary(self, meta: Any, items: list[Any]) -> Port:
        return Port(str(items[0]), _unquote(str(items[1])), "", self._span(meta))

    def port_binary(self, meta: Any, items: list[Any]) -> Port:
        first, second = _unquote(str(items[0])), _unquote(str(items[2]))
        return Port(str(items[1]), first, second, self._span(meta))

    # --- filter options ------------------------------------------------------------

    def user_opt(self, meta: Any, items: list[Any]) -> tuple[str, Word]:
        return "unknown", self._option(meta)

    group_opt = user_opt
    tagged_opt = user_opt
    condition_opt = user_opt

    def flags_opt(self, meta: Any, items: list[Any]) -> tuple[str, Word]:
        return "flags", self._word(items[0])

    def icmp_opt(self, meta: Any, items: list[Any]) -> tuple[str, tuple[IcmpType, ...]]:
        keyword = str(items[0])
        found = tuple(
            IcmpType(keyword, kind, code, span)
            for kind, code, span in (i for i in items[1:] if isinstance(i, tuple))
        )
        return "icmp", found

    def icmp_item(self, meta: Any, items: list[Any]) -> tuple[str, str | None, Any]:
        code = str(items[1]) if items[1] is not None else None
        return str(items[0]), code, self._span(meta)

    def state_opt(self, meta: Any, items: list[Any]) -> tuple[str, str]:
        return "state", str(items[0]).lower()

    def label_opt(self, meta: Any, items: list[Any]) -> None:
        return None

    tag_opt = label_opt
    queue_opt = label_opt
    plain_opt = label_opt
    set_opt = label_opt
    pool_opt = label_opt
    route_hosts = label_opt
    route_host = label_opt
    paren_words = label_opt

    def divert_opt(self, meta: Any, items: list[Any]) -> tuple[str, Word]:
        return "note", self._option(meta)

    redirect_opt = divert_opt
    route_opt = divert_opt

    # --- tables ----------------------------------------------------------------

    def table_def(self, meta: Any, items: list[Any]) -> TableDef:
        flags = {str(item) for item in items[1:] if isinstance(item, Token)}
        entries = tuple(
            entry for item in items if isinstance(item, list) for entry in item
        )
        files = tuple(item for item in items if isinstance(item, Word))
        return TableDef(
            str(items[0]),
            self._span(meta),
            self._text(meta),
            "const" in flags,
            "persist" in flags,
            entries,
            files,
        )

    def table_file(self, meta: Any, items: list[Any]) -> Word:
        return items[0]  # type: ignore[no-any-return]

    def table_entries(self, meta: Any, items: list[Any]) -> list[TableEntry]:
        return [item for item in items if isinstance(item, TableEntry)]

    def table_entry(self, meta: Any, items: list[Any]) -> TableEntry:
        token = items[1]
        negated = items[0] is not None
        value = _unquote(str(token))
        kind = "self" if token.type == "SELF" or value == "self" else "address"
        return TableEntry(kind, value, self._span(meta), negated)  # type: ignore[arg-type]

    def table_range(self, meta: Any, items: list[Any]) -> TableEntry:
        return TableEntry(
            "range",
            str(items[1]),
            self._span(meta),
            items[0] is not None,
            str(items[2]),
        )

    def table_dynamic(self, meta: Any, items: list[Any]) -> TableEntry:
        return TableEntry(
            "dynamic", str(items[1]), self._span(meta), items[0] is not None
        )

    # --- options -----------------------------------------------------------------

    def set_skip(self, meta: Any, items: list[Any]) -> SetSkip:
        return SetSkip(items[0], self._span(meta), self._text(meta))

    def set_block_policy(self, meta: Any, items: list[Any]) -> BlockPolicy:
        return BlockPolicy(str(items[0]), self._span(meta))

    def set_other(self, meta: Any, items: list[Any]) -> None:
        return None

    # --- anchors -------------------------------------------------------------------

    def anchor_rule(self, meta: Any, items: list[Any]) -> PfRule:
        name = items[1].text if isinstance(items[1], Word) else ""
        block = _tagged(items, "anchor-block")
        end = meta.end_pos
        body: tuple[Statement, ...] | None = None
        if block:
            # The rule's text and span stop at the brace that opens the block.
            _, end, body = block[0]
        text = " ".join(self.expanded.original(meta.start_pos, end).split())
        span = self.expanded.span(meta.start_pos, end)
        rule = PfRule("anchor", span, text, anchor=name, body=body)
        self._apply_items(rule, items[2:])
        return rule

    def anchor_block(
        self, meta: Any, items: list[Any]
    ) -> tuple[str, int, tuple[Any, ...]]:
        return (
            "anchor-block",
            meta.start_pos,
            tuple(item for item in items if item is not None),
        )

    def load_anchor(self, meta: Any, items: list[Any]) -> LoadAnchor:
        return LoadAnchor(items[1].text, items[3], self._span(meta))

    def include(self, meta: Any, items: list[Any]) -> Include:
        return Include(items[0], self._span(meta))

    # --- antispoof -------------------------------------------------------------------

    def antispoof(self, meta: Any, items: list[Any]) -> Antispoof:
        interfaces = next(item for item in items if isinstance(item, list))
        tokens = {item.type for item in items if isinstance(item, Token)}
        family = 4 if "INET" in tokens else 6 if "INET6" in tokens else None
        unknowns = tuple(item[1] for item in _tagged(items, "unknown"))
        return Antispoof(
            tuple(interfaces),
            "QUICK" in tokens,
            family,
            self._span(meta),
            self._text(meta),
            unknowns,
        )

    def antispoof_ifaces(self, meta: Any, items: list[Any]) -> list[Interface]:
        return [item for item in items if isinstance(item, Interface)]

    def antispoof_if(self, meta: Any, items: list[Any]) -> Interface:
        return Interface(items[0].text, self._span(meta))

    def antispoof_dynamic(self, meta: Any, items: list[Any]) -> Interface:
        return Interface(str(items[0]), self._span(meta), dynamic=True)

    # --- statements that do not filter ---------------------------------------------

    def translation(self, meta: Any, items: list[Any]) -> PfRule:
        negated = items[0] is not None
        keyword = str(items[1]).lower()
        rule = PfRule(
            "translation",
            self._span(meta),
            self._text(meta),
            translation=keyword,
            translation_pass=items[2] is not None,
            translation_negated=negated,
        )
        self._apply_items(rule, items[3:])
        return rule

    def ignored(self, meta: Any, items: list[Any]) -> Ignored:
        keywords = [str(item).lower() for item in items[:2] if isinstance(item, Token)]
        keyword = " ".join(keywords[:2]) if keywords[:1] == ["no"] else keywords[0]
        return Ignored(keyword, self._span(meta), self._text(meta))
