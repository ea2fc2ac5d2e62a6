"""GitHub code scanning's requirements for uploaded SARIF, checked on the examples.

GitHub's page "SARIF support for code scanning" lists what an upload needs.
Rule ids and indexes refer to ``tool.driver.rules``, and ``security-severity``
is a string with a number from 0.0 to 10.0 on rules tagged ``security``.
Rules carry help text and Markdown. ``partialFingerprints`` track alerts
across commits, URIs are relative to the checkout, and regions start at
line 1 or later.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from seglint import __version__
from seglint.api import check
from seglint.cli import main
from seglint.report import FINGERPRINT_KEY, RunReport, SarifFormatter

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SHARED = REPO / ".." / "shared"
SRCROOT = "%SRCROOT%"
# Comment starts by file suffix, for three lines added at the top of a file.
# JSON has no comments, so JSON files stay as they are.
COMMENT_STARTS = {".cfg": "!", ".asa": "!", ".ios": "!", ".json": None, ".png": None}


def sarif_of(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Check ``folder`` from inside it and return the SARIF log as data."""
    monkeypatch.chdir(folder)
    result = check(["."])
    report = RunReport(
        findings=result.findings,
        diagnostics=result.diagnostics,
        rules=result.rules,
        root=folder,
        files_checked=result.files_checked,
        notes=result.notes,
        tool_version=__version__,
        execution_successful=not result.diagnostics,
    )
    stream = io.StringIO()
    SarifFormatter().render(report, stream)
    data: dict[str, Any] = json.loads(stream.getvalue())
    return data


@pytest.fixture()
def examples(tmp_path: Path) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    return copy


