"""GitHub workflow commands: annotation lines and their escaping."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from seglint.findings import Finding
from seglint.ir import Diagnostic, Span
from seglint.report import GithubFormatter, RunReport
from seglint.report.github import escape_data, escape_property

MESSAGE = (
    "tcp/1433 from array-manager to sql-server is dropped (chain OUTPUT policy DROP)"
)


def finding(**changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "rule_id": "SEG109",
        "name": "sql-blocked",
        "level": "error",
        "message": MESSAGE,
        "span": Span("rules/am.rules", 12, 1, 12, 24),
    }
    fields.update(changes)
    return Finding(**fields)


def render(
    findings: list[Finding],
    diagnostics: list[Diagnostic] | None = None,
    notes: list[str] | None = None,
) -> list[str]:
    run = RunReport(
        findings=findings,
        diagnostics=diagnostics or [],
        rules=[],
        root=Path("."),
        files_checked=1,
        notes=notes or [],
        tool_version="0.1.0",
        execution_successful=not diagnostics,
    )
    stream = io.StringIO()
    GithubFormatter().render(run, stream)
    return stream.getvalue().splitlines()


def test_error_command() -> None:
    assert render([finding()]) == [
        "::error file=rules/am.rules,line=12,col=1,endLine=12,endColumn=24,"
        f"title=SEG109 sql-blocked::{MESSAGE}"
    ]


def test_levels_map_to_commands() -> None:
    cases = [("error", "::error "), ("warning", "::warning "), ("note", "::notice ")]
    for level, prefix in cases:
        [line] = render([finding(level=level)])
        assert line.startswith(prefix), level


def test_multiline_span_has_no_columns() -> None:
    [line] = render([finding(span=Span("main.tf", 4, 3, 11, 1))])
    assert line.startswith(
        "::error file=main.tf,line=4,endLine=11,title=SEG109 sql-blocked::"
    )


def test_message_escaped() -> None:
    [line] = render([finding(message="100% of ports\r\nopen (a:b, c)")])
    assert line.endswith("::100%25 of ports%0D%0Aopen (a:b, c)")


def test_properties_escaped() -> None:
    [line] = render([finding(span=Span("dir,x/a:b%.rules", 2, 1, 2, 5))])
    assert line.startswith("::error file=dir%2Cx/a%3Ab%25.rules,line=2,")


def test_escape_functions() -> None:
    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


def test_suppressed_left_out() -> None:
    assert render([finding(suppression="reviewed")]) == []


def test_parse_error_command() -> None:
    diagnostic = Diagnostic(
        "SEG901", "unexpected token ('}')", Span("a.nft", 5, 7), "error"
    )
    assert render([], [diagnostic]) == [
        "::error file=a.nft,line=5,col=7,endLine=5,endColumn=7,"
        "title=SEG901 parse-error::unexpected token ('}')"
    ]


def test_note_becomes_notice() -> None:
    lines = render([], notes=["required flows skipped: no roles configured"])
    assert lines == [
        "::notice title=seglint::required flows skipped: no roles configured"
    ]
