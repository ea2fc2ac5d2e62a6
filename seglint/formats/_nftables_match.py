"""Conditions of nftables matches: from a selector and a value to IR conditions.

:class:`ConditionBuilder` collects the conditions of one rule. Each match
adds the family and protocol its selector implies (``ip protocol`` means an
IPv4 packet, ``tcp dport`` a TCP packet) and then the match itself. A family
becomes a condition on the source address, because the engine distinguishes
IPv4 from IPv6 packets by their addresses. A value that is known only at run time
makes the match an :class:`~seglint.ir.Unknown` with a SEG902 warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from seglint.formats._nftables_names import ETHER_FAMILIES, NFPROTO_FAMILIES
from seglint.formats._nftables_select import Selector, join_spans
from seglint.formats._nftables_values import (
    Resolver,
    Unresolved,
    Value,
    address_atom,
    family_range,
    family_set,
    icmp_code_atom,
    icmp_type_atom,
    port_atom,
    protocol_atom,
    state_atom,
)
from seglint.ir import (
    Condition,
    Diagnostic,
    InterfaceMatch,
    Match,
    ParseError,
    Span,
    TupleMatch,
    Unknown,
)
from seglint.space import PROTO, SRC, STATE, IntervalSet


@dataclass
class TableContext:
    """The chains and sets of the table that the statements of a rule refer to."""

    family: str
    name: str
    families: frozenset[int]
    chains: frozenset[str]
    resolver: Resolver

    def chain_id(self, name: str) -> str:
        return f"{self.family} {self.name}/{name}"


class ConditionBuilder:
    """Collects the conditions of one rule and the warnings about unknown ones.

    ``family`` is the set of families that the conditions so far allow.
    ``notes`` are the SEG902 warnings, which matter only when the rule
    decides a verdict.
    """

    def __init__(self, table: TableContext) -> None:
        self.table = table
        self.conditions: list[Condition] = []
        self.family: frozenset[int] = table.families
        self.notes: list[Diagnostic] = []

    def _restrict(self, families: frozenset[int], emit: bool) -> None:
        narrowed = self.family & families
        if narrowed == self.family:
            return
        self.family = narrowed
        if emit:
            self.conditions.append(Match(SRC, family_set(narrowed)))

    def _match(
        self,
        selectors: list[Selector],
        operator: str | None,
        value: Value,
        mask: str = "",
    ) -> None:
        span = join_spans(selectors[0].span, value.span)
        unknown = (
            bool(mask)
            or value.kind == "expr"
            or any(s.kind == "other" for s in selectors)
        )
        try:
            if unknown:
                self._implied(selectors, explicit_family=True)
                raise Unresolved("match is not modelled")
            if len(selectors) > 1:
                self._concat(selectors, operator, value)
            else:
                self._single(selectors[0], operator, value)
        except Unresolved as exc:
            self._unknown_match(selectors, operator, value, span, exc, mask)

    def _implied(self, selectors: list[Selector], explicit_family: bool) -> None:
        """Add the family and protocol conditions that selectors imply."""
        for selector in selectors:
            if selector.restrict is not None:
                emit = explicit_family or selector.kind != "addr"
                self._restrict(selector.restrict, emit)
            if selector.proto is not None:
                self.conditions.append(Match(PROTO, selector.proto))

    def _unknown_match(
        self,
        selectors: list[Selector],
        operator: str | None,
        value: Value,
        span: Span,
        exc: Unresolved,
        mask: str,
    ) -> None:
        # The implied family may still be missing when resolving failed.
        for selector in selectors:
            if selector.kind == "addr" and selector.restrict is not None:
                self._restrict(selector.restrict, True)
        selector_text = " . ".join(s.text for s in selectors)
        if mask:
            selector_text += f" {mask}"
        negated = operator in ("!=", "!")
        shown_op = f" {operator}" if operator is not None else ""
        text = f"{selector_text}{shown_op} {value.text}"
        key_op = "" if operator in (None, "==", "!=", "!") else f" {operator}"
        key = f"{selector_text}{key_op} {value.text}"
        if exc.key_scope:
            key = f"{exc.key_scope}: {key}"
        self.conditions.append(Unknown(text, span, key, negated))
        message = f"{exc.reason} ({text})"
        if exc.hint:
            message += f"; {exc.hint}"
        self.notes.append(Diagnostic("SEG902", message, span))

    def _single(self, selector: Selector, operator: str | None, value: Value) -> None:
        negated = operator in ("!=", "!")
        resolver = self.table.resolver
        kind = selector.kind
        if kind == "addr":
            values = self._values(
                value, address_atom(selector.family), operator, selector
            )
            self._implied([selector], explicit_family=False)
            full = family_range(selector.family)
            self.conditions.append(
                Match(selector.dim, full.subtract(values) if negated else values)
            )
            return
        if kind in ("ether", "nfproto"):
            names = ETHER_FAMILIES if kind == "ether" else NFPROTO_FAMILIES
            if operator not in (None, "==", "!=", "!"):
                raise Unresolved(f"operator {operator} is not modelled")
            found = resolver.families(value, names, selector.text)
            allowed = self.table.families - found if negated else found
            self._restrict(frozenset(allowed), True)
            return
        if kind == "iface":
            if operator not in (None, "==", "!=", "!"):
                raise Unresolved(f"operator {operator} is not modelled")
            names_found = resolver.names(value)
            self.conditions.append(InterfaceMatch(selector.dim, names_found, negated))
            return
        self._implied([selector], explicit_family=False)
        atom = self._atom(selector)
        values = self._values(value, atom, operator, selector)
        if kind == "state":
            self._state(values, operator, value)
            return
        self.conditions.append(Match(selector.dim, values, negated))

    def _state(self, values: IntervalSet, operator: str | None, value: Value) -> None:
        # A comma list of ct states is one bitmask. nft tests it bit by bit only
        # without an operator (or with !); == and != compare the whole mask,
        # and a packet has exactly one state bit.
        several = value.kind in ("list", "atom") and values.size() > 1
        if operator == "==" and several:
            self.conditions.append(Match(STATE, IntervalSet()))
        elif operator == "!=" and several:
            return
        else:
            self.conditions.append(Match(STATE, values, operator in ("!=", "!")))

    def _atom(self, selector: Selector) -> Callable[[Value], IntervalSet]:
        if selector.kind == "port":
            return port_atom
        if selector.kind == "proto":
            return protocol_atom
        if selector.kind == "state":
            return state_atom
        if selector.kind == "icmp_type":
            return icmp_type_atom(selector.family)
        if selector.kind == "icmp_code":
            return icmp_code_atom(selector.family)
        if selector.kind == "addr":
            return address_atom(selector.family)
        raise Unresolved("match is not modelled")

    def _values(
        self,
        value: Value,
        atom: Callable[[Value], IntervalSet],
        operator: str | None,
        selector: Selector,
    ) -> IntervalSet:
        values = self.table.resolver.values(value, atom)
        if operator not in ("<", ">", "<=", ">="):
            return values
        if value.kind != "atom" or selector.kind not in ("port", "proto", "addr"):
            raise Unresolved(f"operator {operator} is not modelled for this value")
        if selector.kind == "addr":
            domain = family_range(selector.family)
        else:
            domain = IntervalSet.single(0, 65535 if selector.kind == "port" else 255)
        low, high = values.min(), max(hi for _, hi in values)
        bounds = {
            "<": (domain.min(), low - 1),
            "<=": (domain.min(), high),
            ">": (high + 1, max(hi for _, hi in domain)),
            ">=": (low, max(hi for _, hi in domain)),
        }[operator]
        return IntervalSet.single(*bounds)

    def _concat(
        self, selectors: list[Selector], operator: str | None, value: Value
    ) -> None:
        if operator not in (None, "==", "!="):
            raise Unresolved(f"operator {operator} is not modelled on a concatenation")
        negated = operator == "!="
        # The family condition is stated even when an address part implies
        # it, so that it stays when the set turns out to be unknown.
        self._implied(selectors, explicit_family=True)
        if any(s.kind in ("ether", "nfproto") for s in selectors):
            raise Unresolved("match is not modelled")
        dims = tuple(s.dim for s in selectors)
        if len(set(dims)) != len(dims):
            raise Unresolved("match is not modelled")

        rows: list[tuple[IntervalSet | tuple[str, ...], ...]] = []
        for element in self.table.resolver.elements(value):
            key = element.key
            if key.kind != "concat" or len(key.parts) != len(selectors):
                raise ParseError(
                    f"element does not match the concatenation ({key.text}); "
                    f"it needs {len(selectors)} parts joined by '.'",
                    key.span,
                )
            rows.append(
                tuple(
                    self._part(s, part)
                    for s, part in zip(selectors, key.parts, strict=True)
                )
            )

        # One row is a plain match per dimension, interfaces included.
        if len(rows) == 1 and not negated:
            for selector, part in zip(selectors, rows[0], strict=True):
                if isinstance(part, tuple):
                    self.conditions.append(InterfaceMatch(selector.dim, part))
                else:
                    self.conditions.append(Match(selector.dim, part))
            return

        if any(s.kind == "iface" for s in selectors):
            raise Unresolved("interface names in a concatenated set are not modelled")
        interval_rows = tuple(
            tuple(part for part in row if isinstance(part, IntervalSet)) for row in rows
        )
        self.conditions.append(TupleMatch(dims, interval_rows, negated))

    def _part(self, selector: Selector, value: Value) -> IntervalSet | tuple[str, ...]:
        if selector.kind == "iface":
            return self.table.resolver.names(value)
        return self.table.resolver.values(value, self._atom(selector))
