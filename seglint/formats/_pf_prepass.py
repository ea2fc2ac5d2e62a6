"""The lexical pre-pass of pf.conf: continuations, comments, macros and includes.

pfctl's lexer removes a backslash-newline everywhere (even inside a comment,
which then goes on to the next line), drops ``#`` comments outside quotes,
and replaces ``$name`` outside quotes by the macro's value. This module does
the same before the Lark grammar parses the text, and keeps for every
character of the result the file and the position it came from, so spans,
rule texts and parse errors point at the original lines. Characters that a
macro expanded to point at the ``$name`` that produced them.

Macro definitions (``name = "value"``) become empty lines. An ``include``
whose file can be read is spliced in; one that cannot stays in the text for
the grammar, which reports it.
"""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from seglint.formats.base import SourceFile
from seglint.ir import ParseError, Span

logger = logging.getLogger(__name__)

MAX_INCLUDE_DEPTH = 16
MAX_MACRO_DEPTH = 32
# Macro definitions and includes are statements on a line of their own.
_MACRO_DEFINITION = re.compile(r"[ \t]*([A-Za-z0-9_]+)[ \t]*=(?!=)")
_INCLUDE = re.compile(r"[ \t]*include[ \t]+(\"[^\"]*\"|'[^']*'|\S+)[ \t]*")
_MACRO_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass
class CleanFile:
    """One file without comments and continuations, and where each character was."""

    source: SourceFile
    text: str
    lines: array[int]
    columns: array[int]

    def position(self, index: int) -> tuple[int, int]:
        index = min(max(index, 0), len(self.text) - 1)
        return self.lines[index], self.columns[index]


@dataclass
class Expanded:
    """The text the grammar parses, with the origin of every character.

    For character ``i``, ``file_ids[i]`` names the file in ``files`` and
    ``starts[i]``-``ends[i]`` the characters of that file's clean text it
    stands for (one character, or the ``$name`` of a macro expansion).
    """

    text: str = ""
    files: list[CleanFile] = field(default_factory=list)
    file_ids: array[int] = field(default_factory=lambda: array("I"))
    starts: array[int] = field(default_factory=lambda: array("I"))
    ends: array[int] = field(default_factory=lambda: array("I"))
    macros: dict[str, str] = field(default_factory=dict)

    def _clamp(self, offset: int) -> int:
        return min(max(offset, 0), len(self.text) - 1)

    def span(self, start: int, end: int | None = None) -> Span:
        """Return the span of the text ``start``-``end`` (end exclusive) in its file.

        A range that crosses into another file (an included one) is cut at
        the file of its first character.
        """
        first = self._clamp(start)
        last = self._clamp((end if end is not None else start + 1) - 1)
        clean = self.files[self.file_ids[first]]
        if self.file_ids[last] != self.file_ids[first] or last < first:
            last = first
        line, column = clean.position(self.starts[first])
        end_line, end_column = clean.position(self.ends[last])
        return Span(clean.source.path, line, column, end_line, end_column)

    def original(self, start: int, end: int) -> str:
        """Return the clean text (macros not expanded) of ``start``-``end``."""
        first, last = self._clamp(start), self._clamp(end - 1)
        if self.file_ids[last] != self.file_ids[first] or last < first:
            last = first
        clean = self.files[self.file_ids[first]]
        return clean.text[self.starts[first] : self.ends[last] + 1]


