"""pf: the packet filter of OpenBSD and FreeBSD (``pf.conf``).

A pf.conf becomes one rule set with the hooks ``input`` (rules of direction
``in`` or none), ``output`` (``out`` or none) and ``forward`` (the ``in``
rules, then the ``out`` rules, as pf filters a routed packet once on each
interface). Within each chain pf's last-match order is turned into first
match: quick rules in file order, then the others in reverse file order,
then pf's default, which passes without keeping state. ``pass`` keeps state
unless the rule has ``no state``; ``block`` drops, or rejects with ``return``
(also through ``set block-policy return``).

Modelled exactly: macros (also nested and continued over lines), lists and
tables (negated entries, shorthand networks such as ``172.16/12``, ``file``
contents). Also ``in``/``out``, ``on`` with lists and ``!``, ``inet`` and
``inet6``, protocols, addresses and address ranges, ``port`` with all
operators, and ``icmp-type``/``icmp6-type`` with codes. Also ``set skip``
(not filtered, and treated as loopback), ``antispoof`` as pfctl expands it,
inline anchors and ``load anchor`` files, ``quick`` anchors, ``rdr pass``
and ``nat pass``.

Decisions that the file cannot settle:

* ``self`` matches every destination on the input path and every source
  on the output path, and nothing of a forwarded packet; a source ``self``
  on the input path (a destination on the output path) is unknown.
* An interface group (``egress``, ``lo``) is matched as that name: which
  interfaces belong to it is not in the file.
* ``flags S/SA``, pf's default, matches the first packet of every new TCP
  connection, which is what the checks ask about, so it adds no condition.
  NOTE: it also means a stateful pass rule does not match the replies of a
  connection that another rule passed without state; that is not modelled.
* A table's entries are those in the file; ``pfctl -t`` changes at run time
  are not seen. A table with no entries that is not ``const`` (such as
  ``<bruteforce>`` filled by ``overload``) is unknown.
* State options (``max-src-conn``, ``overload``, ...) are ignored.

Unknown conditions with a SEG902 warning, so the checks say "may": host and
interface names as addresses, ``(em0)``, ``em0:network``, ``no-route``,
``urpf-failed``, ``user``, ``group``, ``tagged``, ``os``, ``probability``,
``max-pkt-rate``, ``tos``, ``dscp``, ``prio``, ``received-on``, ``fragment``,
``once``, other ``flags``, the networks and addresses of an ``antispoof``
interface, ``binat pass``, anchors whose rules are not in the checked files,
and unreadable includes; ``ether`` rules get the warning only. Parsed and
ignored with a note: ``scrub``, ``match``, queues, translation rules and
anchors, ``route-to``/``reply-to`` and the ``*-to`` translation options.
Ignored without a note, as they do not change what a rule matches: ``log``,
``label``, ``tag`` (only ``tagged`` matches a tag), ``queue``, ``set prio``,
``rtable`` and normalisation options such as ``no-df``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from seglint.formats.base import FileAccess, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import Diagnostic, ParseError, ParseResult, Span

# The grammar, the statement model and the builder are imported when a pf
# file is parsed: detect() runs on every file of every run and needs none.
if TYPE_CHECKING:
    from seglint.formats._pf_build import Anchors
    from seglint.formats._pf_match import FileEntries
    from seglint.formats._pf_model import LoadAnchor, Statement, TableDef
    from seglint.formats._pf_prepass import Expanded

logger = logging.getLogger(__name__)

MAX_ANCHOR_FILES = 256
# Lines that only pf writes: a rule with its first keywords, or an option.
_CERTAIN = re.compile(
    r"^[ \t]*(?:(?:pass|block)(?:[ \t]+(?:in|out|quick|log|drop|return|all|on|inet6?"
    r"|proto|from|to)\b|[ \t]*$)|set[ \t]+(?:skip[ \t]+on|block-policy|"
    r"state-policy|ruleset-optimization|loginterface)\b|table[ \t]+<|antispoof[ \t]|"
    r"(?:rdr|nat|binat)-anchor[ \t]|load[ \t]+anchor[ \t]|anchor[ \t]+\")",
    re.MULTILINE,
)
_LIKELY = re.compile(r"^[ \t]*(?:scrub|anchor|match)[ \t]", re.MULTILINE)


def _new_anchors() -> Anchors:
    from seglint.formats._pf_build import Anchors

    return Anchors()


@dataclass
class _Loaded:
    """Everything read for one pf.conf: anchors, tables and what to report."""

    anchors: Anchors = field(default_factory=_new_anchors)
    table_files: dict[int, FileEntries | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    block_policy: str = "drop"
    files_read: int = 0
    loading: list[str] = field(default_factory=list)  # anchor files being read


class PfFormat:
    """The ``pf`` format: OpenBSD and FreeBSD pf.conf and anchor files."""

    id = "pf"
    patterns: tuple[str, ...] = (
        "pf.conf",
        "*.pf.conf",
        "pf.conf.*",
        "*.pf",
        "pf-*.conf",
    )

    def detect(self, path: str, head: str) -> int:
        if _CERTAIN.search(head):
            return 2
        return 1 if _LIKELY.search(head) else 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        from seglint.formats._pf_build import RulesetBuilder

        loaded = _Loaded()
        statements, expanded = _read(source, files, loaded, {})
        loaded.block_policy = _apply_block_policy(statements, "drop")
        _collect(statements, "", source, expanded, files, loaded)
        first = source.text.split("\n", 1)[0].rstrip("\r")
        builder = RulesetBuilder(
            source.path,
            Span(source.path, 1, 1, 1, max(len(first), 1)),
            loaded.anchors,
            loaded.table_files,
            loaded.block_policy,
        )
        for diagnostic in loaded.diagnostics:
            builder.report(diagnostic.message, diagnostic.span, diagnostic.level)
        ruleset = builder.build(tuple(statements))
        logger.debug(
            "%s: %d statements, %d anchors, %d files read",
            source.path,
            len(statements),
            len(loaded.anchors.contents),
            loaded.files_read,
        )
        return ParseResult((ruleset,))


def _read(
    source: SourceFile, files: FileAccess, loaded: _Loaded, macros: dict[str, str]
) -> tuple[list[Statement], Expanded]:
    """Pre-process and parse one file (pf.conf or an anchor file)."""
    from seglint.formats._pf_files import find_file
    from seglint.formats._pf_prepass import expand
    from seglint.formats._pf_tree import parse_statements

    def resolve_include(
        name: str, span: Span, referrer: SourceFile
    ) -> SourceFile | None:
        lookup = find_file(name, referrer, files, span, "included file")
        loaded.diagnostics.extend(lookup.diagnostics)
        return lookup.source

    expanded = expand(source, resolve_include, macros)
    loaded.files_read += 1
    return parse_statements(expanded), expanded


def _apply_block_policy(
    statements: list[Statement] | tuple[Statement, ...], policy: str
) -> str:
    """Give each ``block`` without drop or return the block-policy set above it."""
    from seglint.formats._pf_model import BlockPolicy, PfRule

    for statement in statements:
        if isinstance(statement, BlockPolicy):
            policy = statement.policy
        elif isinstance(statement, PfRule):
            if statement.action == "block" and not statement.block_mode:
                statement.block_mode = policy
            if statement.body:
                _apply_block_policy(statement.body, policy)
    return policy


def _collect(
    statements: list[Statement] | tuple[Statement, ...],
    anchor: str,
    source: SourceFile,
    expanded: Expanded,
    files: FileAccess,
    loaded: _Loaded,
) -> None:
    """Register the tables, inline anchors and loaded anchor files of ``anchor``."""
    from seglint.formats._pf_build import anchor_path
    from seglint.formats._pf_model import LoadAnchor, PfRule, TableDef

    sources = {clean.source.path: clean.source for clean in expanded.files}
    for statement in statements:
        if isinstance(statement, TableDef):
            loaded.anchors.tables.setdefault(anchor, {})[statement.name] = statement
            _read_table_files(
                statement, sources.get(statement.span.path, source), files, loaded
            )
        elif isinstance(statement, PfRule) and statement.body is not None:
            name = anchor_path(
                anchor, statement.anchor or f"_inline{statement.span.line}"
            )
            loaded.anchors.contents.setdefault(name, statement.body)
            _collect(statement.body, name, source, expanded, files, loaded)
        elif isinstance(statement, LoadAnchor):
            referrer = sources.get(statement.span.path, source)
            _load_anchor(statement, anchor, referrer, expanded, files, loaded)


def _load_anchor(
    statement: LoadAnchor,
    parent: str,
    referrer: SourceFile,
    expanded: Expanded,
    files: FileAccess,
    loaded: _Loaded,
) -> None:
    from seglint.formats._pf_build import anchor_path
    from seglint.formats._pf_files import find_file

    name = anchor_path(parent, statement.name)
    lookup = find_file(
        statement.path.text, referrer, files, statement.path.span, "anchor file"
    )
    loaded.diagnostics.extend(lookup.diagnostics)
    if lookup.source is None:
        return
    location = str(lookup.source.location.resolve())
    if location in loaded.loading or loaded.files_read >= MAX_ANCHOR_FILES:
        raise ParseError(
            f"anchor files load each other in a loop ({statement.path.text})"
            if location in loaded.loading
            else f"more than {MAX_ANCHOR_FILES} anchor files are loaded",
            statement.span,
        )
    loaded.loading.append(location)
    statements, anchor_expanded = _read(lookup.source, files, loaded, expanded.macros)
    _apply_block_policy(statements, loaded.block_policy)
    # A loaded file replaces the rules an inline block gave the anchor, as pfctl
    # loads the anchor files after the main ruleset.
    loaded.anchors.contents[name] = tuple(statements)
    _collect(statements, name, lookup.source, anchor_expanded, files, loaded)
    loaded.loading.pop()


def _read_table_files(
    table: TableDef, referrer: SourceFile, files: FileAccess, loaded: _Loaded
) -> None:
    from seglint.formats._pf_files import find_file, table_file_entries

    entries: FileEntries | None = []
    for word in table.files:
        lookup = find_file(word.text, referrer, files, word.span, "table file")
        loaded.diagnostics.extend(lookup.diagnostics)
        if lookup.source is None or entries is None:
            entries = None
            continue
        entries.extend(table_file_entries(lookup.source))
    loaded.table_files[id(table)] = entries


@hookimpl
def seglint_formats() -> list[PfFormat]:
    return [PfFormat()]
