"""Safe loading of CloudFormation templates (YAML or JSON) with positions.

Templates are read with ruamel.yaml's round-trip loader, which keeps the
line and column of every key and list item and builds only plain data
(mappings, lists, strings, numbers). CloudFormation's short-form tags
(``!Ref``, ``!Sub``, ...) become :class:`Intrinsic` markers holding the
tagged data; any other tag, including Python object tags, becomes an
:class:`UnknownTag` marker. No tag ever constructs a Python object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from seglint.ir import ParseError, Span

# ruamel.yaml is imported when a template is loaded, not when the format is
# registered: the format's detect() runs on every file of every run.
if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.nodes import Node

# Short-form tags and the long-form function names they stand for.
SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            "Sub",
            "GetAtt",
            "Join",
            "Select",
            "Split",
            "If",
            "FindInMap",
            "ImportValue",
            "Base64",
            "Cidr",
            "GetAZs",
            "Equals",
            "Not",
            "And",
            "Or",
            "Transform",
            "Length",
            "ToJsonString",
        )
    },
}


@dataclass(frozen=True)
class Intrinsic:
    """An intrinsic function call: ``name`` is the long form (``Fn::Sub``)."""

    name: str
    value: Any
    line: int  # 1-based
    column: int  # 1-based
    short: bool = True  # written as a tag (True) or as a one-key mapping


@dataclass(frozen=True)
class UnknownTag:
    """A YAML tag that CloudFormation does not define; its data is kept, unused."""

    tag: str
    value: Any
    line: int
    column: int


def _node_data(constructor: RoundTripConstructor, node: Node) -> Any:
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, ScalarNode):
        return constructor.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return [constructor.construct_object(child, deep=True) for child in node.value]
    if isinstance(node, MappingNode):
        return {
            constructor.construct_object(key, deep=True): constructor.construct_object(
                value, deep=True
            )
            for key, value in node.value
        }
    return None


def _construct_intrinsic(constructor: RoundTripConstructor, node: Node) -> Intrinsic:
    mark = node.start_mark
    name = SHORT_TAGS[str(node.tag)]
    return Intrinsic(
        name, _node_data(constructor, node), mark.line + 1, mark.column + 1
    )


def _construct_unknown(constructor: RoundTripConstructor, node: Node) -> UnknownTag:
    mark = node.start_mark
    return UnknownTag(
        str(node.tag), _node_data(constructor, node), mark.line + 1, mark.column + 1
    )


@cache
def template_constructor() -> type[RoundTripConstructor]:
    """Return the round-trip constructor that turns every tag into a marker object."""
    from ruamel.yaml.constructor import RoundTripConstructor

    class TemplateConstructor(RoundTripConstructor):
        pass

    # add_constructor copies the class's table on first use, so ruamel's
    # shared RoundTripConstructor stays untouched.
    for tag in SHORT_TAGS:
        TemplateConstructor.add_constructor(tag, _construct_intrinsic)
    TemplateConstructor.add_constructor(None, _construct_unknown)
    return TemplateConstructor


def _loader() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.Constructor = template_constructor()
    return yaml


# The YAML scanner's time grows with the square of the bracket depth: 3,000
# levels took 11 seconds with ruamel.yaml 0.18 on one core. Its composer runs
# out of stack at a few hundred levels anyway, so deeper input is rejected first.
MAX_BRACKET_DEPTH = 200
_BRACKET_TOKENS = re.compile(
    r"""[\[\]{}]|"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|(?:^|(?<=\s))#[^\n]*""",
    re.MULTILINE,
)


def _check_depth(text: str, path: str) -> None:
    """Raise ParseError at the first bracket nested deeper than MAX_BRACKET_DEPTH.

    Quoted strings and comments are skipped. Brackets in block scalars are
    counted, which matters only for a script nested 200 levels deep.
    """
    depth = 0
    for token in _BRACKET_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                start = token.start()
                line = text.count("\n", 0, start) + 1
                column = start - (text.rfind("\n", 0, start) + 1) + 1
                raise ParseError(
                    f"template is nested too deeply (more than {MAX_BRACKET_DEPTH} "
                    "levels of brackets)", Span(path, line, column))
        elif char in "]}":
            depth = max(depth - 1, 0)


