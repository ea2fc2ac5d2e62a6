"""HCL parsing for the Terraform format: pyhcl2's grammar and AST, with fixes around it.

pyhcl2 2.0.1 is used for what it does well (its Lark grammar and its AST
nodes) and this module adds what a linter needs on top:

* one Lark parser per process, built from pyhcl2's own ``hcl2.lark``
  (pyhcl2's ``parse_module`` rebuilds it on every call);
* line and column spans from pyhcl2's character offsets, with a block's end
  at its closing brace (pyhcl2's block spans run on over the newlines and
  comments that follow the brace);
* a pre-pass over the text that finds heredocs with HCL's rules: the closing
  line holds only the delimiter, optionally indented. It replaces each
  heredoc by a blank string literal of the same length, so offsets and line
  numbers stay the same. pyhcl2's own heredoc pattern ends a heredoc at the
  first delimiter that starts a line, even as a prefix of a longer word. It
  also needs a non-empty body and keeps the tabs that ``<<-`` must strip.
  An unterminated heredoc, string or comment is a :class:`ParseError` at
  its opening line.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files as package_files


from lark import (
    Lark,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from lark.exceptions import VisitError
from pyagnostics.spans import SourceId, SourceSpan
from pyhcl2.nodes import Block, Expression, Module, Node, Stmt
from pyhcl2.transformer import ToAstTransformer

from seglint.ir import ParseError, Span
from seglint.larkcache import build_parser

logger = logging.getLogger(__name__)

# Names for the anonymous regex terminals of pyhcl2's grammar, used in the
# "expected one of" part of syntax errors.
_TERMINAL_NAMES = {
    "\n": "newline",
    "#.*\n": "comment",
    "\\/\\/.*\n": "comment",
    "[a-zA-Z_]([a-zA-Z0-9_-]|::)*": "identifier",
    "[0-9]": "number",
    "\\|\\|": '"||"',
    "\\&\\&": '"&&"',
    "==": '"=="',
    "!=": '"!="',
    "<=": '"<="',
    ">=": '">="',
    "\\.\\.\\.": '"..."',
    "\\.\\*": '".*"',
    "\\[\\*\\]": '"[*]"',
    "=>": '"=>"',
}

_HEREDOC_START = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_CODE_SPECIAL = re.compile(r'["#/<{}]')
_STRING_SPECIAL = re.compile(r'["\\$%]')


_PARSER_OPTIONS: dict[str, object] = {
    "parser": "lalr",
    "lexer": "contextual",
    "start": ["start", "start_expr"],
    "propagate_positions": True,
}


@cache
def hcl_parser() -> Lark:
    """Return the process-wide Lark parser for pyhcl2's grammar.

    Building the LALR tables takes about a second; ``seglint.larkcache``
    keeps them as JSON (never a pickle) in the user's private cache
    directory, so later processes load them instead.
    """
    grammar = (package_files("pyhcl2") / "hcl2.lark").read_text(encoding="utf-8")
    return build_parser(grammar, **_PARSER_OPTIONS)  # type: ignore[arg-type]


# --- positions ------------------------------------------------------------------------


class LineIndex:
    """Converts character offsets of one text to 1-based lines and columns."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        self.starts.extend(m.end() for m in re.finditer("\n", text))
        self.length = len(text)

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def span(self, path: str, start: int, end: int) -> Span:
        """Return the span of the characters ``start`` to ``end`` (exclusive)."""
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end - 1))
        return Span(path, line, column, end_line, end_column)


# --- pre-pass -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A heredoc found by the pre-pass; offsets are into the original text."""

    start: int  # offset of "<<"
    end: int  # offset just after the closing delimiter
    body_start: int
    body_end: int  # offset just after the body's last newline
    trim: bool  # "<<-": strip the common leading whitespace


@dataclass
class Scan:
    """The pre-pass result: the text for Lark, the heredocs and the comment ranges."""

    prepared: str
    heredocs: dict[int, Heredoc] = field(default_factory=dict)
    comments: list[tuple[int, int]] = field(default_factory=list)


