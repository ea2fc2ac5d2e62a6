"""JSON output: the findings as a plain list of objects, for scripts."""

from __future__ import annotations

import json
from typing import Any, TextIO

from seglint.findings import Finding
from seglint.ir import Diagnostic
from seglint.report.base import (
    DIAGNOSTIC_NAMES,
    RunReport,
    sorted_diagnostics,
    sorted_findings,
)


class JsonFormatter:
    """A JSON list with one object per finding, suppressed ones included.

    ``endLine`` and ``endColumn`` are inclusive, as in the source span.
    Parse and configuration errors (SEG901, SEG903) are in the list too,
    so a script that reads only the JSON learns of a file that was not checked.
    """

    name = "json"

    def render(
        self,
        report: RunReport,
        stream: TextIO,
        *,
        color: bool = False,
        quiet: bool = False,
    ) -> None:
        objects = [
            finding_object(finding) for finding in sorted_findings(report.findings)
        ]
        objects += [diagnostic_object(d) for d in sorted_diagnostics(report.diagnostics)]
        json.dump(objects, stream, indent=2, ensure_ascii=False)
        stream.write("\n")


def finding_object(finding: Finding) -> dict[str, Any]:
    span = finding.span
    return {
        "ruleId": finding.rule_id,
        "name": finding.name,
        "level": finding.level,
        "message": finding.message,
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
        "witness": finding.witness.as_dict() if finding.witness is not None else None,
        "may": finding.may,
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppression is not None,
        "related": [
            {"path": step.span.path, "line": step.span.line, "message": step.message}
            for step in finding.related
        ],
        "properties": {k: v for k, v in finding.properties.items() if k != "witness"},
    }


def diagnostic_object(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {
        "ruleId": diagnostic.rule_id,
        "name": DIAGNOSTIC_NAMES.get(diagnostic.rule_id, ""),
        "level": "error",
        "message": diagnostic.message,
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
        "witness": None,
        "may": False,
        "fingerprint": None,
        "suppressed": False,
        "related": [],
        "properties": {},
    }
