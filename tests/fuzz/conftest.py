"""Fixtures of the fuzz tests: the helper modules' path and the inputs-tried summary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, so the helper modules beside this
# file are found through sys.path, as in tests/kernel.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fuzz_support import TOTALS  # noqa: E402


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TOTALS.inputs:
        return
    terminalreporter.section("seglint fuzz")
    for line in TOTALS.lines():
        terminalreporter.write_line(line)
