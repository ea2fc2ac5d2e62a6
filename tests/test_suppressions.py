"""Suppressions: inline comments per format, the ignore file, and unused ones."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from seglint.api import RunResult, check
from seglint.cli import main
from seglint.plugins import load_plugins
from seglint.report import FINGERPRINT_KEY

FORMATS = {fmt.id for fmt in load_plugins().formats}
REASON = "filtered by the edge firewall"
DISABLE = f'seglint: disable=SEG201 reason="{REASON}"'


@dataclass(frozen=True)
class Case:
    """A rule file whose line ``line`` exposes tcp/139, the NetBIOS session port."""

    format_id: str
    name: str
    lines: tuple[str, ...]
    line: int
    comments: tuple[str, ...]  # comment starts the format accepts on a line of its own
    trailing: tuple[str, ...] = ()  # comment starts it accepts after a rule

    def text(self, above: str | None = None, trailing: str | None = None) -> str:
        lines = list(self.lines)
        if trailing is not None:
            lines[self.line - 1] += f" {trailing}"
        if above is not None:
            indent = lines[self.line - 1][
                : len(lines[self.line - 1]) - len(lines[self.line - 1].lstrip())
            ]
            lines.insert(self.line - 1, indent + above)
        return "\n".join(lines) + "\n"


CASES = [
    Case(
        "iptables",
        "host.rules",
        (
            "*filter",
            ":INPUT DROP [0:0]",
            ":FORWARD DROP [0:0]",
            "-A INPUT -p tcp --dport 139 -j ACCEPT",
            "COMMIT",
        ),
        line=4,
        comments=("#",),
    ),
    Case(
        "nftables",
        "host.nft",
        (
            "table inet filter {",
            "  chain input {",
            "    type filter hook input priority 0; policy drop;",
            "    tcp dport 139 accept",
            "  }",
            "}",
        ),
        line=4,
        comments=("#",),
        trailing=("#",),
    ),
    Case(
        "pf",
        "pf.conf",
        ("block in all", "pass in proto tcp to port 139"),
        line=2,
        comments=("#",),
        trailing=("#",),
    ),
    Case(
        "asa",
        "edge.asa",
        (
            "hostname edge",
            "interface GigabitEthernet0/0",
            " nameif outside",
            " security-level 0",
            " ip address 203.0.113.1 255.255.255.0",
            "!",
            "access-list OUTSIDE_IN extended permit tcp any any eq 139",
            "access-group OUTSIDE_IN in interface outside",
        ),
        line=7,
        comments=("!",),
    ),
    Case(
        "terraform",
        "main.tf",
        (
            'resource "aws_security_group" "node" {',
            "  ingress {",
            "    from_port   = 139",
            "    to_port     = 139",
            '    protocol    = "tcp"',
            '    cidr_blocks = ["0.0.0.0/0"]',
            "  }",
            "}",
        ),
        line=2,
        comments=("#", "//"),
        trailing=("#", "//"),
    ),
]
ABOVE = [(case, prefix) for case in CASES for prefix in case.comments]
TRAILING = [(case, prefix) for case in CASES for prefix in case.trailing]


def _ids(item: object) -> str:
    if isinstance(item, Case):
        return item.format_id
    return str(item)


def _run(tmp_path: Path, case: Case, text: str, *, inline: bool = True) -> RunResult:
    if case.format_id not in FORMATS:
        pytest.skip(f"format {case.format_id} is not available")
    (tmp_path / case.name).write_text(text, encoding="utf-8")
    return check([tmp_path / case.name], inline_suppressions=inline, cwd=tmp_path)


def _seg201(result: RunResult) -> list[tuple[str, int, str]]:
    return [
        (f.span.path, f.span.line, f.suppression_kind)
        for f in result.findings
        if f.rule_id == "SEG201"
    ]


# --- inline comments per format -----------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_finding_without_comment(tmp_path: Path, case: Case) -> None:
    result = _run(tmp_path, case, case.text())
    assert result.diagnostics == []
    assert _seg201(result) == [(case.name, case.line, "")]


@pytest.mark.parametrize(("case", "prefix"), ABOVE, ids=_ids)
def test_comment_above(tmp_path: Path, case: Case, prefix: str) -> None:
    result = _run(tmp_path, case, case.text(above=f"{prefix} {DISABLE}"))
    assert result.diagnostics == []
    assert _seg201(result) == [(case.name, case.line + 1, "inSource")]
    assert [f.suppression for f in result.findings if f.rule_id == "SEG201"] == [REASON]
    assert result.suppression_warnings == []


@pytest.mark.parametrize(("case", "prefix"), TRAILING, ids=_ids)
def test_comment_on_rule_line(tmp_path: Path, case: Case, prefix: str) -> None:
    result = _run(tmp_path, case, case.text(trailing=f"{prefix} {DISABLE}"))
    assert result.diagnostics == []
    assert _seg201(result) == [(case.name, case.line, "inSource")]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_no_inline_suppressions(tmp_path: Path, case: Case) -> None:
    text = case.text(above=f"{case.comments[0]} {DISABLE}")
    result = _run(tmp_path, case, text, inline=False)
    assert _seg201(result) == [(case.name, case.line + 1, "")]
    assert result.suppression_warnings == []
    assert result.exit_code == 1


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_unused_inline_comment(tmp_path: Path, case: Case) -> None:
    comment = f'{case.comments[0]} seglint: disable=SEG204 reason="sql is internal"'
    result = _run(tmp_path, case, case.text(above=comment))
    assert _seg201(result) == [(case.name, case.line + 1, "")]
    notes = [warning.note for warning in result.suppression_warnings]
    assert notes == [f"unused suppression of SEG204 ({case.name}:{case.line})"]


# --- the ignore file ----------------------------------------------------------------

ENTRY = f"- rule: SEG201\n  path: hosts/*.rules\n  reason: {REASON}\n"
RULES = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
-A INPUT -p tcp --dport 139 -j ACCEPT
-A INPUT -p tcp --dport 1433 -j ACCEPT
COMMIT
"""


