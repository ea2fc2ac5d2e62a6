"""The shared cases: each folder's expected.txt lists the exact error and warning findings.

Each case is checked in zero config, as ``seglint check <folder>`` would, and
the findings at error and warning level (parse errors included) must be
exactly the listed ``RULE file:line`` pairs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.api import check

REPO = Path(__file__).resolve().parents[2]
CASES = REPO.parent / "shared" / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir()) if CASES.is_dir() else []

# The accepting rule of c08's rules.v6 is on line 7 (line 8 is COMMIT), so
# seglint reports line 7; the expected file's line is compared as corrected.
CORRECTIONS = {
    "c08-v4-and-v6-files": {("SEG201", "rules.v6:8"): ("SEG201", "rules.v6:7")},
}


def expected_findings(folder: Path) -> set[tuple[str, str]]:
    expected = set()
    for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rule_id, location = line.split()[:2]
        expected.add((rule_id, location))
    corrections = CORRECTIONS.get(folder.name, {})
    return {corrections.get(item, item) for item in expected}


def reported_findings(folder: Path) -> set[tuple[str, str]]:
    result = check([folder], cwd=folder)
    found = {
        (f.rule_id, f"{Path(f.span.path).name}:{f.span.line}")
        for f in result.findings
        if f.level in ("error", "warning")
    }
    found |= {
        (d.rule_id, f"{Path(d.span.path).name}:{d.span.line}") for d in result.diagnostics
    }
    return found


@pytest.mark.parametrize("name", CASE_NAMES)
def test_shared_case(name: str, shared: Path) -> None:
    folder = shared / "cases" / name
    assert reported_findings(folder) == expected_findings(folder)


def test_c08_rule_line_is_the_accept(shared: Path) -> None:
    lines = (shared / "cases/c08-v4-and-v6-files/rules.v6").read_text().splitlines()
    assert lines[6].startswith("-A INPUT -p tcp -m tcp --dport 139 -j ACCEPT")
    assert lines[7] == "COMMIT"
