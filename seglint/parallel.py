"""Checking many rule files in worker processes (``seglint check --jobs``).

The unit of work is one rule file: a worker parses it and checks every
rule set it yields, with the same code as a serial run. The parent then
merges the results in discovery order, so the output is the same as a
serial run's, byte for byte. Two things a serial run decides across files
are decided by the parent after all workers finish:

* a file that another checked file loads (a pf anchor, an nftables
  include) is checked as part of that file and not on its own: its own
  result is dropped, and its parse error too unless it was named;
* findings are sorted, merged and suppressed over the whole run, as in a
  serial run (``_Run._apply_settings``).

Formats that join files themselves (a Terraform module's resources tied by
a directive) read the other files inside ``parse``, so a worker reads them
as a serial run does.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# multiprocessing and concurrent.futures take about 25 ms to import; they
# are imported only when a run uses workers.
if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Future

    from seglint.config import Config
    from seglint.discovery import Candidate
    from seglint.findings import Finding
    from seglint.ir import Diagnostic

logger = logging.getLogger(__name__)

# `--jobs auto` uses one process per CPU when a run has at least this many
# rule files or this many bytes of them, and one process otherwise. Starting
# the workers costs about 0.2 to 0.3 s, so 64 small host files still
# checked faster in one process on a 2-core Xeon. Both limits are estimates.
AUTO_MIN_FILES = 128
AUTO_MIN_BYTES = 512 * 1024
# Modules the worker processes import before the first file: each worker
# is forked from a server process that has imported them once.
PRELOAD = ["seglint.api", "seglint.plugins"]


class JobsError(ValueError):
    """An invalid ``--jobs`` value."""


def parse_jobs(text: str | int) -> int | None:
    """Return the number of processes that ``text`` requests; None for ``auto``."""
    if isinstance(text, int):
        value = text
    elif text.strip().lower() == "auto":
        return None
    else:
        try:
            value = int(text)
        except ValueError:
            raise JobsError(f"invalid --jobs value {text!r} (expected a number or auto)") \
                from None
    if value < 1:
        raise JobsError(f"invalid --jobs value {text!r} (expected 1 or more)")
    return value


def available_cpus() -> int:
    """Return the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: int | None, candidates: Sequence[Candidate]) -> int:
    """Return how many processes should check ``candidates`` (1 means no workers)."""
    if jobs is None:
        total = 0
        for candidate in candidates:
            try:
                total += candidate.location.stat().st_size
            except OSError:
                pass
        if len(candidates) < AUTO_MIN_FILES and total < AUTO_MIN_BYTES:
            return 1
        jobs = available_cpus()
    return max(1, min(jobs, len(candidates)))


@dataclass
class FileResult:
    """The findings and diagnostics of one rule file, in the order of a serial run."""

    parsed: bool
    text: tuple[str, str] | None  # (display path, file text) when the file parsed
    read_paths: frozenset[Path]  # files that parsing this one loaded
    errors: list[Diagnostic] = field(default_factory=list)  # parse errors, deferred
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    used_entries: tuple[int, ...] = ()  # indexes of the rulesets entries that matched


# --- worker process ----------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _start_worker(options: Any, config: Config) -> None:
    from seglint.plugins import load_plugins

    plugins = load_plugins()
    _STATE["options"] = options
    _STATE["config"] = config
    _STATE["policies"] = plugins.policies
    _STATE["formats"] = {fmt.id: fmt for fmt in plugins.formats}


def _check_one(location: Path, root: Path, format_id: str, explicit: bool,
               cwd: str) -> FileResult:
    from seglint.api import _Run
    from seglint.discovery import Candidate

    # Paths given on the command line may be relative to the parent's
    # working directory, which the worker did not inherit.
    if os.getcwd() != cwd:
        os.chdir(cwd)
    config = _STATE["config"]
    run = _Run(_STATE["options"])
    run.max_file_size = run.max_file_size or config.max_file_size
    candidate = Candidate(location, root, _STATE["formats"][format_id], explicit)
    parsed = run._parse_file(candidate)
    if parsed is None:
        return FileResult(False, None, frozenset(),
                          errors=[diagnostic for _, diagnostic in run.pending_errors],
                          notes=run.result.notes)
    _, source, result, access = parsed
    run._check_parsed(candidate, source, result, config, _STATE["policies"])
    shown, text = next(iter(run.texts.items()))
    used = tuple(index for index, entry in enumerate(config.rulesets)
                 if id(entry) in run.used_entries)
    return FileResult(True, (shown, text), frozenset(access.read_paths),
                      findings=run.result.findings, diagnostics=run.result.diagnostics,
                      notes=run.result.notes, used_entries=used)


# --- parent process ----------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # forkserver forks each worker from a single-threaded server process:
    # cheaper than spawn (no fresh interpreter per worker) and, unlike a
    # plain fork, safe while the parent runs threads (the progress bar).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def check_files(candidates: Sequence[Candidate], workers: int, options: Any,
                config: Config, progress: Callable[[int, int], None] | None = None
                ) -> list[FileResult] | None:
    """Parse and check ``candidates`` in ``workers`` processes; return results in order.

    Returns None when a worker process dies (the caller then checks the
    files itself, so a crash is reported as in a serial run).
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    results: list[FileResult | None] = [None] * len(candidates)
    # The largest files first, so that one big file does not start last.
    order = sorted(range(len(candidates)), key=lambda index: -_size(candidates[index]))
    executor = ProcessPoolExecutor(workers, mp_context=_context(),
                                   initializer=_start_worker, initargs=(options, config))
    cwd = os.getcwd()
    try:
        futures: dict[Future[FileResult], int] = {}
        for index in order:
            candidate = candidates[index]
            future = executor.submit(_check_one, candidate.location, candidate.root,
                                     candidate.format.id, candidate.explicit, cwd)
            futures[future] = index
        done = 0
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done += 1
            if progress is not None:
                progress(done, len(candidates))
    except BrokenProcessPool:
        logger.debug("a worker process died; checking the files in this process")
        executor.shutdown(wait=True, cancel_futures=True)
        return None
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return [result for result in results if result is not None]


def _size(candidate: Candidate) -> int:
    try:
        return candidate.location.stat().st_size
    except OSError:
        return 0