def _tree(tmp_path: Path, ignore: str | None, config: str | None = None) -> Path:
    if "iptables" not in FORMATS:
        pytest.skip("format iptables is not available")
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "node.rules").write_text(RULES, encoding="utf-8")
    if ignore is not None:
        (tmp_path / ".seglintignore.yaml").write_text(ignore, encoding="utf-8")
    if config is not None:
        (tmp_path / "seglint.yaml").write_text(config, encoding="utf-8")
    return tmp_path / "hosts"


def _states(result: RunResult) -> list[tuple[str, int, str, str | None]]:
    return [
        (f.rule_id, f.span.line, f.suppression_kind, f.suppression)
        for f in result.findings
        if f.rule_id in ("SEG201", "SEG204")
    ]


def test_ignore_entry_suppresses(tmp_path: Path) -> None:
    hosts = _tree(
        tmp_path, f'- rule: SEG201\n  path: "hosts/*.rules"\n  reason: {REASON}\n'
    )
    result = check([hosts], cwd=tmp_path)
    assert result.diagnostics == []
    assert _states(result) == [
        ("SEG201", 4, "external", REASON),
        ("SEG204", 5, "", None),
    ]
    assert result.suppression_warnings == []


def test_ignore_path_relative_to_file(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, f"- rule: SEG201\n  path: node.rules\n  reason: {REASON}\n")
    result = check([hosts / "node.rules"], cwd=hosts)
    assert _states(result)[0] == ("SEG201", 4, "external", REASON)


def test_ignore_other_path_not_judged(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, f"- rule: SEG201\n  path: edge/*.cfg\n  reason: {REASON}\n")
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "", None)
    assert result.suppression_warnings == []


def test_ignore_fingerprint(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, None)
    plain = check([hosts], cwd=tmp_path)
    fingerprint = next(f.fingerprint for f in plain.findings if f.rule_id == "SEG201")
    ignore = (
        f"- rule: SEG201\n  path: hosts/node.rules\n  fingerprint: {fingerprint}\n"
        f"  reason: {REASON}\n"
    )
    (tmp_path / ".seglintignore.yaml").write_text(ignore, encoding="utf-8")
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "external", REASON)


def test_ignore_fingerprint_prefix(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, None)
    plain = check([hosts], cwd=tmp_path)
    fingerprint = next(f.fingerprint for f in plain.findings if f.rule_id == "SEG201")
    ignore = (
        f"- rule: SEG201\n  path: hosts/node.rules\n  fingerprint: {fingerprint[:10]}\n"
        f"  reason: {REASON}\n"
    )
    (tmp_path / ".seglintignore.yaml").write_text(ignore, encoding="utf-8")
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "external", REASON)


