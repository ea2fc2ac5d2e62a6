"""Finding the rule files under the paths a user gives, and their formats."""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seglint.formats.base import decode_bom, is_inside

logger = logging.getLogger(__name__)

SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", ".terraform", "node_modules", "__pycache__", ".venv", "venv",
    ".tox", ".mypy_cache", ".pytest_cache",
})
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Candidate:
    """A file to check, the tree it belongs to and the format chosen for it."""

    location: Path
    root: Path  # includes and siblings must stay inside this tree
    format: Any
    explicit: bool  # named on the command line


@dataclass(frozen=True)
class Skipped:
    """A path found in a directory and not checked, with the reason for a note."""

    location: Path
    reason: str


def _read_head(location: Path) -> str:
    try:
        with location.open("rb") as handle:
            data = handle.read(HEAD_BYTES)
    except OSError:
        return ""
    text = decode_bom(data[: len(data) - len(data) % 2])
    if text is not None:
        return text
    if b"\x00" in data:
        return ""
    # Export-Csv -Encoding UTF8 in Windows PowerShell 5.1 writes a UTF-8 BOM.
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def choose_format(location: Path, formats: Iterable[Any]) -> Any | None:
    """Pick the format of a file: a certain content match, then name, then a likely match."""
    formats = list(formats)
    head = _read_head(location)
    name = location.name
    by_name = [f for f in formats if any(fnmatch.fnmatch(name, p) for p in f.patterns)]
    scores = []
    for fmt in formats:
        try:
            score = fmt.detect(str(location), head)
        except Exception:  # noqa: BLE001 - a detector bug must not stop discovery
            logger.debug("format %s failed to detect %s", fmt.id, location, exc_info=True)
            score = 0
        scores.append((score, fmt))
    certain = [fmt for score, fmt in scores if score >= 2]
    if certain:
        named = [fmt for fmt in certain if fmt in by_name]
        return (named or certain)[0]
    for fmt in by_name:
        if dict((id(f), s) for s, f in scores).get(id(fmt), 0) >= 1 or not head.strip():
            return fmt
    if by_name:
        return by_name[0]
    likely = [fmt for score, fmt in scores if score == 1]
    return likely[0] if likely else None


def discover(paths: Iterable[Path], formats: Iterable[Any]
             ) -> Iterator[Candidate | Skipped | Path]:
    """Yield a Candidate per rule file; yield the bare Path of an explicit file no format reads.

    Directories are walked without following symlinks. A symlink found in a
    directory whose target leaves the tree is not read. It is yielded as
    Skipped, so that the run reports it in a note.
    """
    formats = list(formats)
    for path in paths:
        if path.is_dir() and path.is_symlink() and \
                not is_inside(path, path.absolute().parent.resolve()):
            yield path
            continue
        if path.is_dir():
            root = path.resolve()
            for directory, subdirs, files in os.walk(path, followlinks=False):
                subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRECTORIES)
                for name in subdirs:
                    # os.walk lists symlinks to directories here and does not enter them.
                    link = Path(directory) / name
                    if link.is_symlink() and link.exists() and not is_inside(link, root):
                        yield _outside(link, root)
                for file_name in sorted(files):
                    location = Path(directory) / file_name
                    if not is_inside(location, root):
                        if location.is_symlink() and location.exists():
                            yield _outside(location, root)
                        continue
                    if not location.is_file():
                        continue
                    fmt = choose_format(location, formats)
                    if fmt is not None:
                        yield Candidate(location, root, fmt, explicit=False)
        else:
            if path.is_symlink() and not is_inside(path, path.parent.resolve()):
                # Following it would read a file outside the checked tree.
                yield path
                continue
            fmt = choose_format(path, formats) if path.is_file() else None
            if fmt is None:
                yield path
                continue
            yield Candidate(path, path.resolve().parent, fmt, explicit=True)


def _outside(link: Path, root: Path) -> Skipped:
    return Skipped(link, f"symlink to {link.resolve()} is outside the checked tree "
                         f"({root}); name the target to check it")
