"""SARIF 2.1.0 output for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from seglint.findings import Finding, RuleMeta
from seglint.ir import Diagnostic, Span
from seglint.report.base import (
    FINGERPRINT_KEY,
    RunReport,
    diagnostic_level,
    relative_path,
    sorted_diagnostics,
    sorted_findings,
    source_root,
)
from seglint.report.sarif_model import (
    ArtifactLocation,
    CodeFlow,
    Invocation,
    Location,
    Message,
    Notification,
    PhysicalLocation,
    Region,
    ReportingDescriptor,
    ReportingDescriptorReference,
    Result,
    Run,
    RunAutomationDetails,
    SarifLog,
    Suppression,
    ThreadFlow,
    ThreadFlowLocation,
    Tool,
    ToolComponent,
    to_json,
)
from seglint.report.sarif_rules import rule_descriptor

# NOTE: placeholder until the project has a public home page.
INFORMATION_URI = "https://github.com/seglint/seglint"
SRCROOT = "%SRCROOT%"
SUPPRESSION_KINDS = ("inSource", "external")


class SarifFormatter:
    """One SARIF log with one run. The ``color`` and ``quiet`` options do not apply."""

    name = "sarif"

    def render(
        self,
        report: RunReport,
        stream: TextIO,
        *,
        color: bool = False,
        quiet: bool = False,
    ) -> None:
        json.dump(to_json(build_log(report)), stream, indent=2, ensure_ascii=False)
        stream.write("\n")


def build_log(report: RunReport) -> SarifLog:
    descriptors = _descriptors(report.rules, report.findings)
    index = {descriptor.id: position for position, descriptor in enumerate(descriptors)}
    results = tuple(
        _result(finding, index[finding.rule_id], report.root)
        for finding in sorted_findings(report.findings)
    )

    driver = ToolComponent(
        name="seglint",
        version=report.tool_version,
        semantic_version=report.tool_version,
        information_uri=INFORMATION_URI,
        rules=descriptors,
    )
    run = Run(
        tool=Tool(driver=driver),
        results=results,
        invocations=(_invocation(report),),
        original_uri_base_ids={SRCROOT: ArtifactLocation(uri=_root_uri(report.root))},
        automation_details=RunAutomationDetails(id=report.automation_id),
        properties={"filesChecked": report.files_checked},
    )
    return SarifLog(runs=(run,))


def sarif_data(report: RunReport) -> dict[str, Any]:
    """Return the SARIF log of ``report`` as JSON-ready data."""
    data: dict[str, Any] = to_json(build_log(report))
    return data


# --- rules and results ------------------------------------------------------------


def _descriptors(
    rules: list[RuleMeta], findings: list[Finding]
) -> tuple[ReportingDescriptor, ...]:
    descriptors = [rule_descriptor(meta) for meta in rules]

    # A plugin's finding may name a rule missing from the catalogue. It still
    # gets a descriptor, so every result has a valid ruleIndex.
    known = {meta.id for meta in rules}
    extra = {f.rule_id: f.name for f in findings if f.rule_id not in known}
    for rule_id in sorted(extra):
        descriptors.append(ReportingDescriptor(id=rule_id, name=extra[rule_id] or None))
    return tuple(descriptors)


def _result(finding: Finding, rule_index: int, root: Path) -> Result:
    related = tuple(
        _location(step.span, root, location_id=number, message=step.message)
        for number, step in enumerate(finding.related, start=1)
    )
    return Result(
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=finding.level,
        message=Message(finding.message),
        locations=(_location(finding.span, root),),
        partial_fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        related_locations=related or None,
        code_flows=_code_flows(finding, root),
        suppressions=_suppressions(finding),
        properties=_properties(finding),
    )


def _code_flows(finding: Finding, root: Path) -> tuple[CodeFlow, ...] | None:
    if not finding.trace:
        return None
    steps = tuple(
        ThreadFlowLocation(
            location=_location(step.span, root, message=step.message),
            execution_order=order,
        )
        for order, step in enumerate(finding.trace, start=1)
    )
    message = None
    if finding.witness is not None:
        message = Message(f"rules that decided the witness packet ({finding.witness})")
    return (CodeFlow(thread_flows=(ThreadFlow(locations=steps),), message=message),)


def _suppressions(finding: Finding) -> tuple[Suppression, ...] | None:
    if finding.suppression is None:
        return None
    kind = finding.suppression_kind
    if kind not in SUPPRESSION_KINDS:
        kind = "inSource"
    return (Suppression(kind=kind, justification=finding.suppression or None),)


def _properties(finding: Finding) -> dict[str, Any]:
    properties = dict(finding.properties)
    if finding.witness is not None:
        properties["witness"] = finding.witness.as_dict()
    properties["may"] = finding.may
    return properties


# --- invocation -------------------------------------------------------------------


def _invocation(report: RunReport) -> Invocation:
    notifications = [
        _notification(diagnostic, report.root)
        for diagnostic in sorted_diagnostics(report.diagnostics)
    ]
    notifications += [
        Notification(message=Message(note), level="note") for note in report.notes
    ]
    return Invocation(
        execution_successful=report.execution_successful,
        tool_execution_notifications=tuple(notifications),
    )


def _notification(diagnostic: Diagnostic, root: Path) -> Notification:
    return Notification(
        message=Message(diagnostic.message),
        level=diagnostic_level(diagnostic),
        descriptor=ReportingDescriptorReference(id=diagnostic.rule_id),
        locations=(_location(diagnostic.span, root),),
    )


# --- locations --------------------------------------------------------------------


def _location(
    span: Span,
    root: Path,
    *,
    location_id: int | None = None,
    message: str | None = None,
) -> Location:
    physical = PhysicalLocation(
        artifact_location=artifact_location(span.path, root), region=region(span)
    )
    return Location(
        physical_location=physical,
        id=location_id,
        message=Message(message) if message is not None else None,
    )


def artifact_location(path: str, root: Path) -> ArtifactLocation:
    """Return a URI relative to %SRCROOT%, or an absolute file URI outside the root."""
    relative = relative_path(path, root)
    if relative is not None:
        return ArtifactLocation(uri=quote(relative, safe="/"), uri_base_id=SRCROOT)
    absolute = Path(os.path.normpath(Path.cwd() / path))
    return ArtifactLocation(uri=absolute.as_uri())


def region(span: Span) -> Region:
    """Convert a span (inclusive end) to a SARIF region (exclusive end column).

    Every number is at least 1, because the SARIF schema requires it and
    GitHub rejects an upload with a line below 1.
    """
    start_line = max(1, span.line)
    start_column = max(1, span.column)
    end_line = max(start_line, span.end_line)
    end_column = max(1, span.end_column + 1)
    if end_line == start_line:
        end_column = max(end_column, start_column + 1)
    return Region(
        start_line=start_line,
        start_column=start_column,
        end_line=end_line,
        end_column=end_column,
    )


def _root_uri(root: Path) -> str:
    uri = source_root(root).as_uri()
    return uri if uri.endswith("/") else uri + "/"
