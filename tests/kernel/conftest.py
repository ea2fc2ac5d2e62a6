"""Fixtures of the kernel differential suite: the namespace lab and the run totals.

The lab is made once per session and deleted at its end, also when a test
fails. The fixture's finalizer deletes it, an ``atexit`` hook covers an
interrupted run, and the next run removes namespaces left by dead runs.
The suite is skipped, with the reason, only where network namespaces cannot
be created (not root, not Linux, no permission).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib, so the helper modules beside this
# file are found through sys.path, the way the test modules import them.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from kernel_diff import SUMMARY_PATH, TOTALS  # noqa: E402
from kernel_lab import Lab, unavailable_reason  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.kernel)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    opened = Lab.open()
    try:
        yield opened
    finally:
        opened.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TOTALS.rulesets and not TOTALS.rejected and not TOTALS.mutants:
        return
    lines = TOTALS.lines()
    terminalreporter.section("seglint kernel differential")
    for line in lines:
        terminalreporter.write_line(line)
    SUMMARY_PATH.write_text("\n".join(lines) + "\n")
    terminalreporter.write_line(f"(summary written to {SUMMARY_PATH})")
