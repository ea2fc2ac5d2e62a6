"""The examples README shows the exact output of ``seglint check examples/``."""

from __future__ import annotations

import io
import re
from pathlib import Path

from seglint import __version__
from seglint.api import check
from seglint.report import FORMATTERS, RunReport

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- output:start -->\n```text\n(.*?)```\n<!-- output:end -->", re.S)


def example_output() -> tuple[str, int]:
    result = check([Path("examples")], cwd=REPO)
    report = RunReport(
        findings=result.findings, diagnostics=result.diagnostics, rules=result.rules,
        root=REPO, files_checked=result.files_checked, notes=result.notes,
        tool_version=__version__, execution_successful=not result.diagnostics)
    stream = io.StringIO()
    FORMATTERS["text"]().render(report, stream)
    return stream.getvalue(), result.exit_code


def test_examples_readme_shows_exact_output() -> None:
    readme = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    match = BLOCK.search(readme)
    assert match is not None, "examples/README.md has no output block"
    output, _ = example_output()
    assert output == match.group(1)


def test_examples_exit_code_is_1() -> None:
    _, exit_code = example_output()
    assert exit_code == 1


MATRIX_BLOCK = re.compile(r"<!-- matrix:start -->\n```text\n(.*?)```\n<!-- matrix:end -->",
                          re.S)


def test_examples_readme_shows_exact_matrix() -> None:
    from seglint.matrix import build
    from seglint.policy import load_policy_data
    from seglint.report.matrix_text import render_text

    readme = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    match = MATRIX_BLOCK.search(readme)
    assert match is not None, "examples/README.md has no matrix block"
    result = check([Path("examples")], cwd=REPO, matrix=True)
    policy = load_policy_data()
    stream = io.StringIO()
    render_text(build(policy.requirements, result.verdicts, "10.2").to_dict(), stream)
    assert stream.getvalue() == match.group(1)
