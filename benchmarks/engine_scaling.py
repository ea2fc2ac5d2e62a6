"""How the engine's query time grows with the size of an iptables rule set.

The script generates iptables-restore files of 100, 1,000, 10,000 and
100,000 rules. The rules are block lists of sources, port openings for
networks, multiport ranges, interface rules and negations, spread over user
chains of 1,000 rules as generated firewalls do. It parses each file with
seglint's iptables format, builds the engine and times two queries per size:

* a required flow: is every new tcp/25 connection from 10.20.0.0/16 (any
  source port 1024-65535) to 198.51.100.10 accepted on the input hook?
* an exposure: is any new tcp/1433 packet from outside the RFC 1918
  networks accepted on the input hook?

Each query runs several times and the best time is kept. Times are printed
with their ratio to the 100-rule case of the same run, so linear growth
shows as ratios near the size ratios (10, 100, 1000). Each query runs in a
child process with a time limit (``--timeout``, seconds), and a query that
exceeds it is reported as timed out.

    python benchmarks/engine_scaling.py              # all sizes
    python benchmarks/engine_scaling.py 100 1000     # chosen sizes
"""

from __future__ import annotations

import argparse
import ipaddress
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    if roll < 0.4:
        return f"-s {_network(rng)} -j DROP"
    if roll < 0.7:
        return f"-s {_network(rng)} -p tcp -m tcp --dport {rng.choice(PORTS)} -j ACCEPT"
    if roll < 0.85:
        low = rng.randrange(1024, 60000)
        return (
            f"-p udp -m multiport --dports {rng.choice(PORTS)},{low}:{low + 99} "
            f"-s {_network(rng)} -j ACCEPT"
        )
    port = rng.choice(PORTS)
    return f"-i eth1 -p tcp -m tcp ! --dport {port} -s {_network(rng)} -j REJECT"


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


def _best(engine: Engine, box: Box, repeat: int) -> tuple[float, str]:
    best = float("inf")
    answer = ""
    for _ in range(repeat):
        start = time.perf_counter()
        outcomes = engine.walk("input", [box])
        best = min(best, time.perf_counter() - start)
        accepted = [o for o in outcomes if o.verdict == "accept"]
        answer = (
            "all accepted"
            if len(accepted) == len(outcomes)
            else ("some accepted" if accepted else "none accepted")
        )
    return best, answer


def measure(size: int, query: str, repeat: int) -> tuple[float, float, float, str]:
    """Return parse and build seconds, the best query seconds and the answer."""
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
    best, answer = _best(engine, _queries()[query], repeat)
    return parse, build, best, answer


def _measure_into(queue: multiprocessing.Queue, *args: object) -> None:
    queue.put(measure(*args))  # type: ignore[arg-type]


def measure_limited(
    size: int, query: str, repeat: int, timeout: float
) -> tuple[float, float, float, str] | None:
    """Run :func:`measure` in a child process; return None when it times out."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=_measure_into, args=(queue, size, query, repeat)
    )
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get(timeout=10)


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
        help="seconds allowed for one query at one size (parse and build included)",
    )
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes) | {100})
    print(
        f"{'rules':>8} {'query':<14} {'parse s':>8} {'build s':>8} "
        f"{'query ms':>10} {'x100':>8}  answer"
    )
    base: dict[str, float] = {}
    for size in sizes:
        for query in _queries():
            repeat = args.repeat if size < 100_000 else 1
            row = measure_limited(size, query, repeat, args.timeout)
            if row is None:
                print(
                    f"{size:>8} {query:<14} timed out (more than {args.timeout:.0f} s)",
                    flush=True,
                )
                continue
            parse, build, seconds, answer = row
            base.setdefault(query, seconds)
            print(
                f"{size:>8} {query:<14} {parse:>8.2f} {build:>8.2f} "
                f"{seconds * 1000:>10.2f} {seconds / base[query]:>8.1f}  {answer}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
