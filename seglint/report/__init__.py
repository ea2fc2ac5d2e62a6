"""Output formats of ``seglint check``: one formatter class per format.

The CLI picks a class from :data:`FORMATTERS` by the ``--format`` name and
calls ``render(report, stream, color=..., quiet=...)``.
"""

from __future__ import annotations

from seglint.report.base import FINGERPRINT_KEY, Formatter, RunReport
from seglint.report.baseline import load_baseline, new_findings
from seglint.report.github import GithubFormatter
from seglint.report.json_format import JsonFormatter
from seglint.report.sarif import SarifFormatter
from seglint.report.text import TextFormatter

FORMATTERS: dict[str, type[Formatter]] = {
    "text": TextFormatter,
    "json": JsonFormatter,
    "sarif": SarifFormatter,
    "github": GithubFormatter,
}

__all__ = [
    "FINGERPRINT_KEY",
    "FORMATTERS",
    "Formatter",
    "GithubFormatter",
    "JsonFormatter",
    "RunReport",
    "SarifFormatter",
    "TextFormatter",
    "load_baseline",
    "new_findings",
]
