"""GitHub Actions output: one workflow command per finding, shown as annotations."""

from __future__ import annotations

from typing import TextIO

from seglint.ir import Span
from seglint.report.base import (
    RunReport,
    diagnostic_level,
    rule_name,
    sorted_diagnostics,
    sorted_findings,
)

# Workflow command names by level. GitHub has no annotation for level "none",
# so such findings become notices.
_COMMANDS = {"error": "error", "warning": "warning", "note": "notice", "none": "notice"}


class GithubFormatter:
    """``::error file=...,line=...,title=SEG109 sql-blocked::message`` lines.

    Suppressed findings are left out. Run notes become ``::notice`` lines
    without a file.
    """

    name = "github"

    def render(
        self,
        report: RunReport,
        stream: TextIO,
        *,
        color: bool = False,
        quiet: bool = False,
    ) -> None:
        for finding in sorted_findings(report.findings):
            if finding.suppression is not None:
                continue
            title = f"{finding.rule_id} {finding.name}"
            stream.write(
                command(finding.level, finding.message, finding.span, title) + "\n"
            )

        for diagnostic in sorted_diagnostics(report.diagnostics):
            name = rule_name(report.rules, diagnostic.rule_id)
            title = f"{diagnostic.rule_id} {name}".rstrip()
            level = diagnostic_level(diagnostic)
            stream.write(
                command(level, diagnostic.message, diagnostic.span, title) + "\n"
            )

        for note in report.notes:
            stream.write(f"::notice title=seglint::{escape_data(note)}\n")


def command(level: str, message: str, span: Span, title: str) -> str:
    """Return one annotation command for a message at ``span``."""
    properties = [("file", span.path), ("line", str(span.line))]
    # GitHub accepts columns only for an annotation within one line.
    if span.end_line == span.line:
        properties += [
            ("col", str(span.column)),
            ("endLine", str(span.end_line)),
            ("endColumn", str(span.end_column)),
        ]
    else:
        properties.append(("endLine", str(span.end_line)))
    properties.append(("title", title))

    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{_COMMANDS[level]} {joined}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message as the GitHub Actions toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: the message escapes plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
