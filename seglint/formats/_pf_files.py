"""The files a pf.conf names: ``include``, ``load anchor ... from`` and table ``file``.

A relative path is taken relative to the folder of the file that names it
(pfctl itself resolves it from its working directory, usually ``/`` or
``/etc``). A path that leaves the checked tree is a parse error at the
naming line. An absolute path names the file on the firewall: it is read
when it lies inside the checked tree, and otherwise the folder of the
naming file is searched for a copy. A copy has the same file name, or is the
one file whose name contains the name without its extension and ends with
the same extension, as ``fwbuilder-firewall51-web.anchor.conf`` does for
``/etc/fw/firewall51-web.conf``. When no copy is found the content is
unknown: a SEG902 warning, and the caller models what it would have
contained as unknown.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from seglint.formats.base import FileAccess, SourceFile
from seglint.ir import Diagnostic, ParseError, Span

logger = logging.getLogger(__name__)


@dataclass
class Lookup:
    """A referenced file, or None when its content is unknown, and what to report."""

    source: SourceFile | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def find_file(
    name: str, referrer: SourceFile, files: FileAccess, span: Span, kind: str
) -> Lookup:
    """Read the file ``name`` that ``referrer`` names at ``span``.

    ``kind`` names the kind of file in messages ("anchor file"). Raises
    ParseError for a path outside the checked tree.
    """
    path = Path(name)
    folder = referrer.location.parent
    if not path.is_absolute():
        location = folder / path
        if not files.inside(location):
            raise ParseError(
                f"{kind} is outside the checked tree ({name}); seglint reads only "
                f"files below {files.root}",
                span,
            )
        if not location.is_file():
            return Lookup(
                None,
                [
                    Diagnostic(
                        "SEG902",
                        f"{kind} not found ({name}); its content is unknown",
                        span,
                    )
                ],
            )
        return Lookup(files.read(location, span))
    if files.inside(path):
        if path.is_file():
            return Lookup(files.read(path, span))
        return Lookup(
            None,
            [
                Diagnostic(
                    "SEG902", f"{kind} not found ({name}); its content is unknown", span
                )
            ],
        )

    copies = _copies(folder, path.name, referrer, files)
    if len(copies) == 1:
        source = files.read(copies[0], span)
        note = Diagnostic(
            "SEG902",
            f"{kind} {name} is outside the checked tree; read its copy beside "
            f"{referrer.path} ({source.path})",
            span,
            "note",
        )
        return Lookup(source, [note])
    if copies:
        names = ", ".join(p.name for p in copies)
        message = (
            f"{kind} {name} is outside the checked tree and several files "
            f"beside {referrer.path} could be its copy ({names}); its content "
            "is unknown"
        )
    else:
        message = (
            f"{kind} {name} is outside the checked tree and no copy of it is "
            f"beside {referrer.path}; its content is unknown"
        )
    return Lookup(None, [Diagnostic("SEG902", message, span)])


def _copies(
    folder: Path, base: str, referrer: SourceFile, files: FileAccess
) -> list[Path]:
    siblings = [
        p for p in files.glob(folder, "*") if p.resolve() != referrer.location.resolve()
    ]
    same = [p for p in siblings if p.name == base]
    if same:
        return same
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    pattern = re.compile(r"(^|[-._])" + re.escape(stem) + r"([-._]|$)")
    suffix = "." + extension if extension else ""
    return [p for p in siblings if p.name.endswith(suffix) and pattern.search(p.name)]


def table_file_entries(source: SourceFile) -> list[tuple[str, bool, Span]]:
    """Return the entries of a table file: (address, negated, span) in file order.

    pfctl reads such a file as addresses separated by blanks or newlines,
    with ``#`` comments; ``!`` before an address excludes it.
    """
    entries: list[tuple[str, bool, Span]] = []
    for number, line in enumerate(source.text.splitlines(), start=1):
        content = line.split("#", 1)[0]
        for found in re.finditer(r"(!\s*)?([^\s!]+)", content):
            span = Span(source.path, number, found.start() + 1, number, found.end())
            entries.append((found.group(2), found.group(1) is not None, span))
    return entries