def clean_file(source: SourceFile) -> CleanFile:
    """Remove backslash-newlines and comments, keeping each character's position."""
    text = source.text
    out: list[str] = []
    lines: array[int] = array("I")
    columns: array[int] = array("I")
    line, column, index, length = 1, 1, 0, len(text)
    quote = ""
    quote_at = (1, 1)

    def continuation(at: int) -> int:
        """Return the length of a backslash-newline at ``at`` (0 if there is none)."""
        if text.startswith("\\\n", at):
            return 2
        if text.startswith("\\\r\n", at):
            return 3
        return 0

    while index < length:
        char = text[index]
        skip = continuation(index) if char == "\\" else 0
        if skip:
            index += skip
            line, column = line + 1, 1
            continue
        if char == "\r" and text.startswith("\r\n", index):
            index += 1
            column += 1
            continue
        if not quote and char == "#":
            # A comment runs to the end of the line, continuations included.
            while index < length and text[index] != "\n":
                skip = continuation(index) if text[index] == "\\" else 0
                if skip:
                    index += skip
                    line, column = line + 1, 1
                else:
                    index += 1
                    column += 1
            continue
        if quote and char == "\n":
            # pfctl drops a newline inside quotes and reads on.
            index += 1
            line, column = line + 1, 1
            continue
        if quote and char == "\\" and index + 1 < length and text[index + 1] != "\n":
            for offset in (0, 1):
                out.append(text[index + offset])
                lines.append(line)
                columns.append(column + offset)
            index += 2
            column += 2
            continue
        if char in "\"'" and (not quote or char == quote):
            if not quote:
                quote, quote_at = char, (line, column)
            else:
                quote = ""
        out.append(char)
        lines.append(line)
        columns.append(column)
        index += 1
        if char == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    if quote:
        raise ParseError(
            "unterminated quoted string", Span(source.path, quote_at[0], quote_at[1])
        )
    if not out or out[-1] != "\n":
        out.append("\n")
        lines.append(line)
        columns.append(column)
    return CleanFile(source, "".join(out), lines, columns)


# An include resolver returns the included file, or None to leave the
# statement to the grammar (its file cannot be read from the checked tree).
IncludeResolver = Callable[[str, Span, SourceFile], SourceFile | None]


