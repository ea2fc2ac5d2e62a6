"""Side-by-side run of seglint and Checkov on the same Terraform folders.

For each folder (or single ``.tf`` file) this runs

* ``checkov -d FOLDER -o json --quiet --compact --framework terraform
  --skip-download`` (``-f FILE`` for a file), and
* ``python -m seglint.cli check FOLDER --format json`` with this interpreter
  and this checkout first on ``sys.path``,

once untimed (its output is the one compared) and then N timed times each,
alternating the two tools so that both see the same machine load. It prints
Markdown: the median wall and CPU time of each tool, the ratios seglint/Checkov
of those medians, and per resource the open-ingress exposures that each tool
reports, side by side.

Checkov is kept off the network: ``--skip-download`` and
``BC_SKIP_MAPPING=TRUE`` stop its guideline download from the vendor, and
``CKV_SKIP_PACKAGE_UPDATE_CHECK=true`` stops its PyPI version check (with
these, strace showed no internet connection attempt by Checkov 3.3.30).

    CHECKOV=/tmp/checkov-venv/bin/checkov python benchmarks/checkov_compare.py
    python benchmarks/checkov_compare.py --checkov PATH --runs 5 FOLDER...

Without folders, it takes every entry of ``../shared/corpus/terraform/`` and
the Terraform cases c01-c07, c09, c11 and c12 of ``../shared/cases/``, plus an
empty folder that shows each tool's fixed start-up cost.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
CASE_PATTERNS = ("c01*", "c02*", "c03*", "c04*", "c05*", "c06*", "c07*", "c09*",
                 "c11*", "c12*")
EMPTY_LABEL = "(empty folder)"

AWS_SG = ("aws_security_group", "aws_security_group_rule",
          "aws_vpc_security_group_ingress_rule")
AWS_NACL = ("aws_network_acl", "aws_network_acl_rule")
AZURE_NSG = ("azurerm_network_security_group", "azurerm_network_security_rule")
GCP_FIREWALL = ("google_compute_firewall",)


@dataclass(frozen=True)
class CheckovCheck:
    """A Checkov check about ingress from the whole internet."""

    port: int | None  # None: the check is about every port at once
    protocol: str  # "any" where the check does not read the protocol
    resources: tuple[str, ...]


# Checkov 3.3.30 checks whose failure means "this port is open to 0.0.0.0/0"
# (read from checkov/terraform/checks/resource/{aws,azure,gcp}/ and
# checks/graph_checks/gcp/ of that release). Other failed checks (descriptions,
# attachment, storage, ...) are not about exposure and are left out.
CHECKOV_EXPOSURE: dict[str, CheckovCheck] = {
    "CKV_AWS_24": CheckovCheck(22, "any", AWS_SG),
    "CKV_AWS_25": CheckovCheck(3389, "any", AWS_SG),
    "CKV_AWS_260": CheckovCheck(80, "any", AWS_SG),
    # Fails for protocol -1 with ports 0-0 or 0-65535, or a range containing -1.
    "CKV_AWS_277": CheckovCheck(None, "any", AWS_SG),
    "CKV_AWS_229": CheckovCheck(21, "any", AWS_NACL),
    "CKV_AWS_230": CheckovCheck(20, "any", AWS_NACL),
    "CKV_AWS_231": CheckovCheck(3389, "any", AWS_NACL),
    "CKV_AWS_232": CheckovCheck(22, "any", AWS_NACL),
    "CKV_AWS_352": CheckovCheck(None, "any", AWS_NACL),
    # Azure port checks fire for protocol Tcp or * only.
    "CKV_AZURE_9": CheckovCheck(3389, "tcp", AZURE_NSG),
    "CKV_AZURE_10": CheckovCheck(22, "tcp", AZURE_NSG),
    "CKV_AZURE_160": CheckovCheck(80, "tcp", AZURE_NSG),
    "CKV_AZURE_77": CheckovCheck(None, "udp", AZURE_NSG),
    "CKV_GCP_77": CheckovCheck(20, "any", GCP_FIREWALL),
    "CKV_GCP_75": CheckovCheck(21, "any", GCP_FIREWALL),
    "CKV_GCP_2": CheckovCheck(22, "any", GCP_FIREWALL),
    "CKV_GCP_106": CheckovCheck(80, "any", GCP_FIREWALL),
    "CKV_GCP_88": CheckovCheck(3306, "any", GCP_FIREWALL),
    "CKV_GCP_3": CheckovCheck(3389, "any", GCP_FIREWALL),
    "CKV2_GCP_12": CheckovCheck(None, "all", GCP_FIREWALL),
}

CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
RESOURCE = re.compile(r"\b((?:aws|azurerm|google)_[a-z0-9_]+\.[A-Za-z0-9_-]+)")
# One part of a seglint flow text such as "tcp/0-24,26-134,...": the message
# lists at most four port ranges and ends the list with "..." when there are more.
SEGLINT_FLOW = re.compile(
    r"(?P<proto>[a-z0-9]+)/(?P<ports>[0-9][0-9,-]*?)(?P<cut>,\.\.\.)?")
RESOURCE_LINE = re.compile(r'^resource\s+"([^"]+)"\s+"([^"]+)"')
CHECKOV_BLOCK = re.compile(r"^(ingress|egress|security_rule|allow|deny)/\[(\d+)\]")


@dataclass
class Exposure:
    """One open-ingress result of one tool, on one resource."""

    tool: str
    rule: str
    file: str
    line: int
    resource: str
    ports_text: str
    ports: list[tuple[int, int]] | None  # None: every port
    # The highest port listed where seglint's message cut its port list.
    cut_after: int | None = None
    may: bool = False

    def label(self) -> str:
        mark = " may" if self.may else ""
        return f"{self.rule} {self.file}:{self.line}{mark}"


@dataclass
class ToolRun:
    """The compared (untimed) output of one tool and its timed runs."""

    exposures: list[Exposure] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    """One line of the side-by-side table of a resource."""

    ports: str
    seglint: list[str] = field(default_factory=list)
    checkov: list[str] = field(default_factory=list)
    covers: list[tuple[int, int]] | None = None
    cut_after: int | None = None


# --- running the tools ----------------------------------------------------------------


def checkov_command(checkov: str, target: Path) -> list[str]:
    flag = "-f" if target.is_file() else "-d"
    return [checkov, flag, str(target), "-o", "json", "--quiet", "--compact",
            "--framework", "terraform", "--skip-download"]


def seglint_command(target: Path) -> list[str]:
    return [sys.executable, "-m", "seglint.cli", "check", str(target),
            "--format", "json"]


def checkov_env() -> dict[str, str]:
    return {**os.environ, **CHECKOV_ENV}


def seglint_env() -> dict[str, str]:
    # The checkout goes first on sys.path so that an installed seglint is not used.
    path = os.environ.get("PYTHONPATH", "")
    paths = os.pathsep.join(p for p in (str(REPO), path) if p)
    return {**os.environ, "PYTHONPATH": paths}


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict[str, str], cwd: Path,
        accepted: tuple[int, ...]) -> tuple[float, float, int, str]:
    """Run one command; return its wall time and CPU time (user + system, its
    waited-for descendants included) in seconds, its exit code and its output."""
    cpu = cpu_of_children()
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd,
                          check=False)
    elapsed = time.perf_counter() - start
    cpu = cpu_of_children() - cpu
    if proc.returncode not in accepted:
        tail = proc.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"command failed (exit code {proc.returncode}): "
                           f"{' '.join(command)}\n" + "\n".join(tail))
    return elapsed, cpu, proc.returncode, proc.stdout


def checkov_version(checkov: str) -> str:
    proc = subprocess.run([checkov, "--version"], capture_output=True, text=True,
                          env=checkov_env(), check=False)
    return proc.stdout.strip() or f"unknown (exit code {proc.returncode})"


# --- reading Checkov's output ---------------------------------------------------------


def relative(path: str, target: Path) -> str:
    base = target.parent if target.is_file() else target
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path


def block_line(file: Path, first: int, last: int, kind: str, index: int) -> int | None:
    """Find the line of the index-th literal ``kind {`` block between two lines."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*{kind}\s*\{{")
    found = [n for n in range(first, min(last, len(lines)) + 1)
             if pattern.match(lines[n - 1])]
    return found[index] if index < len(found) else None


