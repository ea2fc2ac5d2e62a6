"""Evaluation of CloudFormation intrinsic functions from what the template states.

A value resolves when it depends only on parameter defaults, mappings and
literals: ``Ref`` to a parameter with a ``Default``, ``Fn::Sub`` over such
parameters, ``Fn::Join``, ``Fn::Select`` with ``Fn::Split``,
``Fn::FindInMap``, and ``Fn::If`` whose condition evaluates the same way.
Anything else (pseudo parameters, ``Fn::GetAtt``, ``Fn::ImportValue``,
``Fn::Cidr``, ``Fn::GetAZs``, a parameter without a default, an unknown
tag) is :class:`Unresolved`, and the caller makes it an unknown condition.

NOTE: a parameter's default is taken as its value, as a stack created
without parameter overrides would have it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from seglint.formats._cfn_yaml import Intrinsic, UnknownTag

MAX_DEPTH = 40
FUNCTION_NAMES = ("Ref", "Condition")


@dataclass(frozen=True)
class Unresolved:
    """A value the template does not fix; ``text`` is the expression as written."""

    text: str
    reason: str
    line: int
    column: int


class _NoValue:
    """``AWS::NoValue``: the property or list item is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NEEDS_QUOTES = re.compile(r"[\s,\[\]{}\"']")


def as_intrinsic(value: Any, line: int = 1, column: int = 1) -> Intrinsic | None:
    """Return the intrinsic of a short form or of a one-key long-form mapping."""
    if isinstance(value, Intrinsic):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if isinstance(key, str) and (key in FUNCTION_NAMES or key.startswith("Fn::")):
            position = getattr(value, "lc", None)
            if position is not None:
                line, column = position.line + 1, position.col + 1
            return Intrinsic(key, value[key], line, column, short=False)
    return None


def short_tag(tag: str) -> str:
    """Return a tag as written: ``!!python/object`` rather than its full URI."""
    return (
        "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:") else tag
    )


def render(value: Any, depth: int = 0) -> str:
    """Return a value as short-form YAML-like text for messages and rule text."""
    if depth > 8:
        return "..."
    function = as_intrinsic(value)
    if function is not None:
        name = function.name.removeprefix("Fn::")
        return f"!{name} {render(function.value, depth + 1)}"
    if isinstance(value, UnknownTag):
        return f"{short_tag(value.tag)} {render(value.value, depth + 1)}"
    if isinstance(value, dict):
        inner = ", ".join(
            f"{key}: {render(item, depth + 1)}" for key, item in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(item, depth + 1) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, str) and (not value or _NEEDS_QUOTES.search(value)):
        return json.dumps(value)
    return str(value)