@pytest.fixture()
def log(examples: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return sarif_of(examples, monkeypatch)


@pytest.fixture(scope="module")
def validator() -> Any:
    schema_path = SHARED / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip("../shared is not present (only in the development workspace)")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def run_of(log: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = log["runs"][0]
    return run


def locations(log: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the physical locations of results, related locations and code flows."""
    found = []
    for result in run_of(log)["results"]:
        for location in result["locations"] + result.get("relatedLocations", []):
            found.append(location["physicalLocation"])
        for flow in result.get("codeFlows", []):
            for thread in flow["threadFlows"]:
                found += [
                    step["location"]["physicalLocation"] for step in thread["locations"]
                ]
    return found


def fingerprints(log: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    by_rule: dict[tuple[str, str], list[str]] = {}
    for result in run_of(log)["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        key = (result["ruleId"], uri)
        by_rule.setdefault(key, []).append(
            result["partialFingerprints"][FINGERPRINT_KEY]
        )
    return {key: sorted(values) for key, values in by_rule.items()}


def start_lines(log: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted(
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run_of(log)["results"]
    )


# --- the run --------------------------------------------------------------------------


def test_examples_run_cleanly(log: dict[str, Any]) -> None:
    run = run_of(log)
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["results"] != []


def test_valid_against_schema(log: dict[str, Any], validator: Any) -> None:
    errors = [error.message for error in validator.iter_errors(log)]
    assert errors == []


def test_automation_details(log: dict[str, Any]) -> None:
    assert run_of(log)["automationDetails"]["id"]


def test_column_kind(log: dict[str, Any]) -> None:
    assert run_of(log)["columnKind"] in ("unicodeCodePoints", "utf16CodeUnits")


def test_tool_driver(log: dict[str, Any]) -> None:
    driver = run_of(log)["tool"]["driver"]
    assert driver["name"] == "seglint"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", driver["semanticVersion"])


# --- rules ----------------------------------------------------------------------------


def test_security_severity_numeric(log: dict[str, Any]) -> None:
    for rule in run_of(log)["tool"]["driver"]["rules"]:
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str), rule["id"]
        assert 0.0 <= float(severity) <= 10.0, rule["id"]
        # GitHub reads the score only on rules tagged "security".
        assert "security" in rule["properties"]["tags"], rule["id"]


def test_help_text_and_markdown(log: dict[str, Any]) -> None:
    for rule in run_of(log)["tool"]["driver"]["rules"]:
        assert rule["help"]["text"].strip(), rule["id"]
        assert rule["help"]["markdown"].strip(), rule["id"]
        assert rule["shortDescription"]["text"].strip(), rule["id"]
        assert rule["fullDescription"]["text"].strip(), rule["id"]


def test_rule_references(log: dict[str, Any]) -> None:
    rules = run_of(log)["tool"]["driver"]["rules"]
    for result in run_of(log)["results"]:
        assert 0 <= result["ruleIndex"] < len(rules)
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_rule_ids_unique(log: dict[str, Any]) -> None:
    ids = [rule["id"] for rule in run_of(log)["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids))


# --- locations ------------------------------------------------------------------------


def test_uris_relative_to_srcroot(log: dict[str, Any], examples: Path) -> None:
    for location in locations(log):
        artifact = location["artifactLocation"]
        assert artifact["uriBaseId"] == SRCROOT
        assert not artifact["uri"].startswith(("/", "file:")), artifact["uri"]
        assert ".." not in artifact["uri"].split("/"), artifact["uri"]
        assert (examples / artifact["uri"]).is_file(), artifact["uri"]


def test_srcroot_is_folder_uri(log: dict[str, Any], examples: Path) -> None:
    base = run_of(log)["originalUriBaseIds"][SRCROOT]["uri"]
    assert base == examples.resolve().as_uri() + "/"


def test_regions_start_at_line_one(log: dict[str, Any]) -> None:
    for location in locations(log):
        region = location["region"]
        assert region["startLine"] >= 1
        assert region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]
        if region["endLine"] == region["startLine"]:
            assert region["endColumn"] > region["startColumn"]


def test_every_result_has_fingerprint(log: dict[str, Any]) -> None:
    for result in run_of(log)["results"]:
        assert re.fullmatch(
            r"[0-9a-f]{32}", result["partialFingerprints"][FINGERPRINT_KEY]
        )


# --- fingerprints when lines move -----------------------------------------------------


def test_fingerprints_stable_when_lines_added(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sarif_of(examples, monkeypatch)
    moved = set()
    for path in sorted(examples.rglob("*")):
        start = COMMENT_STARTS.get(path.suffix, "#")
        if not path.is_file() or path.name == "seglint.yaml" or start is None:
            continue
        added = f"{start} three lines added above every rule\n{start}\n{start}\n"
        path.write_text(added + path.read_text(encoding="utf-8"), encoding="utf-8")
        moved.add(path.relative_to(examples).as_posix())
    after = sarif_of(examples, monkeypatch)

    # The results in changed files moved down three lines, so the test did move them.
    expected = [
        (uri, line + 3 if uri in moved else line) for uri, line in start_lines(before)
    ]
    assert start_lines(after) == expected
    assert fingerprints(after) == fingerprints(before)


def test_fingerprints_stable_with_blank_line_above_rule(
    examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sarif_of(examples, monkeypatch)
    targets = set()
    for result in run_of(before)["results"]:
        location = result["locations"][0]["physicalLocation"]
        path = examples / location["artifactLocation"]["uri"]
        # A blank line is harmless between iptables rules and YAML mapping keys.
        if path.suffix in (".rules", ".yaml"):
            targets.add((path, location["region"]["startLine"]))
    # From the bottom up, so each insertion leaves the lines above it in place.
    for path, line in sorted(targets, reverse=True):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        # Above the comments right over the rule: a directive comment must
        # stay directly above its resource.
        while line > 1 and lines[line - 2].lstrip().startswith("#"):
            line -= 1
        lines.insert(line - 1, "\n")
        path.write_text("".join(lines), encoding="utf-8")
    after = sarif_of(examples, monkeypatch)

    assert len(targets) >= 4
    assert start_lines(after) != start_lines(before)
    assert fingerprints(after) == fingerprints(before)


# --- suppressions and warnings in an upload -------------------------------------------


def test_suppressions_and_warnings_valid(
    examples: Path, monkeypatch: pytest.MonkeyPatch, validator: Any
) -> None:
    rules = examples / "hosts" / "node-1.rules"
    text = rules.read_text(encoding="utf-8").replace(
        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
        '# seglint: disable=SEG208 reason="ssh from the jump hosts"\n'
        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
    )
    rules.write_text(text, encoding="utf-8")
    (examples / ".seglintignore.yaml").write_text(
        "- rule: SEG202\n  path: hosts/*.rules\n  reason: no Entra RPC here\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(examples)
    assert main(["check", ".", "--format", "sarif", "--output", "out.sarif"]) == 1
    log = json.loads((examples / "out.sarif").read_text(encoding="utf-8"))

    assert [error.message for error in validator.iter_errors(log)] == []
    suppressed = [r for r in run_of(log)["results"] if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"][0]["kind"]) for r in suppressed] == [
        ("SEG208", "inSource")
    ]
    notifications = run_of(log)["invocations"][0]["toolExecutionNotifications"]
    assert [
        (n["level"], n["message"]["text"])
        for n in notifications
        if n["level"] == "warning"
    ] == [("warning", "unused suppression of SEG202 for hosts/*.rules")]


# --- workflow annotations -------------------------------------------------------------


def test_github_annotations(
    examples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(examples)
    result = check(["."])
    assert main(["check", ".", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()

    commands = {"error": "error", "warning": "warning", "note": "notice"}
    annotations = [
        line
        for line in lines
        if line.startswith(("::error ", "::warning ", "::notice file="))
    ]
    expected = [
        f"::{commands[f.level]} file={f.span.path},line={f.span.line},"
        for f in sorted(result.active_findings, key=lambda f: f.sort_key())
    ]
    assert [
        line[: len(prefix)] for line, prefix in zip(annotations, expected, strict=False)
    ] == expected
    assert len(annotations) == len(expected)
    ordered = sorted(result.active_findings, key=lambda f: f.sort_key())
    for line, finding in zip(annotations, ordered, strict=True):
        assert f",title={finding.rule_id} {finding.name}::" in line


# --- the example workflow -------------------------------------------------------------


def test_example_workflow_uploads_sarif() -> None:
    workflow = YAML(typ="safe").load(
        (EXAMPLES / "github-workflow.yml").read_text(encoding="utf-8")
    )
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["seglint"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    runs = [step.get("run", "") for step in steps]
    assert any(run.startswith("python -m pip install") for run in runs)
    assert any("seglint check --format sarif --output seglint.sarif . || status=$?" in run
               for run in runs)
    upload = steps[uses.index("github/codeql-action/upload-sarif")]
    assert upload["with"] == {"sarif_file": "seglint.sarif", "category": "seglint"}
    # Parse and configuration errors (exit code 2) fail the job after the upload.
    assert steps[-1]["if"] == "steps.seglint.outputs.status == '2'"
