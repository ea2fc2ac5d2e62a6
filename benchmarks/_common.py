"""Helpers shared by the benchmark scripts: rule file generators and timed runs.

The generators write an iptables-restore file and an nftables file with the
same rules for a given size. The rules are source block lists, port
openings for networks, multiport ranges, interface rules with negations and
conntrack state matches. They are spread over user chains of 1,000 rules,
as generated firewalls do. seglint runs as a whole CLI process with this
checkout first on the path.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine_scaling import _network  # the same address mix as the engine benchmark

REPO = Path(__file__).resolve().parents[1]
CHAIN_SIZE = 1_000  # rules per user chain
PORTS = (22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 1433, 3306, 8080)
SEGLINT = (sys.executable, "-c", "import sys; from seglint.cli import main; sys.exit(main())")

# Roles for the generated files: the file is a processing node's host
# firewall, so seglint checks required flows and exposures on it.
CONFIG = """\
seg:
  version: "10.2"
trusted:
  - 10.0.0.0/8
roles:
  array-manager: [10.0.0.10]
  processing-nodes: [198.51.100.10]
  sql-server: [10.0.0.20]
  dns-servers: [10.0.0.53]
rulesets:
  - files: "*"
    host: processing-nodes
"""



@dataclass(frozen=True)
class RuleSpec:
    """One generated rule, written out by both syntaxes."""

    kind: str  # block, open, multiport, interface, state
    network: str
    port: int
    low: int


# Upper bounds of a random number in [0, 1) for each kind of generated rule.
KIND_LIMITS = ((0.35, "block"), (0.6, "open"), (0.75, "multiport"), (0.9, "interface"),
               (1.0, "state"))


def _specs(size: int, seed: int) -> list[list[RuleSpec]]:
    """Return the rules of each user chain; ``size`` counts every rule, jumps included."""
    rng = random.Random(seed)
    chains = max(size // CHAIN_SIZE, 1)
    per_chain = max((size - 3 - chains) // chains, 1)
    result = []
    for _ in range(chains):
        rules = []
        for _ in range(per_chain):
            roll = rng.random()
            kind = next(name for limit, name in KIND_LIMITS if roll < limit)
            rules.append(RuleSpec(kind, _network(rng), rng.choice(PORTS),
                                  rng.randrange(1024, 60000)))
        result.append(rules)
    return result


def _iptables_rule(spec: RuleSpec) -> str:
    if spec.kind == "block":
        return f"-s {spec.network} -j DROP"
    if spec.kind == "open":
        return f"-s {spec.network} -p tcp -m tcp --dport {spec.port} -j ACCEPT"
    if spec.kind == "multiport":
        return (f"-s {spec.network} -p udp -m multiport --dports "
                f"{spec.port},{spec.low}:{spec.low + 99} -j ACCEPT")
    if spec.kind == "interface":
        return f"-i eth1 -s {spec.network} -p tcp -m tcp ! --dport {spec.port} -j REJECT"
    return (f"-s {spec.network} -p tcp -m conntrack --ctstate NEW -m tcp "
            f"--dport {spec.port} -j ACCEPT")


def _nft_rule(spec: RuleSpec) -> str:
    if spec.kind == "block":
        return f"ip saddr {spec.network} drop"
    if spec.kind == "open":
        return f"ip saddr {spec.network} tcp dport {spec.port} accept"
    if spec.kind == "multiport":
        return (f"ip saddr {spec.network} udp dport "
                f"{{ {spec.port}, {spec.low}-{spec.low + 99} }} accept")
    if spec.kind == "interface":
        return f'iifname "eth1" ip saddr {spec.network} tcp dport != {spec.port} reject'
    return f"ip saddr {spec.network} ct state new tcp dport {spec.port} accept"


def iptables_text(size: int, seed: int = 1) -> str:
    """Return an iptables-restore file of about ``size`` rules."""
    chains = _specs(size, seed)
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    lines += [f":rules{n} - [0:0]" for n in range(len(chains))]
    lines.append("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    lines.append("-A INPUT -i lo -j ACCEPT")
    lines += [f"-A INPUT -j rules{n}" for n in range(len(chains))]
    for n, rules in enumerate(chains):
        lines += [f"-A rules{n} {_iptables_rule(spec)}" for spec in rules]
    lines.append("-A OUTPUT -o lo -j ACCEPT")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def nftables_text(size: int, seed: int = 1) -> str:
    """Return an nftables file with the rules of :func:`iptables_text`."""
    chains = _specs(size, seed)
    lines = ["table ip filter {"]
    lines.append("  chain input {")
    lines.append("    type filter hook input priority 0; policy drop;")
    lines.append("    ct state established,related accept")
    lines.append('    iifname "lo" accept')
    lines += [f"    jump rules{n}" for n in range(len(chains))]
    lines.append("  }")
    lines.append("  chain output {")
    lines.append("    type filter hook output priority 0; policy accept;")
    lines.append('    oifname "lo" accept')
    lines.append("  }")
    for n, rules in enumerate(chains):
        lines.append(f"  chain rules{n} {{")
        lines += [f"    {_nft_rule(spec)}" for spec in rules]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def seglint_env(pycache: Path) -> dict[str, str]:
    """Return the environment for seglint child processes.

    Byte code is written under ``pycache`` even when the caller's
    environment sets PYTHONDONTWRITEBYTECODE, so runs after the first
    measure an installed seglint, not the compiler.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    max_rss_mb: float  # peak resident memory of the child
    returncode: int  # -1 when the run timed out


def run_timed(command: list[str] | tuple[str, ...], *, cwd: Path | None = None,
              env: dict[str, str] | None = None, timeout: float | None = None) -> Timing:
    """Run ``command`` once; return its wall time, CPU time and peak memory."""
    errors = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=errors)
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            wall = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        if deadline is not None and time.perf_counter() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            process.returncode = -1
            errors.close()
            return Timing(timeout or 0.0, 0.0, 0.0, -1)
        time.sleep(0.002)
    errors.seek(0)
    error = errors.read()
    errors.close()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, command))} failed "
                           f"(exit {process.returncode}): {error.decode()[-2000:]}")
    return Timing(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                  process.returncode)


def best_of(runs: int, command: list[str] | tuple[str, ...], **options: object) -> Timing:
    """Run ``command`` ``runs`` times; return the fastest wall time and CPU time."""
    timings = [run_timed(command, **options) for _ in range(runs)]  # type: ignore[arg-type]
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings),
                  max(t.max_rss_mb for t in timings), timings[-1].returncode)


def machine() -> str:
    """Describe the machine in one line: CPU model, cores, memory, Python."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{model or platform.processor()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def workdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)