class Resolver:
    """Evaluates intrinsic functions against one template's sections."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.parameters = _mapping(template.get("Parameters"))
        self.mappings = _mapping(template.get("Mappings"))
        self.conditions = _mapping(template.get("Conditions"))
        self.resources = _mapping(template.get("Resources"))
        self._condition_cache: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()

    # --- values ---------------------------------------------------------------

    def resolve(
        self, value: Any, line: int = 1, column: int = 1, depth: int = 0
    ) -> Any:
        """Return the value with every intrinsic evaluated, or an Unresolved."""
        if depth > MAX_DEPTH:
            return Unresolved(render(value), "nested too deeply", line, column)
        if isinstance(value, UnknownTag):
            return Unresolved(
                render(value),
                f"unknown tag {short_tag(value.tag)}",
                value.line,
                value.column,
            )
        function = as_intrinsic(value, line, column)
        if function is not None:
            return self._call(function, depth + 1)
        if isinstance(value, list):
            return [self.resolve(item, line, column, depth + 1) for item in value]
        return value

    def _unresolved(self, function: Intrinsic, reason: str) -> Unresolved:
        return Unresolved(render(function), reason, function.line, function.column)

    def _call(self, function: Intrinsic, depth: int) -> Any:
        handler = {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::If": self._if,
        }.get(function.name)
        if handler is not None:
            return handler(function, depth)
        if function.name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
            result = self._condition_value(function, depth)
            if result is None:
                return self._unresolved(function, "condition depends on unknown values")
            return result
        return self._unresolved(function, f"{function.name} is not evaluated")

    def _ref(self, function: Intrinsic, depth: int) -> Any:
        name = self.resolve(function.value, function.line, function.column, depth)
        if name == "AWS::NoValue":
            return NO_VALUE
        if not isinstance(name, str):
            return self._unresolved(function, "Ref target is not a name")
        parameter = self.parameters.get(name)
        if isinstance(parameter, dict):
            if "Default" not in parameter:
                return self._unresolved(function, f"parameter {name} has no Default")
            default = self.resolve(
                parameter["Default"], function.line, function.column, depth
            )
            kind = str(parameter.get("Type", ""))
            if isinstance(default, str) and (
                kind == "CommaDelimitedList" or kind.startswith("List<")
            ):
                return [part.strip() for part in default.split(",")]
            return default
        if name in self.resources:
            return self._unresolved(function, f"reference to resource {name}")
        return self._unresolved(
            function, f"{name} is known only when the stack is created"
        )

    def _sub(self, function: Intrinsic, depth: int) -> Any:
        body = function.value
        variables: dict[str, Any] = {}
        if isinstance(body, list) and len(body) == 2 and isinstance(body[1], dict):
            for key, item in body[1].items():
                variables[str(key)] = self.resolve(
                    item, function.line, function.column, depth
                )
            body = body[0]
        body = self.resolve(body, function.line, function.column, depth)
        if not isinstance(body, str):
            return self._unresolved(function, "Fn::Sub needs a string")

        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            else:
                value = self._ref(
                    Intrinsic("Ref", name, function.line, function.column), depth
                )
            if isinstance(value, Unresolved) or isinstance(value, list | dict):
                missing.append(name)
                return ""
            return _scalar_text(value)

        text = _SUB_VARIABLE.sub(replace, body)
        if missing:
            return self._unresolved(function, f"{', '.join(missing)} not known")
        return text

    def _join(self, function: Intrinsic, depth: int) -> Any:
        args = self.resolve(function.value, function.line, function.column, depth)
        if not (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str)):
            return self._unresolved(function, "Fn::Join needs a delimiter and a list")
        items = args[1]
        if isinstance(items, Unresolved):
            return items
        if not isinstance(items, list):
            return self._unresolved(function, "Fn::Join needs a list")
        parts: list[str] = []
        for item in items:
            if item is NO_VALUE:
                continue
            if isinstance(item, Unresolved):
                return item
            if isinstance(item, list | dict):
                return self._unresolved(function, "Fn::Join item is not a string")
            parts.append(_scalar_text(item))
        return args[0].join(parts)

    def _select(self, function: Intrinsic, depth: int) -> Any:
        args = self.resolve(function.value, function.line, function.column, depth)
        if not (isinstance(args, list) and len(args) == 2):
            return self._unresolved(function, "Fn::Select needs an index and a list")
        index, items = args
        if isinstance(index, Unresolved):
            return index
        if isinstance(items, Unresolved):
            return items
        try:
            position = int(index)
        except (TypeError, ValueError, OverflowError):  # 1e400 reads as infinity
            return self._unresolved(function, f"invalid Fn::Select index ({index})")
        if not isinstance(items, list) or not 0 <= position < len(items):
            return self._unresolved(
                function, f"Fn::Select index {position} is out of range"
            )
        return items[position]

    def _split(self, function: Intrinsic, depth: int) -> Any:
        args = self.resolve(function.value, function.line, function.column, depth)
        if not (isinstance(args, list) and len(args) == 2):
            return self._unresolved(
                function, "Fn::Split needs a delimiter and a string"
            )
        delimiter, text = args
        if isinstance(text, Unresolved):
            return text
        if not isinstance(delimiter, str) or not delimiter or not isinstance(text, str):
            return self._unresolved(
                function, "Fn::Split needs a delimiter and a string"
            )
        return text.split(delimiter)

    def _find_in_map(self, function: Intrinsic, depth: int) -> Any:
        args = self.resolve(function.value, function.line, function.column, depth)
        if not (isinstance(args, list) and len(args) >= 3):
            return self._unresolved(function, "Fn::FindInMap needs three keys")
        for key in args[:3]:
            if isinstance(key, Unresolved):
                return key
        table = self.mappings.get(_scalar_text(args[0]))
        top = table.get(_scalar_text(args[1])) if isinstance(table, dict) else None
        if not isinstance(top, dict) or _scalar_text(args[2]) not in top:
            keys = ".".join(_scalar_text(key) for key in args[:3])
            return self._unresolved(function, f"mapping entry {keys} not found")
        return self.resolve(
            top[_scalar_text(args[2])], function.line, function.column, depth
        )

    def _if(self, function: Intrinsic, depth: int) -> Any:
        args = function.value
        if not (isinstance(args, list) and len(args) == 3):
            return self._unresolved(function, "Fn::If needs a condition and two values")
        outcome = self.condition(args[0], depth)
        if outcome is None:
            return self._unresolved(
                function, f"condition {render(args[0])} is not known"
            )
        chosen = args[1] if outcome else args[2]
        return self.resolve(chosen, function.line, function.column, depth)

    # --- conditions -----------------------------------------------------------

    def condition(self, name: Any, depth: int = 0) -> bool | None:
        """Return the value of a named condition; None when it is not known."""
        if not isinstance(name, str):
            return None
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name in self._evaluating or name not in self.conditions:
            return None
        self._evaluating.add(name)
        try:
            result = self._condition_value(self.conditions[name], depth + 1)
        finally:
            self._evaluating.discard(name)
        self._condition_cache[name] = result
        return result

    def _condition_value(self, value: Any, depth: int) -> bool | None:
        if depth > MAX_DEPTH:
            return None
        function = as_intrinsic(value)
        if function is None:
            return value if isinstance(value, bool) else None
        args = function.value
        if function.name == "Condition":
            return self.condition(args, depth + 1)
        if function.name == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left = self.resolve(args[0], function.line, function.column, depth + 1)
            right = self.resolve(args[1], function.line, function.column, depth + 1)
            if isinstance(left, Unresolved) or isinstance(right, Unresolved):
                return None
            return _scalar_text(left) == _scalar_text(right)
        if function.name == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            inner = self._condition_value(args[0], depth + 1)
            return None if inner is None else not inner
        if function.name in ("Fn::And", "Fn::Or") and isinstance(args, list):
            values = [self._condition_value(item, depth + 1) for item in args]
            if function.name == "Fn::And":
                if False in values:
                    return False
                return None if None in values else True
            if True in values:
                return True
            return None if None in values else False
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _scalar_text(value: Any) -> str:
    """Return a scalar as CloudFormation turns it into a string (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
