"""SARIF output: schema validity, locations, fingerprints, rules and notifications."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from seglint.findings import Finding, Packet, RuleMeta, Step
from seglint.ir import Diagnostic, Span
from seglint.report import FINGERPRINT_KEY, RunReport, SarifFormatter
from seglint.report.sarif import INFORMATION_URI, region

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"

ROW = (
    "| tcp/1433 | Outgoing | Array Manager | SQL Server | All | "
    "Outbound access to port 1433 on the SQL server is mandatory. |"
)
RULES = [
    RuleMeta(
        "SEG109",
        "sql-blocked",
        "error",
        "tcp/1433 from the Array Manager to the SQL server is blocked",
        "The Array Manager must reach the SQL server on tcp/1433.",
        fix="accept tcp/1433 from the Array Manager to the SQL server",
        fail_example="-A OUTPUT -p tcp --dport 1433 -j DROP",
        pass_example="-A OUTPUT -p tcp -d 10.0.0.20 --dport 1433 -j ACCEPT",
        row=ROW,
        tags=("security", "availability"),
        security_severity="7.5",
    ),
    RuleMeta("SEG206", "console-exposed", "warning", "console exposed", "tcp/443"),
    RuleMeta("SEG901", "parse-error", "error", "parse error", "a file was not parsed"),
]
MESSAGE = (
    "tcp/1433 from array-manager to sql-server is dropped (chain OUTPUT policy DROP)"
)
WITNESS = Packet(6, "10.0.0.10", "10.0.0.20", 40000, 1433)


def finding(path: str = "rules/am.rules", line: int = 12, **changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "rule_id": "SEG109",
        "name": "sql-blocked",
        "level": "error",
        "message": MESSAGE,
        "span": Span(path, line, 1, line, 24),
        "witness": WITNESS,
        "identity": ("-P OUTPUT DROP", "tcp/1433 array-manager sql-server"),
    }
    fields.update(changes)
    return Finding(**fields)


def report(
    root: Path,
    findings: list[Finding],
    diagnostics: list[Diagnostic] | None = None,
    notes: list[str] | None = None,
) -> RunReport:
    return RunReport(
        findings=findings,
        diagnostics=diagnostics or [],
        rules=RULES,
        root=root,
        files_checked=3,
        notes=notes or [],
        tool_version="0.1.0",
        execution_successful=not diagnostics,
    )


def render(run: RunReport) -> dict[str, Any]:
    stream = io.StringIO()
    SarifFormatter().render(run, stream)
    data: dict[str, Any] = json.loads(stream.getvalue())
    return data


def only_result(run: RunReport) -> dict[str, Any]:
    [result] = render(run)["runs"][0]["results"]
    return result


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checked tree that is also the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def validator() -> Any:
    schema_path = SHARED / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip("../shared is not present (only in the development workspace)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def full_run(root: Path) -> RunReport:
    trace = (
        Step(Span("rules/am.rules", 3, 1, 3, 20), "jump OUT_FILTER"),
        Step(Span("rules/am.rules", 12, 1, 12, 24), "chain OUTPUT policy DROP"),
    )
    related = (Step(Span("rules/am.rules", 5, 1, 5, 40), "earlier accept of tcp/1433"),)
    findings = [
        finding(trace=trace, related=related, may=True),
        finding(
            "rules/node.rules",
            1,
            rule_id="SEG206",
            name="console-exposed",
            level="warning",
            suppression="lab only",
            suppression_kind="external",
        ),
        finding(
            "rules/node.rules", 4, rule_id="SEG777", name="plugin-rule", level="note"
        ),
    ]
    diagnostics = [
        Diagnostic(
            "SEG901", "unexpected token ('}')", Span("rules/bad.nft", 5, 7), "error"
        ),
        Diagnostic("SEG903", "unknown role (sql)", Span("seglint.yaml", 2, 3), "error"),
    ]
    notes = ["required flows skipped: no roles configured"]
    return report(root, findings, diagnostics, notes)


def test_valid_against_schema(root: Path, validator: Any) -> None:
    errors = [error.message for error in validator.iter_errors(render(full_run(root)))]
    assert errors == []


def test_empty_run_valid(root: Path, validator: Any) -> None:
    data = render(report(root, []))
    assert list(validator.iter_errors(data)) == []
    assert data["runs"][0]["results"] == []


def test_run_header(root: Path) -> None:
    data = render(report(root, []))
    run = data["runs"][0]
    assert data["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "seglint"
    assert run["tool"]["driver"]["version"] == "0.1.0"
    assert run["tool"]["driver"]["semanticVersion"] == "0.1.0"
    assert run["tool"]["driver"]["informationUri"] == INFORMATION_URI
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"] == {"id": "seglint/"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.as_uri() + "/"}}
    assert run["invocations"][0]["executionSuccessful"] is True


def test_rule_descriptor(root: Path) -> None:
    rules = render(report(root, []))["runs"][0]["tool"]["driver"]["rules"]
    rule = rules[0]
    assert [item["id"] for item in rules] == ["SEG109", "SEG206", "SEG901"]
    assert rule["name"] == "sql-blocked"
    assert rule["shortDescription"] == {"text": RULES[0].short}
    assert rule["fullDescription"] == {"text": RULES[0].full}
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["properties"] == {
        "tags": ["security", "availability"],
        "precision": "high",
        "security-severity": "7.5",
    }


def test_rule_help_text(root: Path) -> None:
    rule = render(report(root, []))["runs"][0]["tool"]["driver"]["rules"][0]
    text = rule["help"]["text"]
    assert "Port table row: | tcp/1433 | Outgoing | Array Manager |" in text
    assert "How to fix: accept tcp/1433 from the Array Manager" in text
    assert "FAIL example:\n    -A OUTPUT -p tcp --dport 1433 -j DROP" in text
    assert (
        "PASS example:\n    -A OUTPUT -p tcp -d 10.0.0.20 --dport 1433 -j ACCEPT"
        in text
    )


def test_rule_help_markdown(root: Path) -> None:
    rule = render(report(root, []))["runs"][0]["tool"]["driver"]["rules"][0]
    markdown = rule["help"]["markdown"]
    assert "| Port | Direction | Source | Destination |" in markdown
    assert "| tcp/1433 | Outgoing | Array Manager | SQL Server | All |" in markdown
    assert "**FAIL**\n\n```text\n-A OUTPUT -p tcp --dport 1433 -j DROP\n```" in markdown
    assert "**PASS**\n\n```text\n" in markdown


def test_result_fields(root: Path) -> None:
    result = only_result(report(root, [finding(may=True)]))
    assert result["ruleId"] == "SEG109"
    assert result["ruleIndex"] == 0
    assert result["level"] == "error"
    assert result["message"] == {"text": MESSAGE}
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: finding().fingerprint}
    assert result["properties"]["witness"] == WITNESS.as_dict()
    assert result["properties"]["may"] is True
    assert "suppressions" not in result
    assert "codeFlows" not in result


def test_location_relative_to_root(root: Path) -> None:
    location = only_result(report(root, [finding()]))["locations"][0][
        "physicalLocation"
    ]
    assert location["artifactLocation"] == {
        "uri": "rules/am.rules",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {
        "startLine": 12,
        "startColumn": 1,
        "endLine": 12,
        "endColumn": 25,
    }


def test_location_below_subdirectory_root(root: Path) -> None:
    run = report(root / "rules", [finding()])
    location = only_result(run)["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "am.rules"


def test_location_outside_root_absolute(root: Path, tmp_path_factory: Any) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "x.rules"
    run = report(root, [finding(str(outside))])
    artifact = only_result(run)["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.as_uri()}


def test_uri_percent_encoded(root: Path) -> None:
    run = report(root, [finding("rules/edge fw#1.rules")])
    artifact = only_result(run)["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uri"] == "rules/edge%20fw%231.rules"


def test_region_never_below_one() -> None:
    span = Span("a.rules", 0, 0, 0, 0)
    assert region(span).start_line == 1
    assert region(span).start_column == 1
    assert region(span).end_line == 1
    assert region(span).end_column == 2


def test_region_at_first_line(root: Path) -> None:
    run = report(root, [finding(span=Span("a.rules", 1))])
    result_region = only_result(run)["locations"][0]["physicalLocation"]["region"]
    assert result_region == {
        "startLine": 1,
        "startColumn": 1,
        "endLine": 1,
        "endColumn": 2,
    }


def test_region_of_block(root: Path) -> None:
    run = report(root, [finding(span=Span("main.tf", 4, 3, 11, 1))])
    result_region = only_result(run)["locations"][0]["physicalLocation"]["region"]
    assert result_region == {
        "startLine": 4,
        "startColumn": 3,
        "endLine": 11,
        "endColumn": 2,
    }


def test_fingerprint_stable_when_line_moves(root: Path) -> None:
    before = only_result(report(root, [finding(line=12)]))["partialFingerprints"]
    after = only_result(report(root, [finding(line=40)]))["partialFingerprints"]
    assert before == after


def test_fingerprint_differs_by_rule_text(root: Path) -> None:
    other = finding(identity=("-A OUTPUT -p tcp --dport 1433 -j DROP", "tcp/1433"))
    first = only_result(report(root, [finding()]))["partialFingerprints"]
    second = only_result(report(root, [other]))["partialFingerprints"]
    assert first != second


def test_related_locations(root: Path) -> None:
    related = (
        Step(Span("rules/am.rules", 5, 1, 5, 40), "earlier accept of tcp/1433"),
        Step(Span("rules/am.rules", 8, 1, 8, 30), "second accept"),
    )
    result = only_result(report(root, [finding(related=related)]))
    locations = result["relatedLocations"]
    assert [location["id"] for location in locations] == [1, 2]
    assert locations[0]["message"] == {"text": "earlier accept of tcp/1433"}
    assert locations[1]["physicalLocation"]["region"]["startLine"] == 8


def test_code_flow_in_order(root: Path) -> None:
    trace = (
        Step(Span("rules/am.rules", 3), "jump OUT_FILTER"),
        Step(Span("rules/am.rules", 20), "return"),
        Step(Span("rules/am.rules", 12), "chain OUTPUT policy DROP"),
    )
    [flow] = only_result(report(root, [finding(trace=trace)]))["codeFlows"]
    [thread] = flow["threadFlows"]
    steps = [step["location"] for step in thread["locations"]]
    assert [step["message"]["text"] for step in steps] == [
        "jump OUT_FILTER",
        "return",
        "chain OUTPUT policy DROP",
    ]
    assert [step["physicalLocation"]["region"]["startLine"] for step in steps] == [
        3,
        20,
        12,
    ]


def test_suppression_in_source(root: Path) -> None:
    item = finding(suppression="replica on the same host", suppression_kind="inSource")
    result = only_result(report(root, [item]))
    assert result["suppressions"] == [
        {"kind": "inSource", "justification": "replica on the same host"}
    ]


def test_suppression_external(root: Path) -> None:
    item = finding(suppression="reviewed 2024-05", suppression_kind="external")
    result = only_result(report(root, [item]))
    assert result["suppressions"] == [
        {"kind": "external", "justification": "reviewed 2024-05"}
    ]


def test_suppression_without_reason(root: Path) -> None:
    result = only_result(report(root, [finding(suppression="")]))
    assert result["suppressions"] == [{"kind": "inSource"}]


def test_unknown_rule_gets_descriptor(root: Path) -> None:
    item = finding(rule_id="SEG777", name="plugin-rule", level="note")
    data = render(report(root, [item]))
    rules = data["runs"][0]["tool"]["driver"]["rules"]
    assert rules[-1] == {"id": "SEG777", "name": "plugin-rule"}
    assert data["runs"][0]["results"][0]["ruleIndex"] == len(rules) - 1


def test_parse_error_notification(root: Path) -> None:
    diagnostic = Diagnostic(
        "SEG901", "unexpected token ('}')", Span("rules/bad.nft", 5, 7)
    )
    data = render(report(root, [], [diagnostic]))
    invocation = data["runs"][0]["invocations"][0]
    [notification] = invocation["toolExecutionNotifications"]
    assert invocation["executionSuccessful"] is False
    assert notification["descriptor"] == {"id": "SEG901"}
    assert notification["level"] == "error"
    assert notification["message"] == {"text": "unexpected token ('}')"}
    assert notification["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "rules/bad.nft", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 7, "endLine": 5, "endColumn": 8},
    }


def test_notes_as_notifications(root: Path) -> None:
    data = render(
        report(root, [], notes=["required flows skipped: no roles configured"])
    )
    notifications = data["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notifications == [
        {
            "message": {"text": "required flows skipped: no roles configured"},
            "level": "note",
        }
    ]


def test_results_sorted(root: Path) -> None:
    findings = [finding("b.rules", 3), finding("a.rules", 9), finding("a.rules", 2)]
    results = render(report(root, findings))["runs"][0]["results"]
    places = [
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for result in results
    ]
    assert places == [("a.rules", 2), ("a.rules", 9), ("b.rules", 3)]


def test_location_relative_to_root_outside_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file outside the current directory is displayed relative to the tree.
    checked = tmp_path / "tree"
    (checked / "hosts").mkdir(parents=True)
    (checked / "hosts" / "am.nft").write_text(
        "table inet filter {}\n", encoding="utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    run = report(checked, [finding("hosts/am.nft")])
    artifact = only_result(run)["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "hosts/am.nft", "uriBaseId": "%SRCROOT%"}


def test_root_given_as_file(root: Path) -> None:
    (root / "am.rules").write_text("*filter\n", encoding="utf-8")
    data = render(report(root / "am.rules", [finding("am.rules")]))
    run = data["runs"][0]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"
    assert artifact == {"uri": "am.rules", "uriBaseId": "%SRCROOT%"}
