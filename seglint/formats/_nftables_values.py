"""Values of nftables rules: read them from items and turn them into packet sets.

A value is what follows a selector: ``22``, ``ssh``, ``1024-65535``,
``10.0.0.0/8``, ``{ 22, 80 }``, ``@allowed``, ``tcp . 53``,
``established,related``. :func:`read_value` reads one from a list of items;
:class:`Resolver` turns it into an :class:`~seglint.space.IntervalSet` for one
selector, or raises :class:`Unresolved` when the value is known only at run
time (a dynamic set, a host name, an interface index).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from seglint.formats._nftables_model import SetModel
from seglint.formats._nftables_names import (
    CT_STATES,
    ICMP_CODES,
    ICMP_TYPES,
    ICMPV6_CODES,
    ICMPV6_TYPES,
    PROTOCOLS,
    SERVICES,
)
from seglint.formats._nftables_syntax import Item, render, split_commas, unquote
from seglint.ir import ParseError, Span
from seglint.space import V4_ALL, V6_ALL, IntervalSet, address_value, family_addresses

# Binary operators inside a value; nft also spells the bitwise ones as words.
BITWISE = frozenset({"&", "|", "^", "<<", ">>", "and", "or", "xor"})
# A verdict is never a value: ``tcp dport accept`` lacks the port.
VERDICT_WORDS = frozenset(
    {"accept", "drop", "reject", "jump", "goto", "return", "continue", "queue"}
)
# Words that end the key of a set element and start its options.
ELEMENT_OPTIONS = frozenset(
    {"timeout", "expires", "comment", "counter", "quota", "limit"}
)

# ct state bits as nft numbers them (NF_CT_STATE_*): a number is a bitmask.
_CT_STATE_BITS = {
    1: "invalid",
    2: "established",
    4: "related",
    8: "new",
    64: "untracked",
}


class Unresolved(Exception):
    """A value that cannot be known from the file; the match becomes unknown."""

    def __init__(self, reason: str, key_scope: str = "", hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        # Set for named sets, whose contents belong to one table.
        self.key_scope = key_scope
        self.hint = hint


@dataclass(frozen=True)
class Value:
    """A parsed value.

    ``kind`` is ``atom`` (one word or string), ``range`` (two parts),
    ``concat`` (parts joined by ``.``), ``list`` (a comma list of bitmask
    flags), ``set`` (an anonymous ``{ }`` set with ``elements``), ``ref`` (a
    named ``@set``) or ``expr`` (bitwise arithmetic, never resolved).
    """

    kind: str
    span: Span
    text: str
    parts: tuple[Value, ...] = ()
    elements: tuple[Element, ...] = ()


@dataclass(frozen=True)
class Element:
    """One element of a set or map: its key and, for maps, the data after ``:``."""

    key: Value
    data: tuple[Item, ...]
    span: Span


# --- reading -------------------------------------------------------------------


def _is_binop(item: Item) -> bool:
    if item.kind == "comma":
        return True
    if item.kind == "op":
        return item.text in BITWISE
    return item.kind == "word" and item.text in (".", "-", "/", "and", "or", "xor")


def _is_term(item: Item) -> bool:
    return item.kind in ("word", "string", "setref", "brace", "paren")


def read_value(items: tuple[Item, ...], pos: int) -> tuple[Value, int]:
    """Read one value starting at ``items[pos]``; return it and the next position."""
    if (
        pos >= len(items)
        or not _is_term(items[pos])
        or (items[pos].kind == "word" and items[pos].text in VERDICT_WORDS)
    ):
        found = items[pos].text if pos < len(items) else "end of rule"
        span = items[pos].span if pos < len(items) else items[-1].span
        raise ParseError(f"expected a value (found {found})", span)
    sequence = [items[pos]]
    pos += 1
    while pos + 1 < len(items) and _is_binop(items[pos]) and _is_term(items[pos + 1]):
        sequence.extend(items[pos : pos + 2])
        pos += 2
    return _build(sequence), pos


def _build(sequence: list[Item]) -> Value:
    span = sequence[0].span
    text = render(sequence)
    operators = [item.text for item in sequence[1::2]]
    if any(op in BITWISE for op in operators):
        return Value("expr", span, text)
    pieces = _split(sequence, ",")
    if len(pieces) > 1:
        return Value("list", span, text, tuple(_build(piece) for piece in pieces))
    parts = _split(sequence, ".")
    if len(parts) > 1:
        return Value("concat", span, text, tuple(_build(part) for part in parts))
    if len(sequence) == 3 and sequence[1].text == "-":
        return Value("range", span, text, (_term(sequence[0]), _term(sequence[2])))
    if len(sequence) == 3 and sequence[1].text == "/":
        # A prefix written with blanks: 10.0.0.0 / 8.
        joined = f"{unquote(sequence[0].text)}/{unquote(sequence[2].text)}"
        return Value("atom", span, joined)
    if len(sequence) == 1:
        return _term(sequence[0])
    return Value("expr", span, text)


def _split(sequence: list[Item], operator: str) -> list[list[Item]]:
    pieces: list[list[Item]] = [[sequence[0]]]
    for index in range(1, len(sequence), 2):
        op, term = sequence[index], sequence[index + 1]
        is_split = op.kind == "comma" if operator == "," else op.text == operator
        if is_split:
            pieces.append([term])
        else:
            pieces[-1].extend([op, term])
    return pieces


def _term(item: Item) -> Value:
    if item.kind == "brace":
        return Value(
            "set", item.span, render([item]), elements=read_elements(item.children)
        )
    if item.kind == "setref":
        return Value("ref", item.span, item.text)
    if item.kind == "paren":
        inner = item.children
        if not inner:
            return Value("expr", item.span, "()")
        value, end = read_value(inner, 0)
        return value if end == len(inner) else Value("expr", item.span, render([item]))
    return Value("atom", item.span, unquote(item.text))


def read_elements(items: tuple[Item, ...]) -> tuple[Element, ...]:
    """Read the elements of a ``{ }`` set or map body."""
    return tuple(read_element(piece) for piece in split_commas(items))


def read_element(items: tuple[Item, ...]) -> Element:
    colon = next((i for i, item in enumerate(items) if item.kind == "colon"), None)
    key_items = items if colon is None else items[:colon]
    data = () if colon is None else _strip_options(items[colon + 1 :])
    key_items = _strip_options(key_items)
    if not key_items:
        raise ParseError("set element has no key", items[0].span)
    key, end = read_value(key_items, 0)
    if end != len(key_items):
        raise ParseError(f"invalid set element ({render(items)})", items[0].span)
    return Element(key, data, items[0].span)


def _strip_options(items: tuple[Item, ...]) -> tuple[Item, ...]:
    for index, item in enumerate(items):
        if index and item.kind == "word" and item.text in ELEMENT_OPTIONS:
            return items[:index]
    return items


# --- resolving -------------------------------------------------------------------


class Resolver:
    """Turns values into packet sets; ``sets`` are the named sets of the rule's table.

    ``dynamic`` names the sets whose elements change at run time: those with
    ``flags dynamic`` or ``timeout``, and those that rules add elements to.
    """

    def __init__(
        self, sets: dict[str, SetModel], dynamic: set[str], table_label: str
    ) -> None:
        self.sets = sets
        self.dynamic = dynamic
        self.table_label = table_label

    def named_set(self, value: Value) -> SetModel:
        name = value.text[1:]
        model = self.sets.get(name)
        if model is None:
            raise ParseError(
                f"set not found ({value.text}) in table {self.table_label}", value.span
            )
        scope = f"{self.table_label} {value.text}"
        if name in self.dynamic:
            raise Unresolved("set elements change at run time", scope)
        if not model.elements:
            raise Unresolved("set has no elements in the file", scope)
        return model

    def elements(self, value: Value) -> tuple[Element, ...]:
        """Return the elements of a set value, flattening nested sets."""
        if value.kind == "set":
            found = value.elements
        elif value.kind == "ref":
            model = self.named_set(value)
            found = tuple(read_element(items) for items in model.elements)
        else:
            return (Element(value, (), value.span),)
        out: list[Element] = []
        for element in found:
            if element.key.kind in ("set", "ref") and not element.data:
                out.extend(self.elements(element.key))
            else:
                out.append(element)
        return tuple(out)

    def values(self, value: Value, atom: Callable[[Value], IntervalSet]) -> IntervalSet:
        """Return the union of a value, set or range, reading atoms with ``atom``."""
        if value.kind in ("set", "ref"):
            result = IntervalSet()
            for element in self.elements(value):
                result = result.union(self.values(element.key, atom))
            return result
        if value.kind == "list":
            result = IntervalSet()
            for part in value.parts:
                result = result.union(self.values(part, atom))
            return result
        if value.kind == "range":
            low, high = atom(value.parts[0]), atom(value.parts[1])
            if not low or not high:
                return IntervalSet()
            if low.min() > max(hi for _, hi in high):
                # nft rejects it ("range has zero or negative size").
                raise ParseError(f"range {value.text} has a start above its end",
                                 value.span)
            return IntervalSet.single(low.min(), max(hi for _, hi in high))
        if value.kind == "atom":
            return atom(value)
        raise Unresolved("expression is not modelled")

    def names(self, value: Value) -> tuple[str, ...]:
        """Return interface names; a trailing ``*`` becomes the IR's ``+`` mark."""
        if value.kind in ("set", "ref"):
            out: list[str] = []
            for element in self.elements(value):
                out.extend(self.names(element.key))
            return tuple(out)
        if value.kind != "atom":
            raise Unresolved("interface expression is not modelled")
        name = value.text
        if name.endswith("\\*"):
            raise Unresolved("interface name with a literal '*' is not modelled")
        if name.endswith("*"):
            return (name[:-1] + "+",)
        return (name,)

    def families(
        self, value: Value, table: dict[str, int], selector_text: str
    ) -> frozenset[int]:
        """Return the IP families a ``meta protocol`` or ``meta nfproto`` value has."""
        if value.kind in ("set", "ref", "list"):
            found: set[int] = set()
            parts = (
                value.parts
                if value.kind == "list"
                else tuple(e.key for e in self.elements(value))
            )
            for part in parts:
                found |= self.families(part, table, selector_text)
            return frozenset(found)
        if value.kind != "atom":
            raise Unresolved(f"{selector_text} expression is not modelled")
        text = value.text.lower()
        if text in table:
            return frozenset({table[text]})
        # Any other link layer protocol (arp, vlan, ...) is no IP family.
        return frozenset()


