"""First pass of the nftables format: read files into tables, chains and sets.

The grammar (``grammars/nftables.lark``) gives the structure of a file. This
module walks it in file order, as ``nft -f`` does. It expands
``$variables``, whose definition is visible in its block and the blocks
inside it. It follows includes inside the checked tree and applies commands
(``add``, ``insert``, ``delete``, ``flush``, ``rename``) to the tables. The
statements of a rule stay a list of :class:`Item` that ``_nftables_rule``
reads once the whole file is known, because a rule may name a set or chain
declared further down.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from lark import Token, Tree

from seglint.formats._nftables_model import (
    ChainModel,
    HookDecl,
    Model,
    RuleSource,
    Scope,
    SetModel,
    TableModel,
    expand,
)
from seglint.formats._nftables_names import (
    BRIDGE_PRIORITIES,
    DEFAULT_FAMILY,
    FAMILIES,
    PRIORITIES,
)
from seglint.formats._nftables_syntax import (
    Item,
    normalise_text,
    parse_tree,
    render,
    split_commas,
    to_items,
    tree_span,
    unquote,
)
from seglint.formats.base import FileAccess, SourceFile
from seglint.ir import Diagnostic, ParseError, Span

logger = logging.getLogger(__name__)

# nft itself stops at this include depth (MAX_INCLUDE_DEPTH in include/nftables.h).
MAX_INCLUDE_DEPTH = 16
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class _File:
    source: SourceFile

    @property
    def path(self) -> str:
        return self.source.path


# --- the loader ---------------------------------------------------------------------


class Loader:
    """Walks the parse trees of a file and its includes into a :class:`Model`."""

    def __init__(self, files: FileAccess) -> None:
        self.files = files
        self.tables: dict[tuple[str, str], TableModel] = {}
        self.diagnostics: list[Diagnostic] = []
        self.flush_span: Span | None = None
        self._includes: list[Path] = []
        self._order = itertools.count()

    def load(self, source: SourceFile) -> Model:
        tree = parse_tree(source.text, source.path)
        self._includes.append(source.location.resolve())
        self._top_level(tree, _File(source), Scope())
        return Model(self.tables, self.diagnostics, self.flush_span)

    # -- top level ---------------------------------------------------------------

    def _top_level(self, tree: Tree, file: _File, scope: Scope) -> None:
        for statement in tree.children:
            if not isinstance(statement, Tree):
                continue
            handler = getattr(self, f"_cmd_{statement.data}", None)
            if handler is not None:
                handler(statement, file, scope)
            elif not self._common(statement, file, scope, "start"):
                logger.debug("ignoring %s command", statement.data)

    def _common(
        self,
        tree: Tree,
        file: _File,
        scope: Scope,
        start: str,
        table: TableModel | None = None,
        chain: ChainModel | None = None,
    ) -> bool:
        """Handle define, undefine and include; return whether ``tree`` was one.

        ``start`` is the grammar rule for an included file: an include inside
        a table or chain block continues that block.
        """
        if tree.data == "define":
            name = str(tree.children[0])
            scope.values[name] = expand(to_items(tree.children[1:], file.path), scope)
        elif tree.data == "undefine":
            name = str(tree.children[0])
            if not scope.remove(name):
                raise ParseError(
                    f"undefined variable (${name})", tree_span(tree, file.path)
                )
        elif tree.data == "include":
            self._include(tree, file, scope, start, table, chain)
        else:
            return False
        return True

    def _cmd_table(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb, names, block = _command_parts(tree)
        span = tree_span(tree, file.path)
        family, rest = _locate(names, 1, span)
        key = (family, rest[0])
        if verb in (None, "add", "create"):
            table = self._ensure_table(family, rest[0], span)
            if block is not None:
                self._table_body(block.children[0], table, file, Scope(scope))
        elif verb in ("delete", "destroy"):
            self.tables.pop(key, None)
        elif verb == "flush":
            # Flushing a table empties its chains; chains and sets stay (nft(8)).
            if key in self.tables:
                for chain in self.tables[key].chains.values():
                    chain.rules.clear()

    def _cmd_chain_cmd(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb, names, block = _command_parts(tree)
        span = tree_span(tree, file.path)
        if verb == "rename":
            family, rest = _locate(names, 3, span)
            table = self._table(family, rest[0], span)
            chain = table.chains.pop(rest[1], None)
            if chain is None:
                raise ParseError(
                    f"chain not found ({family} {rest[0]} {rest[1]})", span
                )
            chain.name = rest[2]
            table.chains[rest[2]] = chain
            return
        if "handle" in names[:-1]:
            self._warn_handle("chain", verb or "add", span)
            return
        family, rest = _locate(names, 2, span)
        table = self._table(family, rest[0], span)
        if verb in (None, "add", "create"):
            chain = self._ensure_chain(table, rest[1], span)
            if block is not None:
                self._chain_body(block.children[0], table, chain, file, Scope(scope))
        elif verb in ("delete", "destroy"):
            table.chains.pop(rest[1], None)
        elif verb == "flush":
            if rest[1] in table.chains:
                table.chains[rest[1]].rules.clear()

    def _cmd_set_cmd(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb = _verb(tree.children[0])
        kind = str(tree.children[1].children[0])
        names = [unquote(str(t)) for t in tree.children[2:] if isinstance(t, Token)]
        block = tree.children[-1] if isinstance(tree.children[-1], Tree) else None
        span = tree_span(tree, file.path)
        family, rest = _locate(names, 2, span)
        table = self._table(family, rest[0], span)
        if verb in (None, "add", "create"):
            model = table.sets.setdefault(rest[1], SetModel(rest[1], kind, span))
            if block is not None:
                self._set_body(block.children[0], model, file, Scope(scope))
        elif verb in ("delete", "destroy"):
            table.sets.pop(rest[1], None)
        elif verb == "flush" and rest[1] in table.sets:
            table.sets[rest[1]].elements.clear()

    def _cmd_element_cmd(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb, names, _ = _command_parts(tree)
        span = tree_span(tree, file.path)
        family, rest = _locate(names, 2, span)
        table = self._table(family, rest[0], span)
        model = table.sets.get(rest[1])
        if model is None:
            raise ParseError(f"set not found ({family} {rest[0]} {rest[1]})", span)
        brace = to_items([tree.children[-1]], file.path)
        elements = split_commas(expand(brace, scope)[0].children)
        if verb in (None, "add", "create"):
            model.elements.extend(elements)
        elif verb in ("delete", "destroy"):
            removed = {render(element) for element in elements}
            model.elements = [e for e in model.elements if render(e) not in removed]

    def _cmd_rule_cmd(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb = _verb(tree.children[0]) or "add"
        items = to_items(tree.children[1:], file.path)
        span = tree_span(tree, file.path)
        family, table_name, chain_name, position, index = _rule_location(items, span)

        if verb in ("delete", "destroy", "replace"):
            self._warn_handle("rule", verb, span)
            return
        if verb == "reset":
            return

        table = self._table(family, table_name, span)
        chain = table.chains.get(chain_name)
        if chain is None:
            raise ParseError(
                f"chain not found ({family} {table_name} {chain_name})", span
            )
        statements = items[index:]
        if not statements:
            raise ParseError("rule has no statements", span)

        text = normalise_text(file.source.text[statements[0].start : tree.meta.end_pos])
        rule = RuleSource(expand(statements, scope), span, text)
        self._place_rule(chain, rule, verb, position, span)

    def _cmd_ruleset_cmd(self, tree: Tree, file: _File, scope: Scope) -> None:
        verb = _verb(tree.children[0])
        if verb != "flush":
            return
        names = [unquote(str(t)) for t in tree.children[1:] if isinstance(t, Token)]
        family = names[0] if names else None
        if family is None:
            self.flush_span = tree_span(tree, file.path)
        for key in list(self.tables):
            if family is None or key[0] == family:
                del self.tables[key]

    # -- blocks -------------------------------------------------------------------

    def _table_body(
        self, body: Tree, table: TableModel, file: _File, scope: Scope
    ) -> None:
        for item in body.children:
            if not isinstance(item, Tree):
                continue
            if item.data == "chain":
                name = unquote(str(item.children[0]))
                chain = self._ensure_chain(table, name, tree_span(item, file.path))
                block = item.children[1]
                self._chain_body(block.children[0], table, chain, file, Scope(scope))
            elif item.data == "set":
                kind = str(item.children[0].children[0])
                name = unquote(str(item.children[1]))
                span = tree_span(item, file.path)
                model = table.sets.setdefault(name, SetModel(name, kind, span))
                self._set_body(item.children[2].children[0], model, file, Scope(scope))
            elif item.data == "table_flags":
                flags = {
                    unquote(str(t))
                    for t in item.children
                    if isinstance(t, Token) and t.type != "COMMA"
                }
                table.dormant = "dormant" in flags
            elif item.data in ("define", "undefine", "include"):
                self._common(item, file, scope, "table_start", table=table)

    def _chain_body(
        self,
        body: Tree,
        table: TableModel,
        chain: ChainModel,
        file: _File,
        scope: Scope,
    ) -> None:
        for item in body.children:
            if not isinstance(item, Tree):
                continue
            span = tree_span(item, file.path)
            if item.data == "rule":
                items = to_items(item.children, file.path)
                text = normalise_text(
                    file.source.text[item.meta.start_pos : item.meta.end_pos]
                )
                chain.rules.append(RuleSource(expand(items, scope), span, text))
            elif item.data == "hook_spec":
                chain.hook = self._hook(item, table, file, scope)
            elif item.data == "policy_spec":
                value = expand(to_items(item.children, file.path), scope)
                chain.policy = (_single_word(value, "policy", span), span)
            elif item.data in ("define", "undefine", "include"):
                self._common(item, file, scope, "chain_start", table=table, chain=chain)

    def _set_body(self, body: Tree, model: SetModel, file: _File, scope: Scope) -> None:
        for item in body.children:
            if not isinstance(item, Tree):
                continue
            span = tree_span(item, file.path)
            if item.data == "set_elements":
                value = expand(to_items(item.children, file.path), scope)
                if len(value) != 1 or value[0].kind != "brace":
                    raise ParseError("set elements must be a { } list", span)
                model.elements.extend(split_commas(value[0].children))
            elif item.data == "set_property":
                name = unquote(str(item.children[0]))
                value = expand(to_items(item.children[1:], file.path), scope)
                model.properties[name] = value
                if name == "flags":
                    model.flags |= {v.text for v in value if v.kind == "word"}
            elif item.data in ("define", "undefine"):
                self._common(item, file, scope, "start")
            elif item.data == "include":
                raise ParseError("include inside a set block is not supported", span)

    def _hook(
        self, tree: Tree, table: TableModel, file: _File, scope: Scope
    ) -> HookDecl:
        chain_type, hook = str(tree.children[0]), str(tree.children[1])
        priority_tree = tree.children[3]
        terms = expand(to_items(priority_tree.children, file.path), scope)
        span = tree_span(tree, file.path)
        names = BRIDGE_PRIORITIES if table.family == "bridge" else PRIORITIES
        words = [t.text for t in terms]
        value = _priority_value(words[0], names, span)
        operators = [c for c in priority_tree.children if isinstance(c, Tree)]
        if operators:
            operator = str(operators[0].children[0])
            offset = _priority_value(words[-1], {}, span)
            value = value + offset if operator == "+" else value - offset
        return HookDecl(chain_type, hook, value, span)

    # -- includes -----------------------------------------------------------------

    def _include(
        self,
        tree: Tree,
        file: _File,
        scope: Scope,
        start: str,
        table: TableModel | None = None,
        chain: ChainModel | None = None,
    ) -> None:
        span = tree_span(tree, file.path)
        pattern = unquote(str(tree.children[0]))
        target = Path(pattern)
        if not target.is_absolute():
            # seglint resolves a relative include from the including file's
            # folder; nft itself searches its include path (-I, default /etc).
            target = file.source.location.parent / target
        if _GLOB_CHARS.search(str(target.parent)):
            raise ParseError(
                f"include wildcards are supported in the file name only ({pattern})",
                span,
            )
        if not self.files.inside(
            target.parent if _GLOB_CHARS.search(target.name) else target
        ):
            raise ParseError(
                f"include outside the checked tree is not read ({pattern}); "
                "check a folder that contains the included file",
                span,
            )
        if _GLOB_CHARS.search(target.name):
            # As in nft, a wildcard that matches nothing is not an error and
            # files whose name starts with a dot are skipped.
            matches = [
                path
                for path in self.files.glob(target.parent, target.name)
                if not path.name.startswith(".")
            ]
            if not matches:
                self.diagnostics.append(
                    Diagnostic(
                        "SEG902", f"include matches no file ({pattern})", span, "note"
                    )
                )
        else:
            if not target.is_file():
                raise ParseError(f"include file not found ({pattern})", span)
            matches = [target]
        for path in matches:
            self._include_file(path, span, scope, start, table, chain)

    def _include_file(
        self,
        path: Path,
        span: Span,
        scope: Scope,
        start: str,
        table: TableModel | None,
        chain: ChainModel | None,
    ) -> None:
        resolved = path.resolve()
        if resolved in self._includes:
            raise ParseError(f"include loop ({path.name} is already being read)", span)
        if len(self._includes) > MAX_INCLUDE_DEPTH:
            raise ParseError(
                f"includes nested too deep (more than {MAX_INCLUDE_DEPTH})", span
            )
        source = self.files.read(path, span)
        tree = parse_tree(source.text, source.path, start)
        included = _File(source)
        self._includes.append(resolved)
        try:
            if start == "start":
                self._top_level(tree, included, scope)
            elif start == "table_start" and table is not None:
                self._table_body(tree.children[0], table, included, scope)
            elif chain is not None and table is not None:
                self._chain_body(tree.children[0], table, chain, included, scope)
        finally:
            self._includes.pop()

    # -- helpers --------------------------------------------------------------------

    def _ensure_table(self, family: str, name: str, span: Span) -> TableModel:
        key = (family, name)
        if key not in self.tables:
            self.tables[key] = TableModel(family, name, span, next(self._order))
        return self.tables[key]

    def _table(self, family: str, name: str, span: Span) -> TableModel:
        table = self.tables.get((family, name))
        if table is None:
            raise ParseError(
                f"table not found ({family} {name}); add the table first", span
            )
        return table

    def _ensure_chain(self, table: TableModel, name: str, span: Span) -> ChainModel:
        if name not in table.chains:
            table.chains[name] = ChainModel(name, span, next(self._order))
        return table.chains[name]

    def _place_rule(
        self,
        chain: ChainModel,
        rule: RuleSource,
        verb: str,
        position: tuple[str, str] | None,
        span: Span,
    ) -> None:
        if position is None:
            if verb == "insert":
                chain.rules.insert(0, rule)
            else:
                chain.rules.append(rule)
            return
        kind, number = position
        if kind == "index" and number.isdigit():
            # add puts the rule after the rule at that index, insert before it.
            index = int(number) + (1 if verb == "add" else 0)
            chain.rules.insert(min(index, len(chain.rules)), rule)
            return
        self.diagnostics.append(
            Diagnostic(
                "SEG902",
                f"rule {kind} is not in the file, so the rule is placed at the "
                f"{'end' if verb == 'add' else 'start'} of the chain ({kind} {number})",
                span,
            )
        )
        if verb == "insert":
            chain.rules.insert(0, rule)
        else:
            chain.rules.append(rule)

    def _warn_handle(self, kind: str, verb: str, span: Span) -> None:
        self.diagnostics.append(
            Diagnostic(
                "SEG902",
                f"{verb} {kind} by handle is not applied: handles are not in the file "
                f"({verb} {kind})",
                span,
            )
        )


# --- command helpers ---------------------------------------------------------


def _verb(node: Tree | None) -> str | None:
    if node is None:
        return None
    return str(node.children[0])


def _command_parts(tree: Tree) -> tuple[str | None, list[str], Tree | None]:
    """Split a table/chain/element command into verb, names and block."""
    verb = _verb(tree.children[0])
    names = [unquote(str(t)) for t in tree.children[1:] if isinstance(t, Token)]
    last = tree.children[-1]
    block = last if isinstance(last, Tree) else None
    return verb, names, block


def _locate(names: list[str], count: int, span: Span) -> tuple[str, list[str]]:
    """Split ``[family] name...`` into the family and ``count`` names."""
    if len(names) == count + 1 and names[0] in FAMILIES:
        return names[0], names[1:]
    if len(names) == count:
        return DEFAULT_FAMILY, names
    expected = " ".join(["[family]"] + ["name"] * count)
    raise ParseError(f"expected {expected} (got {' '.join(names) or 'nothing'})", span)


def _rule_location(
    items: tuple[Item, ...], span: Span
) -> tuple[str, str, str, tuple[str, str] | None, int]:
    """Split ``[family] table chain [handle|index|position N]`` off a rule command.

    Return the family, table, chain, position and the index of the first
    statement.
    """
    words = [unquote(item.text) for item in items]
    index = 1 if words and words[0] in FAMILIES and len(words) > 2 else 0
    family = words[0] if index else DEFAULT_FAMILY
    if len(words) < index + 2:
        raise ParseError("expected [family] table chain after 'rule'", span)
    table_name, chain_name = words[index], words[index + 1]
    index += 2
    position: tuple[str, str] | None = None
    if len(words) > index + 1 and words[index] in ("handle", "index", "position"):
        position = (words[index], words[index + 1])
        index += 2
    return family, table_name, chain_name, position, index


def _single_word(items: tuple[Item, ...], field_name: str, span: Span) -> str:
    if len(items) != 1 or items[0].kind not in ("word", "string"):
        raise ParseError(f"invalid {field_name} ({render(items)})", span)
    return unquote(items[0].text)


def _priority_value(text: str, names: dict[str, int], span: Span) -> int:
    if text in names:
        return names[text]
    try:
        return int(text, 0)
    except ValueError:
        try:
            return int(text, 10)
        except ValueError:
            raise ParseError(f"unknown chain priority ({text})", span) from None
