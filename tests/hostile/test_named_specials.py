"""Files named on the command line that are corrupt or not regular files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seglint.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_nul_in_named_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = (REPO / "examples" / "hosts" / "array-manager.rules").read_bytes()
    (tmp_path / "am.rules").write_bytes(data[:30] + b"\0" + data[30:])
    monkeypatch.chdir(tmp_path)
    code = main(["check", "am.rules"])
    out = capsys.readouterr().out
    assert code == 2
    assert ("am.rules:1:1: error SEG901 parse-error: file is binary (contains NUL "
            "bytes), not a rule file") in out


def test_fifo_named_is_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "p.rules")
    (tmp_path / "good.rules").write_bytes(
        (REPO / "examples" / "hosts" / "node-1.rules").read_bytes())
    monkeypatch.chdir(tmp_path)
    code = main(["check", "p.rules", "good.rules"])
    out = capsys.readouterr().out
    assert code == 2
    assert ("p.rules:1:1: error SEG901 parse-error: not a regular file (a FIFO, socket "
            "or device); name the rule file itself") in out
    assert "good.rules:10:1: note SEG208" in out
