"""The rule reference page: generated from the rule metadata and kept up to date."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import pytest

from seglint.cli import main
from seglint.docs import missing_fields, render_rules
from seglint.findings import RuleMeta
from seglint.policy import load_policy_data

REPO = Path(__file__).resolve().parents[1]
RULES_PAGE = REPO / "docs" / "rules.md"
RULES = load_policy_data().rules


def test_rules_page_up_to_date() -> None:
    expected = render_rules(RULES)
    assert RULES_PAGE.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date: run 'seglint docs --output docs/rules.md'"
    )


@pytest.mark.parametrize("meta", RULES, ids=lambda meta: meta.id)
def test_rule_documented(meta: RuleMeta) -> None:
    assert missing_fields(meta) == []


@pytest.mark.parametrize("meta", RULES, ids=lambda meta: meta.id)
def test_rule_has_section(meta: RuleMeta) -> None:
    page = render_rules(RULES)
    assert f"\n## {meta.id} {meta.name}\n" in page


def test_section_holds_fix_and_examples() -> None:
    meta = next(rule for rule in RULES if rule.id == "SEG109")
    page = render_rules([meta])
    assert f"**How to fix:** {meta.fix}" in page
    assert meta.fail_example.strip() in page
    assert meta.pass_example.strip() in page


@pytest.mark.parametrize(
    ("rule_id", "fields", "missing"),
    [
        ("SEG201", {"fix": ""}, ["fix"]),
        ("SEG109", {"fail_example": ""}, ["fail"]),
        ("SEG301", {"pass_example": " \n"}, ["pass"]),
        ("SEG902", {"fail_example": "", "pass_example": ""}, []),
        ("SEG903", {"short": "", "full": ""}, ["short", "full"]),
    ],
)
def test_missing_fields(
    rule_id: str, fields: dict[str, str], missing: list[str]
) -> None:
    meta = RuleMeta(
        rule_id,
        "name",
        "error",
        "short",
        "full",
        fix="fix",
        fail_example="fail",
        pass_example="pass",
    )
    assert missing_fields(replace(meta, **fields)) == missing


def test_docs_command_prints_page() -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        code = main(["docs"])
    assert code == 0
    assert stream.getvalue() == render_rules(RULES)


def test_docs_command_writes_file(tmp_path: Path) -> None:
    target = tmp_path / "rules.md"
    assert main(["docs", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render_rules(RULES)


def test_docs_command_bad_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["docs", "--output", str(tmp_path / "missing" / "rules.md")])
    assert code == 2
    assert "failed to write" in capsys.readouterr().err