class _Scanner:
    """Walks HCL text keeping track of strings, interpolations and comments."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.scan = Scan(prepared="")
        self.pieces: list[str] = []
        self.copied = 0

    def error(self, message: str, offset: int) -> ParseError:
        index = LineIndex(self.text)
        return ParseError(message, index.span(self.path, offset, offset + 1))

    def run(self) -> Scan:
        end = self.code(0, interpolation=False)
        assert end == len(self.text)
        self.pieces.append(self.text[self.copied :])
        self.scan.prepared = "".join(self.pieces)
        return self.scan

    def code(self, pos: int, interpolation: bool) -> int:
        """Skip code from ``pos``; inside an interpolation, return at its ``}``."""
        text = self.text
        depth = 0
        while True:
            match = _CODE_SPECIAL.search(text, pos)
            if match is None:
                return len(text)
            pos = match.start()
            char = text[pos]
            if char == '"':
                pos = self.string(pos)
            elif char == "#":
                pos = self.line_comment(pos)
            elif char == "/" and text.startswith("//", pos):
                pos = self.line_comment(pos)
            elif char == "/" and text.startswith("/*", pos):
                close = text.find("*/", pos + 2)
                if close < 0:
                    raise self.error("comment is not closed (no */ after /*)", pos)
                self.scan.comments.append((pos, close + 2))
                pos = close + 2
            elif char == "<" and text.startswith("<<", pos):
                pos = self.heredoc(pos)
            elif char == "{":
                depth += 1
                pos += 1
            elif char == "}":
                if depth == 0 and interpolation:
                    return pos
                depth = max(depth - 1, 0)
                pos += 1
            else:
                pos += 1

    def line_comment(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        end = len(self.text) if end < 0 else end
        self.scan.comments.append((pos, end))
        return end

    def string(self, start: int) -> int:
        """Skip the quoted string starting at ``start``; return the offset after it."""
        text = self.text
        pos = start + 1
        while True:
            match = _STRING_SPECIAL.search(text, pos)
            newline = text.find("\n", pos)
            if match is None or (0 <= newline < match.start()):
                raise self.error("string is not closed (missing closing quote)", start)
            pos = match.start()
            char = text[pos]
            if char == '"':
                return pos + 1
            if char == "\\":
                pos += 2
            elif text.startswith(("$${", "%%{"), pos):
                pos += 3
            elif text.startswith(("${", "%{"), pos):
                end = self.code(pos + 2, interpolation=True)
                if end >= len(text):
                    raise self.error(
                        "template interpolation is not closed (missing })", pos
                    )
                pos = end + 1
            else:
                pos += 1

    def heredoc(self, start: int) -> int:
        text = self.text
        match = _HEREDOC_START.match(text, start)
        if match is None:
            return start + 2
        trim, name = match.group(1) == "-", match.group(2)
        body_start = match.end()
        pos = body_start
        while pos < len(text):
            newline = text.find("\n", pos)
            line_end = len(text) if newline < 0 else newline
            if text[pos:line_end].strip(" \t\r") == name:
                end = text.index(name, pos) + len(name)
                self.scan.heredocs[start] = Heredoc(start, end, body_start, pos, trim)
                self.blank(start, end)
                return end
            pos = line_end + 1
        raise self.error(
            f"heredoc is not closed (no line with only {name} after <<{name})", start
        )

    def blank(self, start: int, end: int) -> None:
        """Replace ``text[start:end]`` by a blank string literal of the same length."""
        middle = "".join(
            "\n" if char == "\n" else " " for char in self.text[start + 1 : end - 1]
        )
        self.pieces.append(self.text[self.copied : start])
        self.pieces.append(f'"{middle}"')
        self.copied = end


def prepass(text: str, path: str) -> Scan:
    """Find heredocs and comments; raise ParseError for unclosed ones."""
    return _Scanner(text, path).run()


def heredoc_body(text: str, heredoc: Heredoc) -> tuple[str, int]:
    """Return a heredoc's template text and the indentation that ``<<-`` removes.

    HCL removes the smallest indentation of the non-blank lines, counting a
    space or a tab as one column each.
    """
    body = text[heredoc.body_start : heredoc.body_end]
    if not heredoc.trim:
        return body, 0
    indents = [
        len(line) - len(line.lstrip(" \t"))
        for line in body.split("\n")
        if line.strip(" \t\r")
    ]
    return body, min(indents, default=0)


def matching_brace(text: str, start: int) -> int:
    """Return the offset of the ``}`` that closes an interpolation at ``start``."""
    scanner = _Scanner(text, "")
    return scanner.code(start, interpolation=True)


# --- parsed files ---------------------------------------------------------------------


@dataclass
class HclFile:
    """One parsed HCL file: its text, pyhcl2 AST and position helpers."""

    path: str  # display path, as in findings
    text: str
    module: Module
    index: LineIndex
    heredocs: dict[int, Heredoc]
    comments: list[tuple[int, int]]
    _comment_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._comment_starts = [start for start, _ in self.comments]

    def span(self, node: Node, base: int = 0) -> Span:
        start, end = node.span.start + base, node.span.end + base
        if isinstance(node, Block):
            end = self.block_end(start, end)
        return self.index.span(self.path, start, end)

    def offsets_span(self, start: int, end: int) -> Span:
        return self.index.span(self.path, start, end)

    def source(self, node: Node, base: int = 0) -> str:
        start, end = node.span.start + base, node.span.end + base
        if isinstance(node, Block):
            end = self.block_end(start, end)
        return self.text[start:end]

    def in_comment(self, offset: int) -> bool:
        position = bisect.bisect_right(self._comment_starts, offset) - 1
        return position >= 0 and offset < self.comments[position][1]

    def block_end(self, start: int, end: int) -> int:
        """Return the offset after a block's closing brace.

        pyhcl2's block span includes the newlines and comments after the brace;
        the closing brace is the last ``}`` of that span outside a comment.
        """
        pos = end
        while pos > start:
            pos = self.text.rfind("}", start, pos)
            if pos < 0:
                break
            if not self.in_comment(pos):
                return pos + 1
        return end

    def directives_above(self, line: int) -> dict[str, str]:
        """Return the ``# seglint: key=value`` pairs in the comments above ``line``."""
        found: dict[str, str] = {}
        number = line - 1
        while number >= 1:
            start = self.index.starts[number - 1]
            end = self.text.find("\n", start)
            content = self.text[start : len(self.text) if end < 0 else end].strip()
            if not content.startswith(("#", "//")):
                break
            match = _DIRECTIVE.match(content)
            if match:
                for key, value in _DIRECTIVE_PAIR.findall(match.group(1)):
                    if key != "disable":
                        found.setdefault(key, value.strip('"'))
            number -= 1
        return found


