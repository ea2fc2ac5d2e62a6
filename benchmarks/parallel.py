"""Speed-up of ``seglint check --jobs`` on a tree of generated rule files.

The script writes a tree of ``--files`` rule files (default 200): iptables
and nftables host firewalls of 20 to 300 rules, with a configuration that
gives each a host role. It times ``seglint check TREE`` with ``--jobs 1``,
then with each job count of ``--jobs`` (default: 2 and auto), best of
``--runs``, and checks that every report is byte-identical to the
``--jobs 1`` report. It also times a tree of ``--small`` files (default
10), where ``auto`` should stay serial.

    python benchmarks/parallel.py
    python benchmarks/parallel.py --files 400 --jobs 2 4 auto
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CONFIG,
    SEGLINT,
    best_of,
    iptables_text,
    machine,
    nftables_text,
    seglint_env,
    workdir,
)


def write_tree(folder: Path, files: int, seed: int = 7) -> int:
    """Write ``files`` rule files and the configuration; return the total rule count."""
    rng = random.Random(seed)
    folder.mkdir()
    (folder / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
    rules = 0
    for index in range(files):
        size = rng.randrange(20, 300)
        rules += size
        if index % 2:
            (folder / f"host-{index:03}.nft").write_text(nftables_text(size, seed=index))
        else:
            (folder / f"host-{index:03}.rules").write_text(iptables_text(size, seed=index))
    return rules


def report(env: dict[str, str], folder: Path, jobs: str) -> bytes:
    return subprocess.run([*SEGLINT, "check", "--jobs", jobs, "."], cwd=folder, env=env,
                          capture_output=True, check=False).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="files in the large tree")
    parser.add_argument("--small", type=int, default=10, help="files in the small tree")
    parser.add_argument("--jobs", nargs="+", default=["2", "auto"],
                        help="job counts to compare with --jobs 1 (default: 2 auto)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per job count; the best is kept (default: 3)")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    # Only wall time: the workers are children of multiprocessing's fork
    # server, so their CPU time is not counted in this process's children.
    print(f"{'tree':<24} {'jobs':>5} {'wall s':>8} {'speed-up':>9}  report")
    failed = False
    with workdir("seglint-parallel-") as folder:
        root = Path(folder)
        env = seglint_env(root / "pycache")
        for label, count in (("large", args.files), ("small", args.small)):
            tree = root / label
            rules = write_tree(tree, count)
            name = f"{count} files, {rules} rules"
            expected = report(env, tree, "1")  # also fills the caches
            serial = best_of(args.runs, [*SEGLINT, "check", "--jobs", "1", "."], cwd=tree,
                             env=env)
            print(f"{name:<24} {'1':>5} {serial.wall:>8.2f} {1:>8.2f}x", flush=True)
            for jobs in args.jobs:
                timing = best_of(args.runs, [*SEGLINT, "check", "--jobs", jobs, "."],
                                 cwd=tree, env=env)
                same = report(env, tree, jobs) == expected
                failed |= not same
                print(f"{name:<24} {jobs:>5} {timing.wall:>8.2f} "
                      f"{serial.wall / timing.wall:>8.2f}x  "
                      f"{'identical' if same else 'DIFFERENT'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
