"""Formatter registry: every format is listed under its own name and renders."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seglint.report import FORMATTERS, RunReport


def empty_report() -> RunReport:
    return RunReport(
        findings=[],
        diagnostics=[],
        rules=[],
        root=Path("."),
        files_checked=0,
        notes=[],
        tool_version="0.1.0",
        execution_successful=True,
    )


def test_registry_names() -> None:
    assert sorted(FORMATTERS) == ["github", "json", "sarif", "text"]


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_formatter_name_matches_key(name: str) -> None:
    assert FORMATTERS[name].name == name


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_formatter_renders_empty_report(name: str) -> None:
    stream = io.StringIO()
    FORMATTERS[name]().render(empty_report(), stream, color=True, quiet=True)
    assert stream.getvalue() == "" or stream.getvalue().endswith("\n")
