"""Text output: finding lines, witness and trace, notes, summary, quiet, colour."""

from __future__ import annotations

import io
from pathlib import Path

from seglint.findings import Finding, Packet, RuleMeta, Step
from seglint.ir import Diagnostic, Span
from seglint.report import RunReport, TextFormatter
from seglint.report.text import summary

RULES = [
    RuleMeta("SEG109", "sql-blocked", "error", "sql blocked", "tcp/1433 blocked"),
    RuleMeta("SEG206", "console-exposed", "warning", "console exposed", "tcp/443"),
    RuleMeta("SEG208", "unneeded-port-exposed", "note", "port exposed", "any port"),
    RuleMeta("SEG901", "parse-error", "error", "parse error", "file not parsed"),
]


def finding(
    rule_id: str = "SEG109",
    path: str = "rules/am.rules",
    line: int = 12,
    **changes: object,
) -> Finding:
    meta = next(meta for meta in RULES if meta.id == rule_id)
    fields: dict[str, object] = {
        "rule_id": rule_id,
        "name": meta.name,
        "level": meta.level,
        "message": f"{meta.name} at line {line}",
        "span": Span(path, line, 1, line, 30),
    }
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


def render(findings: list[Finding], **options: bool) -> list[str]:
    return render_report(report(findings), **options)


def report(
    findings: list[Finding],
    diagnostics: list[Diagnostic] | None = None,
    notes: list[str] | None = None,
    files_checked: int = 4,
) -> RunReport:
    return RunReport(
        findings=findings,
        diagnostics=diagnostics or [],
        rules=RULES,
        root=Path("."),
        files_checked=files_checked,
        notes=notes or [],
        tool_version="0.1.0",
        execution_successful=not diagnostics,
    )


def render_report(run: RunReport, **options: bool) -> list[str]:
    stream = io.StringIO()
    TextFormatter().render(run, stream, **options)
    return stream.getvalue().splitlines()


def test_finding_line_witness_and_trace() -> None:
    witness = Packet(6, "10.0.0.10", "10.0.0.20", 40000, 1433)
    trace = (
        Step(Span("rules/am.rules", 3), "jump OUT_FILTER"),
        Step(Span("rules/am.rules", 12), "chain OUTPUT policy DROP"),
    )
    message = "tcp/1433 from array-manager to sql-server is dropped (policy DROP)"
    lines = render([finding(message=message, witness=witness, trace=trace)])
    assert lines[0] == f"rules/am.rules:12:1: error SEG109 sql-blocked: {message}"
    assert lines[1] == "  witness: tcp 10.0.0.10:40000 -> 10.0.0.20:1433"
    assert lines[2] == "  decided by: jump OUT_FILTER -> chain OUTPUT policy DROP"
    assert len(lines) == 4


def test_no_trace_line_without_steps() -> None:
    lines = render([finding(witness=Packet(6, "10.0.0.10", "10.0.0.20", 40000, 1433))])
    assert lines[1].startswith("  witness: ")
    assert not lines[2].startswith("  decided by")


def test_grouped_by_file_sorted_by_line() -> None:
    findings = [
        finding(path="b.rules", line=9),
        finding(path="a.rules", line=30),
        finding(path="b.rules", line=2),
        finding(path="a.rules", line=4),
    ]
    locations = [line.split(": ")[0] for line in render(findings)[:-1]]
    assert locations == ["a.rules:4:1", "a.rules:30:1", "b.rules:2:1", "b.rules:9:1"]


def test_suppressed_not_printed_but_counted() -> None:
    findings = [
        finding(line=1),
        finding("SEG206", line=2),
        finding(line=3, suppression="accepted by the mail team"),
    ]
    lines = render(findings)
    assert [line.split(":")[1] for line in lines[:-1]] == ["1", "2"]
    assert (
        lines[-1] == "2 findings (1 error, 1 warning, 0 notes) in 4 files, 1 suppressed"
    )


