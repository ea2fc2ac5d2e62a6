"""The tables, chains and sets that an nftables file defines, and its variables.

The first pass (``_nftables_load``) builds a :class:`Model` by applying every
command of the file and its includes. The second pass turns it into the IR.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from seglint.formats._nftables_syntax import Item
from seglint.ir import Diagnostic, ParseError, Span


@dataclass
class RuleSource:
    """A rule as the file states it: its statements, span and text."""

    items: tuple[Item, ...]
    span: Span
    text: str


@dataclass
class HookDecl:
    type: str
    hook: str
    priority: int
    span: Span


@dataclass
class ChainModel:
    name: str
    span: Span
    order: int
    rules: list[RuleSource] = field(default_factory=list)
    hook: HookDecl | None = None
    policy: tuple[str, Span] | None = None


@dataclass
class SetModel:
    """A named set or map; ``elements`` contains the items of each element."""

    name: str
    kind: str  # set or map
    span: Span
    flags: set[str] = field(default_factory=set)
    properties: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    elements: list[tuple[Item, ...]] = field(default_factory=list)


@dataclass
class TableModel:
    family: str
    name: str
    span: Span
    order: int
    chains: dict[str, ChainModel] = field(default_factory=dict)
    sets: dict[str, SetModel] = field(default_factory=dict)
    dormant: bool = False


@dataclass
class Model:
    """Everything the files define once every command has been applied."""

    tables: dict[tuple[str, str], TableModel]
    diagnostics: list[Diagnostic]
    # The last "flush ruleset", after which the file contains the whole ruleset.
    flush_span: Span | None = None


class Scope:
    """The ``define`` variables of one block; lookups go out to enclosing blocks."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.values: dict[str, tuple[Item, ...]] = {}

    def lookup(self, name: str) -> tuple[Item, ...] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None

    def remove(self, name: str) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                del scope.values[name]
                return True
            scope = scope.parent
        return False


def expand(items: tuple[Item, ...], scope: Scope) -> tuple[Item, ...]:
    """Replace every ``$variable`` (also inside braces) by its value."""
    out: list[Item] = []
    for item in items:
        if item.kind == "var":
            value = scope.lookup(item.text[1:])
            if value is None:
                raise ParseError(
                    f"undefined variable ({item.text}); define it before its first use",
                    item.span,
                )
            out.extend(value)
        elif item.kind in ("brace", "paren"):
            out.append(replace(item, children=expand(item.children, scope)))
        else:
            out.append(item)
    return tuple(out)
