"""The ``[tool.seglint]`` table of a ``pyproject.toml`` as a :class:`Node` tree.

``tomllib`` returns plain values without positions. After it has accepted
the document, a small scanner walks the same text and records where each
key, table header, array item and inline-table entry starts, so that errors
point at the value. A value the scanner cannot place gets the line of the
``[tool.seglint]`` header.
"""

from __future__ import annotations

import bisect
import logging
import re
import tomllib
from dataclasses import dataclass

from seglint._config_tree import ConfigError, Item, Node
from seglint.ir import Span

SECTION = ("tool", "seglint")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:[Zz]|[+-]\d{2}:\d{2})?)?|[^\s,\]\}#]+"
)
_DECODE_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_SECTION_HEADER = re.compile(
    r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*seglint[ \t]*[\].]", re.M
)

Path_ = tuple[str | int, ...]

logger = logging.getLogger(__name__)


def has_section_text(text: str) -> bool:
    """Tell whether TOML text (valid or not) has a ``[tool.seglint]`` table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _SECTION_HEADER.search(text) is not None
    tool = data.get("tool")
    return isinstance(tool, dict) and "seglint" in tool


def read_pyproject(text: str, display: str) -> Node:
    """Parse ``pyproject.toml`` text and return its ``[tool.seglint]`` table.

    Raises ConfigError for invalid TOML and when the table is missing.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"invalid TOML ({_reason(error)})", _error_span(error, text, display)
        ) from None

    tool = data.get("tool")
    if not isinstance(tool, dict) or "seglint" not in tool:
        raise ConfigError(
            "no [tool.seglint] table in this file (add one, or use seglint.yaml)",
            Span(display, 1),
        )
    locator = _Locator(text, display)
    return locator.node(tool["seglint"], SECTION)


def _reason(error: tomllib.TOMLDecodeError) -> str:
    message = _DECODE_POSITION.sub("", str(error)).strip()
    return message[:1].lower() + message[1:]


def _error_span(error: tomllib.TOMLDecodeError, text: str, display: str) -> Span:
    found = _DECODE_POSITION.search(str(error))
    if found:
        return Span(display, int(found.group(1)), int(found.group(2)))
    # "at end of document"
    return Span(display, max(text.count("\n") + (0 if text.endswith("\n") else 1), 1))


class _ScanStopped(Exception):
    """The scanner met text it cannot step over."""


@dataclass(frozen=True, slots=True)
class _Place:
    key: int | None  # offset of the key, None for a table header or array item
    start: int  # offset of the value (or of the header's "[")
    end: int  # offset just past the value