def test_ignore_other_fingerprint_unused(tmp_path: Path) -> None:
    ignore = (
        f"- rule: SEG201\n  path: hosts/node.rules\n  fingerprint: {'0' * 32}\n"
        f"  reason: {REASON}\n"
    )
    hosts = _tree(tmp_path, ignore)
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "", None)
    assert [w.note for w in result.suppression_warnings] == [
        "unused suppression of SEG201 for hosts/node.rules "
        f"with fingerprint {'0' * 32} (.seglintignore.yaml:1)"
    ]


def test_ignore_unused_entry(tmp_path: Path) -> None:
    ignore = (
        f"- rule: SEG201\n  path: hosts/*.rules\n  reason: {REASON}\n"
        f"- rule: SEG206\n  path: hosts/*.rules\n  reason: {REASON}\n"
    )
    hosts = _tree(tmp_path, ignore)
    result = check([hosts], cwd=tmp_path)
    assert [w.note for w in result.suppression_warnings] == [
        "unused suppression of SEG206 for hosts/*.rules (.seglintignore.yaml:4)"
    ]
    assert result.exit_code == 1  # SEG204 at line 5; the warning does not change it


def test_ignore_expired_entry(tmp_path: Path) -> None:
    ignore = ENTRY + "  expires: 2020-01-31\n"
    hosts = _tree(tmp_path, ignore)
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "", None)
    assert [w.note for w in result.suppression_warnings] == [
        "suppression of SEG201 for hosts/*.rules expired after 2020-01-31 "
        "(.seglintignore.yaml:1)"
    ]


def test_ignore_expires_today_still_applies(tmp_path: Path) -> None:
    today = datetime.date.today().isoformat()
    ignore = ENTRY + f"  expires: {today}\n"
    hosts = _tree(tmp_path, ignore)
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "external", REASON)
    assert result.suppression_warnings == []


def test_inline_comment_wins_over_entry(tmp_path: Path) -> None:
    hosts = _tree(
        tmp_path, f"- rule: SEG201\n  path: hosts/*.rules\n  reason: {REASON}\n"
    )
    text = RULES.replace(
        "-A INPUT -p tcp --dport 139",
        '# seglint: disable=SEG201 reason="inline"\n-A INPUT -p tcp --dport 139',
    )
    (hosts / "node.rules").write_text(text, encoding="utf-8")
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 5, "inSource", "inline")
    assert [w.note for w in result.suppression_warnings] == [
        "unused suppression of SEG201 for hosts/*.rules (.seglintignore.yaml:1)"
    ]


def test_ignore_next_to_config(tmp_path: Path) -> None:
    # The configuration lives in config/, away from the checked files.
    hosts = _tree(tmp_path, None)
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "seglint.yaml").write_text("trusted: [10.0.0.0/8]\n", encoding="utf-8")
    (folder / ".seglintignore.yaml").write_text(
        f"- rule: SEG201\n  path: ../hosts/*.rules\n  reason: {REASON}\n",
        encoding="utf-8",
    )
    result = check([hosts], folder / "seglint.yaml", cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "external", REASON)


def test_ignore_file_not_found(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, None)
    result = check([hosts], cwd=tmp_path)
    assert _states(result)[0] == ("SEG201", 4, "", None)
    assert result.diagnostics == []


BAD_FILES = [
    ("rule: SEG201\n", 1, 1, "wrong type for the ignore file"),
    ("- SEG201\n", 1, 3, "wrong type for an ignore entry"),
    ("- rule: SEG201\n  path: a\n", 1, 3, "missing reason in an ignore entry"),
    ("- rule: SEG201\n  reason: x\n", 1, 3, "missing path in an ignore entry"),
    ("- rule: SEG299\n  path: a\n  reason: x\n", 1, 9, "unknown rule id 'SEG299'"),
    ("- rule: SEG901\n  path: a\n  reason: x\n", 1, 9, "SEG901 cannot be suppressed"),
    (
        "- rule: SEG201\n  path: a\n  reason: x\n  until: 2027-01-01\n",
        4,
        3,
        "unknown key 'until' in an ignore entry",
    ),
    (
        "- rule: SEG201\n  path: a\n  reason: x\n  expires: soon\n",
        4,
        12,
        "invalid date 'soon' for expires",
    ),
    (
        "- rule: SEG201\n  path: a\n  reason: x\n  fingerprint: xyz\n",
        4,
        16,
        "invalid fingerprint 'xyz'",
    ),
    (
        "- rule: SEG201\n  path: a\n  reason: ''\n",
        3,
        11,
        "empty reason in an ignore entry",
    ),
    ("- rule: SEG201\n  path: [a]\n  reason: x\n", 2, 9, "wrong type for path"),
    ("- rule: SEG201\n  path: a: b\n", 2, 10, "invalid YAML"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), BAD_FILES)