def checkov_exposure(check: dict, target: Path) -> Exposure | None:
    spec = CHECKOV_EXPOSURE.get(check["check_id"])
    if spec is None:
        return None
    first, last = check["file_line_range"]
    line = first
    keys = check.get("check_result", {}).get("evaluated_keys") or []
    block = next((m for m in map(CHECKOV_BLOCK.match, keys) if m), None)
    if block is not None:
        found = block_line(Path(check["file_abs_path"]), first, last, block.group(1),
                           int(block.group(2)))
        line = found or first
    if spec.port is not None:
        ports, text = [(spec.port, spec.port)], f"port {spec.port}"
    else:
        ports, text = None, "every port"
        if spec.protocol not in ("any", "all"):
            text = f"{spec.protocol}/every port"
    file = relative(check["file_abs_path"], target)
    return Exposure("checkov", check["check_id"], file, line, check["resource"], text,
                    ports)


def load_json(stdout: str, tool: str, target: Path) -> object:
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(f"{tool} output on {target} is not JSON ({error}): "
                           f"{stdout[:200]!r}") from error


def read_checkov(stdout: str, target: Path) -> tuple[list[Exposure], list[str]]:
    data = load_json(stdout, "checkov", target)
    reports = data if isinstance(data, list) else [data]
    exposures: list[Exposure] = []
    notes: list[str] = []
    for report in reports:
        for check in report.get("results", {}).get("failed_checks", []):
            exposure = checkov_exposure(check, target)
            if exposure is not None:
                exposures.append(exposure)
        errors = report.get("summary", {}).get("parsing_errors", 0)
        if errors:
            notes.append(f"Checkov: {errors} file(s) not parsed")
    return exposures, notes


