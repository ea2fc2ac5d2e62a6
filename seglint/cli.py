"""Command line: ``seglint check``, ``diff``, ``rules``, ``explain`` and ``docs``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from seglint import __version__
from seglint.api import RunResult, check
from seglint.config import find_config
from seglint.findings import LEVELS, Finding, RuleMeta
from seglint.ignorefile import IGNORE_FILE_NAME, SuppressionWarning, add_sarif_warnings
from seglint.ir import Diagnostic, Span
from seglint.limits import HIGHEST_MAX_FILE_SIZE, SIZE_HINT, parse_size
from seglint.parallel import AUTO_MIN_BYTES, AUTO_MIN_FILES, JobsError, parse_jobs
from seglint.policy import load_policy_data
from seglint.report import FORMATTERS, RunReport, load_baseline, new_findings

EXIT_USAGE = 2
# A path with one of these names stands for every rule file below its folder.
SETTINGS_NAMES = ("seglint.yaml", ".seglint.yaml", IGNORE_FILE_NAME)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seglint",
        description="Check firewall rule sets against the port requirements of "
                    "Trustwave SEG (MailMarshal SMTP).",
    )
    parser.add_argument("--version", action="version", version=f"seglint {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log debug details to standard error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("check", help="check rule files and directories")
    run.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                     help="rule files or directories to check (default: .)")
    _add_run_options(run)
    run.add_argument("--max-file-size", type=_size, metavar="SIZE",
                     help="skip files larger than SIZE, e.g. 5MB or 512KiB, with a "
                          "SEG901 error (default: max-file-size of the configuration, "
                          "10MiB)")
    run.add_argument("-j", "--jobs", default="auto", metavar="N",
                     help="check the files in N worker processes, or 'auto': one per "
                          f"CPU when there are at least {AUTO_MIN_FILES} rule files or "
                          f"{AUTO_MIN_BYTES // 1024} KiB of them, else 1 (default: auto); "
                          "the report is the same for every N")
    run.add_argument("--baseline", type=Path, metavar="SARIF",
                     help="report only findings whose fingerprint is not in this SARIF file")

    compare = commands.add_parser(
        "diff", help="report the findings that are new since a git revision")
    compare.add_argument("rev", metavar="REV",
                         help="git revision to compare with (e.g. HEAD~1, origin/main)")
    compare.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                         help="rule files or directories to compare (default: .)")
    _add_run_options(compare)

    grid = commands.add_parser(
        "matrix", help="show every row of the SEG port table against every rule set")
    grid.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                      help="rule files or directories to check (default: .)")
    grid.add_argument("--config", type=Path, metavar="FILE",
                      help="configuration file (default: seglint.yaml, .seglint.yaml or "
                           "pyproject.toml [tool.seglint], searched upward)")
    grid.add_argument("--format", choices=["text", "json", "html"], default="text",
                      help="output format (default: text)")
    grid.add_argument("-o", "--output", type=Path, metavar="FILE",
                      help="write the matrix to FILE instead of standard output")
    grid.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                      help="symbols and colour in the text table (default: auto, only on "
                           "a terminal)")

    commands.add_parser("rules", help="list the rules with their ids, levels and names")
    explain = commands.add_parser("explain", help="show the documentation of one rule")
    explain.add_argument("rule", metavar="RULE", help="rule id or name, e.g. SEG109")
    docs = commands.add_parser("docs", help="print the rule reference in Markdown")
    docs.add_argument("-o", "--output", type=Path, metavar="FILE",
                      help="write it to FILE (e.g. docs/rules.md), not standard output")
    return parser


def _add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="configuration file (default: seglint.yaml, .seglint.yaml or "
                          "pyproject.toml [tool.seglint], searched upward)")
    run.add_argument("--format", choices=sorted(FORMATTERS), default="text",
                     help="output format (default: text)")
    run.add_argument("-o", "--output", type=Path, metavar="FILE",
                     help="write the report to FILE instead of standard output")
    run.add_argument("--fail-on", choices=["error", "warning", "note", "never"],
                     default="warning",
                     help="lowest level that makes the exit code 1 (default: warning)")
    run.add_argument("--no-inline-suppressions", action="store_true",
                     help="ignore '# seglint: disable=...' comments in rule files")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="print only findings at warning level and above, without witnesses")
    run.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                     help="colour the text output (default: auto, only on a terminal)")


def _size(text: str) -> int:
    size = parse_size(text)
    if size is None:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (expected {SIZE_HINT})")
    if not 1 <= size <= HIGHEST_MAX_FILE_SIZE:
        raise argparse.ArgumentTypeError(
            f"size out of range ({size} bytes; expected 1 to {HIGHEST_MAX_FILE_SIZE})")
    return size


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    if args.command == "rules":
        return _rules(sys.stdout)
    if args.command == "explain":
        return _explain(args.rule, sys.stdout)
    if args.command == "docs":
        return _docs(args.output)
    if args.command not in ("check", "diff", "matrix"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    runs = {"check": _check, "diff": _diff, "matrix": _matrix}
    try:
        return runs[args.command](args)
    except BrokenPipeError:
        # The reader (head, less) went away; exit quietly as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("seglint: interrupted", file=sys.stderr)
        return 130


def _check(args: argparse.Namespace) -> int:
    try:
        jobs = parse_jobs(args.jobs)
    except JobsError as exc:
        print(f"seglint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = _progress_bar(args)
    try:
        result = check(expand_settings_paths(args.paths), args.config,
                       fail_on=args.fail_on,
                       inline_suppressions=not args.no_inline_suppressions,
                       progress=progress, max_file_size=args.max_file_size,
                       jobs="auto" if jobs is None else jobs)
    finally:
        if progress is not None:
            progress.close()
    findings = result.findings
    exit_code = result.exit_code
    if args.baseline is not None:
        try:
            known = load_baseline(args.baseline)
        except (OSError, ValueError) as exc:
            result.diagnostics.append(Diagnostic(
                "SEG903", str(exc),
                Span(str(args.baseline), 1), "error"))
            exit_code = EXIT_USAGE
        else:
            findings = new_findings(findings, known)
            if exit_code == 1 and not _fails(findings, args.fail_on):
                exit_code = 0
    return _write_report(args, result, findings, exit_code)


def _matrix(args: argparse.Namespace) -> int:
    """Print the flow matrix; exit 2 on parse or config errors, else 0."""
    from seglint.matrix import build
    from seglint.report.matrix_text import render_text

    result = check(expand_settings_paths(args.paths), args.config, matrix=True)
    for diagnostic in result.diagnostics:
        span = diagnostic.span
        print(f"{span.path}:{span.line}:{span.column}: error {diagnostic.rule_id}: "
              f"{diagnostic.message}", file=sys.stderr)
    if result.config is None:
        return EXIT_USAGE
    data = load_policy_data()
    titles = {meta.id: (meta.name, meta.short) for meta in data.rules}
    version = result.config.version_text if not result.config.zero_config else ""
    document = build(data.requirements, result.verdicts, version,
                     result.diagnostics).to_dict(titles)
    if not result.verdicts:
        print(f"seglint: no rule set to show in {' '.join(args.paths)}", file=sys.stderr)
    exit_code = EXIT_USAGE if result.diagnostics else 0
    if args.output is not None and str(args.output) == "-":
        args.output = None

    def write(stream: TextIO, color: bool) -> None:
        if args.format == "html":
            from seglint.report.matrix_html import render_html
            stream.write(render_html(document))
        elif args.format == "json":
            stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        else:
            render_text(document, stream, color=color)

    try:
        if args.output is not None:
            with args.output.open("w", encoding="utf-8") as stream:
                write(stream, False)
        else:
            write(sys.stdout, _use_color(args.color, sys.stdout))
    except BrokenPipeError:
        # The reader (head, less) went away; the matrix's exit code still holds.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_code
    except OSError as exc:
        print(f"seglint: failed to write the matrix ({exc.filename or args.output}: "
              f"{exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    return exit_code


def _diff(args: argparse.Namespace) -> int:
    from seglint.diff import DiffError, diff

    progress = _progress_bar(args)
    try:
        result = diff(args.rev, args.paths, args.config, fail_on=args.fail_on,
                      inline_suppressions=not args.no_inline_suppressions,
                      progress=progress)
    except DiffError as exc:
        print(f"seglint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if progress is not None:
            progress.close()
    return _write_report(args, result, result.findings, result.exit_code)


def expand_settings_paths(paths: Sequence[str]) -> list[str]:
    """Replace the files among ``paths`` that change the findings of other files.

    A configuration file (pyproject.toml with a [tool.seglint] table
    included) or an ignore file stands for every rule file below its
    folder, and a Terraform variable file for the ``.tf`` files of its
    module. pre-commit passes only the changed files, so a commit that
    changes only seglint.yaml or terraform.tfvars still re-checks the rule
    files it affects.
    """
    folders: list[Path] = []
    for path in map(Path, paths):
        if _is_settings_file(path) and path.parent not in folders:
            folders.append(path.parent)

    expanded = [str(folder) for folder in folders]
    for text in paths:
        path = Path(text)
        if any(path.resolve().is_relative_to(folder.resolve()) for folder in folders):
            continue  # the folder covers it
        if _is_terraform_variables(path.name) and path.is_file():
            module = sorted(str(tf) for tf in path.parent.glob("*.tf") if tf.is_file())
            expanded += [tf for tf in module if tf not in expanded and tf not in paths]
            continue
        expanded.append(text)
    return expanded


def _is_settings_file(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.name == "pyproject.toml":
        # It counts only with a [tool.seglint] table and no seglint.yaml beside it.
        return find_config(path.parent) == path.resolve()
    return path.name in SETTINGS_NAMES


def _is_terraform_variables(name: str) -> bool:
    # The variable files that Terraform loads by itself, as the module reader does.
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
        (".auto.tfvars", ".auto.tfvars.json"))


def _write_report(args: argparse.Namespace, result: RunResult, findings: list[Finding],
                  exit_code: int) -> int:
    warnings = result.suppression_warnings
    # SARIF carries the suppression warnings as notifications at warning
    # level; the other formats show them as run notes.
    notes = list(result.notes)
    if args.format != "sarif":
        notes += [warning.note for warning in warnings]
    report = RunReport(
        findings=findings,
        diagnostics=result.diagnostics,
        rules=result.rules,
        root=Path.cwd(),
        files_checked=result.files_checked,
        notes=notes,
        tool_version=__version__,
        execution_successful=not result.diagnostics,
    )
    try:
        if args.output is not None:
            with args.output.open("w", encoding="utf-8") as stream:
                _render(args.format, report, warnings, stream, color=False,
                        quiet=args.quiet)
        else:
            _render(args.format, report, warnings, sys.stdout,
                    color=_use_color(args.color, sys.stdout), quiet=args.quiet)
    except BrokenPipeError:
        raise
    except OSError as exc:
        print(f"seglint: failed to write the report ({exc.filename or args.output}: "
              f"{exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    return exit_code


def _render(name: str, report: RunReport, warnings: list[SuppressionWarning],
            stream: TextIO, *, color: bool, quiet: bool) -> None:
    if name == "sarif" and warnings:
        # NOTE: RunReport has no field for warnings with a location, so the
        # SARIF log is built here and the notifications are added to it.
        from seglint.report.sarif import build_log
        from seglint.report.sarif_model import to_json

        log = add_sarif_warnings(build_log(report), warnings, report.root)
        json.dump(to_json(log), stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    FORMATTERS[name]().render(report, stream, color=color, quiet=quiet)


class ProgressBar:
    """A progress bar on standard error, shown once a run is long enough to need one.

    It appears when more than ``MIN_FILES`` rule files are found, or when
    checking has taken ``MIN_SECONDS``, and disappears when the run ends.
    """

    MIN_FILES = 50
    MIN_SECONDS = 2.0

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            slow = time.monotonic() - self.started >= self.MIN_SECONDS
            if total <= self.MIN_FILES and not slow:
                return
            # rich is imported only here, so short runs do not pay for it.
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(file=self.stream), transient=True)
            self.task = self.bar.add_task("checking", total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _progress_bar(args: argparse.Namespace) -> ProgressBar | None:
    if args.quiet or not sys.stderr.isatty():
        return None
    return ProgressBar(sys.stderr)


def _fails(findings: Sequence, fail_on: str) -> bool:  # type: ignore[type-arg]
    if fail_on == "never":
        return False
    threshold = LEVELS.index(fail_on)
    return any(f.suppression is None and LEVELS.index(f.level) >= threshold for f in findings)


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def _docs(output: Path | None) -> int:
    from seglint.docs import render_rules

    text = render_rules(load_policy_data().rules)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"seglint: failed to write {output} ({exc.strerror or exc})",
              file=sys.stderr)
        return EXIT_USAGE
    return 0


def _rules(stream: TextIO) -> int:
    for rule in load_policy_data().rules:
        stream.write(f"{rule.id}  {rule.level:<7}  {rule.name:<32} {rule.short}\n")
    return 0


def find_rule(key: str) -> RuleMeta | None:
    key = key.strip()
    for rule in load_policy_data().rules:
        if key.upper() == rule.id or key.lower() == rule.name:
            return rule
    return None


def explain_text(rule: RuleMeta) -> str:
    lines = [f"{rule.id} {rule.name} ({rule.level})", "", rule.short, "", rule.full]
    if rule.row:
        lines += ["", "SEG port table row:", f"  {rule.row}"]
    if rule.fix:
        lines += ["", "How to fix:", f"  {rule.fix}"]
    if rule.fail_example:
        lines += ["", "FAIL:"] + [f"  {line}" for line in rule.fail_example.rstrip().splitlines()]
    if rule.pass_example:
        lines += ["", "PASS:"] + [f"  {line}" for line in rule.pass_example.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def _explain(key: str, stream: TextIO) -> int:
    rule = find_rule(key)
    if rule is None:
        known = ", ".join(r.id for r in load_policy_data().rules)
        print(f"seglint: unknown rule {key!r} (known rules: {known})", file=sys.stderr)
        return EXIT_USAGE
    stream.write(explain_text(rule))
    return 0


if __name__ == "__main__":
    sys.exit(main())
