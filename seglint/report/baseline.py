"""Baselines: the fingerprints of a previous SARIF run, to report only new findings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seglint.findings import Finding
from seglint.report.base import FINGERPRINT_KEY

_HINT = "pass a file written by 'seglint check --format sarif'"


def load_baseline(path: Path) -> set[str]:
    """Return the seglint fingerprints of every result in the SARIF file at ``path``.

    Raise ValueError when the file cannot be read, is not a SARIF log, or
    has results but none with a seglint fingerprint.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"failed to read baseline file ({path}): {error}") from error
    try:
        log = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"invalid baseline file ({path}): not JSON "
            f"(line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error

    results = _results(log, path)
    fingerprints = {
        fingerprint
        for result in results
        if (fingerprint := _fingerprint(result, path)) is not None
    }
    if results and not fingerprints:
        raise ValueError(
            f"invalid baseline file ({path}): no result has a seglint fingerprint "
            f"({FINGERPRINT_KEY}); {_HINT}"
        )
    return fingerprints


def new_findings(findings: Iterable[Finding], baseline: set[str]) -> list[Finding]:
    """Return the findings whose fingerprint is not in ``baseline``."""
    return [finding for finding in findings if finding.fingerprint not in baseline]


def _results(log: Any, path: Path) -> list[Any]:
    runs = log.get("runs") if isinstance(log, dict) else None
    if not isinstance(runs, list):
        raise ValueError(f"invalid baseline file ({path}): not a SARIF log; {_HINT}")

    results: list[Any] = []
    for number, run in enumerate(runs):
        run_results = run.get("results", []) if isinstance(run, dict) else None
        if not isinstance(run_results, list):
            raise ValueError(
                f"invalid baseline file ({path}): runs[{number}].results is not a list"
            )
        results += run_results
    return results


def _fingerprint(result: Any, path: Path) -> str | None:
    if not isinstance(result, dict):
        raise ValueError(f"invalid baseline file ({path}): a result is not an object")
    fingerprints = result.get("partialFingerprints")
    if not isinstance(fingerprints, dict):
        return None
    value = fingerprints.get(FINGERPRINT_KEY)
    if value is not None and not isinstance(value, str):
        raise ValueError(
            f"invalid baseline file ({path}): fingerprint {FINGERPRINT_KEY} "
            f"is not a string ({value!r})"
        )
    return value
