"""The Terraform built-in functions that firewall configurations use.

Each function takes evaluated arguments and returns a value or raises
:class:`EvalError`. The evaluator returns an unknown without calling the
function when an argument is itself unknown. Functions that look inside
their arguments return an unknown when they meet one there. ``try`` and
``can`` need their arguments unevaluated, so the evaluator implements them.
Semantics follow the Terraform 1.x function reference; ``list`` and ``map``
are the Terraform 0.11 forms.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable

from seglint.formats._tf_values import (
    EvalError,
    TfSet,
    UnknownValue,
    Value,
    first_unknown,
    normalize_number,
    tf_equal,
    to_integer,
    to_number,
    to_string,
    type_name,
)

# Terraform's range() refuses to build more elements than this (Terraform
# function reference, "range").
RANGE_LIMIT = 1024
# A larger width or precision in format() would only build huge strings.
FORMAT_WIDTH_LIMIT = 1000


class NeedsUnknown(Exception):
    """A function met an unknown inside an argument, so its result is unknown."""

    def __init__(self, unknown: UnknownValue) -> None:
        super().__init__(unknown.text)
        self.unknown = unknown


def _check_known(value: Value) -> None:
    unknown = first_unknown(value)
    if unknown is not None:
        raise NeedsUnknown(unknown)


def _sequence(value: Value, function: str) -> list[Value]:
    if isinstance(value, list):
        return list(value)
    raise EvalError(f"{function}: a list is required, got {type_name(value)}")


def _mapping(value: Value, function: str) -> dict[str, Value]:
    if isinstance(value, dict):
        return value
    raise EvalError(f"{function}: a map is required, got {type_name(value)}")


def _concat(*lists: Value) -> Value:
    result: list[Value] = []
    for item in lists:
        result.extend(_sequence(item, "concat"))
    return result


def _flatten(value: Value) -> Value:
    result: list[Value] = []

    def walk(items: list[Value]) -> None:
        for item in items:
            if isinstance(item, UnknownValue):
                # The unknown may itself be a list to flatten.
                raise NeedsUnknown(item)
            if isinstance(item, list):
                walk(item)
            else:
                result.append(item)

    walk(_sequence(value, "flatten"))
    return result


def _distinct(value: Value) -> Value:
    items = _sequence(value, "distinct")
    _check_known(items)
    result: list[Value] = []
    for item in items:
        if not any(tf_equal(item, seen) for seen in result):
            result.append(item)
    return result


def _toset(value: Value) -> Value:
    if isinstance(value, TfSet):
        return value
    items = _distinct(_sequence(value, "toset"))
    if all(isinstance(item, str) for item in items):
        items = sorted(items)
    elif all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in items
    ):
        items = sorted(items)
    return TfSet(items)


def _tolist(value: Value) -> Value:
    return list(_sequence(value, "tolist"))


def _tomap(value: Value) -> Value:
    return dict(_mapping(value, "tomap"))


def _tostring(value: Value) -> Value:
    return None if value is None else to_string(value)


def _tonumber(value: Value) -> Value:
    return None if value is None else to_number(value)


def _network(
    prefix: Value, function: str
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(to_string(prefix), strict=False)
    except ValueError:
        raise EvalError(f"{function}: invalid CIDR prefix ({prefix!r})") from None


def _cidrsubnet(prefix: Value, newbits: Value, netnum: Value) -> Value:
    network = _network(prefix, "cidrsubnet")
    bits, number = to_integer(newbits), to_integer(netnum)
    length = network.prefixlen + bits
    if bits < 0 or length > network.max_prefixlen:
        raise EvalError(
            f"cidrsubnet: {bits} new bits do not fit after /{network.prefixlen} "
            f"(at most {network.max_prefixlen - network.prefixlen})"
        )
    if not 0 <= number < (1 << bits):
        raise EvalError(f"cidrsubnet: netnum {number} does not fit in {bits} bits")
    start = int(network.network_address) + (number << (network.max_prefixlen - length))
    return str(type(network)((start, length)))


def _cidrhost(prefix: Value, hostnum: Value) -> Value:
    network = _network(prefix, "cidrhost")
    number = to_integer(hostnum)
    size = network.num_addresses
    # A negative host number counts back from the end of the range.
    if number < 0:
        number += size
    if not 0 <= number < size:
        raise EvalError(f"cidrhost: host number {hostnum} is outside {network}")
    return str(network.network_address + number)


def _lookup(mapping: Value, key: Value, *default: Value) -> Value:
    items = _mapping(mapping, "lookup")
    name = to_string(key)
    if name in items:
        return items[name]
    if default:
        return default[0]
    raise EvalError(f"lookup: the map has no key {name!r} and no default was given")


def _merge(*maps: Value) -> Value:
    result: dict[str, Value] = {}
    for item in maps:
        if item is None:
            continue
        result.update(_mapping(item, "merge"))
    return result


_FORMAT_VERB = re.compile(
    r"%(?P<flags>[-+# 0]*)(?P<width>\d+)?(?:\.(?P<precision>\d+))?(?P<verb>.)"
)


def _pad(text: str, flags: str, width: str) -> str:
    if not width:
        return text
    align = "<" if "-" in flags else ">"
    return format(text, align + width)


def _format_one(match: re.Match[str], value: Value) -> str:
    flags, width = match.group("flags"), match.group("width") or ""
    precision, verb = match.group("precision"), match.group("verb")
    for number in (width, precision):
        if number and int(number) > FORMAT_WIDTH_LIMIT:
            raise EvalError(f"format: width or precision too large ({number})")
    if verb in "sv":
        if verb == "v" and not isinstance(value, str):
            text = json.dumps(value, separators=(",", ":"))
        else:
            text = to_string(value)
        if precision is not None:
            text = text[: int(precision)]
        return _pad(text, flags, width)
    if verb == "q":
        return _pad(json.dumps(to_string(value)), flags, width)
    if verb == "t":
        if not isinstance(value, bool):
            raise EvalError(f"format: %t needs a bool, got {type_name(value)}")
        return _pad("true" if value else "false", flags, width)
    number = to_number(value)
    spec = ("<" if "-" in flags else "") + flags.replace("-", "").replace("#", "")
    spec += width
    if verb in "dxXob":
        if not isinstance(number, int):
            raise EvalError(f"format: %{verb} needs a whole number, got {number}")
        return format(number, spec + verb)
    if verb in "feEgG":
        if precision is not None:
            spec += f".{precision}"
        return format(float(number), spec + verb)
    raise EvalError(f"format: unsupported verb %{verb}")


def _format(spec: Value, *args: Value) -> Value:
    text = to_string(spec)
    _check_known(list(args))
    out: list[str] = []
    position = 0
    used = 0
    while position < len(text):
        percent = text.find("%", position)
        if percent < 0:
            out.append(text[position:])
            break
        out.append(text[position:percent])
        if text.startswith("%%", percent):
            out.append("%")
            position = percent + 2
            continue
        match = _FORMAT_VERB.match(text, percent)
        if match is None:
            raise EvalError(f"format: invalid verb at the end of {text!r}")
        if used >= len(args):
            raise EvalError(f"format: too few arguments for {text!r}")
        out.append(_format_one(match, args[used]))
        used += 1
        position = match.end()
    return "".join(out)


def _join(separator: Value, *lists: Value) -> Value:
    items: list[Value] = []
    for item in lists:
        items.extend(_sequence(item, "join"))
    _check_known(items)
    return to_string(separator).join(to_string(item) for item in items)


def _split(separator: Value, text: Value) -> Value:
    string = to_string(text)
    if string == "":
        return []
    return string.split(to_string(separator))


def _range(*args: Value) -> Value:
    numbers = [to_number(arg) for arg in args]
    if not 1 <= len(numbers) <= 3:
        raise EvalError(f"range: 1 to 3 arguments are required, got {len(numbers)}")
    start: int | float = 0
    step: int | float = 1
    if len(numbers) == 1:
        limit = numbers[0]
    else:
        start, limit = numbers[0], numbers[1]
        if len(numbers) == 3:
            step = numbers[2]
        elif limit < start:
            step = -1
    if step == 0:
        raise EvalError("range: step must not be zero")
    result: list[Value] = []
    value = start
    while (value < limit) if step > 0 else (value > limit):
        if len(result) >= RANGE_LIMIT:
            raise EvalError(f"range: more than {RANGE_LIMIT} elements")
        result.append(normalize_number(value))
        value += step
    return result


def _coalesce(*args: Value) -> Value:
    for arg in args:
        if isinstance(arg, UnknownValue):
            raise NeedsUnknown(arg)
        if arg is not None and arg != "":
            return arg
    raise EvalError("coalesce: no non-null, non-empty argument")


def _coalescelist(*args: Value) -> Value:
    for arg in args:
        if _sequence(arg, "coalescelist"):
            return arg
    raise EvalError("coalescelist: no non-empty list")


def _compact(value: Value) -> Value:
    items = _sequence(value, "compact")
    _check_known(items)
    return [item for item in items if item is not None and item != ""]


def _length(value: Value) -> Value:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise EvalError(
        f"length: a collection or string is required, got {type_name(value)}"
    )


def _element(value: Value, index: Value) -> Value:
    items = _sequence(value, "element")
    if not items:
        raise EvalError("element: the list is empty")
    number = to_integer(index)
    if number < 0:
        raise EvalError(f"element: the index must not be negative ({number})")
    return items[number % len(items)]


def _keys(value: Value) -> Value:
    return sorted(_mapping(value, "keys"))


def _values(value: Value) -> Value:
    items = _mapping(value, "values")
    return [items[key] for key in sorted(items)]


def _contains(value: Value, wanted: Value) -> Value:
    items = _sequence(value, "contains")
    _check_known(wanted)
    if any(
        not isinstance(item, UnknownValue) and tf_equal(item, wanted) for item in items
    ):
        return True
    _check_known(items)
    return False


def _lower(value: Value) -> Value:
    return to_string(value).lower()


def _upper(value: Value) -> Value:
    return to_string(value).upper()


def _list(*items: Value) -> Value:
    return list(items)


def _map(*items: Value) -> Value:
    if len(items) % 2:
        raise EvalError(
            "map: an even number of arguments (key, value, ...) is required"
        )
    return {to_string(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def _zipmap(keys: Value, values: Value) -> Value:
    names, items = _sequence(keys, "zipmap"), _sequence(values, "zipmap")
    if len(names) != len(items):
        raise EvalError("zipmap: the key and value lists differ in length")
    _check_known(names)
    return {to_string(name): item for name, item in zip(names, items, strict=True)}


def _sort(value: Value) -> Value:
    items = _sequence(value, "sort")
    _check_known(items)
    return sorted(to_string(item) for item in items)


def _min(*args: Value) -> Value:
    if not args:
        raise EvalError("min: at least one argument is required")
    return min(to_number(arg) for arg in args)


def _max(*args: Value) -> Value:
    if not args:
        raise EvalError("max: at least one argument is required")
    return max(to_number(arg) for arg in args)


def _abs(value: Value) -> Value:
    return abs(to_number(value))


def _replace(text: Value, search: Value, replacement: Value) -> Value:
    string, pattern, new = to_string(text), to_string(search), to_string(replacement)
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            compiled = re.compile(pattern[1:-1])
        except re.error as exc:
            raise EvalError(f"replace: invalid regular expression ({exc})") from None
        # Terraform writes group references as $1; Python's re uses \1.
        return compiled.sub(re.sub(r"\$(\d+)", r"\\\1", new), string)
    return string.replace(pattern, new)


def _trimspace(value: Value) -> Value:
    return to_string(value).strip()


def _chomp(value: Value) -> Value:
    return to_string(value).rstrip("\r\n")


def _substr(value: Value, offset: Value, length: Value) -> Value:
    string, start, count = to_string(value), to_integer(offset), to_integer(length)
    if start < 0:
        start += len(string)
    return string[start:] if count < 0 else string[start : start + count]


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "abs": _abs,
    "chomp": _chomp,
    "cidrhost": _cidrhost,
    "cidrsubnet": _cidrsubnet,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": _compact,
    "concat": _concat,
    "contains": _contains,
    "distinct": _distinct,
    "element": _element,
    "flatten": _flatten,
    "format": _format,
    "join": _join,
    "keys": _keys,
    "length": _length,
    "list": _list,
    "lookup": _lookup,
    "lower": _lower,
    "map": _map,
    "max": _max,
    "merge": _merge,
    "min": _min,
    "range": _range,
    "replace": _replace,
    "sort": _sort,
    "split": _split,
    "substr": _substr,
    "tolist": _tolist,
    "tomap": _tomap,
    "tonumber": _tonumber,
    "toset": _toset,
    "tostring": _tostring,
    "trimspace": _trimspace,
    "upper": _upper,
    "values": _values,
    "zipmap": _zipmap,
}
