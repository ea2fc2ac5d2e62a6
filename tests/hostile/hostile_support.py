"""Helpers of the hostile-input tests: running the CLI and writing rule files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from seglint.cli import main

HEADER = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
# SEG208 (a note) at line 5, column 1: the run exits 0 with --fail-on warning.
VALID = HEADER + "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
VALID_FINDING = (
    "valid.rules.v4:5:1: note SEG208 unneeded-port-exposed: tcp/22 on this host is "
    "reachable from untrusted networks (-A INPUT -p tcp --dport 22 -j ACCEPT)"
)


@dataclass
class Outcome:
    code: int
    lines: list[str]
    stderr: str

    def starting(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    capsys.readouterr()
    code = main(["check", *args])
    captured = capsys.readouterr()
    return Outcome(code, captured.out.splitlines(), captured.err)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path
