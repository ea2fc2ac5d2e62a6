"""``seglint check --jobs N`` writes the same report as a serial run."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint import parallel
from seglint.cli import main

REPO = Path(__file__).resolve().parents[2]


def _report(capsys: pytest.CaptureFixture[str], jobs: str, output: str,
            path: str) -> tuple[str, int]:
    code = main(["check", "--jobs", jobs, "--format", output, path])
    return capsys.readouterr().out, code


@pytest.mark.parametrize("output", ["text", "sarif", "json"])
def test_examples_same_report(capsys, monkeypatch, output: str) -> None:
    monkeypatch.chdir(REPO)
    serial = _report(capsys, "1", output, "examples")
    workers = _report(capsys, "2", output, "examples")
    assert workers == serial


@pytest.mark.parametrize("output", ["text", "sarif"])
def test_corpus_same_report(capsys, monkeypatch, shared: Path, output: str) -> None:
    monkeypatch.chdir(shared)
    serial = _report(capsys, "1", output, "corpus")
    workers = _report(capsys, "2", output, "corpus")
    assert workers == serial


def test_cases_same_report(capsys, monkeypatch, shared: Path) -> None:
    # The cases hold several configurations and a file that fails to parse.
    monkeypatch.chdir(shared)
    serial = _report(capsys, "1", "text", "cases")
    workers = _report(capsys, "3", "text", "cases")
    assert workers == serial


def test_relative_path_from_other_cwd(capsys, monkeypatch, tmp_path: Path) -> None:
    # A worker must read a relative path from the caller's working directory.
    monkeypatch.chdir(REPO / "examples")
    serial = _report(capsys, "1", "text", "hosts")
    workers = _report(capsys, "2", "text", "hosts")
    assert workers == serial


def test_included_file_checked_once(capsys, monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "main.nft").write_text(
        'include "./part.nft"\n'
        "table inet filter {\n  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n  }\n}\n")
    (tmp_path / "part.nft").write_text("define web = 80\n")
    monkeypatch.chdir(tmp_path)
    serial = _report(capsys, "1", "text", ".")
    workers = _report(capsys, "2", "text", ".")
    assert workers == serial
    assert "in 1 file" in workers[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("auto", None), ("AUTO", None), ("1", 1), ("8", 8), (3, 3),
])
def test_parse_jobs(text: str | int, expected: int | None) -> None:
    assert parallel.parse_jobs(text) == expected


@pytest.mark.parametrize("text", ["0", "-2", "two", ""])
def test_parse_jobs_invalid(text: str) -> None:
    with pytest.raises(parallel.JobsError):
        parallel.parse_jobs(text)


def test_invalid_jobs_exit_code(capsys) -> None:
    assert main(["check", "--jobs", "0", str(REPO / "examples")]) == 2
    assert "invalid --jobs value" in capsys.readouterr().err


def test_auto_small_tree_is_serial() -> None:
    candidates = [_Candidate(REPO / "examples" / "hosts" / "node-1.rules")] * 3
    assert parallel.worker_count(None, candidates) == 1  # type: ignore[arg-type]


def test_auto_many_files_uses_cpus(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "available_cpus", lambda: 4)
    candidates = [_Candidate(REPO / "examples" / "hosts" / "node-1.rules")] * parallel.AUTO_MIN_FILES
    assert parallel.worker_count(None, candidates) == 4  # type: ignore[arg-type]


def test_jobs_capped_by_files() -> None:
    candidates = [_Candidate(REPO / "examples" / "hosts" / "node-1.rules")] * 2
    assert parallel.worker_count(8, candidates) == 2  # type: ignore[arg-type]


class _Candidate:
    def __init__(self, location: Path) -> None:
        self.location = location


def test_dead_worker_falls_back(capsys, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    serial = _report(capsys, "1", "text", "examples")
    monkeypatch.setattr(parallel, "check_files", lambda *args, **kwargs: None)
    assert _report(capsys, "2", "text", "examples") == serial


def test_notes_same_in_workers(capsys, monkeypatch, tmp_path: Path) -> None:
    examples = REPO / "examples"
    config = (examples / "seglint.yaml").read_text(encoding="utf-8")
    (tmp_path / "seglint.yaml").write_text(
        config + '  - files: "nothing/*"\n    host: sql-server\n', encoding="utf-8")
    (tmp_path / "hosts").mkdir()
    for index in range(20):
        (tmp_path / "hosts" / f"node-{index}.rules").write_text(
            (examples / "hosts" / "node-1.rules").read_text(encoding="utf-8"),
            encoding="utf-8")
    (tmp_path / "hosts" / "pf.conf").write_bytes(b"x\0\0y")
    monkeypatch.chdir(tmp_path)
    serial, _ = _report(capsys, "1", "text", ".")
    assert "note: skipped hosts/pf.conf: file is binary" in serial
    assert "(files: nothing/*) matches no checked rule set" in serial
    assert "(files: hosts/node-*) matches" not in serial
    assert _report(capsys, "2", "text", ".")[0] == serial
