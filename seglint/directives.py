"""Directive and suppression comments found in the raw text of rule files.

A directive in the first 20 lines ties a file to the deployment
(``# seglint: host=processing-nodes``, ``# seglint: zones=edge``). A
suppression (``# seglint: disable=SEG201 reason="..."``) on a rule's line or
the line above silences that rule there. The comment may start with ``#``,
``!`` (Cisco) or ``//``; only the text after ``seglint:`` matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIRECTIVE_LINES = 20
_COMMENT = r"(?:#|!|//|;|REM\b)"
_DIRECTIVE = re.compile(_COMMENT + r"\s*seglint:\s*(host|zones)\s*=\s*([\w.-]+)")
_DISABLE = re.compile(
    r"(?:" + _COMMENT + r"|/\*)\s*seglint:\s*disable\s*=\s*([A-Za-z0-9_,\s-]+?)"
    r"(?:\s+reason\s*=\s*\"([^\"]*)\")?\s*(?:\*/\s*)?$"
)
_ANY_SEGLINT = re.compile(r"(?:" + _COMMENT + r"|/\*)\s*seglint:")


@dataclass(frozen=True)
class Suppression:
    line: int
    column: int
    rule_ids: tuple[str, ...]
    reason: str


def directives(text: str) -> dict[str, tuple[str, int, int]]:
    """Return {key: (value, line, column)} from the first lines of a file."""
    found: dict[str, tuple[str, int, int]] = {}
    for number, line in enumerate(text.splitlines()[:DIRECTIVE_LINES], start=1):
        match = _DIRECTIVE.search(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = (match.group(2), number, match.start(2) + 1)
    return found


def suppressions(text: str) -> list[Suppression]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DISABLE.search(line)
        if not match:
            continue
        ids = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        out.append(Suppression(number, match.start() + 1, ids, match.group(2) or ""))
    return out


def malformed(text: str) -> list[tuple[int, int]]:
    """Return (line, column) of ``seglint:`` comments that are neither directive nor suppression.

    Such a comment looks like a suppression to its author but does nothing,
    so it is reported rather than ignored.
    """
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ANY_SEGLINT.search(line)
        if match is None or _DISABLE.search(line) or _DIRECTIVE.search(line):
            continue
        out.append((number, match.start() + 1))
    return out
