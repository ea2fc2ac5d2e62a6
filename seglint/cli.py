"""Command line: ``seglint check``, ``seglint rules``, ``seglint explain``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from seglint import __version__
from seglint.api import check
from seglint.findings import LEVELS, RuleMeta
from seglint.ir import Diagnostic, Span
from seglint.policy import load_policy_data
from seglint.report import FORMATTERS, RunReport, load_baseline, new_findings

EXIT_USAGE = 2


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
    run.add_argument("--baseline", type=Path, metavar="SARIF",
                     help="report only findings whose fingerprint is not in this SARIF file")
    run.add_argument("--no-inline-suppressions", action="store_true",
                     help="ignore '# seglint: disable=...' comments in rule files")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="print only findings at warning level and above, without witnesses")
    run.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                     help="colour the text output (default: auto, only on a terminal)")

    commands.add_parser("rules", help="list the rules with their ids, levels and names")
    explain = commands.add_parser("explain", help="show the documentation of one rule")
    explain.add_argument("rule", metavar="RULE", help="rule id or name, e.g. SEG109")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    if args.command == "rules":
        return _rules(sys.stdout)
    if args.command == "explain":
        return _explain(args.rule, sys.stdout)
    if args.command != "check":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _check(args)
    except KeyboardInterrupt:
        print("seglint: interrupted", file=sys.stderr)
        return 130


def _check(args: argparse.Namespace) -> int:
    result = check(args.paths, args.config, fail_on=args.fail_on,
                   inline_suppressions=not args.no_inline_suppressions)
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
    report = RunReport(
        findings=findings,
        diagnostics=result.diagnostics,
        rules=result.rules,
        root=Path.cwd(),
        files_checked=result.files_checked,
        notes=result.notes,
        tool_version=__version__,
        execution_successful=not result.diagnostics,
    )
    formatter = FORMATTERS[args.format]()
    if args.output is not None:
        with args.output.open("w", encoding="utf-8") as stream:
            formatter.render(report, stream, color=False, quiet=args.quiet)
    else:
        formatter.render(report, sys.stdout, color=_use_color(args.color, sys.stdout),
                         quiet=args.quiet)
    return exit_code


def _fails(findings: Sequence, fail_on: str) -> bool:  # type: ignore[type-arg]
    if fail_on == "never":
        return False
    threshold = LEVELS.index(fail_on)
    return any(f.suppression is None and LEVELS.index(f.level) >= threshold for f in findings)


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


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