def load_template(text: str, path: str) -> CommentedMap:
    """Return the template's top-level mapping; raise ParseError at the bad spot."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    _check_depth(text, path)
    try:
        data = _loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ParseError(
            f"invalid template ({problem})", Span(path, line, column)
        ) from exc
    except ReaderError as exc:
        # The reader gives an offset into the text, not a line and column.
        position = min(max(int(exc.position), 0), len(text))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ParseError(
            f"invalid template (character U+{code:04X} is not allowed in YAML)",
            Span(path, line, column),
        ) from exc
    except YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise ParseError(f"invalid template ({problem})", Span(path, 1)) from exc
    except RecursionError as exc:
        raise ParseError("template is nested too deeply", Span(path, 1)) from exc
    if not isinstance(data, CommentedMap):
        raise ParseError("template is not a mapping of sections", Span(path, 1))
    for part in _read_parts(data):
        _check_expansion(part, path)
    return data


# A template with thousands of resources contains a few hundred thousand values.
# YAML aliases of aliases can stand for far more ("billion laughs": ten levels
# of nine aliases are 3.5 billion values), which would take hours to walk.
MAX_EXPANDED_VALUES = 1_000_000


def _read_parts(template: CommentedMap) -> list[Any]:
    """Return the values seglint reads: every section and resource but their Metadata.

    Metadata and Outputs are never evaluated, so aliases there may repeat
    as much as they like.
    """
    parts: list[Any] = []
    for key, value in template.items():
        if key in ("Metadata", "Outputs"):
            continue
        if key == "Resources" and isinstance(value, dict):
            for resource in value.values():
                if isinstance(resource, dict):
                    parts += [item for name, item in resource.items() if name != "Metadata"]
                else:
                    parts.append(resource)
        else:
            parts.append(value)
    return parts


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, list):
        return list(value)
    if isinstance(value, Intrinsic | UnknownTag):
        return [value.value]
    return []


def _position(value: Any, path: str) -> Span:
    if isinstance(value, Intrinsic | UnknownTag):
        return Span(path, value.line, value.column)
    lc = getattr(value, "lc", None)
    if lc is not None and lc.line is not None:
        return Span(path, lc.line + 1, (lc.col or 0) + 1)
    return Span(path, 1)


def _check_expansion(data: Any, path: str) -> None:
    """Raise ParseError for aliases that repeat too much or contain themselves.

    The loader shares one object per anchor, so the walk counts each
    object once and adds up the sizes of its children without expanding them.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()  # objects whose children are being counted
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        value, finished = stack.pop()
        children = _children(value)
        key = id(value)
        if finished:
            active.discard(key)
            size = 1 + sum(sizes.get(id(child), 1) for child in children)
            if size > MAX_EXPANDED_VALUES:
                raise ParseError(
                    "YAML aliases expand to too many values (more than "
                    f"{MAX_EXPANDED_VALUES})", _position(value, path))
            sizes[key] = size
            continue
        if not children or key in sizes:
            continue
        if key in active:
            raise ParseError("a YAML alias refers to a value that contains it",
                             _position(value, path))
        active.add(key)
        stack.append((value, True))
        stack.extend((child, False) for child in children)


def key_position(mapping: Any, key: Any) -> tuple[int, int] | None:
    """Return the 1-based line and column of a key, when the loader recorded it."""
    from ruamel.yaml.comments import CommentedMap

    if isinstance(mapping, CommentedMap):
        try:
            line, column = mapping.lc.key(key)
        except (KeyError, TypeError):
            return None
        return line + 1, column + 1
    return None


def value_position(mapping: Any, key: Any) -> tuple[int, int] | None:
    from ruamel.yaml.comments import CommentedMap

    value = mapping.get(key) if isinstance(mapping, dict) else None
    if isinstance(value, Intrinsic | UnknownTag):
        return value.line, value.column
    if isinstance(mapping, CommentedMap):
        try:
            line, column = mapping.lc.value(key)
        except (KeyError, TypeError):
            return key_position(mapping, key)
        return line + 1, column + 1
    return None


def item_position(sequence: Any, index: int) -> tuple[int, int] | None:
    """Return the 1-based line and column where a list item's data starts."""
    from ruamel.yaml.comments import CommentedSeq

    if isinstance(sequence, CommentedSeq):
        try:
            line, column = sequence.lc.item(index)
        except (KeyError, IndexError, TypeError):
            return None
        return line + 1, column + 1
    return None


def last_line(data: Any, start: int) -> int:
    """Return the last line (1-based) holding part of ``data``, at least ``start``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    last = start
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CommentedMap):
            for key in item:
                for getter in (item.lc.key, item.lc.value):
                    try:
                        last = max(last, getter(key)[0] + 1)
                    except (KeyError, TypeError):
                        pass
                stack.append(item[key])
        elif isinstance(item, CommentedSeq):
            for index, child in enumerate(item):
                try:
                    last = max(last, item.lc.item(index)[0] + 1)
                except (KeyError, IndexError, TypeError):
                    pass
                stack.append(child)
        elif isinstance(item, Intrinsic | UnknownTag):
            last = max(last, item.line)
            stack.append(item.value)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return last
