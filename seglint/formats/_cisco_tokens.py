"""Ports, protocols and ICMP messages read from tokens, with each platform's names."""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Tree

from seglint.formats._cisco_lines import Line, tokens
from seglint.formats._cisco_names import ICMP6
from seglint.formats._cisco_values import InvalidValue, icmp_values, port_values
from seglint.ir import ParseError
from seglint.space import IntervalSet

Names = dict[str, int | tuple[int, int]]


@dataclass(frozen=True)
class NameTables:
    """The literal names one platform accepts."""

    platform: str
    ports: dict[str, int]
    protocols: dict[str, int | None]
    icmp: Names
    icmp6: Names


class TokenValues:
    """Turns port, protocol and ICMP tokens into numbers.

    Errors are ParseErrors at the span of the token.
    """

    def __init__(self, path: str, names: NameTables) -> None:
        self.path = path
        self.names = names

    def port(self, token: Token, line: Line) -> int:
        text = str(token)
        if text.isdigit():
            return int(text)
        if text in self.names.ports:
            return self.names.ports[text]
        raise ParseError(
            f"unknown port name ({text}); use a number or a {self.names.platform} "
            "port name such as smtp, domain, www",
            line.token_span(self.path, token),
        )

    def ports(self, tree: Tree[Token], line: Line) -> IntervalSet:
        """Return the ports of a port operator tree (eq, neq, lt, gt, range)."""
        values = [self.port(token, line) for token in tokens(tree)]
        try:
            return port_values(str(tree.data), values)
        except InvalidValue as exc:
            raise ParseError(str(exc), line.tree_span(self.path, tree)) from None

    def protocol(
        self,
        token: Token,
        line: Line,
        table: dict[str, int | None] | None = None,
    ) -> int | None:
        """Return a protocol number, or None for all protocols (``ip``, ``ipv6``, 0)."""
        text = str(token)
        table = self.names.protocols if table is None else table
        if text.isdigit():
            number = int(text)
            if number > 255:
                raise ParseError(
                    f"protocol number out of range ({number} > 255)",
                    line.token_span(self.path, token),
                )
            return None if number == 0 else number
        if text in table:
            return table[text]
        raise ParseError(
            f"unknown protocol ({text}); use a number or one of "
            f"{', '.join(sorted(table))}",
            line.token_span(self.path, token),
        )

    def icmp(self, items: list[Token], line: Line, protocol: int) -> IntervalSet:
        """Return the ICMP values of ``TYPE [CODE]``, the type a name or a number."""
        names = self.names.icmp6 if protocol == ICMP6 else self.names.icmp
        first = items[0]
        text = str(first)
        code = int(items[1]) if len(items) > 1 and str(items[1]).isdigit() else None
        if text.isdigit():
            value: int | tuple[int, int] = int(text)
        elif text in names:
            value = names[text]
        else:
            kind = "icmpv6" if protocol == ICMP6 else "icmp"
            raise ParseError(
                f"unknown {kind} message name ({text})",
                line.token_span(self.path, first),
            )
        try:
            if isinstance(value, tuple):
                return icmp_values(*value)
            return icmp_values(value, code)
        except InvalidValue as exc:
            raise ParseError(str(exc), line.token_span(self.path, first)) from None
