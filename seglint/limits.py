"""The file size limit, and reading rule files that are too large or binary.

``max-file-size`` in the configuration (or ``--max-file-size``) lowers the
limit of the reader in :mod:`seglint.formats.base`. It applies to the files
seglint checks and to every file they include. A file over the limit, or a
binary file, is not parsed. A file named on the command line is a SEG901
error. So is a file over the limit found in a directory, because it looks
like a rule file that would go unchecked. A binary file found in a
directory, such as ``pf.conf.gz`` beside ``pf.conf``, is skipped with a note.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from seglint.formats.base import MAX_FILE_BYTES, FileAccess, SourceFile, read_source
from seglint.ir import ParseError, Span

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
# read_source rejects larger files whatever the configuration sets.
HIGHEST_MAX_FILE_SIZE = MAX_FILE_BYTES

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
SIZE_HINT = "a size such as 5MB or 512KiB, or a number of bytes"

# Messages quote tokens of the rule file, so a 10 MB token is cut to this length.
MAX_MESSAGE_CHARS = 2000

# Messages of read_source for files that are not text.
_BINARY_PREFIXES = ("file is binary", "file is not text")


class FileSkipped(ParseError):
    """A file not parsed because of its size (``kind`` "size") or content ("binary")."""

    def __init__(self, message: str, span: Span, kind: str) -> None:
        super().__init__(message, span)
        self.kind = kind


def parse_size(text: str) -> int | None:
    """Return the bytes of ``5MB``, ``512 KiB`` or ``2000000``, or None for other text.

    KB and MB are powers of 1000, KiB and MiB powers of 1024.
    """
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        return None
    factor = _UNITS.get(found.group(2).lower())
    if factor is None:
        return None
    return int(float(found.group(1)) * factor)


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Cut the middle out of a text longer than ``limit``, saying how much is left out.

    The result is at most ``limit`` characters long, so clipping twice
    changes nothing.
    """
    if len(text) <= limit:
        return text
    longest_marker = len(f"... ({len(text)} characters left out) ...")
    keep = max((limit - longest_marker) // 2, 0)
    return f"{text[:keep]}... ({len(text) - 2 * keep} characters left out) ...{text[-keep:]}"


def format_size(size: int) -> str:
    return f"{size} bytes"


def too_large(size: int, limit: int) -> str:
    return (f"file is too large ({format_size(size)} > max-file-size {format_size(limit)}); "
            "raise max-file-size or split the file")


def _check_size(location: Path, limit: int, where: Span) -> None:
    try:
        size = os.path.getsize(location)
    except OSError:
        return  # read_source reports the error
    if size > limit:
        raise FileSkipped(too_large(size, limit), where, "size")


def check_numbers(source: SourceFile) -> None:
    """Raise ParseError at a run of digits longer than Python converts to an int.

    Every format reads numbers with int(), which raises ValueError past 4300
    digits because the conversion takes quadratic time. No firewall syntax
    has such a number, so the file is rejected at the number instead of
    failing deep in a parser.
    """
    most = sys.get_int_max_str_digits()
    if not most:
        return
    found = re.search(rf"\d{{{most + 1},}}", source.text)
    if found is None:
        return
    start = found.start()
    line = source.text.count("\n", 0, start) + 1
    column = start - (source.text.rfind("\n", 0, start) + 1) + 1
    raise ParseError(
        f"number too long ({len(found.group())} digits; seglint reads numbers of up to "
        f"{most} digits)",
        Span(source.path, line, column, line, column + len(found.group()) - 1),
    )


def read_rule_file(location: Path, display: str, limit: int) -> SourceFile:
    """Read a rule file; raise FileSkipped if it is over ``limit`` or binary."""
    where = Span(display, 1)
    _check_size(location, limit, where)
    try:
        source = read_source(location, display)
    except ParseError as exc:
        if exc.message.startswith(_BINARY_PREFIXES):
            raise FileSkipped(exc.message, exc.span, "binary") from exc
        raise
    check_numbers(source)
    return source


class LimitedFileAccess(FileAccess):
    """FileAccess that also rejects included files over the size limit."""

    def __init__(self, root: Path, display_root: Path | None = None,
                 limit: int = DEFAULT_MAX_FILE_SIZE) -> None:
        super().__init__(root, display_root)
        self.limit = limit

    def read(self, location: Path, span: Span, *, include: bool = True) -> SourceFile:
        if self.inside(location):
            _check_size(location, self.limit, span)
        source = super().read(location, span, include=include)
        check_numbers(source)
        return source
