"""Terraform values as the evaluator sees them.

Known values are plain Python: ``None`` (null), ``bool``, ``int``/``float``
(numbers), ``str``, ``list`` (tuples and lists), :class:`TfSet` (sets) and
``dict`` (maps and objects). A value that only ``terraform apply`` could
know (a data source, a resource attribute, a variable without a value) is an
:class:`UnknownValue`, which may also sit inside a known list or map.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any


class EvalError(Exception):
    """An expression is invalid for its values (Terraform would reject it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownValue:
    """A value seglint cannot know without running Terraform.

    ``text`` is the expression as written and ``reason`` tells why it is
    unknown. ``path`` keeps the traversal of a reference, such as
    ``("aws_security_group", "mail", "id")``, so that converters can tell
    which resource an attribute points at.
    """

    __slots__ = ("text", "reason", "path")

    def __init__(
        self, text: str, reason: str, path: tuple[Any, ...] | None = None
    ) -> None:
        self.text = text
        self.reason = reason
        self.path = path

    def __repr__(self) -> str:
        return f"UnknownValue({self.text!r}, {self.reason!r})"

    def derive(self, text: str, step: Any = None) -> UnknownValue:
        """Return an unknown for an expression built on this one."""
        path = None
        if self.path is not None and step is not None:
            path = (*self.path, step)
        return UnknownValue(text, self.reason, path)


class TfSet(list):  # type: ignore[type-arg]
    """A Terraform set: a list without duplicates, iterated with key = value."""


Value = Any  # None | bool | int | float | str | list | TfSet | dict | UnknownValue


def is_unknown(value: Value) -> bool:
    return isinstance(value, UnknownValue)


def unknowns_in(value: Value) -> Iterator[UnknownValue]:
    """Yield every unknown inside a value, depth first."""
    if isinstance(value, UnknownValue):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from unknowns_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from unknowns_in(item)


def first_unknown(value: Value) -> UnknownValue | None:
    return next(unknowns_in(value), None)


def type_name(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TfSet):
        return "set"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "unknown"


def normalize_number(value: int | float) -> int | float:
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    return value


def to_number(value: Value) -> int | float:
    """Convert a number or a numeric string; raise EvalError otherwise."""
    if isinstance(value, bool):
        raise EvalError(f"a number is required, got bool ({value})")
    if isinstance(value, (int, float)):
        return normalize_number(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise EvalError(f"a number is required, got string ({value!r})") from None
        if not math.isfinite(number):
            raise EvalError(f"a number is required, got string ({value!r})")
        return normalize_number(number)
    raise EvalError(f"a number is required, got {type_name(value)}")


def to_integer(value: Value) -> int:
    number = to_number(value)
    if not isinstance(number, int):
        raise EvalError(f"a whole number is required, got {number}")
    return number


def to_string(value: Value) -> str:
    """Convert a primitive to its Terraform string form; raise EvalError otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = normalize_number(value)
        return str(number)
    if value is None:
        raise EvalError("a string is required, got null")
    raise EvalError(f"a string is required, got {type_name(value)}")


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"a bool is required, got {type_name(value)}")


def tf_equal(left: Value, right: Value) -> bool:
    """Compare two known values as Terraform's ``==`` does (types must agree)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return bool(left == right)
    if type_name(left) != type_name(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            tf_equal(left[key], right[key]) for key in left
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(
            tf_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


def iterate(collection: Value) -> list[tuple[Value, Value]]:
    """Return (key, value) pairs as ``for`` and ``for_each`` see them."""
    if isinstance(collection, TfSet):
        return [(item, item) for item in collection]
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, dict):
        return [(key, collection[key]) for key in sorted(collection)]
    raise EvalError(f"a collection is required, got {type_name(collection)}")
