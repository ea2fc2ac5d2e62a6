"""How seglint's time and memory grow with the size of an iptables rule set.

The script generates iptables-restore files of 100, 1,000, 10,000 and
100,000 rules. The rules are block lists of sources (which cut a wide
source range into thousands of pieces), port openings for networks,
multiport ranges, interface rules, negated sources, ports and interfaces,
and RETURN rules, spread over user chains of 1,000 rules as generated
firewalls do. For each size it measures:

* a required flow: is every new tcp/25 connection from 10.20.0.0/16 (any
  source port 1024-65535) to 198.51.100.10 accepted on the input hook?
  (``seglint.analysis.blocked_flow``, replies included);
* an exposure: is any new tcp/1433 packet from outside the RFC 1918
  networks accepted on the input hook? (``seglint.analysis.accepted_packets``);
* check: a whole ``seglint check`` of the file, with a configuration that
  makes it a processing node, from start to exit.

Each measurement runs in a child process with a time limit (``--timeout``,
seconds); the script prints its time, the child's peak resident memory
(``ru_maxrss``) and the time ratio to the 100-rule case divided by the
rule ratio. Linear growth shows as 1.0; the goal is at most 1.3. The two
queries run several times in their child and the best time is kept.

    python benchmarks/engine_scaling.py              # all sizes
    python benchmarks/engine_scaling.py 100 1000     # chosen sizes
"""

from __future__ import annotations

import argparse
import ipaddress
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seglint.analysis import accepted_packets, blocked_flow  # noqa: E402
from seglint.engine import Engine  # noqa: E402
from seglint.formats.base import FileAccess, SourceFile  # noqa: E402
from seglint.formats.iptables import IptablesFormat  # noqa: E402
from seglint.space import (  # noqa: E402
    DPORT,
    DST,
    PROTO,
    SPORT,
    SRC,
    STATE,
    STATE_INDEX,
    V4_ALL,
    Box,
    IntervalSet,
    addresses,
)

SIZES = (100, 1_000, 10_000, 100_000)
GOAL = 1.3  # allowed time ratio over the rule ratio
QUERIES = ("required flow", "exposure")
CONFIG = """\
seg:
  version: "10.2"
trusted:
  - 10.0.0.0/8
roles:
  processing-nodes: [198.51.100.10]
  array-manager: [10.0.0.10]
rulesets:
  - files: "rules.v4"
    host: processing-nodes
"""
CHAIN_SIZE = 1_000  # rules per user chain, as generated firewalls split them
PORTS = (22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 1433, 3306, 8080)


def _network(rng: random.Random) -> str:
    if rng.random() < 0.5:
        base = ipaddress.IPv4Address(rng.randrange(1 << 24, 223 << 24))
    else:
        base = ipaddress.IPv4Address((10 << 24) + rng.randrange(1 << 24))
    prefix = rng.choice((32, 32, 32, 24, 24, 16))
    return str(ipaddress.ip_network(f"{base}/{prefix}", strict=False))


