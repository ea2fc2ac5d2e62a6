"""The run report every output format renders, and helpers shared by the formats."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol, TextIO

from seglint.findings import Finding, RuleMeta, level_rank
from seglint.ir import Diagnostic
from seglint.limits import clip

# Key of the fingerprint in SARIF ``partialFingerprints``. Baselines are matched on
# it, so a change to what the fingerprint hashes needs a new version suffix.
FINGERPRINT_KEY = "seglintFingerprint/v1"

# Names of the diagnostics, for a catalogue that does not list them.
DIAGNOSTIC_NAMES = {
    "SEG901": "parse-error",
    "SEG902": "unsupported-construct",
    "SEG903": "config-error",
}

# Parse and configuration errors stop a file or the run, so they are errors
# whatever level the diagnostic carries.
TOOL_ERROR_IDS = frozenset({"SEG901", "SEG903"})


@dataclass
class RunReport:
    """Everything one ``seglint check`` run produced, as the formatters need it."""

    findings: list[Finding]
    diagnostics: list[Diagnostic]
    rules: list[RuleMeta]
    root: Path  # %SRCROOT%: SARIF URIs are relative to it
    files_checked: int
    notes: list[str]
    tool_version: str
    execution_successful: bool
    automation_id: str = "seglint/"


class Formatter(Protocol):
    """An output format that writes one run report to a text stream."""

    name: str

    def render(
        self,
        report: RunReport,
        stream: TextIO,
        *,
        color: bool = False,
        quiet: bool = False,
    ) -> None: ...


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: finding.sort_key())


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    def key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
        span = diagnostic.span
        return (span.path, span.line, span.column, diagnostic.rule_id)

    return sorted(diagnostics, key=key)


def diagnostic_level(diagnostic: Diagnostic) -> str:
    if diagnostic.rule_id in TOOL_ERROR_IDS:
        return "error"
    return diagnostic.level


def rule_name(rules: Iterable[RuleMeta], rule_id: str) -> str:
    """Return the kebab-case name of ``rule_id``, or an empty string when unknown."""
    for meta in rules:
        if meta.id == rule_id:
            return meta.name
    return DIAGNOSTIC_NAMES.get(rule_id, "")


def at_least(level: str, minimum: str) -> bool:
    return level_rank(level) >= level_rank(minimum)


# --- paths relative to the source root --------------------------------------------


def source_root(root: Path) -> Path:
    """Return the directory that relative URIs start from.

    The CLI may pass the first path argument as the root, and that can be a
    single file; its directory is then the root.
    """
    absolute = Path(os.path.normpath(root.absolute()))
    if absolute.is_file():
        return absolute.parent
    return absolute


def relative_path(path: str, root: Path) -> str | None:
    """Return ``path`` relative to ``root`` in POSIX form, or None when outside it.

    Display paths are relative to the current directory, except for files
    outside it, which are shown relative to the checked tree. So a relative
    path is tried against the current directory first, then against the
    root when the file exists there.
    """
    root_dir = source_root(root)
    display = Path(path)
    if display.is_absolute():
        return _relative_to(display, root_dir)

    from_cwd = _relative_to(Path.cwd() / display, root_dir)
    if from_cwd is not None:
        return from_cwd
    if (root_dir / display).exists():
        return _relative_to(root_dir / display, root_dir)
    return None


def _relative_to(location: Path, root: Path) -> str | None:
    # Compare the lexical paths first, then the resolved ones, so a root or a
    # current directory reached through a symlink still matches.
    pairs = (
        (Path(os.path.normpath(location)), Path(os.path.normpath(root))),
        (location.resolve(), root.resolve()),
    )
    for candidate, base in pairs:
        try:
            relative = PurePath(candidate).relative_to(base)
        except ValueError:
            continue
        if relative.parts:
            return relative.as_posix()
    return None


# C0 and C1 control characters, DEL, and the bidirectional controls that can
# make a line read differently from what it contains ("Trojan Source").
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """Escape control characters in text taken from rule files.

    Text from a file (a token in a message, a file name) then cannot move
    the cursor, change the terminal's colours or break a line of the report.
    A text longer than 2000 characters loses its middle.
    """
    return _UNPRINTABLE.sub(lambda found: _escape(found.group()), clip(text))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