# --- reading seglint's output ---------------------------------------------------------


def parse_ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.append((int(low), int(high or low)))
    return out


def enclosing_resource(path: str, line: int) -> str | None:
    """Find the ``resource "TYPE" "NAME"`` header at or above a line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for text in reversed(lines[:line]):
        match = RESOURCE_LINE.match(text)
        if match:
            return f"{match[1]}.{match[2]}"
    return None


def flow_ports(flow: str) -> tuple[list[tuple[int, int]], int | None] | None:
    """Read the port ranges of a flow text such as "tcp/135-139 and udp/135-139"."""
    ports: list[tuple[int, int]] = []
    cut_after: int | None = None
    for part in flow.split(" and "):
        match = SEGLINT_FLOW.fullmatch(part)
        if match is None:
            return None
        ranges = parse_ranges(match["ports"])
        ports += ranges
        if match["cut"]:
            last = ranges[-1][1]
            cut_after = last if cut_after is None else min(cut_after, last)
    return ports, cut_after


def seglint_exposure(finding: dict, target: Path) -> Exposure:
    message = finding["message"]
    flow = message.split(" on ", 1)[0]
    parsed = flow_ports(flow)
    if parsed is None:
        witness = finding.get("witness") or {}
        port = witness.get("destinationPort")
        parsed = ([(port, port)] if port is not None else [], None)
    # The message names the rule by its text when that is short, so the
    # resource comes from the file; the message is the fallback.
    resource = enclosing_resource(finding["path"], finding["line"])
    if resource is None:
        match = RESOURCE.search(message)
        resource = match.group(1) if match else "?"
    return Exposure("seglint", finding["ruleId"], relative(finding["path"], target),
                    finding["line"], resource, flow, parsed[0], parsed[1],
                    bool(finding.get("may")))


def read_seglint(stdout: str, target: Path) -> tuple[list[Exposure], list[str]]:
    exposures: list[Exposure] = []
    unknown: list[str] = []
    for finding in load_json(stdout, "seglint", target):  # type: ignore[union-attr]
        if finding["ruleId"].startswith("SEG2"):
            exposures.append(seglint_exposure(finding, target))
        elif finding["ruleId"] == "SEG902":
            unknown.append(f"{relative(finding['path'], target)}:{finding['line']}")
    if not unknown:
        return exposures, []
    return exposures, [f"seglint SEG902 (value not modelled) at {', '.join(unknown)}"]


# --- side by side ---------------------------------------------------------------------


def contains(ranges: list[tuple[int, int]], port: int) -> bool:
    return any(low <= port <= high for low, high in ranges)


def attach_checkov(rows: list[Row], exposure: Exposure) -> None:
    """Put a Checkov result on the seglint rows whose ports it is about."""
    if exposure.ports is None:
        # "udp/every port" is only about the rows that name udp.
        protocol, _, _ = exposure.ports_text.rpartition("/")
        matching = [row for row in rows if f"{protocol}/" in row.ports] if protocol \
            else rows
        for row in matching:
            row.checkov.append(exposure.label())
        if not matching:
            rows.append(Row(exposure.ports_text, checkov=[exposure.label()]))
        return
    port = exposure.ports[0][0]
    placed = False
    for row in rows:
        if row.covers is not None and contains(row.covers, port):
            row.checkov.append(f"{exposure.label()} (port {port})")
            placed = True
    if not placed:
        # A cut list may contain the port in its unlisted part, so the row is
        # marked with a question instead of assuming it.
        for row in rows:
            if row.cut_after is not None and port > row.cut_after:
                row.checkov.append(
                    f"{exposure.label()} (port {port}, in the cut part?)")
                placed = True
    if not placed:
        rows.append(Row(f"port {port}", checkov=[exposure.label()]))


def checked_ports(resource: str) -> set[int]:
    kind = resource.split(".")[0]
    return {spec.port for spec in CHECKOV_EXPOSURE.values()
            if spec.port is not None and kind in spec.resources}


def verdict(row: Row, resource: str) -> str:
    if row.seglint and row.checkov:
        return "both"
    if row.checkov:
        return "Checkov only"
    checked = sorted(p for p in checked_ports(resource)
                     if row.covers and contains(row.covers, p))
    if not checked:
        return "seglint only: Checkov has no check for these ports"
    ports = ", ".join(map(str, checked))
    return f"seglint only: Checkov checks {ports} here and passed"


def side_by_side(seglint: list[Exposure],
                 checkov: list[Exposure]) -> list[tuple[str, Row]]:
    resources = sorted({e.resource for e in seglint + checkov})
    table: list[tuple[str, Row]] = []
    for resource in resources:
        rows = [Row(e.ports_text, seglint=[e.label()], covers=e.ports,
                    cut_after=e.cut_after)
                for e in seglint if e.resource == resource]
        for exposure in checkov:
            if exposure.resource == resource:
                attach_checkov(rows, exposure)
        table += [(resource, row) for row in rows]
    return table


# --- the run --------------------------------------------------------------------------


def default_targets() -> list[Path]:
    corpus = SHARED / "corpus" / "terraform"
    cases = SHARED / "cases"
    if not corpus.is_dir() or not cases.is_dir():
        return []
    targets = [p for p in sorted(corpus.iterdir()) if p.is_dir() or p.suffix == ".tf"]
    for pattern in CASE_PATTERNS:
        targets += sorted(p for p in cases.glob(pattern) if p.is_dir())
    return targets


def label_of(target: Path) -> str:
    resolved = target.resolve()
    for base in (SHARED.resolve(), REPO):
        if resolved.is_relative_to(base):
            return resolved.relative_to(base).as_posix()
    return str(target)


def measure(checkov: str, targets: list[Path], runs: int,
            work: Path) -> dict[Path, tuple[ToolRun, ToolRun]]:
    results: dict[Path, tuple[ToolRun, ToolRun]] = {}
    for target in targets:
        ck, sl = ToolRun(), ToolRun()
        *_, out = run(checkov_command(checkov, target), checkov_env(), work, (0, 1))
        ck.exposures, ck.notes = read_checkov(out, target)
        # Exit code 2 means that a file did not parse. The other files are checked.
        *_, code, out = run(seglint_command(target), seglint_env(), REPO, (0, 1, 2))
        sl.exposures, sl.notes = read_seglint(out, target)
        if code == 2:
            sl.notes.append("seglint: exit code 2 (a file did not parse)")
        results[target] = (ck, sl)
    for number in range(runs):
        logger.info("timed run %d of %d", number + 1, runs)
        for target in targets:
            ck, sl = results[target]
            wall, cpu, *_ = run(checkov_command(checkov, target), checkov_env(), work,
                                (0, 1))
            ck.times.append(wall)
            ck.cpu.append(cpu)
            wall, cpu, *_ = run(seglint_command(target), seglint_env(), REPO, (0, 1, 2))
            sl.times.append(wall)
            sl.cpu.append(cpu)
    return results


def print_report(results: dict[Path, tuple[ToolRun, ToolRun]], labels: dict[Path, str],
                 runs: int) -> None:
    print(f"## Time (median of {runs} runs, seconds; CPU = user + system)\n")
    print("| target | Checkov wall | seglint wall | seglint/Checkov wall "
          "| Checkov CPU | seglint CPU | seglint/Checkov CPU | Checkov exposures "
          "| seglint exposures | notes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for target, (ck, sl) in results.items():
        ck_time, sl_time = statistics.median(ck.times), statistics.median(sl.times)
        ck_cpu, sl_cpu = statistics.median(ck.cpu), statistics.median(sl.cpu)
        notes = "; ".join(ck.notes + sl.notes)
        print(f"| {labels[target]} | {ck_time:.2f} | {sl_time:.2f} | "
              f"{sl_time / ck_time:.2f} | {ck_cpu:.2f} | {sl_cpu:.2f} | "
              f"{sl_cpu / ck_cpu:.2f} | {len(ck.exposures)} | {len(sl.exposures)} "
              f"| {notes} |")
    print("\n## Exposures side by side\n")
    for target, (ck, sl) in results.items():
        if not ck.exposures and not sl.exposures:
            continue
        print(f"### {labels[target]}\n")
        print("| resource | ports | seglint | Checkov | verdict |")
        print("|---|---|---|---|---|")
        for resource, row in side_by_side(sl.exposures, ck.exposures):
            print(f"| {resource} | {row.ports} | {'<br>'.join(row.seglint) or '-'} | "
                  f"{'<br>'.join(row.checkov) or '-'} | {verdict(row, resource)} |")
        print()


def find_checkov(name: str) -> str | None:
    return shutil.which(name) or (name if os.access(name, os.X_OK) else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", type=Path,
                        help="Terraform folders or .tf files (default: the shared "
                             "Terraform corpus and cases)")
    parser.add_argument("--checkov", help="path of the checkov executable "
                                          "(default: the CHECKOV environment variable)")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs of each tool per target (default: 3)")
    parser.add_argument("--no-empty", action="store_true",
                        help="leave out the empty-folder row of start-up times")
    return parser


def check_arguments(args: argparse.Namespace) -> tuple[str, list[Path]] | str:
    """Return the checkov executable and the absolute targets, or an error message."""
    name = args.checkov or os.environ.get("CHECKOV", "")
    checkov = find_checkov(name) if name else None
    if checkov is None:
        value = f" ({name})" if name else ""
        return (f"checkov executable not found{value}: pass --checkov PATH or set "
                "CHECKOV; install it with python3 -m venv /tmp/checkov-venv && "
                "/tmp/checkov-venv/bin/pip install checkov")
    if args.runs < 1:
        return f"invalid --runs ({args.runs}): give 1 or more"
    # Absolute paths, because the tools run in other working folders.
    targets = [t.resolve() for t in args.targets or default_targets()]
    if not targets:
        return (f"no targets: {SHARED} is not present (only in the development "
                "workspace); pass Terraform folders as arguments")
    missing = [str(t) for t in targets if not t.exists()]
    if missing:
        return f"target not found ({', '.join(missing)})"
    return checkov, targets


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    checked = check_arguments(args)
    if isinstance(checked, str):
        print(checked, file=sys.stderr)
        return 2
    checkov, targets = checked

    with tempfile.TemporaryDirectory() as work:
        empty = Path(work) / "empty"
        empty.mkdir()
        if not args.no_empty:
            targets = [empty, *targets]
        labels = {t: EMPTY_LABEL if t == empty else label_of(t) for t in targets}
        # Checkov runs in a scratch folder so that nothing it writes lands in the repo.
        scratch = Path(work) / "scratch"
        scratch.mkdir()
        print(f"Checkov {checkov_version(checkov)} ({checkov}); seglint from {REPO}; "
              f"Python {platform.python_version()}; {os.cpu_count()} CPUs; "
              f"{platform.platform()}\n")

        load_before = os.getloadavg()[0]
        try:
            results = measure(checkov, targets, args.runs, scratch)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        # Other work on the machine slows both tools; the load shows how much there was.
        print(f"1-minute load average: {load_before:.2f} before the runs, "
              f"{os.getloadavg()[0]:.2f} after\n")
        print_report(results, labels, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