def test_ignore_file_errors(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    hosts = _tree(tmp_path, text)
    result = check([hosts], cwd=tmp_path)
    assert [
        (d.rule_id, d.span.path, d.span.line, d.span.column) for d in result.diagnostics
    ] == [("SEG903", ".seglintignore.yaml", line, column)]
    assert result.diagnostics[0].message.startswith(message)
    assert result.exit_code == 2


def test_ignore_file_error_keeps_findings(tmp_path: Path) -> None:
    hosts = _tree(tmp_path, "- rule: SEG201\n")
    result = check([hosts], cwd=tmp_path)
    assert _states(result) == [("SEG201", 4, "", None), ("SEG204", 5, "", None)]


# --- output ---------------------------------------------------------------------------


def _sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out.sarif"
    main(["check", "hosts", "--format", "sarif", "--output", str(output), *args])
    return json.loads(output.read_text(encoding="utf-8"))


def test_sarif_external_suppression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, f"- rule: SEG201\n  path: hosts/*.rules\n  reason: {REASON}\n")
    log = _sarif(tmp_path, monkeypatch)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["SEG201"]["suppressions"] == [
        {"kind": "external", "justification": REASON}
    ]
    assert "suppressions" not in results["SEG204"]


def test_sarif_unused_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, f"- rule: SEG206\n  path: hosts/*.rules\n  reason: {REASON}\n")
    log = _sarif(tmp_path, monkeypatch)
    notifications = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    warnings = [n for n in notifications if n["level"] == "warning"]
    assert len(warnings) == 1
    assert (
        warnings[0]["message"]["text"]
        == "unused suppression of SEG206 for hosts/*.rules"
    )
    location = warnings[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": ".seglintignore.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"]["startLine"] == 1
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_fingerprint_usable_in_ignore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, None)
    log = _sarif(tmp_path, monkeypatch)
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "SEG201")
    fingerprint = result["partialFingerprints"][FINGERPRINT_KEY]
    (tmp_path / ".seglintignore.yaml").write_text(
        f"- rule: SEG201\n  path: hosts/node.rules\n  fingerprint: {fingerprint}\n"
        f"  reason: {REASON}\n",
        encoding="utf-8",
    )
    log = _sarif(tmp_path, monkeypatch)
    result = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "SEG201")
    assert result["suppressions"][0]["kind"] == "external"


def test_text_note_for_unused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(tmp_path, f"- rule: SEG206\n  path: hosts/*.rules\n  reason: {REASON}\n")
    monkeypatch.chdir(tmp_path)
    main(["check", "hosts"])
    lines = capsys.readouterr().out.splitlines()
    assert (
        "note: unused suppression of SEG206 for hosts/*.rules (.seglintignore.yaml:1)"
    ) in lines


def test_cli_no_inline_suppressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(tmp_path, None)
    rules = tmp_path / "hosts" / "node.rules"
    rules.write_text(
        RULES.replace("COMMIT", "").replace(
            "-A INPUT -p tcp --dport 1433",
            '# seglint: disable=SEG204 reason="x"\n-A INPUT -p tcp --dport 1433',
        )
        + "COMMIT\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "hosts", "--format", "json"]) == 1
    suppressed = {
        f["ruleId"]: f["suppressed"] for f in json.loads(capsys.readouterr().out)
    }
    assert suppressed == {"SEG201": False, "SEG204": True}
    assert main(["check", "hosts", "--format", "json", "--no-inline-suppressions"]) == 1
    suppressed = {
        f["ruleId"]: f["suppressed"] for f in json.loads(capsys.readouterr().out)
    }
    assert suppressed == {"SEG201": False, "SEG204": False}
