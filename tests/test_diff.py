"""Only new findings: ``--baseline`` with a SARIF file, and ``seglint diff REV``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from seglint.api import RunResult
from seglint.cli import main
from seglint.diff import DiffError, diff, export
from seglint.plugins import load_plugins

if "iptables" not in {fmt.id for fmt in load_plugins().formats}:
    pytest.skip("format iptables is not available", allow_module_level=True)

HEADER = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n"
NETBIOS = "-A INPUT -p tcp --dport 139 -j ACCEPT\n"
SQL = "-A INPUT -p tcp --dport 1433 -j ACCEPT\n"
LDAP = "-A INPUT -p tcp --dport 389 -j ACCEPT\n"
COMMENTS = "# allow the mail ports\n# reviewed by the network team\n"
BEFORE = HEADER + NETBIOS + "COMMIT\n"  # SEG201 at line 4
# Two comment lines move the NetBIOS rule to line 6; the SQL rule is new at line 7.
AFTER = HEADER + COMMENTS + NETBIOS + SQL + "COMMIT\n"


def _findings(result: RunResult) -> list[tuple[str, str, int]]:
    return [(f.rule_id, f.span.path, f.span.line) for f in result.findings]


# --- baseline -------------------------------------------------------------------------


def _json_run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list]:
    code = main(["check", "--format", "json", *args])
    return code, [
        (f["ruleId"], f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)
    ]


@pytest.fixture()
def baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "node.rules").write_text(BEFORE, encoding="utf-8")
    assert main(["check", "node.rules", "--format", "sarif", "-o", "base.sarif"]) == 1
    return tmp_path / "base.sarif"


def test_baseline_reports_new_only(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "node.rules").write_text(AFTER, encoding="utf-8")
    code, found = _json_run(["node.rules", "--baseline", str(baseline)], capsys)
    assert found == [("SEG204", "node.rules", 7)]
    assert code == 1


def test_baseline_without_change(
    baseline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = _json_run(["node.rules", "--baseline", str(baseline)], capsys)
    assert found == []
    assert code == 0


def test_baseline_moved_rule_not_new(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "node.rules").write_text(
        HEADER + COMMENTS + NETBIOS + "COMMIT\n", encoding="utf-8"
    )
    code, found = _json_run(["node.rules", "--baseline", str(baseline)], capsys)
    assert found == []
    assert code == 0


def test_baseline_changed_rule_is_new(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another rule exposing the same port is another finding.
    changed = NETBIOS.replace("-p tcp", "-s 0.0.0.0/0 -p tcp")
    (tmp_path / "node.rules").write_text(
        HEADER + changed + "COMMIT\n", encoding="utf-8"
    )
    code, found = _json_run(["node.rules", "--baseline", str(baseline)], capsys)
    assert found == [("SEG201", "node.rules", 4)]
    assert code == 1


def test_baseline_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "node.rules").write_text(BEFORE, encoding="utf-8")
    (tmp_path / "base.sarif").write_text("{not json", encoding="utf-8")
    assert main(["check", "node.rules", "--baseline", "base.sarif"]) == 2
    assert "SEG903 config-error: invalid baseline file" in capsys.readouterr().out


# --- seglint diff ---------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "seglint",
        "GIT_AUTHOR_EMAIL": "seglint@example.com",
        "GIT_COMMITTER_NAME": "seglint",
        "GIT_COMMITTER_EMAIL": "seglint@example.com",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _commit(repo: Path, files: dict[str, str], message: str = "change") -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _commit(root, {"hosts/node.rules": BEFORE})
    return root


def test_diff_reports_new_finding(repo: Path) -> None:
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == [("SEG204", "hosts/node.rules", 7)]
    assert result.exit_code == 1


def test_diff_without_change(repo: Path) -> None:
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == []
    assert result.exit_code == 0


def test_diff_fixed_finding_not_reported(repo: Path) -> None:
    (repo / "hosts" / "node.rules").write_text(HEADER + "COMMIT\n", encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == []
    assert result.exit_code == 0


def test_diff_against_older_commit(repo: Path) -> None:
    _commit(repo, {"hosts/node.rules": AFTER})
    (repo / "hosts" / "node.rules").write_text(
        AFTER.replace("COMMIT", LDAP + "COMMIT"), encoding="utf-8"
    )
    assert _findings(diff("HEAD~1", cwd=repo)) == [
        ("SEG204", "hosts/node.rules", 7),
        ("SEG205", "hosts/node.rules", 8),
    ]
    assert _findings(diff("HEAD", cwd=repo)) == [("SEG205", "hosts/node.rules", 8)]


def test_diff_new_file(repo: Path) -> None:
    (repo / "hosts" / "edge.rules").write_text(
        HEADER + SQL + "COMMIT\n", encoding="utf-8"
    )
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == [("SEG204", "hosts/edge.rules", 4)]


def test_diff_new_file_given_as_path(repo: Path) -> None:
    (repo / "hosts" / "edge.rules").write_text(
        HEADER + SQL + "COMMIT\n", encoding="utf-8"
    )
    result = diff("HEAD", ["hosts/edge.rules"], cwd=repo)
    assert _findings(result) == [("SEG204", "hosts/edge.rules", 4)]
    assert result.exit_code == 1


def test_diff_limited_to_path(repo: Path) -> None:
    _commit(repo, {"other/am.rules": BEFORE})
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    (repo / "other" / "am.rules").write_text(AFTER, encoding="utf-8")
    result = diff("HEAD", ["other"], cwd=repo)
    assert _findings(result) == [("SEG204", "other/am.rules", 7)]


def test_diff_from_subdirectory(repo: Path) -> None:
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    result = diff("HEAD", ["."], cwd=repo / "hosts")
    assert _findings(result) == [("SEG204", "node.rules", 7)]


def test_diff_path_above_cwd(repo: Path) -> None:
    (repo / "docs").mkdir()
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    result = diff("HEAD", ["../hosts"], cwd=repo / "docs")
    assert [(rule, line) for rule, _, line in _findings(result)] == [("SEG204", 7)]


def test_diff_uses_configuration_at_rev(repo: Path) -> None:
    _commit(
        repo, {"seglint.yaml": "rules:\n  SEG204: off\n", "hosts/node.rules": AFTER}
    )
    (repo / "seglint.yaml").write_text("rules:\n  SEG301: off\n", encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == [("SEG204", "hosts/node.rules", 7)]


def test_diff_rev_without_configuration(repo: Path) -> None:
    # REV has no configuration, so it runs on the defaults, as the working tree did.
    (repo / "seglint.yaml").write_text("rules:\n  SEG204: off\n", encoding="utf-8")
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == []


def test_diff_suppressed_old_finding_not_listed(repo: Path) -> None:
    text = HEADER + '# seglint: disable=SEG201 reason="filtered upstream"\n' + NETBIOS
    (repo / "hosts" / "node.rules").write_text(text + "COMMIT\n", encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == []


def test_diff_removed_suppression_is_new(repo: Path) -> None:
    text = HEADER + '# seglint: disable=SEG201 reason="filtered upstream"\n' + NETBIOS
    _commit(repo, {"hosts/node.rules": text + "COMMIT\n"})
    (repo / "hosts" / "node.rules").write_text(BEFORE, encoding="utf-8")
    result = diff("HEAD", cwd=repo)
    assert _findings(result) == [("SEG201", "hosts/node.rules", 4)]


def test_export_skips_symlink(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.rules"
    outside.write_text(HEADER + SQL + "COMMIT\n", encoding="utf-8")
    (repo / "hosts" / "link.rules").symlink_to(outside)
    _commit(repo, {})
    target = tmp_path / "copy"
    assert export(repo, "HEAD", [], target) == 1
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "hosts",
        "hosts/node.rules",
    ]
    assert (target / "hosts" / "node.rules").read_text(encoding="utf-8") == BEFORE


def test_diff_unknown_revision(repo: Path) -> None:
    with pytest.raises(DiffError, match="unknown revision 'no-such-branch'"):
        diff("no-such-branch", cwd=repo)


def test_diff_option_like_revision(repo: Path) -> None:
    with pytest.raises(DiffError, match="invalid revision '--output=x'"):
        diff("--output=x", cwd=repo)


def test_diff_outside_repository(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(DiffError, match="not in a git work tree"):
        diff("HEAD", cwd=folder)


def test_diff_path_outside_repository(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(DiffError, match="path is outside the git repository"):
        diff("HEAD", [str(tmp_path)], cwd=repo)


def test_diff_command(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    monkeypatch.chdir(repo)
    assert main(["diff", "HEAD", "--format", "json"]) == 1
    found = [
        (f["ruleId"], f["path"], f["line"]) for f in json.loads(capsys.readouterr().out)
    ]
    assert found == [("SEG204", "hosts/node.rules", 7)]


def test_diff_command_fail_on(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    monkeypatch.chdir(repo)
    assert main(["diff", "HEAD", "--fail-on", "never", "--quiet"]) == 0


def test_diff_command_text_note(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "hosts" / "node.rules").write_text(AFTER, encoding="utf-8")
    monkeypatch.chdir(repo)
    main(["diff", "HEAD"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("hosts/node.rules:7:1: error SEG204 sql-exposed: ")
    assert any(
        line.startswith("note: compared with HEAD (")
        and line.endswith("): 1 new of 1 findings at HEAD")
        for line in lines
    )


def test_diff_command_unknown_revision(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    assert main(["diff", "nope"]) == 2
    assert capsys.readouterr().err == (
        "seglint: unknown revision 'nope' (expected a commit, branch or tag of this "
        "repository)\n"
    )
