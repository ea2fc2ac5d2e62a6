"""Configuration text as a tree of values that remember where they were written.

Both configuration syntaxes (YAML files and ``[tool.seglint]`` in
``pyproject.toml``) are read into :class:`Node` trees first, so the checks of
:mod:`seglint._config_build` report every error at the line and column of the
offending key or value, whichever syntax it came from.

YAML is read with ruamel.yaml's round-trip loader because it records the
position of every key and item (``.lc``). That loader never runs code for a
tag: it builds unknown tags such as ``!!python/object`` as inert tagged
objects, and this module rejects them as configuration errors.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Set
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from seglint.ir import Span

# ruamel.yaml takes about 10 ms to import; a run configured by
# pyproject.toml, or with no configuration, never needs it.
if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

logger = logging.getLogger(__name__)

_YAML_CORE_PREFIX = "tag:yaml.org,2002:"
_YAML_STR_TAG = _YAML_CORE_PREFIX + "str"

# The line breaks of YAML 1.2, so that line numbers agree with ruamel's marks.
_YAML_LINE_BREAK = re.compile("\r\n|[\n\r]")
# A plain scalar ends at whitespace, a flow indicator or a comment.
_PLAIN_TOKEN = re.compile(r"[^\s,\]\}#]+")


class ConfigError(Exception):
    """An invalid configuration, with the position of the offending key or value."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a mapping: the key as written, where it is, and its value."""

    key: object
    key_span: Span
    node: Node


@dataclass(frozen=True, slots=True)
class Node:
    """A configuration value and the span it was written at.

    ``value`` is a scalar (str, int, float, bool, None or another type that
    YAML can produce, such as a date), a tuple of :class:`Node` for a list,
    or a tuple of :class:`Item` for a mapping (then ``is_mapping`` is true).
    ``raw`` is the scalar as written in the file (``10.10`` for a version
    that YAML reads as the float 10.1), or "" where it is not known.
    """

    value: object
    span: Span
    is_mapping: bool = False
    raw: str = ""


def type_name(node: Node) -> str:
    """Return the configuration-language name of a node's type, for messages."""
    value = node.value
    if node.is_mapping:
        return "a mapping"
    if isinstance(value, tuple):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date or time"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, Set):
        return "a set"
    return f"a {type(value).__name__}"


# --- YAML ---------------------------------------------------------------------


def read_yaml(text: str, display: str) -> Node | None:
    """Parse YAML text into a :class:`Node` tree, or None for an empty document.

    Raises ConfigError for syntax errors, duplicate keys and explicit tags.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except DuplicateKeyError as error:
        raise ConfigError(
            _duplicate_message(error), _mark_span(error, display)
        ) from None
    except MarkedYAMLError as error:
        raise ConfigError(
            f"invalid YAML ({_problem(error)})", _mark_span(error, display)
        ) from None
    except ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        char = error.character
        code = char if isinstance(char, int) else ord(char)
        raise ConfigError(
            f"invalid YAML (character U+{code:04X} is not allowed in YAML text)",
            Span(display, line, column),
        ) from None
    except YAMLError as error:
        raise ConfigError(f"invalid YAML ({error})", Span(display, 1)) from None
    except RecursionError:
        raise ConfigError(
            "invalid YAML (values are nested too deeply)", Span(display, 1)
        ) from None

    if data is None:
        return None
    converter = _YamlConverter(text, display)
    return converter.node(data, 0, 0)


def _problem(error: MarkedYAMLError) -> str:
    problem = error.problem or error.context or "syntax error"
    # ruamel splits "expected X, but found Y" between context and problem.
    if problem.startswith("but ") and error.context:
        problem = f"{error.context}, {problem}"
    return problem


def _mark_span(error: MarkedYAMLError, display: str) -> Span:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Span(display, 1)
    return Span(display, mark.line + 1, mark.column + 1)


def _duplicate_message(error: DuplicateKeyError) -> str:
    found = re.search(r'duplicate key "(.*?)"', error.problem or "")
    key = found.group(1) if found else "?"
    return f'duplicate key "{key}" (each key may appear only once in a mapping)'


def _explicit_tag(value: object) -> str:
    """Return a tag written in the file other than ``!!str``, or ""."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    if isinstance(value, TaggedScalar):
        tag = value.tag.value if value.tag is not None else None
        return "" if tag in (None, _YAML_STR_TAG) else str(tag)
    if isinstance(value, (CommentedMap, CommentedSeq)):
        tag = getattr(value, "tag", None)
        # Untagged collections (and !!map, !!seq) carry Tag(None).
        if tag is not None and tag.value is not None:
            return str(tag.value)
    return ""


