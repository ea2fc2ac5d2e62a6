"""Suppressions: inline comments, the ``.seglintignore.yaml`` file, and unused ones.

The ignore file accepts findings without touching the rule files, for
generated rule sets and for teams that forbid inline skips::

    - rule: SEG201
      path: "hosts/*.rules"        # glob relative to the ignore file's folder
      fingerprint: 0123abcd        # optional: only this finding (8 or more hex digits
                                   # of its fingerprint from the SARIF or JSON output)
      reason: NetBIOS is filtered by the edge firewall
      expires: 2027-01-31          # optional: suppresses up to and including this day

It is looked up next to the configuration file, else upward from the first
checked path. A suppressed finding keeps its place in SARIF with a
``suppressions`` entry (``inSource`` for a comment, ``external`` for the
ignore file). A suppression that suppresses nothing and an ignore entry
past its ``expires`` date are reported as warnings of the run. These
warnings do not change the exit code.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from seglint import directives
from seglint._config_tree import ConfigError, Item, Node, read_yaml, type_name
from seglint.config import glob_match
from seglint.findings import Finding
from seglint.ir import Span

if TYPE_CHECKING:
    from seglint.report.sarif_model import SarifLog

logger = logging.getLogger(__name__)

IGNORE_FILE_NAME = ".seglintignore.yaml"
ENTRY_KEYS = ("rule", "path", "fingerprint", "reason", "expires")
# An ignore file lists a few dozen entries; anything this large is the wrong file.
MAX_IGNORE_BYTES = 1024 * 1024
# Tool errors are no findings, so nothing can suppress them.
UNSUPPRESSIBLE = frozenset({"SEG901", "SEG903"})
_FINGERPRINT = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True)
class IgnoreEntry:
    """One entry of the ignore file; ``span`` is where the entry starts."""

    rule: str
    path: str
    reason: str
    span: Span
    fingerprint: str | None = None
    expires: datetime.date | None = None

    def describe(self) -> str:
        text = f"{self.rule} for {self.path}"
        if self.fingerprint:
            text += f" with fingerprint {self.fingerprint}"
        return text


@dataclass(frozen=True)
class IgnoreFile:
    """The entries of one ignore file and the folder their path globs start from."""

    folder: Path
    entries: tuple[IgnoreEntry, ...]


@dataclass(frozen=True)
class SuppressionWarning:
    """An unused or expired suppression, at its comment or ignore entry."""

    message: str
    span: Span

    @property
    def note(self) -> str:
        """Return the run note shown by the text and GitHub outputs."""
        return f"{self.message} ({self.span.path}:{self.span.line})"


# --- finding and reading the ignore file ---------------------------------------------


def find_ignore_file(config_path: Path | None, start: Path) -> Path | None:
    """Return the ignore file beside the configuration, else the nearest one above."""
    if config_path is not None:
        beside = config_path.resolve().parent / IGNORE_FILE_NAME
        if beside.is_file():
            return beside
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate_folder in (folder, *folder.parents):
        candidate = candidate_folder / IGNORE_FILE_NAME
        if candidate.is_file():
            logger.debug("ignore file found at %s", candidate)
            return candidate
    return None


def load_ignore_file(location: Path, *, known_rules: set[str], cwd: Path) -> IgnoreFile:
    """Read and validate an ignore file; raise ConfigError at the offending value."""
    display = _display(location, cwd)
    text = _read(location, display)
    root = read_yaml(text, display)
    if root is None:
        return IgnoreFile(location.resolve().parent, ())
    if root.is_mapping or not isinstance(root.value, tuple):
        raise ConfigError(
            f"wrong type for the ignore file (expected a list of entries such as "
            f'"- rule: SEG201", got {type_name(root)})',
            root.span,
        )
    entries = tuple(_entry(node, known_rules) for node in root.value)
    return IgnoreFile(location.resolve().parent, entries)


def _read(location: Path, display: str) -> str:
    start = Span(display, 1)
    try:
        size = os.path.getsize(location)
        if size > MAX_IGNORE_BYTES:
            raise ConfigError(
                f"ignore file is too large ({size} bytes > {MAX_IGNORE_BYTES})", start
            )
        data = location.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"failed to read the ignore file ({error.strerror or error})", start
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"ignore file is not UTF-8 text (invalid byte at offset {error.start})",
            start,
        ) from None


def _entry(node: Node, known_rules: set[str]) -> IgnoreEntry:
    if not node.is_mapping:
        raise ConfigError(
            f"wrong type for an ignore entry (expected a mapping with rule, path and "
            f"reason, got {type_name(node)})",
            node.span,
        )
    values: dict[str, Node] = {}
    items: tuple[Item, ...] = node.value  # type: ignore[assignment]
    for item in items:
        key = str(item.key)
        if key not in ENTRY_KEYS:
            raise ConfigError(
                f"unknown key {key!r} in an ignore entry "
                f"(expected one of {', '.join(ENTRY_KEYS)})",
                item.key_span,
            )
        values[key] = item.node
    for key in ("rule", "path", "reason"):
        if key not in values:
            raise ConfigError(
                f"missing {key} in an ignore entry "
                "(every entry needs rule, path and reason)",
                node.span,
            )

    rule = _string(values["rule"], "rule").upper()
    if rule in UNSUPPRESSIBLE:
        raise ConfigError(
            f"{rule} cannot be suppressed (it reports a file that was not checked)",
            values["rule"].span,
        )
    if rule not in known_rules:
        raise ConfigError(
            f"unknown rule id {rule!r} in an ignore entry "
            f"(known rules: {', '.join(sorted(known_rules))})",
            values["rule"].span,
        )
    return IgnoreEntry(
        rule=rule,
        path=_string(values["path"], "path"),
        reason=_string(values["reason"], "reason"),
        span=node.span,
        fingerprint=_fingerprint(values.get("fingerprint")),
        expires=_date(values.get("expires")),
    )


def _string(node: Node, key: str) -> str:
    if not isinstance(node.value, str) or isinstance(node.value, bool):
        raise ConfigError(
            f"wrong type for {key} in an ignore entry "
            f"(expected a string, got {type_name(node)})",
            node.span,
        )
    text = node.value.strip()
    if not text:
        raise ConfigError(f"empty {key} in an ignore entry", node.span)
    return text


def _fingerprint(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        # YAML reads an unquoted fingerprint of digits only (or with one "e")
        # as a number, so the text as written is used.
        node = replace(node, value=node.raw)
    text = _string(node, "fingerprint").lower()
    if not _FINGERPRINT.fullmatch(text):
        raise ConfigError(
            f"invalid fingerprint {text!r} in an ignore entry (expected the hex value "
            "of seglintFingerprint/v1 from the SARIF output, or of fingerprint "
            "from the JSON output)",
            node.span,
        )
    return text


def _date(node: Node | None) -> datetime.date | None:
    if node is None:
        return None
    value = node.value
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(
        f"invalid date {node.raw or value!r} for expires in an ignore entry "
        "(expected YYYY-MM-DD)",
        node.span,
    )


def _display(location: Path, cwd: Path) -> str:
    try:
        return location.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return location.resolve().as_posix()


# --- applying suppressions ---------------------------------------------------------


class Suppressor:
    """Applies inline and ignore-file suppressions and records which ones were used.

    ``texts`` maps the display path of every checked file to its text, for
    the inline comments. Inline comments are tried first, so an ignore entry
    counts as used only for findings that no comment suppressed.
    """

    def __init__(
        self,
        texts: Mapping[str, str],
        ignore: IgnoreFile | None,
        *,
        inline: bool,
        cwd: Path,
        today: datetime.date | None = None,
    ) -> None:
        self.cwd = cwd
        self.today = today or datetime.date.today()
        self.checked = tuple(texts)
        self.malformed = {path: directives.malformed(text) for path, text in texts.items()}
        self.inline: dict[str, list[directives.Suppression]] = {}
        if inline:
            self.inline = {
                path: directives.suppressions(text) for path, text in texts.items()
            }
        self.entries = ignore.entries if ignore else ()
        self.folder = ignore.folder if ignore else cwd
        self.used_inline: set[tuple[str, int, str]] = set()  # (path, line, rule id)
        self.used_entries: set[int] = set()

    def apply(self, finding: Finding) -> Finding:
        """Return the finding, marked suppressed when a comment or entry matches it."""
        for entry in self.inline.get(finding.span.path, ()):
            if entry.line not in (finding.span.line, finding.span.line - 1):
                continue
            for rule_id in (finding.rule_id, "ALL"):
                if rule_id in entry.rule_ids:
                    self.used_inline.add((finding.span.path, entry.line, rule_id))
                    return replace(
                        finding,
                        suppression=entry.reason or "suppressed inline",
                        suppression_kind="inSource",
                    )

        for number, ignore in enumerate(self.entries):
            if self._expired(ignore) or not self._matches(ignore, finding):
                continue
            self.used_entries.add(number)
            return replace(
                finding, suppression=ignore.reason, suppression_kind="external"
            )
        return finding

    def warnings(self) -> list[SuppressionWarning]:
        """Return the unused inline comments and the unused or expired ignore entries.

        An ignore entry whose path matches none of the checked files is not
        judged, so a pre-commit run on a few files does not report the
        entries of the others.
        """
        found: list[SuppressionWarning] = []
        for path, positions in sorted(self.malformed.items()):
            for line, column in positions:
                found.append(SuppressionWarning(
                    'unrecognised seglint comment (expected "seglint: disable=RULE '
                    'reason=\\"...\\"" or "seglint: host=ROLE"); it suppresses nothing',
                    Span(path, line, column)))
        for path, entries in sorted(self.inline.items()):
            for entry in entries:
                for rule_id in entry.rule_ids:
                    if (path, entry.line, rule_id) in self.used_inline:
                        continue
                    found.append(
                        SuppressionWarning(
                            f"unused suppression of {rule_id}",
                            Span(path, entry.line, entry.column),
                        )
                    )

        for number, ignore in enumerate(self.entries):
            if self._expired(ignore):
                found.append(
                    SuppressionWarning(
                        f"suppression of {ignore.describe()} "
                        f"expired after {ignore.expires}",
                        ignore.span,
                    )
                )
            elif number not in self.used_entries and self._judged(ignore):
                found.append(
                    SuppressionWarning(
                        f"unused suppression of {ignore.describe()}", ignore.span
                    )
                )
        return found

    def _expired(self, entry: IgnoreEntry) -> bool:
        return entry.expires is not None and self.today > entry.expires

    def _matches(self, entry: IgnoreEntry, finding: Finding) -> bool:
        if entry.rule != finding.rule_id:
            return False
        if entry.fingerprint and not finding.fingerprint.startswith(entry.fingerprint):
            return False
        relative = self._relative(finding.span.path)
        return relative is not None and glob_match(entry.path, relative)

    def _judged(self, entry: IgnoreEntry) -> bool:
        return any(
            (relative := self._relative(path)) is not None
            and glob_match(entry.path, relative)
            for path in self.checked
        )

    def _relative(self, display: str) -> str | None:
        """Return a display path relative to the ignore file's folder."""
        location = Path(display)
        if not location.is_absolute():
            location = self.cwd / location
        try:
            # Outside the folder, the path starts with "../", as a glob may too.
            return Path(os.path.relpath(location, self.folder)).as_posix()
        except ValueError:  # on another drive
            return None


# --- output --------------------------------------------------------------------------


def add_sarif_warnings(
    log: SarifLog, warnings: Iterable[SuppressionWarning], root: Path
) -> SarifLog:
    """Return ``log`` with a warning-level tool notification per suppression warning."""
    # The SARIF modules are imported only for SARIF output.
    from seglint.report.sarif import artifact_location, region
    from seglint.report.sarif_model import Location, Message, Notification, PhysicalLocation

    extra = tuple(
        Notification(
            message=Message(warning.message),
            level="warning",
            locations=(
                Location(
                    PhysicalLocation(
                        artifact_location=artifact_location(warning.span.path, root),
                        region=region(warning.span),
                    )
                ),
            ),
        )
        for warning in warnings
    )
    if not extra or not log.runs:
        return log
    run = log.runs[0]
    invocation = run.invocations[0]
    invocation = replace(
        invocation,
        tool_execution_notifications=invocation.tool_execution_notifications + extra,
    )
    run = replace(run, invocations=(invocation, *run.invocations[1:]))
    return replace(log, runs=(run, *log.runs[1:]))