def test_summary_counts_levels() -> None:
    findings = [finding(line=1), finding(line=2), finding("SEG206", line=3)]
    findings.append(finding(line=4, suppression=""))
    assert summary(report(findings)) == (
        "3 findings (2 errors, 1 warning, 0 notes) in 4 files, 1 suppressed"
    )


def test_summary_without_findings() -> None:
    assert summary(report([], files_checked=1)) == "no findings in 1 file"


def test_summary_counts_tool_errors() -> None:
    diagnostics = [
        Diagnostic("SEG901", "unexpected token", Span("x.rules", 3, 7), "error"),
        Diagnostic("SEG903", "unknown role (sql)", Span("seglint.yaml", 2, 3), "error"),
    ]
    text = summary(report([finding("SEG206")], diagnostics, files_checked=2))
    assert text == (
        "1 finding (0 errors, 1 warning, 0 notes) in 2 files, 1 parse error, "
        "1 config error"
    )


def test_diagnostics_printed_in_file_group() -> None:
    diagnostics = [
        Diagnostic("SEG901", "unexpected token ('}')", Span("a.rules", 5, 7), "error"),
        Diagnostic(
            "SEG903", "unknown key (rolez)", Span("seglint.yaml", 4, 1), "error"
        ),
    ]
    run = report([finding(path="a.rules", line=9)], diagnostics)
    lines = render_report(run)
    assert lines[0] == "a.rules:5:7: error SEG901 parse-error: unexpected token ('}')"
    assert lines[1] == "a.rules:9:1: error SEG109 sql-blocked: sql-blocked at line 9"
    assert (
        lines[2] == "seglint.yaml:4:1: error SEG903 config-error: unknown key (rolez)"
    )


def test_tool_error_shown_as_error() -> None:
    diagnostic = Diagnostic("SEG901", "bad input", Span("a.rules", 1), "warning")
    lines = render_report(report([], [diagnostic]))
    assert lines[0] == "a.rules:1:1: error SEG901 parse-error: bad input"


def test_notes_printed_once() -> None:
    note = "required flows skipped: no roles configured"
    lines = render_report(report([finding(line=1), finding(line=2)], notes=[note]))
    assert lines.count(f"note: {note}") == 1
    assert lines[-2] == f"note: {note}"


def test_quiet_hides_notes_and_witness() -> None:
    witness = Packet(6, "203.0.113.5", "10.0.0.10", 40000, 443)
    findings = [
        finding("SEG206", line=1, witness=witness),
        finding("SEG208", line=2, witness=witness),
    ]
    run = report(findings, notes=["required flows skipped: no roles configured"])
    lines = render_report(run, quiet=True)
    expected = (
        "rules/am.rules:1:1: warning SEG206 console-exposed: console-exposed at line 1"
    )
    assert lines == [expected]


def test_quiet_keeps_parse_errors() -> None:
    diagnostic = Diagnostic("SEG901", "bad input", Span("a.rules", 2, 4), "error")
    lines = render_report(report([], [diagnostic]), quiet=True)
    assert lines == ["a.rules:2:4: error SEG901 parse-error: bad input"]


def test_no_colour_by_default() -> None:
    text = "\n".join(render([finding()]))
    assert "\x1b[" not in text


def test_colour_when_asked() -> None:
    lines = render([finding()], color=True)
    assert lines[0].startswith("\x1b[1mrules/am.rules:12:1:\x1b[0m ")
    assert "\x1b[31merror\x1b[0m SEG109 sql-blocked" in lines[0]


def test_control_characters_in_path_escaped() -> None:
    from seglint.report.base import printable

    assert printable("a\x1b[2Jb.rules") == "a\\x1b[2Jb.rules"
    assert printable("line\nbreak") == "line\\x0abreak"
    assert printable("rule \u202egnp.exe") == "rule \\u202egnp.exe"
    assert printable("plain -A INPUT") == "plain -A INPUT"
