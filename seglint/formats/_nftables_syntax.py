"""Syntax of the nftables format: the Lark parser, parse errors and rule items.

The grammar (``grammars/nftables.lark``) reads the structure of a file. A
rule stays a flat list of :class:`Item` for ``_nftables_rule`` to read: words,
strings, ``$variables``, ``@set`` references, operators and ``{ }`` /
``( )`` groups. Parse errors carry the line, the column and the
tokens the grammar expected there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from seglint.ir import ParseError, Span
from seglint.resources import grammar_text
from seglint.larkcache import build_parser

# --- grammar ------------------------------------------------------------------


@cache
def _parser() -> Lark:
    return build_parser(
        grammar_text("nftables"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        start=["start", "table_start", "chain_start"],
    )


_TERMINAL_NAMES = {
    "WORD": "a word",
    "STRING": "a quoted string",
    "VARIABLE": "a $variable",
    "SETREF": "an @set reference",
    "OP": "an operator",
    "_NL": "a newline",
    "$END": "end of file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    for terminal in _parser().terminals:
        if terminal.name == name and isinstance(terminal.pattern, PatternStr):
            return f"'{terminal.pattern.value}'"
    return name.lower()


def parse_tree(text: str, path: str, start: str = "start") -> Tree:
    """Parse one file; raise ParseError with the position and the expected tokens."""
    try:
        return _parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _parse_error(exc, text, path) from exc


def _parse_error(exc: UnexpectedInput, text: str, path: str) -> ParseError:
    expected: set[str] = set()
    width = 1
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
        token = exc.token
        if token.type == "$END":
            found, line, column = "end of file", _last_line(text), 1
        elif token.type == "_NL":
            found, line, column = "end of line", token.line or 1, token.column or 1
        else:
            found = f"'{token.value}'"
            line, column, width = token.line or 1, token.column or 1, len(token.value)
    elif isinstance(exc, UnexpectedCharacters):
        expected = set(exc.allowed or ())
        found = f"character '{exc.char}'"
        line, column = exc.line, exc.column
    else:
        # UnexpectedEOF, and any other kind a later Lark may add.
        expected = set(getattr(exc, "expected", None) or ())
        found, line, column = "end of file", _last_line(text), 1
    names = sorted({_describe_terminal(name) for name in expected})
    message = f"unexpected {found}"
    if names:
        message += f" (expected {', '.join(names)})"
    return ParseError(message, Span(path, line, column, line, column + width - 1))


def _last_line(text: str) -> int:
    return max(text.rstrip("\n").count("\n") + 1, 1)


# --- items ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """A word, string, operator or ``{ }`` / ``( )`` group of a rule.

    ``start`` and ``end`` are character offsets in the file of ``span``; an
    item that a ``$variable`` stands for keeps the place of its definition.
    """

    kind: str  # word, string, var, setref, op, comma, colon, brace, paren
    text: str
    span: Span
    children: tuple[Item, ...] = ()
    start: int = 0
    end: int = 0


_ITEM_KINDS = {
    "WORD": "word",
    "STRING": "string",
    "VARIABLE": "var",
    "SETREF": "setref",
    "OP": "op",
    "COMMA": "comma",
    "COLON": "colon",
}


def token_span(token: Token, path: str) -> Span:
    line = token.line or 1
    column = token.column or 1
    end_line = token.end_line or line
    end_column = (token.end_column or column + 1) - 1
    return Span(path, line, column, end_line, end_column)


def tree_span(tree: Tree, path: str) -> Span:
    meta = tree.meta
    if meta.empty:
        return Span(path, 1)
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column - 1)


def to_items(children: list[Token | Tree | None], path: str) -> tuple[Item, ...]:
    """Convert the children of a rule-like tree into items."""
    items: list[Item] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, Token):
            if child.type in _ITEM_KINDS:
                items.append(
                    Item(
                        _ITEM_KINDS[child.type],
                        str(child),
                        token_span(child, path),
                        start=child.start_pos or 0,
                        end=child.end_pos or 0,
                    )
                )
            continue
        if child.data in ("brace", "paren", "device_list"):
            kind = "paren" if child.data == "paren" else "brace"
            items.append(
                Item(
                    kind,
                    "(" if kind == "paren" else "{",
                    tree_span(child, path),
                    to_items(child.children, path),
                    start=child.meta.start_pos,
                    end=child.meta.end_pos,
                )
            )
    return tuple(items)


def render(items: tuple[Item, ...] | list[Item]) -> str:
    """Return items as normalised text: ``ip saddr { 10.0.0.0/8, 192.0.2.1 }``."""
    parts: list[str] = []
    for item in items:
        if item.kind == "comma" and parts:
            parts[-1] += ","
        elif item.kind == "brace":
            inner = render(item.children)
            parts.append("{ " + inner + " }" if inner else "{ }")
        elif item.kind == "paren":
            parts.append("(" + render(item.children) + ")")
        else:
            parts.append(item.text)
    return " ".join(parts)


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def split_commas(items: tuple[Item, ...]) -> list[tuple[Item, ...]]:
    """Split the items of a brace at its commas; empty pieces are dropped."""
    pieces: list[tuple[Item, ...]] = []
    current: list[Item] = []
    for item in items:
        if item.kind == "comma":
            if current:
                pieces.append(tuple(current))
            current = []
        else:
            current.append(item)
    if current:
        pieces.append(tuple(current))
    return pieces


def normalise_text(raw: str) -> str:
    """Return rule text without comments, line continuations and extra blanks."""
    out: list[str] = []
    quoted = False
    skipping = False
    for char in raw:
        if skipping:
            if char == "\n":
                skipping = False
                out.append(" ")
            continue
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            skipping = True
            continue
        out.append(char)
    text = "".join(out).replace("\\\n", " ")
    return " ".join(text.split())
