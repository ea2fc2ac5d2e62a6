"""Baselines: fingerprints read back from a SARIF file, and errors on bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seglint.findings import Finding
from seglint.ir import Span
from seglint.report import FINGERPRINT_KEY, RunReport, SarifFormatter, load_baseline
from seglint.report.baseline import new_findings


def finding(line: int, identity: str, **changes: Any) -> Finding:
    return Finding(
        rule_id="SEG201",
        name="netbios-exposed",
        level="error",
        message="tcp/135-139 from the internet is accepted (-A INPUT -j ACCEPT)",
        span=Span("rules/node.rules", line),
        identity=(identity,),
        **changes,
    )


def write_sarif(path: Path, findings: list[Finding]) -> None:
    run = RunReport(
        findings=findings,
        diagnostics=[],
        rules=[],
        root=path.parent,
        files_checked=1,
        notes=[],
        tool_version="0.1.0",
        execution_successful=True,
    )
    with path.open("w", encoding="utf-8") as stream:
        SarifFormatter().render(run, stream)


def test_round_trip(tmp_path: Path) -> None:
    findings = [
        finding(3, "-A INPUT -j ACCEPT"),
        finding(9, "-A INPUT -p tcp --dport 139 -j ACCEPT"),
        finding(12, "-A INPUT -p udp -j ACCEPT", suppression="lab"),
    ]
    baseline = tmp_path / "baseline.sarif"
    write_sarif(baseline, findings)
    assert load_baseline(baseline) == {item.fingerprint for item in findings}


def test_moved_finding_not_new(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.sarif"
    write_sarif(baseline, [finding(3, "-A INPUT -j ACCEPT")])
    moved = finding(30, "-A INPUT -j ACCEPT")
    added = finding(31, "-A INPUT -p tcp --dport 135 -j ACCEPT")
    assert new_findings([moved, added], load_baseline(baseline)) == [added]


def test_empty_results(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.sarif"
    write_sarif(baseline, [])
    assert load_baseline(baseline) == set()


def test_results_of_other_tool_skipped(tmp_path: Path) -> None:
    log = {
        "version": "2.1.0",
        "runs": [
            {"results": [{"partialFingerprints": {"other/v1": "x"}}]},
            {"results": [{"partialFingerprints": {FINGERPRINT_KEY: "abc"}}]},
        ],
    }
    baseline = tmp_path / "mixed.sarif"
    baseline.write_text(json.dumps(log), encoding="utf-8")
    assert load_baseline(baseline) == {"abc"}


BAD_FILES = [
    ("missing", None, "failed to read baseline file"),
    ("not-json", "{runs: }", "not JSON (line 1, column 2"),
    ("no-runs", '{"version": "2.1.0"}', "not a SARIF log"),
    ("list", "[]", "not a SARIF log"),
    ("results-object", '{"runs": [{"results": {}}]}', "runs[0].results is not a list"),
    ("result-string", '{"runs": [{"results": ["x"]}]}', "a result is not an object"),
    (
        "no-fingerprints",
        '{"runs": [{"results": [{"ruleId": "X"}]}]}',
        "no result has a seglint fingerprint",
    ),
    (
        "number",
        '{"runs": [{"results": [{"partialFingerprints": '
        '{"seglintFingerprint/v1": 5}}]}]}',
        "is not a string (5)",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES]
)
def test_bad_file(tmp_path: Path, name: str, text: str | None, expected: str) -> None:
    baseline = tmp_path / f"{name}.sarif"
    if text is not None:
        baseline.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="baseline file") as raised:
        load_baseline(baseline)
    assert expected in str(raised.value)
    assert str(baseline) in str(raised.value)


def test_binary_file(tmp_path: Path) -> None:
    baseline = tmp_path / "binary.sarif"
    baseline.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ValueError, match="failed to read baseline file"):
        load_baseline(baseline)