def _short_tag(tag: str) -> str:
    if tag.startswith(_YAML_CORE_PREFIX):
        return "!!" + tag[len(_YAML_CORE_PREFIX) :]
    return tag


class _YamlConverter:
    """Converter of ruamel's round-trip objects into nodes with 1-based spans."""

    def __init__(self, text: str, display: str) -> None:
        self.lines = _YAML_LINE_BREAK.split(text)
        self.display = display
        # Aliases share one object, so converting each object once keeps a
        # "billion laughs" document linear. The active set finds cycles.
        self.done: dict[int, Node] = {}
        self.active: set[int] = set()

    def node(self, value: object, line: int, column: int) -> Node:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

        tag = _explicit_tag(value)
        if tag:
            raise ConfigError(
                f"YAML tags are not allowed ({_short_tag(tag)}); write plain "
                "strings, numbers, lists and mappings",
                Span(self.display, line + 1, column + 1),
            )

        if isinstance(value, (CommentedMap, CommentedSeq)):
            return self._collection(value, line, column)
        if isinstance(value, TaggedScalar):
            value = str(value.value)  # only !!str gets here
        raw = self._token(value, line, column)
        end = column + max(len(raw), 1)
        return Node(
            value, Span(self.display, line + 1, column + 1, line + 1, end), raw=raw
        )

    def _collection(
        self, value: CommentedMap | CommentedSeq, line: int, column: int
    ) -> Node:
        span = Span(self.display, line + 1, column + 1)
        key = id(value)
        if key in self.done:
            return replace(self.done[key], span=span)
        if key in self.active:
            raise ConfigError("invalid YAML (an alias refers to itself)", span)

        from ruamel.yaml.comments import CommentedMap

        self.active.add(key)
        if isinstance(value, CommentedMap):
            node = Node(tuple(self._items(value)), span, is_mapping=True)
        else:
            children = []
            for index, child in enumerate(value):
                child_line, child_column = value.lc.item(index)
                children.append(self.node(child, child_line, child_column))
            node = Node(tuple(children), span)
        self.active.discard(key)
        self.done[key] = node
        return node

    def _items(self, mapping: CommentedMap) -> list[Item]:
        items = []
        for key, child in mapping.items():
            key_line, key_column, value_line, value_column = _entry_position(
                mapping, key
            )
            key_width = max(len(self._token(key, key_line, key_column)), 1)
            key_span = Span(
                self.display,
                key_line + 1,
                key_column + 1,
                key_line + 1,
                key_column + key_width,
            )
            if child is None:
                # An empty value gets the key's span because ruamel places it
                # at the next token, which may be lines below the key.
                node = Node(None, key_span)
            else:
                node = self.node(child, value_line, value_column)
            items.append(Item(key, key_span, node))
        return items

    def _token(self, value: object, line: int, column: int) -> str:
        """Return the scalar's text as written at (line, column), 0-based."""
        if line >= len(self.lines):
            return ""
        rest = self.lines[line][column:]
        if rest[:1] in ("'", '"'):
            return _quoted_token(rest)
        if isinstance(value, str) and value and rest.startswith(value):
            return value
        found = _PLAIN_TOKEN.match(rest)
        return found.group(0) if found else ""


def _entry_position(mapping: CommentedMap, key: object) -> tuple[int, int, int, int]:
    """Return 0-based (key line, key column, value line, value column) of a key.

    Keys merged in with ``<<`` are recorded in the mapping they came from.
    """
    from ruamel.yaml.comments import CommentedMap

    positions = mapping.lc.data
    if key in positions:
        key_line, key_column, value_line, value_column = positions[key]
        return key_line, key_column, value_line, value_column
    for source in getattr(mapping, "merge", None) or ():
        merged = source[1] if isinstance(source, tuple) else source
        if isinstance(merged, CommentedMap) and key in merged:
            return _entry_position(merged, key)
    line, column = mapping.lc.line or 0, mapping.lc.col or 0
    return line, column, line, column


def _quoted_token(rest: str) -> str:
    quote = rest[0]
    index = 1
    while index < len(rest):
        char = rest[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            # In single quotes, '' is an escaped quote.
            if quote == "'" and rest[index + 1 : index + 2] == "'":
                index += 2
                continue
            return rest[: index + 1]
        index += 1
    return rest
