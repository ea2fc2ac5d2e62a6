"""Access to the grammars and policy data, installed or in a source checkout.

In a wheel they live at ``seglint/grammars`` and ``seglint/policies``; in a
source checkout at the repository's top-level ``grammars/`` and ``policies/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


@cache
def grammar_text(name: str) -> str:
    """Return the text of ``grammars/<name>.lark``."""
    return (_data_dir("grammars") / f"{name}.lark").read_text(encoding="utf-8")


def grammar_dir() -> Path:
    return _data_dir("grammars")


def policy_path(name: str) -> Path:
    return _data_dir("policies") / name