class _Expander:
    def __init__(
        self, resolve_include: IncludeResolver, macros: dict[str, str]
    ) -> None:
        self.out = Expanded(macros=dict(macros))
        self.chars: list[str] = []
        self.resolve_include = resolve_include
        self.depth = 0  # braces open in the output, outside quotes
        self.including: list[str] = []

    def emit(self, char: str, file_id: int, start: int, end: int) -> None:
        self.chars.append(char)
        self.out.file_ids.append(file_id)
        self.out.starts.append(start)
        self.out.ends.append(end)

    def span_at(self, clean: CleanFile, start: int, end: int) -> Span:
        line, column = clean.position(start)
        end_line, end_column = clean.position(end)
        return Span(clean.source.path, line, column, end_line, end_column)

    def run_file(self, source: SourceFile) -> None:
        if len(self.including) >= MAX_INCLUDE_DEPTH:
            raise ParseError(
                f"includes are nested more than {MAX_INCLUDE_DEPTH} deep",
                Span(source.path, 1),
            )
        clean = clean_file(source)
        file_id = len(self.out.files)
        self.out.files.append(clean)
        self.including.append(str(source.location))
        start = 0
        while start < len(clean.text):
            end = clean.text.index("\n", start)
            self.run_line(clean, file_id, start, end)
            start = end + 1
        self.including.pop()

    def run_line(self, clean: CleanFile, file_id: int, start: int, end: int) -> None:
        """Expand the line ``start``-``end`` (the newline at ``end``) of ``clean``."""
        line = clean.text[start:end]
        if self.depth == 0:
            definition = _MACRO_DEFINITION.match(line)
            if definition:
                self.define(clean, start, end, definition)
                self.emit("\n", file_id, end, end)
                return
            include = _INCLUDE.fullmatch(line)
            if include and self.include(clean, start, include):
                self.emit("\n", file_id, end, end)
                return
        quote = ""
        index = start
        while index < end:
            char = clean.text[index]
            if quote:
                if char == "\\" and index + 1 < end:
                    self.emit(char, file_id, index, index)
                    index += 1
                    char = clean.text[index]
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif char == "$":
                index = self.reference(clean, file_id, index, end)
                continue
            elif char == "{":
                self.depth += 1
            elif char == "}":
                self.depth = max(self.depth - 1, 0)
            self.emit(char, file_id, index, index)
            index += 1
        self.emit("\n", file_id, end, end)

    def reference(self, clean: CleanFile, file_id: int, index: int, end: int) -> int:
        """Expand the ``$name`` at ``index``; return the index after it."""
        found = _MACRO_NAME.match(clean.text, index + 1, end)
        if not found:
            raise ParseError(
                "macro name missing after '$'", self.span_at(clean, index, index)
            )
        last = found.end() - 1
        value = self.value_of(found.group(), self.span_at(clean, index, last), ())
        for char in value:
            if char == "{":
                self.depth += 1
            elif char == "}":
                self.depth = max(self.depth - 1, 0)
            self.emit(char, file_id, index, last)
        return found.end()

    def value_of(self, name: str, span: Span, stack: tuple[str, ...]) -> str:
        """Return a macro's value with the macros it names expanded."""
        if name not in self.out.macros:
            raise ParseError(
                f"macro is not defined ({name}); define it above its first use", span
            )
        if name in stack:
            raise ParseError(
                f"macro refers to itself ({' -> '.join(stack + (name,))})", span
            )
        if len(stack) >= MAX_MACRO_DEPTH:
            raise ParseError(
                f"macros nested too deeply (more than {MAX_MACRO_DEPTH}: "
                f"{' -> '.join(stack[:3])} -> ... -> {name})", span
            )
        # NOTE: pfctl does not expand a $name that a macro's value contains;
        # it is expanded here, which reads the way such a file is meant.
        return _expand_text(
            self.out.macros[name],
            lambda inner: self.value_of(inner, span, stack + (name,)),
        )

    def define(
        self, clean: CleanFile, start: int, end: int, found: re.Match[str]
    ) -> None:
        """Store ``name = value``: words and quoted strings, joined by one space."""
        words: list[str] = []
        index = start + found.end()
        text = clean.text
        while index < end:
            char = text[index]
            if char in " \t":
                index += 1
                continue
            if char in "\"'":
                close = index + 1
                while close < end and text[close] != char:
                    close += 2 if text[close] == "\\" else 1
                words.append(_unescape(text[index + 1 : close], char))
                index = close + 1
            elif char == "$":
                name = _MACRO_NAME.match(text, index + 1, end)
                if not name:
                    raise ParseError(
                        "macro name missing after '$'",
                        self.span_at(clean, index, index),
                    )
                span = self.span_at(clean, index, name.end() - 1)
                words.append(self.value_of(name.group(), span, ()))
                index = name.end()
            else:
                stop = index
                while stop < end and text[stop] not in " \t":
                    stop += 1
                words.append(text[index:stop])
                index = stop
        self.out.macros[found.group(1)] = " ".join(words)

    def include(self, clean: CleanFile, start: int, found: re.Match[str]) -> bool:
        """Splice an included file in; return False to leave the statement in place."""
        name = found.group(1).strip("\"'")
        span = self.span_at(clean, start + found.start(1), start + found.end(1) - 1)
        included = self.resolve_include(name, span, clean.source)
        if included is None:
            return False
        if str(included.location) in self.including:
            raise ParseError(f"file includes itself ({name})", span)
        self.run_file(included)
        return True


def _unescape(text: str, quote: str) -> str:
    return text.replace("\\" + quote, quote).replace("\\ ", " ").replace("\\\t", "\t")


def _expand_text(text: str, value_of: Callable[[str], str]) -> str:
    """Replace each ``$name`` outside quotes in ``text`` by ``value_of(name)``."""
    if "$" not in text:
        return text
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "$":
            found = _MACRO_NAME.match(text, index + 1)
            if found:
                out.append(value_of(found.group()))
                index = found.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)


def expand(
    source: SourceFile,
    resolve_include: IncludeResolver,
    macros: dict[str, str] | None = None,
) -> Expanded:
    """Run the pre-pass over ``source``; ``macros`` are defined beforehand.

    Raises ParseError, at the position in the original file, for an
    unterminated quote, an undefined or self-referring macro and includes
    that loop.
    """
    expander = _Expander(resolve_include, macros or {})
    expander.run_file(source)
    out = expander.out
    out.text = "".join(expander.chars)
    logger.debug(
        "pf pre-pass of %s: %d characters, %d macros",
        source.path,
        len(out.text),
        len(out.macros),
    )
    return out
