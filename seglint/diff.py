"""``seglint diff REV``: the findings that a change adds, compared with a git revision.

The files at REV are copied out of the git object store with ``git ls-tree``
and ``git cat-file`` into a temporary directory. Nothing in the repository
is executed: no hooks, filters or checkouts run. Both trees are checked the
same way, and a finding of the working tree is new when no finding of REV
has its fingerprint (rule, file and what the finding means, so findings
that only moved to other lines are not new).
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from seglint.api import RunResult, check
from seglint.config import CONFIG_NAMES, find_config
from seglint.findings import Finding, level_rank
from seglint.ignorefile import IGNORE_FILE_NAME

logger = logging.getLogger(__name__)

# Files looked up upward from the checked paths; they are copied from REV too.
SETTINGS_FILES = (*CONFIG_NAMES, IGNORE_FILE_NAME)
GIT_TIMEOUT_SECONDS = 120
# Options for every git command: a configured fsmonitor would run a program,
# and pathspec magic in a user's path would change what is listed.
_GIT_OPTIONS = ("-c", "core.fsmonitor=false", "--literal-pathspecs")
_BLOB_MODES = ("100644", "100755")


class DiffError(Exception):
    """A revision or path that cannot be compared, with a message for the user."""


def diff(
    rev: str,
    paths: Sequence[str | Path] = (".",),
    config: str | Path | None = None,
    *,
    fail_on: str = "warning",
    inline_suppressions: bool = True,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Check the working tree and REV; return the working tree's run with new findings.

    Raise DiffError when ``cwd`` is not in a git work tree, REV names no
    commit or a path lies outside the repository.
    """
    cwd = (cwd or Path.cwd()).resolve()
    paths = list(paths) or ["."]
    top = _toplevel(cwd)
    commit = _commit(top, rev)
    relative = [_repo_relative(Path(path), cwd, top) for path in paths]

    if config is None:
        config = _outside_config(paths, cwd, top)
    work_paths = [cwd / path for path in paths]  # an absolute path stays as it is
    after = check(
        work_paths,
        config,
        fail_on=fail_on,
        inline_suppressions=inline_suppressions,
        cwd=cwd,
        progress=progress,
    )

    with tempfile.TemporaryDirectory(prefix="seglint-diff-") as temporary:
        # The configuration search goes upward from the checked paths. An
        # empty configuration above the copy stops it there, so a REV without
        # one runs on the defaults, not on a stray file in the temp folder.
        holder = Path(temporary).resolve()
        (holder / ".seglint.yaml").write_text("", encoding="utf-8")
        base = holder / "rev"
        count = export(top, commit, _pathspecs(relative), base)
        logger.debug("copied %d files of %s to %s", count, commit, base)

        rev_cwd = base / cwd.relative_to(top)
        rev_cwd.mkdir(parents=True, exist_ok=True)
        # A path that REV does not have is new, so all its findings are new.
        rev_paths = [base.joinpath(*path.parts) for path in relative]
        rev_paths = [path for path in rev_paths if path.exists()]
        before = RunResult()
        if rev_paths:
            before = check(
                rev_paths,
                config,
                fail_on=fail_on,
                inline_suppressions=inline_suppressions,
                cwd=rev_cwd,
            )
        known = Counter(_key(f, rev_cwd, base) for f in before.active_findings)
        known_any = Counter(_key(f, rev_cwd, base) for f in before.findings)

    after.findings = _new(after.findings, known, known_any, cwd, top)
    after.notes.append(
        f"compared with {rev} ({commit[:12]}): {len(after.findings)} new of "
        f"{len(before.findings)} findings at {rev}"
    )
    if before.diagnostics:
        first = before.diagnostics[0]
        count = len(before.diagnostics)
        after.notes.append(
            f"{count} {'error' if count == 1 else 'errors'} at {rev} (first: "
            f"{first.span}: {first.message}); findings of those files count as new"
        )
    after.exit_code = _exit_code(after, fail_on)
    return after


def _new(
    findings: list[Finding],
    known: Counter[str],
    known_any: Counter[str],
    cwd: Path,
    top: Path,
) -> list[Finding]:
    """Return the findings beyond those that REV has, counting equal fingerprints.

    An active finding is new unless REV had it active. A suppressed one is
    new only when REV did not have it at all, so suppressing an old finding
    does not list it as new.
    """
    new = []
    for finding in findings:
        key = _key(finding, cwd, top)
        pool = known if finding.suppression is None else known_any
        if pool[key] > 0:
            pool[key] -= 1
            continue
        new.append(finding)
    return new


