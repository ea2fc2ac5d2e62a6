"""Growth of seglint's parse and check time and memory from 100 to 100,000 rules.

For each size the script writes an iptables-restore file (the rule mix of
``_common.py``) and runs ``seglint.api.check`` on it in a child process,
with a configuration that makes the file a processing node's host firewall.
The child checks a 10-rule file first, untimed, so that imports, plugins and
parser tables are loaded. It then reports the parse time, the time of the
whole check (parse included), and its peak resident memory after parsing
and at the end. The parent prints them with two ratios per
step from the previous size: the rule ratio and the time ratio.

Goals: each time ratio at most 1.3 times its rule ratio (near-linear
growth), and a peak resident memory under 500 MB at 100,000 rules. A child
that exceeds ``--timeout`` seconds is stopped and reported as timed out;
its parse time and memory after parsing are still printed when known.

    python benchmarks/scaling.py                    # 100, 1k, 10k, 100k rules
    python benchmarks/scaling.py 100 1000 10000     # chosen sizes
    python benchmarks/scaling.py --trace 100000     # also the top allocation sites
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CONFIG, iptables_text, machine, seglint_env, workdir  # noqa: E402

SIZES = (100, 1_000, 10_000, 100_000)
TIME_GOAL = 1.3  # time ratio / rule ratio
MEMORY_GOAL_MB = 500.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(location: Path, trace: bool, report: Path) -> None:
    """Check ``location`` in this process; write the measurements to ``report``."""
    import tracemalloc

    from seglint import api
    from seglint.formats.iptables import IptablesFormat

    if trace:
        tracemalloc.start(4)
    measured: dict[str, object] = {}
    original = IptablesFormat.parse

    def timed_parse(self: IptablesFormat, *args: object) -> object:
        start = time.perf_counter()
        result = original(self, *args)  # type: ignore[arg-type]
        measured["parse_s"] = time.perf_counter() - start
        measured["parse_rss_mb"] = _rss_mb()
        if trace:
            snapshot = tracemalloc.take_snapshot()
            measured["parse_top"] = _top(snapshot)
            measured["parse_peak_traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        # Written now so that a check that times out still reports its parse.
        report.write_text(json.dumps(measured), encoding="utf-8")
        return result

    # An untimed check of a small file first: imports, plugins and parser
    # tables are loaded once per process and are not part of the growth.
    warm = location.parent / "warm-up.v4"
    warm.write_text(iptables_text(10), encoding="utf-8")
    api.check([warm], location.parent / "seglint.yaml", cwd=location.parent)
    warm.unlink()
    IptablesFormat.parse = timed_parse  # type: ignore[method-assign]
    if trace:
        _trace_walks(measured)
    start = time.perf_counter()
    result = api.check([location], location.parent / "seglint.yaml", cwd=location.parent)
    measured["total_s"] = time.perf_counter() - start
    measured["rss_mb"] = _rss_mb()
    measured["findings"] = len(result.findings)
    measured["exit_code"] = result.exit_code
    if trace:
        measured["check_peak_traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    report.write_text(json.dumps(measured), encoding="utf-8")


def _trace_walks(measured: dict[str, object]) -> None:
    """Record the allocation sites when an engine walk ends at a new memory high."""
    import tracemalloc

    from seglint.engine import Engine

    original = Engine.walk
    highest = [0]

    def walk(self: Engine, *args: object, **kwargs: object) -> object:
        outcomes = original(self, *args, **kwargs)  # type: ignore[arg-type]
        current = tracemalloc.get_traced_memory()[0]
        # A snapshot costs about a second; take one per 10% of growth.
        if current > highest[0] * 1.1:
            highest[0] = current
            measured["check_top"] = _top(tracemalloc.take_snapshot())
            measured["check_traced_mb"] = current / 2**20
        return outcomes

    Engine.walk = walk  # type: ignore[method-assign]


def _top(snapshot: object, count: int = 8) -> list[str]:
    import tracemalloc

    # Module code objects are not what grows with the rule count.
    snapshot = snapshot.filter_traces([  # type: ignore[attr-defined]
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    ])
    statistics = snapshot.statistics("traceback")
    lines = []
    for stat in statistics[:count]:
        # Most recent call first: the allocating line, then its callers.
        frames = " <- ".join(f"{Path(frame.filename).name}:{frame.lineno}"
                             for frame in reversed(stat.traceback))
        lines.append(f"{stat.size / 2**20:8.1f} MB {stat.count:>9} blocks  {frames}")
    return lines


def measure(size: int, root: Path, env: dict[str, str], timeout: float,
            trace: bool) -> dict[str, object]:
    """Run :func:`child` on a file of ``size`` rules; return its measurements."""
    location = root / f"rules-{size}.v4"
    location.write_text(iptables_text(size), encoding="utf-8")
    report = root / f"report-{size}.json"
    command = [sys.executable, __file__, "--child", str(location), str(report)]
    if trace:
        command.append("--trace")
    measured: dict[str, object] = {}
    try:
        subprocess.run(command, env=env, timeout=timeout, check=True,
                       stdout=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        measured["timed_out"] = True
    if report.exists():
        measured.update(json.loads(report.read_text(encoding="utf-8")))
    location.unlink()
    return measured


def _number(value: object, pattern: str) -> str:
    return format(value, pattern) if isinstance(value, (int, float)) else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES),
                        help="rule counts (default: 100 1000 10000 100000)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds allowed for one size (default: 900)")
    parser.add_argument("--trace", action="store_true",
                        help="record allocations with tracemalloc (slower) and print "
                             "the top allocation sites after parsing and at the largest "
                             "traced memory after an engine walk")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "REPORT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), args.trace, Path(args.child[1]))
        return 0

    print(f"machine: {machine()}")
    print(f"{'rules':>7} {'parse s':>8} {'check s':>8} {'parse MB':>9} {'peak MB':>8} "
          f"{'rule x':>7} {'time x':>7} {'time/rule':>9}  goals: time/rule <= "
          f"{TIME_GOAL}, peak < {MEMORY_GOAL_MB:.0f} MB")
    failed = False
    previous: tuple[int, float] | None = None
    with workdir("seglint-scaling-") as folder:
        root = Path(folder)
        (root / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
        env = seglint_env(root / "pycache")
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent),
                                             env["PYTHONPATH"]])
        for size in sorted(args.sizes):
            row = measure(size, root, env, args.timeout, args.trace)
            total = row.get("total_s")
            peak = row.get("rss_mb")
            ratios = ""
            if isinstance(total, float) and previous is not None:
                rule_ratio = size / previous[0]
                time_ratio = total / previous[1]
                failed |= time_ratio > TIME_GOAL * rule_ratio
                ratios = (f"{rule_ratio:>7.1f} {time_ratio:>7.1f} "
                          f"{time_ratio / rule_ratio:>9.2f}")
            if isinstance(peak, float):
                failed |= size >= 100_000 and peak >= MEMORY_GOAL_MB
            check_cell = (f"{'>' + format(args.timeout, '.0f'):>8}" if row.get("timed_out")
                          else f"{_number(total, '8.2f'):>8}")
            print(f"{size:>7} {_number(row.get('parse_s'), '8.2f'):>8} {check_cell} "
                  f"{_number(row.get('parse_rss_mb'), '9.0f'):>9} "
                  f"{_number(peak, '8.0f'):>8} {ratios}", flush=True)
            if "check_traced_mb" in row:
                print(f"    traced memory: parse peak "
                      f"{_number(row.get('parse_peak_traced_mb'), '.0f')} MB, check peak "
                      f"{_number(row.get('check_peak_traced_mb'), '.0f')} MB, largest "
                      f"after an engine walk {row['check_traced_mb']:.0f} MB")
            for key in ("parse_top", "check_top"):
                for line in row.get(key, []) or []:  # type: ignore[union-attr]
                    print(f"    {key.split('_')[0]:<5} {line}")
            previous = (size, total) if isinstance(total, float) else None
            if row.get("timed_out"):
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