# --- atoms -------------------------------------------------------------------------


def address_atom(family: int) -> Callable[[Value], IntervalSet]:
    def read(value: Value) -> IntervalSet:
        text = value.text
        if "-" in text and not text.startswith("-"):
            first, _, last = text.partition("-")
            low = _address(first, family, value)
            high = _address(last, family, value)
            return IntervalSet.single(low.min(), max(hi for _, hi in high))
        return _address(text, family, value)

    return read


def _address(text: str, family: int, value: Value) -> IntervalSet:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        if any(ch.isalpha() for ch in text) and "/" not in text and ":" not in text:
            raise Unresolved("host name is resolved when nft loads the file") from None
        raise ParseError(f"invalid address ({text})", value.span) from None
    if network.version != family:
        wanted = "IPv4" if family == 4 else "IPv6"
        raise ParseError(f"{wanted} address expected ({text})", value.span)
    low = address_value(network.network_address)
    return IntervalSet.single(low, low + network.num_addresses - 1)


def family_range(family: int) -> IntervalSet:
    return V4_ALL if family == 4 else V6_ALL


def _number(text: str, maximum: int, name: str, value: Value) -> int | None:
    try:
        number = int(text, 0) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        return None
    if not 0 <= number <= maximum:
        raise ParseError(f"{name} out of range ({text} > {maximum})", value.span)
    return number