def _exit_code(result: RunResult, fail_on: str) -> int:
    if result.diagnostics:
        return 2
    if fail_on == "never":
        return 0
    threshold = level_rank(fail_on)
    failing = [f for f in result.active_findings if level_rank(f.level) >= threshold]
    return 1 if failing else 0


def _key(finding: Finding, cwd: Path, top: Path) -> str:
    """Return the fingerprint of a finding with its path relative to the repository.

    Display paths are relative to the current directory or absolute, and the
    absolute ones differ between the working tree and the copy of REV.
    """
    location = Path(os.path.normpath(cwd / finding.span.path))
    try:
        path = location.relative_to(top).as_posix()
    except ValueError:
        path = finding.span.path
    return replace(finding, span=replace(finding.span, path=path)).fingerprint


# --- git ---------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    command = ["git", *_GIT_OPTIONS, *args]
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise DiffError(
            "git is not installed (seglint diff needs the git command)"
        ) from None
    except subprocess.TimeoutExpired:
        raise DiffError(
            f"git {args[0]} timed out after {GIT_TIMEOUT_SECONDS} seconds"
        ) from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(
            f"git {args[0]} failed ({message[-1] if message else completed.returncode})"
        )
    return completed.stdout


def _toplevel(cwd: Path) -> Path:
    try:
        output = _git(["rev-parse", "--show-toplevel"], cwd)
    except DiffError as error:
        raise DiffError(f"not in a git work tree ({cwd}): {error}") from None
    return Path(output.decode("utf-8").strip()).resolve()


def _commit(top: Path, rev: str) -> str:
    if not rev or rev.startswith("-"):
        raise DiffError(f"invalid revision {rev!r} (expected a commit such as HEAD~1)")
    try:
        output = _git(
            ["rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"], top
        )
    except DiffError:
        raise DiffError(
            f"unknown revision {rev!r} (expected a commit, branch or tag of this "
            "repository)"
        ) from None
    return output.decode("ascii").strip()


def _repo_relative(path: Path, cwd: Path, top: Path) -> PurePosixPath:
    location = Path(os.path.normpath(path if path.is_absolute() else cwd / path))
    for candidate, base in ((location, top), (location.resolve(), top)):
        try:
            return PurePosixPath(candidate.relative_to(base).as_posix())
        except ValueError:
            continue
    raise DiffError(f"path is outside the git repository ({path}; repository: {top})")


def _pathspecs(relative: list[PurePosixPath]) -> list[str]:
    """Return the paths to copy: the checked ones and every settings file above them."""
    specs: set[str] = set()
    for path in relative:
        if str(path) in ("", "."):
            return []  # the whole tree
        specs.add(path.as_posix())
        for folder in (path, *path.parents):
            for name in SETTINGS_FILES:
                prefix = "" if str(folder) == "." else f"{folder.as_posix()}/"
                specs.add(prefix + name)
    return sorted(specs)


def export(top: Path, commit: str, pathspecs: list[str], destination: Path) -> int:
    """Write the regular files of ``commit`` under ``pathspecs`` below ``destination``.

    Symbolic links and submodules are left out, as the directory walk of a
    check would not follow them either. Return the number of files written.
    """
    listing = _git(
        ["ls-tree", "-r", "-z", "--full-tree", commit, "--", *pathspecs], top
    )
    blobs: list[tuple[str, PurePosixPath]] = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, oid = meta.decode("ascii").split()
        if kind != "blob" or mode not in _BLOB_MODES:
            logger.debug("skipping %s (mode %s)", name, mode)
            continue
        blobs.append((oid, _safe_path(name.decode("utf-8", "surrogateescape"))))

    destination.mkdir(parents=True, exist_ok=True)
    if not blobs:
        return 0
    # One cat-file process reads every blob: "<oid> blob <size>\n<data>\n" each.
    output = _git(
        ["cat-file", "--batch"],
        top,
        stdin="".join(f"{oid}\n" for oid, _ in blobs).encode("ascii"),
    )
    offset = 0
    for _, relative in blobs:
        header_end = output.index(b"\n", offset)
        size = int(output[offset:header_end].split()[2])
        data = output[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return len(blobs)


def _safe_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise DiffError(
            f"refusing to copy a file with an unsafe path from git ({name!r})"
        )
    return path


def _outside_config(paths: Sequence[str | Path], cwd: Path, top: Path) -> Path | None:
    """Return the working tree's configuration when it lies outside the repository.

    REV cannot have that file, so both trees are then checked with it.
    """
    first = Path(paths[0]) if paths else Path(".")
    location = find_config(first if first.is_absolute() else cwd / first)
    if location is None or location.resolve().is_relative_to(top):
        return None
    return location
