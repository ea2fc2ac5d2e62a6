"""Lines, command blocks and per-line Lark parsing shared by the ASA and IOS formats.

A Cisco configuration is a list of top-level commands, some followed by
indented sub-commands (``interface``, ``object-group``, ``ip access-list``).
The formats read only the commands that matter: this module cuts the text
into :class:`Command` blocks, and each format parses the lines it needs with
the start rule of their kind, so an unrelated command never reaches a
grammar. Lines keep their indentation, so Lark's columns are file columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from lark import Lark, Token, Tree
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.lexer import PatternStr

from seglint.ir import ParseError, Span
from seglint.resources import grammar_text
from seglint.larkcache import build_parser

logger = logging.getLogger(__name__)

# Readable names of the regular-expression terminals of cisco_common.lark.
TERMINAL_NAMES = {
    "IPV4": "IPv4 address",
    "IPV6": "IPv6 address",
    "IPV6_PREFIX": "IPv6 prefix",
    "PREFIX_LENGTH": "prefix length (/N)",
    "INT": "number",
    "NAME": "name",
    "REST": "text",
    "TCP_FLAG": "tcp flag (+syn, -ack, ...)",
    "$END": "end of line",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the file, without its line break."""

    number: int
    text: str

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def indented(self) -> bool:
        return self.text[:1] in (" ", "\t")

    @property
    def normalized(self) -> str:
        return " ".join(self.text.split())

    def span(self, path: str) -> Span:
        """Return the span of the line's text, leading and trailing blanks left out."""
        start = len(self.text) - len(self.text.lstrip()) + 1
        end = len(self.text.rstrip())
        return Span(path, self.number, start, self.number, max(end, start))

    def token_span(self, path: str, token: Token) -> Span:
        return Span(
            path,
            self.number,
            token.column or 1,
            self.number,
            max((token.end_column or 2) - 1, token.column or 1),
        )

    def tree_span(self, path: str, tree: Tree[Token]) -> Span:
        meta = tree.meta
        if getattr(meta, "empty", True):
            return self.span(path)
        return Span(
            path,
            self.number,
            meta.column,
            self.number,
            max(meta.end_column - 1, meta.column),
        )

    def tree_text(self, tree: Tree[Token]) -> str:
        meta = tree.meta
        if getattr(meta, "empty", True):
            return self.normalized
        return " ".join(self.text[meta.column - 1 : meta.end_column - 1].split())

    def blank_first_word(self) -> Line:
        """Return the line with its first word replaced by blanks (columns kept).

        ``no access-list ...`` is parsed with the rule of ``access-list ...``
        this way, and its tokens keep their columns.
        """
        stripped = self.text.lstrip()
        start = len(self.text) - len(stripped)
        word = stripped.split(maxsplit=1)[0]
        return Line(
            self.number, self.text[:start] + " " * len(word) + stripped[len(word) :]
        )


@dataclass
class Command:
    """A top-level command and the sub-command lines that belong to it."""

    line: Line
    body: list[Line] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return self.line.words


def is_comment(line: Line) -> bool:
    stripped = line.text.lstrip()
    return not stripped or stripped[0] in "!:#"


def split_commands(
    text: str, continues: Callable[[Command, Line], bool], *, banners: bool = False
) -> list[Command]:
    """Cut a configuration into top-level commands with their sub-command lines.

    An indented line belongs to the command above it. An unindented line
    does too when ``continues`` returns True for it, because hand-written and
    generated configurations (Margrave, Firewall Builder) do not always
    indent sub-commands. ``exit`` ends a block. Comment lines (``!``, ``:``,
    ``#``) are skipped without ending one, because generators put comments
    inside access-list blocks. With ``banners`` (IOS), the text of a
    multi-line ``banner`` is skipped up to its closing delimiter.
    """
    commands: list[Command] = []
    current: Command | None = None
    banner_end: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = Line(number, raw.rstrip("\r"))
        if banner_end is not None:
            if banner_end in line.text:
                banner_end = None
            continue
        if is_comment(line):
            continue
        words = line.words
        if line.indented:
            if current is not None:
                current.body.append(line)
            continue
        if words == ["exit"]:
            current = None
            continue
        if current is not None and continues(current, line):
            current.body.append(line)
            continue
        if banners:
            banner_end = _banner_delimiter(line)
        current = Command(line)
        commands.append(current)
    return commands


def _banner_delimiter(line: Line) -> str | None:
    """Return the delimiter that ends a multi-line IOS banner started on this line.

    IOS shows the delimiter Ctrl-C as ``^C``, and a typed delimiter is one
    character that is not a letter or digit. None means that no text follows.
    """
    words = line.words
    if len(words) < 3 or words[0] != "banner":
        return None
    rest = line.text.split(None, 2)[2]
    if rest.startswith("^C"):
        delimiter = "^C"
    elif not rest[0].isalnum():
        delimiter = rest[0]
    else:
        return None
    if delimiter in rest[len(delimiter) :]:
        return None
    return delimiter


# --- Lark -----------------------------------------------------------------------------


@cache
def line_parser(grammar_id: str, starts: tuple[str, ...]) -> Lark:
    """Build the LALR parser of ``grammars/<grammar_id>.lark`` once per process."""
    text = grammar_text("cisco_common") + "\n" + grammar_text(grammar_id)
    return build_parser(
        text,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        start=list(starts),
        maybe_placeholders=False,
    )


def parse_line(
    parser: Lark, line: Line, start: str, path: str, what: str
) -> Tree[Token]:
    """Parse one line with ``start``, or raise ParseError with the expected tokens."""
    try:
        return parser.parse(line.text, start=start)
    except UnexpectedInput as exc:
        raise _line_error(parser, exc, line, path, what) from None


def _line_error(
    parser: Lark, exc: UnexpectedInput, line: Line, path: str, what: str
) -> ParseError:
    literals = {
        t.name: t.pattern.value
        for t in parser.terminals
        if isinstance(t.pattern, PatternStr)
    }

    def show(name: str) -> str:
        if name in literals:
            return repr(literals[name])
        return TERMINAL_NAMES.get(name, name.lower())

    column = getattr(exc, "column", None)
    expected: set[str] = set()
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        found = f"unexpected {str(exc.token)!r}"
        expected = set(exc.accepts or exc.expected)
    elif isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        found = "unexpected end of line"
        expected = set(getattr(exc, "accepts", None) or exc.expected)
        column = len(line.text.rstrip()) + 1
    elif isinstance(exc, UnexpectedCharacters):
        found = f"unexpected {line.text[exc.column - 1 :].split()[0]!r}"
        expected = set(exc.allowed or ())
    else:  # pragma: no cover - Lark raises only the three kinds above
        found = "invalid input"
    choices = sorted({show(name) for name in expected if name != "WS_INLINE"})
    message = f"invalid {what} ({found})"
    if choices:
        message += f"; expected one of: {', '.join(choices)}"
    if not isinstance(column, int) or column < 1:
        column = 1
    return ParseError(message, Span(path, line.number, column, line.number, column))


def tokens(tree: Tree[Token]) -> list[Token]:
    """Return the tokens that are direct children of ``tree``."""
    return [child for child in tree.children if isinstance(child, Token)]


def subtrees(tree: Tree[Token]) -> list[Tree[Token]]:
    return [child for child in tree.children if isinstance(child, Tree)]
