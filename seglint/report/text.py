"""Text output for people: one line per finding, grouped by file, and a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from seglint.findings import Finding
from seglint.ir import Diagnostic, Span
from seglint.report.base import (
    RunReport,
    at_least,
    diagnostic_level,
    printable,
    rule_name,
    sorted_diagnostics,
    sorted_findings,
)

# ANSI SGR codes, used only when the CLI requests colour (on a terminal).
_RESET = "\x1b[0m"
_BOLD = "1"
_DIM = "2"
_LEVEL_COLORS = {"error": "31", "warning": "33", "note": "36", "none": "2"}


@dataclass(frozen=True)
class _Entry:
    """A finding or a diagnostic, placed in its file's group."""

    span: Span
    level: str
    rule_id: str
    name: str
    message: str
    details: tuple[str, ...]  # witness and trace lines, without indentation

    def sort_key(self) -> tuple[int, int, str]:
        return (self.span.line, self.span.column, self.rule_id)


class TextFormatter:
    """``path:line:col: level SEG109 sql-blocked: message`` lines and a summary."""

    name = "text"

    def render(
        self,
        report: RunReport,
        stream: TextIO,
        *,
        color: bool = False,
        quiet: bool = False,
    ) -> None:
        paint = _painter(color)
        entries = _entries(report)
        if quiet:
            entries = [entry for entry in entries if at_least(entry.level, "warning")]

        for entry in _grouped(entries):
            location = paint(printable(f"{entry.span}:"), _BOLD)
            level = paint(entry.level, _LEVEL_COLORS.get(entry.level, ""))
            head = f"{entry.rule_id} {entry.name}" if entry.name else entry.rule_id
            stream.write(f"{location} {level} {head}: {printable(entry.message)}\n")
            if not quiet:
                for detail in entry.details:
                    stream.write(paint(f"  {printable(detail)}", _DIM) + "\n")

        if quiet:
            return
        for note in report.notes:
            stream.write(f"note: {printable(note)}\n")
        stream.write(paint(summary(report), _BOLD) + "\n")


def summary(report: RunReport) -> str:
    """Return the last line of a text report, e.g. ``2 findings (...) in 3 files``."""
    unsuppressed = [item for item in report.findings if item.suppression is None]
    levels = Counter(finding.level for finding in unsuppressed)
    files = _count(report.files_checked, "file")

    if unsuppressed:
        counts = ", ".join(
            _count(levels[level], level) for level in ("error", "warning", "note")
        )
        text = f"{_count(len(unsuppressed), 'finding')} ({counts}) in {files}"
    else:
        text = f"no findings in {files}"

    suppressed = len(report.findings) - len(unsuppressed)
    if suppressed:
        text += f", {suppressed} suppressed"
    tool_errors = Counter(diagnostic.rule_id for diagnostic in report.diagnostics)
    if tool_errors["SEG901"]:
        text += f", {_count(tool_errors['SEG901'], 'parse error')}"
    if tool_errors["SEG903"]:
        text += f", {_count(tool_errors['SEG903'], 'config error')}"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _entries(report: RunReport) -> list[_Entry]:
    entries = [
        _finding_entry(finding)
        for finding in sorted_findings(report.findings)
        if finding.suppression is None
    ]
    entries += [
        _diagnostic_entry(diagnostic, rule_name(report.rules, diagnostic.rule_id))
        for diagnostic in sorted_diagnostics(report.diagnostics)
    ]
    return entries


def _finding_entry(finding: Finding) -> _Entry:
    details: list[str] = []
    if finding.witness is not None:
        details.append(f"witness: {finding.witness}")
    if finding.trace:
        steps = " -> ".join(step.message for step in finding.trace)
        details.append(f"decided by: {steps}")
    return _Entry(
        span=finding.span,
        level=finding.level,
        rule_id=finding.rule_id,
        name=finding.name,
        message=finding.message,
        details=tuple(details),
    )


def _diagnostic_entry(diagnostic: Diagnostic, name: str) -> _Entry:
    return _Entry(
        span=diagnostic.span,
        level=diagnostic_level(diagnostic),
        rule_id=diagnostic.rule_id,
        name=name,
        message=diagnostic.message,
        details=(),
    )


def _grouped(entries: list[_Entry]) -> list[_Entry]:
    """Order entries by file path, then by line and column within each file."""
    groups: dict[str, list[_Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.span.path, []).append(entry)
    ordered: list[_Entry] = []
    for path in sorted(groups):
        ordered += sorted(groups[path], key=_Entry.sort_key)
    return ordered


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(text: str, code: str) -> str:
        if not color or not code:
            return text
        return f"\x1b[{code}m{text}{_RESET}"

    return paint