class _Locator:
    """Records the offsets of every key and value of an already valid TOML text."""

    def __init__(self, text: str, display: str) -> None:
        self.text = text
        self.display = display
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.places: dict[Path_, _Place] = {}
        self.table_counts: dict[Path_, int] = {}
        try:
            self._scan()
        except (_ScanStopped, IndexError, ValueError, tomllib.TOMLDecodeError):
            # The scanner handles less of TOML than tomllib does. Values that it
            # did not reach get the position of the [tool.seglint] header.
            logger.debug("stopped locating TOML keys in %s", display, exc_info=True)

    # --- building nodes

    def node(self, value: object, path: Path_) -> Node:
        place = self._place(path)
        span = self._span(place.start, place.end)
        if isinstance(value, dict):
            items = []
            for key, child in value.items():
                child_place = self._place((*path, key))
                key_offset = (
                    child_place.key
                    if child_place.key is not None
                    else child_place.start
                )
                key_span = self._span(key_offset, key_offset + len(key))
                items.append(Item(key, key_span, self.node(child, (*path, key))))
            return Node(tuple(items), span, is_mapping=True)
        if isinstance(value, list):
            return Node(
                tuple(
                    self.node(child, (*path, index))
                    for index, child in enumerate(value)
                ),
                span,
            )
        raw = self.text[place.start : place.end] if place.end > place.start else ""
        return Node(value, span, raw=raw)

    def _place(self, path: Path_) -> _Place:
        place = self.places.get(path)
        if place is not None:
            return place
        # A table made by dotted keys only (seg.version = ...) has no place of
        # its own, so it takes the place of its first key.
        for known, found in self.places.items():
            if known[: len(path)] == path:
                return found
        header = self.places.get(SECTION)
        return header if header is not None else _Place(None, 0, 0)

    def _span(self, start: int, end: int) -> Span:
        line_index = bisect.bisect_right(self.line_starts, start) - 1
        column = start - self.line_starts[line_index] + 1
        end_column = column + max(end - start, 1) - 1
        if "\n" in self.text[start:end]:
            end_column = column
        return Span(self.display, line_index + 1, column, line_index + 1, end_column)

    # --- scanning

    def _scan(self) -> None:
        text = self.text
        position = 0
        table: Path_ = ()
        while True:
            position = self._skip_blank(position, newlines=True)
            if position >= len(text):
                return
            if text.startswith("[[", position):
                parts, end = self._key(position + 2)
                path = self._resolve(parts)
                count = self.table_counts.get(path, 0)
                self.table_counts[path] = count + 1
                table = (*path, count)
                self.places[table] = _Place(None, position, position + 1)
                position = text.index("]]", end) + 2
            elif text[position] == "[":
                parts, end = self._key(position + 1)
                table = self._resolve(parts)
                self.places.setdefault(table, _Place(None, position, position + 1))
                position = text.index("]", end) + 1
            else:
                position = self._entry(position, table)
            position = self._skip_line(position)

    def _resolve(self, parts: list[str]) -> Path_:
        """Turn header keys into a path into the last element of arrays of tables."""
        path: Path_ = ()
        for index, part in enumerate(parts):
            path = (*path, part)
            if path in self.table_counts and index < len(parts) - 1:
                path = (*path, self.table_counts[path] - 1)
        return path

    def _entry(self, position: int, table: Path_) -> int:
        """Record ``key = value`` at ``position`` and return the offset after it."""
        parts, end = self._key(position)
        end = self._skip_blank(end)
        value_start = self._skip_blank(end + 1)  # past "="
        path = table + tuple(parts)
        value_end = self._value(value_start, path)
        self.places[path] = _Place(position, value_start, value_end)
        return value_end

    def _key(self, position: int) -> tuple[list[str], int]:
        """Read a dotted key and return its parts and the offset after it."""
        text = self.text
        parts: list[str] = []
        while True:
            position = self._skip_blank(position)
            if text[position] in "\"'":
                end = self._string_end(position)
                parts.append(tomllib.loads("k = " + text[position:end])["k"])
            else:
                found = _BARE_KEY.match(text, position)
                end = found.end() if found else position + 1
                parts.append(text[position:end])
            position = self._skip_blank(end)
            if position < len(text) and text[position] == ".":
                position += 1
                continue
            return parts, position

    def _value(self, position: int, path: Path_) -> int:
        """Record the items of arrays and inline tables and return the value's end."""
        text = self.text
        char = text[position : position + 1]
        if char and char in "\"'":
            return self._string_end(position)
        if char == "[":
            index = 0
            position += 1
            while True:
                position = self._skip_blank(position, newlines=True)
                if text[position] == "]":
                    return position + 1
                end = self._value(position, (*path, index))
                self.places.setdefault((*path, index), _Place(None, position, end))
                index += 1
                position = self._skip_blank(end, newlines=True)
                if text[position] == ",":
                    position += 1
        if char == "{":
            position += 1
            while True:
                position = self._skip_blank(position)
                if text[position] == "}":
                    return position + 1
                if text[position] == ",":
                    position += 1
                    continue
                position = self._entry(position, path)
        found = _SCALAR.match(text, position)
        if found is None:
            raise _ScanStopped(position)
        return found.end()

    def _string_end(self, position: int) -> int:
        text = self.text
        quote = text[position]
        if text.startswith(quote * 3, position):
            end = position + 3
            while not text.startswith(quote * 3, end):
                end += 2 if quote == '"' and text[end] == "\\" else 1
            end += 3
            # Up to two quotes may sit right before the closing delimiter.
            while end < len(text) and text[end] == quote:
                end += 1
            return end
        end = position + 1
        while text[end] != quote:
            end += 2 if quote == '"' and text[end] == "\\" else 1
        return end + 1

    def _skip_blank(self, position: int, newlines: bool = False) -> int:
        text = self.text
        while position < len(text):
            char = text[position]
            if char in " \t" or (newlines and char in "\r\n"):
                position += 1
            elif newlines and char == "#":
                position = self._skip_line(position)
            else:
                break
        return position

    def _skip_line(self, position: int) -> int:
        end = self.text.find("\n", position)
        return len(self.text) if end < 0 else end + 1
