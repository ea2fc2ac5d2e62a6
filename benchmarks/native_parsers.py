"""seglint against the kernel tools' own parsers on the same generated files.

For 1,000, 10,000 and 50,000 rules the script writes an iptables-restore
file and an nftables file with the same rules (see ``_common.py`` for the
mix) and times, as whole processes:

* ``seglint check FILE`` with a configuration that makes the file a
  processing node's host firewall, so required flows (SEG101-SEG112) and
  exposures (SEG201-SEG208) are both checked;
* ``iptables-restore --test FILE`` and ``nft -c -f FILE``, each run in a
  network namespace created for the run and deleted after it, so the
  host's rules are never touched.

It prints the best wall time of ``--runs`` runs per tool (one run at 10,000
rules and more) and the ratio seglint / native tool. The goal is a ratio of
at most 10.
The native tools need root for the namespace; without root only seglint is
timed. A seglint run that exceeds ``--timeout`` seconds is reported as
timed out.

    sudo python benchmarks/native_parsers.py              # 1k, 10k, 50k rules
    sudo python benchmarks/native_parsers.py 1000 10000   # chosen sizes
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CONFIG,
    SEGLINT,
    Timing,
    best_of,
    iptables_text,
    machine,
    nftables_text,
    seglint_env,
    workdir,
)

SIZES = (1_000, 10_000, 50_000)
GOAL = 10.0
NATIVE = {
    "iptables": ("rules.v4", ("iptables-restore", "--test"), iptables_text),
    "nftables": ("rules.nft", ("nft", "-c", "-f"), nftables_text),
}


class Namespace:
    """A network namespace for the native tools, deleted on exit."""

    def __init__(self) -> None:
        self.name = f"seglint-bench-{os.getpid()}"

    def __enter__(self) -> Namespace:
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], check=False)

    def command(self, *words: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *words]


def native_available() -> str | None:
    """Return why the native tools cannot run, or None when they can."""
    if os.geteuid() != 0:
        return "not root: the native tools need a network namespace (run with sudo)"
    missing = [tool for tool in ("ip", "iptables-restore", "nft") if shutil.which(tool) is None]
    if missing:
        return f"not found: {', '.join(missing)}"
    return None


def _cell(timing: Timing | None, timeout: float) -> str:
    if timing is None:
        return f"{'-':>9}"
    if timing.returncode == -1:
        return f"{'>' + format(timeout, '.0f'):>9}"
    return f"{timing.wall:>9.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES),
                        help="rule counts (default: 1000 10000 50000)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per tool below 10,000 rules; the best is kept (default: 3)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds allowed for one seglint run (default: 600)")
    args = parser.parse_args(argv)

    skipped = native_available()
    print(f"machine: {machine()}")
    if skipped:
        print(f"native tools skipped: {skipped}")
    print(f"{'format':<9} {'rules':>7} {'seglint s':>9} {'native s':>9} {'ratio':>7}  "
          f"goal <= {GOAL:.0f}x")
    failed = False
    with workdir("seglint-native-") as folder:
        root = Path(folder)
        (root / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
        env = seglint_env(root / "pycache")
        # Fill the byte-code and parser caches, as an installed seglint has them.
        warm = root / "warm.rules"
        warm.write_text(iptables_text(10), encoding="utf-8")
        best_of(1, [*SEGLINT, "check", warm.name], cwd=root, env=env)
        warm.unlink()
        for size in sorted(args.sizes):
            for name, (file_name, tool, generate) in NATIVE.items():
                location = root / file_name
                location.write_text(generate(size), encoding="utf-8")
                runs = args.runs if size < 10_000 else 1
                mine = best_of(runs, [*SEGLINT, "check", file_name], cwd=root, env=env,
                               timeout=args.timeout)
                theirs = None
                if not skipped:
                    with Namespace() as namespace:
                        theirs = best_of(runs, namespace.command(*tool, str(location)))
                ratio = ""
                if theirs is not None and mine.returncode != -1:
                    value = mine.wall / theirs.wall
                    failed |= value > GOAL
                    ratio = f"{value:>6.1f}x"
                elif theirs is not None:
                    # seglint timed out: the ratio is at least this.
                    failed = True
                    ratio = f">{args.timeout / theirs.wall:.0f}x"
                print(f"{name:<9} {size:>7} {_cell(mine, args.timeout)} "
                      f"{_cell(theirs, args.timeout)} {ratio:>7}", flush=True)
                location.unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
