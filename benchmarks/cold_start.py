"""seglint's start-up cost: one small file, and a pre-commit style run of ten.

The script times, as whole processes and best of ``--runs``:

* ``python -c "import json"``: the interpreter's own start-up, the unit;
* ``seglint check FILE`` on a 20-rule iptables file, with no configuration
  and with a ``seglint.yaml`` that gives the file a host role;
* ``seglint check F1 ... F10`` on ten small files of four formats
  (iptables, nftables, pf, Cisco IOS) with the configuration, as a
  pre-commit hook passes the changed files.

Goals: the single file at most 4 times the ``import json`` process, the ten
files under 0.5 s (wall time). CPU time (user + system) is printed too: on a
busy machine it varies less than wall time. Byte code and seglint's parser cache are filled by an
untimed first run, as they are for an installed seglint.

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --runs 20
    python benchmarks/cold_start.py --importtime   # also list the slowest imports
"""

from __future__ import annotations

import argparse
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

SINGLE_GOAL = 4.0  # times the python -c "import json" process
TEN_GOAL = 0.5  # seconds

PF_TEXT = """\
set skip on lo
block in all
pass out all keep state
pass in on em0 proto tcp from any to any port {{ 25, 443 }} keep state
pass in on em0 proto tcp from 10.0.0.0/8 to any port {port} keep state
"""
IOS_TEXT = """\
interface GigabitEthernet0/1
 ip access-group EDGE-IN in
!
ip access-list extended EDGE-IN
 permit tcp any host 198.51.100.10 eq smtp
 permit tcp 10.0.0.0 0.255.255.255 any eq {port}
 deny ip any any
!
"""


def small_files(folder: Path) -> list[str]:
    """Write ten small rule files of four formats; return their names."""
    files = {
        "node-1.rules": iptables_text(20, seed=1),
        "node-2.rules": iptables_text(20, seed=2),
        "node-3.rules": iptables_text(40, seed=3),
        "node-4.nft": nftables_text(20, seed=4),
        "node-5.nft": nftables_text(30, seed=5),
        "node-6.nft": nftables_text(20, seed=6),
        "gw-1.pf.conf": PF_TEXT.format(port=22),
        "gw-2.pf.conf": PF_TEXT.format(port=3389),
        "edge-1.ios": IOS_TEXT.format(port=22),
        "edge-2.ios": IOS_TEXT.format(port=3389),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return sorted(files)


def slowest_imports(env: dict[str, str], folder: Path, count: int = 15) -> list[str]:
    """Return the ``count`` modules with the largest cumulative import time."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", *SEGLINT[1:], "check", "node-1.rules"],
        cwd=folder, env=env, capture_output=True, text=True, check=False)
    rows = []
    for line in process.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit():
            rows.append((int(cumulative), name.rstrip()))
    rows.sort(reverse=True)
    return [f"{micros / 1000:8.1f} ms {name}" for micros, name in rows[:count]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10,
                        help="runs per measurement; the best is kept (default: 10)")
    parser.add_argument("--importtime", action="store_true",
                        help="also print the slowest imports of the single-file run")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    with workdir("seglint-cold-") as folder:
        root = Path(folder)
        bare = root / "bare"
        configured = root / "configured"
        bare.mkdir()
        configured.mkdir()
        env = seglint_env(root / "pycache")
        small_files(bare)
        names = small_files(configured)
        (configured / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
        single = [*SEGLINT, "check", "node-1.rules"]
        ten = [*SEGLINT, "check", *names]
        # Untimed: writes the byte code and the parser cache.
        best_of(1, ten, cwd=configured, env=env)

        unit = best_of(args.runs, [sys.executable, "-c", "import json"], env=env)
        rows = [
            ("one file, no configuration", best_of(args.runs, single, cwd=bare, env=env)),
            ("one file, seglint.yaml", best_of(args.runs, single, cwd=configured, env=env)),
        ]
        many = best_of(args.runs, ten, cwd=configured, env=env)
        print(f"{'run':<36} {'wall s':>7} {'cpu s':>7} {'wall x':>7} {'cpu x':>7}  goal")
        label = 'python -c "import json"'
        print(f"{label:<36} {unit.wall:>7.3f} {unit.cpu:>7.3f} {1:>7.1f} {1:>7.1f}")
        failed = False
        for label, timing in rows:
            ratio = timing.wall / unit.wall
            failed |= ratio > SINGLE_GOAL
            print(f"{label:<36} {timing.wall:>7.3f} {timing.cpu:>7.3f} {ratio:>7.1f} "
                  f"{timing.cpu / max(unit.cpu, 1e-3):>7.1f}  wall x <= {SINGLE_GOAL:.0f}")
        failed |= many.wall >= TEN_GOAL
        print(f"{'ten files (pre-commit), seglint.yaml':<36} {many.wall:>7.3f} "
              f"{many.cpu:>7.3f} {'':>7} {'':>7}  wall < {TEN_GOAL} s")
        if args.importtime:
            print("\nslowest imports (cumulative, one file, -X importtime):")
            for line in slowest_imports(env, configured):
                print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
