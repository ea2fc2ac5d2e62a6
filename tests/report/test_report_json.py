"""JSON output: one object per finding with exact fields."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from seglint.findings import Finding, Packet, Step
from seglint.ir import Span
from seglint.report import JsonFormatter, RunReport

MESSAGE = (
    "tcp/1433 from array-manager to sql-server is dropped (chain OUTPUT policy DROP)"
)


def finding(line: int = 12, **changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "rule_id": "SEG109",
        "name": "sql-blocked",
        "level": "error",
        "message": MESSAGE,
        "span": Span("rules/am.rules", line, 1, line, 24),
        "identity": ("-P OUTPUT DROP", "tcp/1433"),
    }
    fields.update(changes)
    return Finding(**fields)


def render(findings: list[Finding]) -> list[dict[str, Any]]:
    run = RunReport(
        findings=findings,
        diagnostics=[],
        rules=[],
        root=Path("."),
        files_checked=1,
        notes=[],
        tool_version="0.1.0",
        execution_successful=True,
    )
    stream = io.StringIO()
    JsonFormatter().render(run, stream)
    data: list[dict[str, Any]] = json.loads(stream.getvalue())
    return data


def test_finding_object_fields() -> None:
    witness = Packet(6, "10.0.0.10", "10.0.0.20", 40000, 1433)
    related = (
        Step(Span("rules/am.rules", 3, 1), "rule that accepts port 1433 earlier"),
    )
    item = finding(witness=witness, related=related, may=True)
    [data] = render([item])
    assert data == {
        "ruleId": "SEG109",
        "name": "sql-blocked",
        "level": "error",
        "message": MESSAGE,
        "path": "rules/am.rules",
        "line": 12,
        "column": 1,
        "endLine": 12,
        "endColumn": 24,
        "witness": {
            "protocol": "tcp",
            "source": "10.0.0.10",
            "destination": "10.0.0.20",
            "sourcePort": 40000,
            "destinationPort": 1433,
            "icmpType": None,
            "inInterface": None,
            "outInterface": None,
            "state": "new",
        },
        "may": True,
        "fingerprint": item.fingerprint,
        "suppressed": False,
        "related": [
            {
                "path": "rules/am.rules",
                "line": 3,
                "message": "rule that accepts port 1433 earlier",
            }
        ],
        "properties": {},
    }


def test_parse_errors_are_in_the_list() -> None:
    from seglint.ir import Diagnostic, Span
    from seglint.report.json_format import diagnostic_object

    data = diagnostic_object(Diagnostic("SEG901", "unexpected token", Span("a.tf", 2, 17)))
    assert (data["ruleId"], data["level"], data["path"], data["line"], data["column"]) == (
        "SEG901", "error", "a.tf", 2, 17)


def test_witness_null_when_absent() -> None:
    [data] = render([finding()])
    assert data["witness"] is None


def test_suppressed_finding_listed() -> None:
    [data] = render([finding(suppression="accepted until the SQL move")])
    assert data["suppressed"] is True


def test_sorted_by_line() -> None:
    data = render([finding(line=40), finding(line=7)])
    assert [item["line"] for item in data] == [7, 40]


def test_empty_run_is_empty_list() -> None:
    assert render([]) == []
