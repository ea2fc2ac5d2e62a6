"""Output formats of ``seglint check``: one formatter class per format.

The CLI picks a class from :data:`FORMATTERS` by the ``--format`` name and
calls ``render(report, stream, color=..., quiet=...)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from seglint.report.base import FINGERPRINT_KEY, Formatter, RunReport
from seglint.report.baseline import load_baseline, new_findings

if TYPE_CHECKING:
    from seglint.report.github import GithubFormatter
    from seglint.report.json_format import JsonFormatter
    from seglint.report.sarif import SarifFormatter
    from seglint.report.text import TextFormatter

# Each formatter's module is imported when its format is used: a run
# that prints text does not pay for the SARIF model.
_CLASSES = {
    "text": ("seglint.report.text", "TextFormatter"),
    "json": ("seglint.report.json_format", "JsonFormatter"),
    "sarif": ("seglint.report.sarif", "SarifFormatter"),
    "github": ("seglint.report.github", "GithubFormatter"),
}


class _Formatters(Mapping[str, "type[Formatter]"]):
    def __getitem__(self, name: str) -> type[Formatter]:
        module, attribute = _CLASSES[name]
        return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(_CLASSES)

    def __len__(self) -> int:
        return len(_CLASSES)


FORMATTERS: Mapping[str, type[Formatter]] = _Formatters()


def __getattr__(name: str) -> Any:
    for module, attribute in _CLASSES.values():
        if attribute == name:
            return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