_DIRECTIVE = re.compile(r"^(?:#|//)\s*seglint:\s*(.*)$")
_DIRECTIVE_PAIR = re.compile(r'([A-Za-z][\w-]*)=("[^"]*"|\S+)')


def _describe_expected(parser: Lark, names: set[str] | frozenset[str]) -> str:
    shown: set[str] = set()
    for name in names:
        try:
            pattern = parser.get_terminal(name).pattern
        except KeyError:
            shown.add(name.lower())
            continue
        value = pattern.value
        if value in _TERMINAL_NAMES:
            shown.add(_TERMINAL_NAMES[value])
        elif pattern.type == "str":
            shown.add(f'"{value}"')
        elif name.startswith("__"):
            continue
        else:
            shown.add(name.lower().replace("_lit", ""))
    return ", ".join(sorted(shown))


def _syntax_error(
    exc: UnexpectedInput, index: LineIndex, path: str, text: str
) -> ParseError:
    parser = hcl_parser()
    if isinstance(exc, UnexpectedToken):
        offset = exc.token.start_pos if exc.token.start_pos is not None else len(text)
        found = "end of file" if exc.token.type == "$END" else repr(str(exc.token))
        expected = _describe_expected(parser, exc.accepts or exc.expected)
    elif isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        found = repr(text[offset : offset + 1])
        expected = _describe_expected(parser, exc.allowed or set())
    elif isinstance(exc, UnexpectedEOF):
        offset = len(text)
        found = "end of file"
        expected = _describe_expected(parser, set(exc.expected))
    else:  # pragma: no cover - lark has no other UnexpectedInput subclasses
        offset = 0
        found = "input"
        expected = ""
    found = found.replace("'\\n'", "newline")
    message = f"syntax error: unexpected {found}"
    if expected:
        message += f" (expected one of: {expected})"
    return ParseError(message, index.span(path, offset, offset + 1))


def parse_hcl(text: str, path: str) -> HclFile:
    """Parse a Terraform or tfvars file; raise ParseError with a line and column."""
    # Terraform reads CRLF files; dropping the CR before LF keeps every line
    # and column, since the CR is the last character of its line.
    text = text.replace("\r\n", "\n")
    scan = prepass(text, path)
    index = LineIndex(text)
    # pyhcl2's comment terminals need a newline after them, so end with one.
    prepared = scan.prepared if scan.prepared.endswith("\n") else scan.prepared + "\n"
    try:
        tree = hcl_parser().parse(prepared, start="start")
        body = ToAstTransformer(source_id=SourceId()).transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, index, path, prepared) from None
    except VisitError as exc:
        raise ParseError(
            f"cannot read the HCL syntax tree ({exc.orig_exc})", Span(path, 1)
        ) from None
    except RecursionError:
        raise ParseError(
            "expressions are nested too deeply to parse", Span(path, 1)
        ) from None
    if not isinstance(body, list):
        # An empty file parses to the bare start tree without statements.
        body = [
            stmt for stmt in getattr(body, "children", []) if isinstance(stmt, Stmt)
        ]
    module = Module(body, span=SourceSpan(0, len(text), source_id=SourceId()))
    return HclFile(path, text, module, index, scan.heredocs, scan.comments)


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expression:
    """Parse the expression inside a template interpolation (cached by text).

    Raises :class:`UnexpectedInput` or :class:`VisitError` for invalid input;
    the caller turns them into an evaluation error at its own position.
    """
    tree = hcl_parser().parse(text, start="start_expr")
    return ToAstTransformer(source_id=SourceId()).transform(tree)  # type: ignore[no-any-return]
