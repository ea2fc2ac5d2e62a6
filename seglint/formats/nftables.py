"""nftables: ``nft list ruleset`` output and ``nft -f`` files (``nftables.conf``).

Both the block syntax (``table inet filter { chain input { ... } }``) and
command lines (``add rule inet filter input tcp dport 22 accept``,
``insert rule``, ``flush chain``, ``delete table``, ...) are read, in file
order, with ``define`` variables and ``include`` of files inside the checked
tree (relative to the including file; wildcards in the file name). An
include outside the tree or of a missing file is a parse error at the
include line, because the rules it contains are unknown.

Evaluation model: every ``type filter`` base chain of an ``ip``, ``ip6`` or
``inet`` table is placed on the paths of the IR, sorted by priority and then
by file order. Packets to this host pass the inet ingress, prerouting and
input chains. Forwarded packets pass ingress, prerouting, forward and
postrouting. Packets from this host pass output and postrouting. A drop in
any base chain drops the packet and an accept ends only that chain, as in
the kernel. A base chain of an ``ip`` or ``ip6`` table sees only its family.
A base chain without ``policy`` accepts (an implicit policy at its ``type``
line). Chain names in the IR are ``<family> <table>/<chain>``.

Modelled matches: ``ip``/``ip6 saddr``/``daddr``, ``ip protocol``, ``ip6
nexthdr``, ``meta l4proto``, ``meta protocol``, ``meta nfproto``, ports of
tcp, udp, udplite, sctp, dccp and ``th``, ``iif``/``oif``/``iifname``/
``oifname`` (``"eth*"`` is a prefix), ``ct state``, ``icmp``/``icmpv6 type``
and ``code``; values as literals, service and protocol names, ranges,
prefixes, anonymous and named sets, concatenations (``a . b``) and verdict
maps, with ``!=`` and relational operators on ports.

Not modelled, kept as unknown conditions with a SEG902 warning so the checks
say "may": ``ct status``, ``tcp flags``, ``fib``, ``meta mark``/``pkttype``
and every other selector, bitwise masks, ``limit``, ``quota``, ``ct
count``, meters, set updates with a limit, named sets with ``flags
dynamic``/``timeout``, sets that rules add to and sets with no elements in
the file, host names (resolved by nft at load time), service names seglint
does not know, ``queue`` (a userspace program decides) and anonymous chains.
``notrack`` gets a warning: later ``ct state`` matches see untracked packets.
Ignored with a note: ``arp``, ``bridge`` and ``netdev`` tables, ``nat`` and
``route`` chains, dormant tables. Rule handles are not in a file, so
``delete``/``replace rule ... handle N`` are not applied (warning).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Literal

from seglint.formats._nftables_names import HOOK_PATHS, IP_FAMILIES, KNOWN_HOOKS
from seglint.formats.base import FileAccess, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import (
    Action,
    Chain,
    Diagnostic,
    ParseError,
    ParseResult,
    Rule,
    Ruleset,
)

# The parser, its grammar and the rule reader are imported when an nftables
# file is parsed: detect() runs on every file of every run and needs none.
if TYPE_CHECKING:
    from seglint.formats._nftables_match import TableContext
    from seglint.formats._nftables_model import ChainModel, HookDecl, Model, TableModel
    from seglint.formats._nftables_syntax import Item

logger = logging.getLogger(__name__)

FORMAT_ID = "nftables"

_CERTAIN = re.compile(
    r"^[ \t]*(?:#!\S*/nft\b"
    r"|table[ \t]+(?:ip|ip6|inet|arp|bridge|netdev)[ \t]+\S+[ \t]*\{"
    r"|(?:add|insert)[ \t]+rule[ \t])",
    re.MULTILINE,
)
_POSSIBLE = re.compile(
    r"^[ \t]*(?:flush[ \t]+ruleset\b|table[ \t]+[A-Za-z_][\w.-]*[ \t]*\{"
    r"|define[ \t]+\w+[ \t]*=)|\btype[ \t]+filter[ \t]+hook[ \t]",
    re.MULTILINE,
)


class NftablesFormat:
    id = FORMAT_ID
    patterns: tuple[str, ...] = (
        "*.nft",
        "nftables.conf",
        "*.nftables.conf",
        "*.nftables",
    )

    def detect(self, path: str, head: str) -> int:
        if _CERTAIN.search(head):
            return 2
        if _POSSIBLE.search(head):
            return 1
        return 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        from seglint.formats._nftables_load import Loader

        model = Loader(files).load(source)
        return ParseResult((build_ruleset(source.path, model),))


def build_ruleset(path: str, model: Model) -> Ruleset:
    """Turn the tables of a loaded file into one rule set."""
    diagnostics = list(model.diagnostics)
    chains: dict[str, Chain] = {}
    # hook -> (priority, declaration order, chain id) of its filter base chains
    stages: dict[str, list[tuple[int, int, str]]] = {}
    families: set[int] = set()

    for table in sorted(model.tables.values(), key=lambda t: t.order):
        if not _is_modelled(table, diagnostics):
            continue
        if _add_table(table, chains, stages, diagnostics):
            families |= IP_FAMILIES[table.family]

    hooks: dict[str, tuple[str, ...]] = {}
    for ir_hook, path_hooks in HOOK_PATHS.items():
        names: list[str] = []
        for stage in path_hooks:
            names.extend(chain_id for _, _, chain_id in sorted(stages.get(stage, [])))
        if names:
            hooks[ir_hook] = tuple(names)
        elif model.flush_span is not None and ir_hook in ("input", "output", "forward"):
            # After "flush ruleset" the file is the whole ruleset, and a hook
            # with no base chain accepts every packet in the kernel.
            chain_id = f"(no {ir_hook} chain)"
            policy = Rule(model.flush_span, (), Action("accept"), "flush ruleset",
                          label=f"no base chain on the {ir_hook} hook after flush ruleset")
            chains[chain_id] = Chain(chain_id, (), policy)
            hooks[ir_hook] = (chain_id,)
            families |= {4, 6}

    return Ruleset(
        path=path,
        format=FORMAT_ID,
        chains=chains,
        hooks=hooks,
        families=frozenset(families),
        kind=_kind(chains, stages),
        diagnostics=tuple(dict.fromkeys(diagnostics)),
    )


def _is_modelled(table: TableModel, diagnostics: list[Diagnostic]) -> bool:
    if table.family not in IP_FAMILIES:
        message = (
            f"{table.family} tables are not modelled, only ip, ip6 and inet "
            f"(table {table.family} {table.name})"
        )
    elif table.dormant:
        message = f"dormant table is not evaluated (table {table.family} {table.name})"
    else:
        return True
    diagnostics.append(Diagnostic("SEG902", message, table.span, "note"))
    return False


def _add_table(
    table: TableModel,
    chains: dict[str, Chain],
    stages: dict[str, list[tuple[int, int, str]]],
    diagnostics: list[Diagnostic],
) -> bool:
    """Add the chains of a table; return whether it has a filter base chain."""
    context = _context(table)
    skipped = _nat_only_chains(table)
    has_base = False
    for chain in sorted(table.chains.values(), key=lambda c: c.order):
        hook = chain.hook
        if hook is not None and hook.type != "filter":
            diagnostics.append(
                Diagnostic(
                    "SEG902",
                    f"{hook.type} chains are not modelled and their rules are not "
                    f"checked (chain {chain.name} type {hook.type} hook {hook.hook})",
                    hook.span,
                    "note",
                )
            )
            continue
        if chain.name in skipped:
            continue
        if hook is not None and hook.hook not in KNOWN_HOOKS:
            raise ParseError(f"unknown hook ({hook.hook})", hook.span)

        chain_id = context.chain_id(chain.name)
        rules = _read_rules(context, chain, diagnostics)
        policy = None
        if hook is not None:
            # NOTE: nft's oif and oifname never match in prerouting and
            # ingress chains (no route yet), nor iif and iifname in output
            # chains (no input device). The IR keeps such matches as written.
            policy = _policy_rule(chain, hook, chain_id)
            stages.setdefault(hook.hook, []).append(
                (hook.priority, chain.order, chain_id)
            )
            has_base = True
        chains[chain_id] = Chain(
            chain_id, tuple(rules), policy, IP_FAMILIES[table.family]
        )
    return has_base


def _nat_only_chains(table: TableModel) -> set[str]:
    """Return the regular chains that only nat or route base chains jump to.

    Their rules decide no filter verdict, so they are left out like the nat
    chains themselves. Targets of named verdict maps count as reachable
    from filter chains.
    """
    filter_roots: set[str] = set()
    other_roots: set[str] = set()
    for chain in table.chains.values():
        if chain.hook is not None:
            roots = filter_roots if chain.hook.type == "filter" else other_roots
            roots.add(chain.name)
    for model in table.sets.values():
        for element in model.elements:
            filter_roots.update(_jump_targets(element))
    return _reachable(table, other_roots) - _reachable(table, filter_roots)


def _reachable(table: TableModel, roots: set[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in table.chains:
            continue
        seen.add(name)
        for rule in table.chains[name].rules:
            pending.extend(_jump_targets(rule.items))
    return seen


def _jump_targets(items: tuple[Item, ...]) -> list[str]:
    """Return the chains that ``jump`` and ``goto`` name in ``items`` and its braces."""
    from seglint.formats._nftables_syntax import unquote

    targets: list[str] = []
    for index, item in enumerate(items):
        if item.kind in ("brace", "paren"):
            targets.extend(_jump_targets(item.children))
        elif (
            item.kind == "word"
            and item.text in ("jump", "goto")
            and index + 1 < len(items)
            and items[index + 1].kind in ("word", "string")
        ):
            targets.append(unquote(items[index + 1].text))
    return targets


def _context(table: TableModel) -> TableContext:
    from seglint.formats._nftables_match import TableContext
    from seglint.formats._nftables_values import Resolver

    label = f"{table.family} {table.name}"
    resolver = Resolver(table.sets, _dynamic_sets(table), label)
    return TableContext(
        table.family,
        table.name,
        IP_FAMILIES[table.family],
        frozenset(table.chains),
        resolver,
    )


def _dynamic_sets(table: TableModel) -> set[str]:
    """Return the sets whose elements change at run time."""
    dynamic = {
        name
        for name, model in table.sets.items()
        if {"dynamic", "timeout"} & model.flags or "timeout" in model.properties
    }
    # Rules that add, update or delete elements (add @name { ip saddr }).
    for chain in table.chains.values():
        for rule in chain.rules:
            items = rule.items
            for first, second in zip(items, items[1:], strict=False):
                if (
                    first.kind == "word"
                    and first.text in ("add", "update", "delete")
                    and second.kind == "setref"
                ):
                    dynamic.add(second.text[1:])
    return dynamic


def _read_rules(
    context: TableContext, chain: ChainModel, diagnostics: list[Diagnostic]
) -> list[Rule]:
    from seglint.formats._nftables_rule import RuleReader

    rules: list[Rule] = []
    for source in chain.rules:
        read, found = RuleReader(context, source).read()
        diagnostics.extend(found)
        for result in read:
            rules.append(
                Rule(
                    source.span,
                    result.conditions,
                    result.action,
                    source.text,
                    label=result.label,
                )
            )
    return rules


def _policy_rule(chain: ChainModel, hook: HookDecl, chain_id: str) -> Rule:
    if chain.policy is None:
        return Rule(
            hook.span,
            (),
            Action("accept"),
            f"{chain_id} policy accept",
            implicit=True,
            label=f"chain {chain.name} policy accept",
        )
    value, span = chain.policy
    if value == "accept":
        action = Action("accept")
    elif value == "drop":
        action = Action("drop")
    else:
        raise ParseError(f"invalid chain policy ({value}); use accept or drop", span)
    return Rule(
        span,
        (),
        action,
        f"{chain_id} policy {value}",
        label=f"chain {chain.name} policy {value}",
    )


def _kind(
    chains: dict[str, Chain], stages: dict[str, list[tuple[int, int, str]]]
) -> Literal["host", "network", "either"]:
    """Return host or network: a forward chain that can accept makes a router."""
    host = bool(stages.get("input") or stages.get("output"))
    forwarding = any(
        _can_accept(chain_id, chains, set())
        for _, _, chain_id in stages.get("forward", [])
    )
    if host and not forwarding:
        return "host"
    if forwarding and not host:
        return "network"
    return "either"


def _can_accept(chain_id: str, chains: dict[str, Chain], seen: set[str]) -> bool:
    if chain_id in seen or chain_id not in chains:
        return False
    seen.add(chain_id)
    chain = chains[chain_id]
    if chain.policy is not None and chain.policy.action.kind == "accept":
        return True
    for rule in chain.rules:
        if rule.action.kind == "accept":
            return True
        if rule.action.kind in ("jump", "goto") and _can_accept(
            rule.action.target, chains, seen
        ):
            return True
    return False


@hookimpl
def seglint_formats() -> list[NftablesFormat]:
    return [NftablesFormat()]