def port_atom(value: Value) -> IntervalSet:
    text = value.text
    number = _number(text, 65535, "port", value)
    if number is not None:
        return IntervalSet.single(number)
    if text in SERVICES:
        return IntervalSet.single(SERVICES[text])
    first, dash, last = text.partition("-")
    if dash and first and last:
        low = port_atom(Value("atom", value.span, first))
        high = port_atom(Value("atom", value.span, last))
        if low.min() > high.min():
            # nft rejects it ("range has zero or negative size").
            raise ParseError(f"range {text} has a start above its end", value.span)
        return IntervalSet.single(low.min(), high.min())
    raise Unresolved("service name is not known to seglint", hint="use the port number")


def protocol_atom(value: Value) -> IntervalSet:
    text = value.text
    number = _number(text, 255, "protocol", value)
    if number is not None:
        return IntervalSet.single(number)
    if text in PROTOCOLS:
        return IntervalSet.single(PROTOCOLS[text])
    first, dash, last = text.partition("-")
    if dash and first.isdigit() and last.isdigit():
        return IntervalSet.single(int(first), int(last))
    raise ParseError(f"unknown protocol ({text})", value.span)


def state_atom(value: Value) -> IntervalSet:
    text = value.text
    if text in CT_STATES:
        return IntervalSet.single(CT_STATES[text])
    number = _number(text, 127, "ct state", value)
    if number is not None:
        indices = [
            CT_STATES[name] for bit, name in _CT_STATE_BITS.items() if number & bit
        ]
        return IntervalSet((index, index) for index in indices)
    raise ParseError(f"unknown ct state ({text})", value.span)


def icmp_type_atom(family: int) -> Callable[[Value], IntervalSet]:
    names = ICMP_TYPES if family == 4 else ICMPV6_TYPES

    def read(value: Value) -> IntervalSet:
        text = value.text
        if text in names:
            kind = names[text]
            return IntervalSet.single(kind * 256, kind * 256 + 255)
        number = _number(text, 255, "icmp type", value)
        if number is None:
            raise ParseError(f"unknown icmp type ({text})", value.span)
        return IntervalSet.single(number * 256, number * 256 + 255)

    return read


def icmp_code_atom(family: int) -> Callable[[Value], IntervalSet]:
    names = ICMP_CODES if family == 4 else ICMPV6_CODES

    def read(value: Value) -> IntervalSet:
        text = value.text
        code = names.get(text)
        if code is None:
            code = _number(text, 255, "icmp code", value)
        if code is None:
            raise ParseError(f"unknown icmp code ({text})", value.span)
        # The ICMP dimension is type * 256 + code: one interval per type.
        return IntervalSet(
            (kind * 256 + code, kind * 256 + code) for kind in range(256)
        )

    return read


def family_set(families: frozenset[int]) -> IntervalSet:
    result = IntervalSet()
    for family in sorted(families):
        result = result.union(family_addresses(family))
    return result
