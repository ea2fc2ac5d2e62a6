"""The real command line, run in-process from a folder of hostile files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from hostile_support import Outcome, run_cli  # noqa: E402


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Run ``seglint check ARGS`` from ``tmp_path``; return the exit code and lines."""
    monkeypatch.chdir(tmp_path)
    # An empty configuration, so that no file above the temporary folder is used.
    (tmp_path / "seglint.yaml").write_text("{}\n")

    def run(*args: str) -> Outcome:
        return run_cli(capsys, *args)

    return run
