"""The interface every input format implements, and the file access it may use."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from seglint.ir import ParseError, ParseResult, Span

MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """A rule file to parse: its display path, where it is, and its text."""

    path: str  # as shown in findings: relative to the checked tree where possible
    location: Path
    text: str


def is_inside(location: Path, root: Path) -> bool:
    """Return whether ``location``, with symlinks resolved, lies in the resolved ``root``."""
    try:
        resolved = location.resolve()
    except OSError:
        return False
    return resolved == root or root in resolved.parents


class FileAccess:
    """Reads files for includes, only inside the checked tree.

    A format that follows ``include``, ``load anchor``, ``file "..."`` or
    sibling files (``terraform.tfvars``) reads them through this object, so
    nothing outside the tree is read and symlinks that leave it are refused.
    """

    def __init__(self, root: Path, display_root: Path | None = None) -> None:
        self.root = root.resolve()
        self.display_root = (display_root or Path.cwd()).resolve()
        self.read_paths: set[Path] = set()  # files read besides the one being parsed

    def inside(self, location: Path) -> bool:
        return is_inside(location, self.root)

    def display(self, location: Path) -> str:
        resolved = location.resolve()
        for base in (self.display_root, self.root):
            try:
                return resolved.relative_to(base).as_posix()
            except ValueError:
                continue
        return resolved.as_posix()

    def read(self, location: Path, span: Span, *, include: bool = True) -> SourceFile:
        """Return the file at ``location``; raise ParseError at ``span`` if refused.

        ``include`` marks a file whose rules become part of the file being
        parsed (an nftables include, a pf anchor), so it is not checked on
        its own. Context files such as a Terraform module's siblings pass False.
        """
        if not self.inside(location):
            raise ParseError(
                f"refusing to read {location} (outside the checked tree {self.root})", span
            )
        source = read_source(location, self.display(location), span)
        if include:
            self.read_paths.add(location.resolve())
        return source

    def glob(self, directory: Path, pattern: str) -> list[Path]:
        if not self.inside(directory) or not directory.is_dir():
            return []
        return sorted(
            p for p in directory.iterdir()
            if fnmatch.fnmatch(p.name, pattern) and p.is_file() and self.inside(p)
        )


def read_source(location: Path, display: str, span: Span | None = None) -> SourceFile:
    """Read a text file, rejecting huge and binary files with a ParseError."""
    where = span or Span(display, 1)
    try:
        size = os.path.getsize(location)
        if size > MAX_FILE_BYTES:
            raise ParseError(
                f"file is too large ({size} bytes > {MAX_FILE_BYTES}); "
                "split it or check the files it was generated from", where)
        data = location.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read {display} ({exc.strerror or exc})", where) from exc
    text = decode_bom(data)
    if text is not None:
        return SourceFile(display, location, text)
    if b"\x00" in data[:8192]:
        raise ParseError("file is binary (contains NUL bytes), not a rule file", where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        if any(ord(ch) < 9 for ch in text[:8192]):
            raise ParseError(f"file is not text ({exc.reason})", where) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(display, location, text)


def decode_bom(data: bytes) -> str | None:
    """Decode UTF-16 text with a byte order mark, as Windows PowerShell 5.1 writes it."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError:
                return None
    return None


class Format(Protocol):
    """An input format.

    ``patterns`` are file name globs that select the format outright.
    ``detect`` decides by content for files the patterns do not settle and
    returns 0 (not this format), 1 (could be) or 2 (certainly). ``parse``
    raises :class:`ParseError` for input it cannot read.
    """

    id: str
    patterns: tuple[str, ...]

    def detect(self, path: str, head: str) -> int: ...

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult: ...