def _rule(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.36:
        return f"-s {_network(rng)} -j DROP"
    if roll < 0.62:
        return f"-s {_network(rng)} -p tcp -m tcp --dport {rng.choice(PORTS)} -j ACCEPT"
    if roll < 0.75:
        low = rng.randrange(1024, 60000)
        return (
            f"-p udp -m multiport --dports {rng.choice(PORTS)},{low}:{low + 99} "
            f"-s {_network(rng)} -j ACCEPT"
        )
    if roll < 0.88:
        port = rng.choice(PORTS)
        return f"-i eth1 -p tcp -m tcp ! --dport {port} -s {_network(rng)} -j REJECT"
    if roll < 0.94:
        port = rng.choice(PORTS)
        return f"-s {_network(rng)} -p tcp -m tcp --dport {port} -j RETURN"
    port = rng.choice(PORTS)
    return f"! -s 10.0.0.0/8 ! -i eth0 -p tcp -m tcp --dport {port} -j DROP"


def generate(size: int, seed: int = 1) -> str:
    """Generate an iptables-restore file with ``size`` rules in all (jumps included)."""
    rng = random.Random(seed)
    chains = max(size // CHAIN_SIZE, 1)
    per_chain = (size - 2 - chains) // chains
    lines = [
        "*filter",
        ":INPUT DROP [0:0]",
        ":FORWARD DROP [0:0]",
        ":OUTPUT ACCEPT [0:0]",
    ]
    lines += [f":rules{n} - [0:0]" for n in range(chains)]
    lines.append("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    lines.append("-A INPUT -i lo -j ACCEPT")
    lines += [f"-A INPUT -j rules{n}" for n in range(chains)]
    for n in range(chains):
        lines += [f"-A rules{n} {_rule(rng)}" for _ in range(per_chain)]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _queries() -> dict[str, Box]:
    new = IntervalSet.single(STATE_INDEX["new"])
    return {
        "required flow": Box.of(
            {
                PROTO: IntervalSet.single(6),
                SRC: addresses(["10.20.0.0/16"]),
                DST: addresses(["198.51.100.10"]),
                SPORT: IntervalSet.single(1024, 65535),
                DPORT: IntervalSet.single(25),
                STATE: new,
            }
        ),
        "exposure": Box.of(
            {
                PROTO: IntervalSet.single(6),
                SRC: V4_ALL.subtract(
                    addresses(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
                ),
                DPORT: IntervalSet.single(1433),
                STATE: new,
            }
        ),
    }


def _run_query(engine: Engine, query: str) -> str:
    box = _queries()[query]
    if query == "exposure":
        return "accepted" if accepted_packets(engine, "input", [box]) else "not accepted"
    decided, _ = blocked_flow(engine, "input", "output", [box], frozenset())
    return "blocked" if decided else "open"


def measure(size: int, query: str, repeat: int) -> tuple[float, float, float, str, float]:
    """Return parse and build seconds, the best query CPU seconds, the result and peak MB."""
    text = generate(size)
    with tempfile.TemporaryDirectory() as folder:
        location = Path(folder) / "rules.v4"
        location.write_text(text)
        start = time.perf_counter()
        result = IptablesFormat().parse(
            SourceFile("rules.v4", location, text), FileAccess(Path(folder))
        )
        parse = time.perf_counter() - start
    start = time.perf_counter()
    engine = Engine(result.rulesets[0])
    build = time.perf_counter() - start
    best = float("inf")
    answer = ""
    for _ in range(repeat):
        # CPU time, so that other processes on the machine do not count.
        start = time.process_time()
        answer = _run_query(engine, query)
        best = min(best, time.process_time() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return parse, build, best, answer, peak


def _measure_into(queue: multiprocessing.Queue, *args: object) -> None:
    queue.put(measure(*args))  # type: ignore[arg-type]


def measure_limited(
    size: int, query: str, repeat: int, timeout: float
) -> tuple[float, float, float, str, float] | None:
    """Run :func:`measure` in a fresh child process; return None when it times out."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure_into, args=(queue, size, query, repeat))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get(timeout=10)


def measure_check(size: int, timeout: float) -> tuple[float, str, float] | None:
    """Return the CPU seconds, summary line and peak MB of a whole ``seglint check``.

    None when it runs longer than ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "rules.v4").write_text(generate(size))
        Path(folder, "seglint.yaml").write_text(CONFIG)
        environment = dict(os.environ, PYTHONPATH=str(ROOT))
        command = [sys.executable, "-c",
                   "import sys; from seglint.cli import main; sys.exit(main())",
                   "check", "."]
        with open(Path(folder, "output.txt"), "w") as output:
            child = subprocess.Popen(command, cwd=folder, env=environment,
                                     stdout=output, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        # wait4 gives this child's own CPU time and peak memory.
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                return None
            time.sleep(0.05)
        child.returncode = 0  # reaped above; keep Popen from waiting again
        lines = Path(folder, "output.txt").read_text().strip().splitlines()
    seconds = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    summary = lines[-1] if lines else f"failed (exit status {code}, no output)"
    return seconds, summary, usage.ru_maxrss / 1024


def _row(size: int, name: str, seconds: float, base: dict[str, float],
         peak: float, answer: str, parse: str = "", build: str = "") -> str:
    base.setdefault(name, seconds)
    rule_ratio = size / 100
    over = seconds / base[name] / rule_ratio
    mark = "ok" if over <= GOAL else "over"
    return (f"{size:>8} {name:<14} {parse:>7} {build:>7} {seconds * 1000:>11.1f} "
            f"{seconds / base[name]:>8.1f} {over:>6.2f} {mark:<4} {peak:>7.0f}  {answer}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per query (best kept)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds allowed for one measurement at one size (parse and build included)",
    )
    parser.add_argument("--no-check", action="store_true",
                        help="leave out the whole seglint check")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes) | {100})
    print(
        f"{'rules':>8} {'query':<14} {'parse s':>7} {'build s':>7} {'cpu ms':>11} "
        f"{'x100':>8} {'/rules':>6} {'goal':<4} {'peak MB':>7}  answer"
    )
    base: dict[str, float] = {}
    for size in sizes:
        for query in QUERIES:
            repeat = args.repeat if size < 100_000 else 1
            row = measure_limited(size, query, repeat, args.timeout)
            if row is None:
                print(f"{size:>8} {query:<14} timed out (more than {args.timeout:.0f} s)",
                      flush=True)
                continue
            parse, build, seconds, answer, peak = row
            print(_row(size, query, seconds, base, peak, answer,
                       f"{parse:.2f}", f"{build:.2f}"), flush=True)
        if args.no_check:
            continue
        checked = measure_check(size, args.timeout)
        if checked is None:
            print(f"{size:>8} {'check':<14} timed out (more than {args.timeout:.0f} s)",
                  flush=True)
            continue
        seconds, summary, peak = checked
        print(_row(size, "check", seconds, base, peak, summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
