"""Compare the engine's verdicts with the kernel's, packet by packet, and keep totals.

For every probe the engine is asked about the single packet (its box, with
state NEW and the firewall's interface as input interface) and the kernel
about the same packet on the wire. An engine result that depends on an
unknown condition (several outcomes with different verdicts) is a "may"
result, which is left out of the comparison and counted as excluded.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kernel_gen import INTERFACE, SENDABLE, IdentCounter, Model, random_probes
from kernel_lab import Lab
from kernel_packets import ECHO_REQUEST, ICMP4, ICMP6, TCP, UDP, Probe, probe_box
from kernel_render import model_ruleset, render_iptables, render_nft

from seglint.engine import Engine
from seglint.formats.base import FileAccess, SourceFile
from seglint.ir import Rule, Ruleset
from seglint.space import (
    DPORT,
    DST,
    ICMP,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    STATE,
    STATE_INDEX,
    Box,
    IntervalSet,
    value_address,
)

SUMMARY_PATH = Path(tempfile.gettempdir()) / "seglint-kernel-summary.txt"


def examples(count: int) -> int:
    """Scale a Hypothesis example count by SEGLINT_KERNEL_SCALE (for longer soaks)."""
    return max(1, round(count * float(os.environ.get("SEGLINT_KERNEL_SCALE", "1"))))


@dataclass
class Totals:
    """What the kernel suite compared, for the run summary."""

    rulesets: int = 0
    packets: int = 0
    disagreements: int = 0
    excluded: int = 0  # the engine's result was "may" (unknown conditions)
    accepted: int = 0  # packets the kernel accepted (the rest it dropped)
    confirmed: int = 0  # witnesses of exposure findings that the kernel let in
    mutants: dict[str, int] = field(default_factory=dict)  # name -> disagreements
    lost: int = 0
    rejected: list[str] = field(default_factory=list)
    suites: dict[str, list[int]] = field(
        default_factory=dict
    )  # name -> [sets, packets]
    started: float = field(default_factory=time.monotonic)

    def add(
        self,
        suite: str,
        packets: int,
        disagreements: int,
        excluded: int,
        accepted: int = 0,
        rulesets: int = 1,
    ) -> None:
        self.rulesets += rulesets
        self.accepted += accepted
        self.packets += packets
        self.disagreements += disagreements
        self.excluded += excluded
        counts = self.suites.setdefault(suite, [0, 0, 0])
        counts[0] += rulesets
        counts[1] += packets
        counts[2] += disagreements

    def lines(self) -> list[str]:
        """Return the summary lines printed at the end of the run."""
        elapsed = time.monotonic() - self.started
        out = [
            f"kernel differential: {self.rulesets} rule sets, {self.packets} packets, "
            f"{self.disagreements} disagreements ({elapsed:.1f} s)",
        ]
        out.append(
            f"  kernel verdicts: {self.accepted} accepted, "
            f"{self.packets - self.accepted} dropped"
        )
        for suite, (sets, packets, bad) in sorted(self.suites.items()):
            out.append(
                f"  {suite}: {sets} rule sets, {packets} packets, {bad} disagreements"
            )
        if self.confirmed:
            out.append(
                f"  exposure findings whose witness the kernel let in: {self.confirmed}"
            )
        if self.mutants:
            caught = sum(1 for count in self.mutants.values() if count)
            detail = ", ".join(f"{k} {v}" for k, v in sorted(self.mutants.items()))
            out.append(
                f"  engine mutants caught: {caught} of {len(self.mutants)} "
                f"(disagreements: {detail})"
            )
        if self.excluded:
            out.append(
                f"  left out: {self.excluded} packets whose engine result is 'may'"
            )
        if self.lost:
            out.append(f"  lost on the wire: {self.lost} packets")
        for reason in self.rejected:
            out.append(f"  not loaded: {reason}")
        return out


TOTALS = Totals()


@dataclass(frozen=True)
class Disagreement:
    probe: Probe
    kernel: str
    engine: str
    rule: Rule | None
    ir_source: str  # "parsed" (the format's IR) or "model" (the generator's IR)

    def __str__(self) -> str:
        where = ""
        if self.rule is not None:
            where = f" (rule at line {self.rule.span.line}: {self.rule.describe()})"
        return (
            f"{self.ir_source} IR: kernel {self.kernel}s, "
            f"engine {self.engine}s{where}: "
            f"{self.probe}"
        )


def engine_verdict(
    engine: Engine,
    probe: Probe,
    hook: str = "input",
    interface: str = "veth0",
    state: str = "new",
) -> tuple[str, Rule | None]:
    """Return the engine's verdict ("accept", "drop" or "may") and deciding rule.

    The verdict is "none" when no outcome holds the packet (an engine fault).
    """
    if not engine.decides(hook):
        return "accept", None  # no base chain on the hook: the kernel lets it pass
    names = engine.atoms.match([interface])
    if hook == "output":
        box = probe_box(probe, state=state, oif=names)
    else:
        box = probe_box(probe, names, state)
    outcomes = engine.walk(hook, [box])
    if not outcomes:
        return "none", None  # the engine lost the packet: always a disagreement
    verdicts = {outcome.verdict for outcome in outcomes}
    if len(verdicts) != 1:
        return "may", None
    return verdicts.pop(), outcomes[0].rule


def witness_probes(
    engine: Engine,
    families: Iterable[int],
    idents: IdentCounter,
    rng: random.Random,
    limit: int = 120,
    interface: str = "veth0",
    hook: str = "input",
) -> list[Probe]:
    """One packet per outcome box (the engine's witness) plus one random point in it."""
    names = engine.atoms.match([interface])
    found: list[Probe] = []
    for family in sorted(families):
        for proto in (TCP, UDP, ICMP4 if family == 4 else ICMP6):
            dims = {
                PROTO: IntervalSet.single(proto),
                SRC: SENDABLE[family],
                DST: SENDABLE[family],
                IIF if hook == "input" else OIF: names,
                STATE: IntervalSet.single(STATE_INDEX["new"]),
            }
            if proto not in (TCP, UDP):
                dims[ICMP] = IntervalSet.single(ECHO_REQUEST[family] * 256)
            for outcome in engine.walk(hook, [Box.of(dims)]):
                for box in outcome.boxes:
                    packet = engine.witness(box)
                    found.append(
                        _probe(
                            proto,
                            packet.src,
                            packet.dst,
                            packet.sport,
                            packet.dport,
                            idents,
                        )
                    )
                    found.append(_random_point(box, proto, rng, idents))
    if len(found) > limit:
        # Keep every witness of a small rule set; sample evenly from a large one.
        found = rng.sample(found, limit)
    return found


def _probe(
    proto: int,
    src: str,
    dst: str,
    sport: int | None,
    dport: int | None,
    idents: IdentCounter,
) -> Probe:
    if proto in (TCP, UDP):
        return Probe(proto, src, dst, sport or 0, dport or 0)
    return Probe(proto, src, dst, ident=idents.next())


def _random_point(
    box: Box, proto: int, rng: random.Random, idents: IdentCounter
) -> Probe:
    def pick(dim: str, top: int) -> int:
        values = box.get(dim) or IntervalSet.single(0, top)
        lo, hi = rng.choice(values.bounds)
        return rng.randint(lo, hi)

    src = str(value_address(pick(SRC, 0)))
    dst = str(value_address(pick(DST, 0)))
    return _probe(proto, src, dst, pick(SPORT, 65535), pick(DPORT, 65535), idents)


def dedupe(probes: Iterable[Probe]) -> list[Probe]:
    """Drop repeated packets: two probes of one connection would not both be NEW."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for probe in probes:
        key = probe.key()
        if key not in seen:
            seen.add(key)
            out.append(probe)
    return out


@dataclass
class Comparison:
    probes: int = 0
    accepted: int = 0
    excluded: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    lost: list[Probe] = field(default_factory=list)
    kernel: dict[tuple[object, ...], str] = field(
        default_factory=dict
    )  # by Probe.key()


def compare(
    lab: Lab,
    probes: Sequence[Probe],
    engines: dict[str, Engine],
    interface: str = "veth0",
    hook: str = "input",
) -> Comparison:
    """Send ``probes`` and compare the kernel's verdicts with each engine's."""
    result = Comparison()
    kernel = lab.verdicts(probes, hook)
    for probe, seen in zip(probes, kernel, strict=True):
        result.kernel[probe.key()] = seen
        if seen == "lost":
            result.lost.append(probe)
            continue
        counted = False
        for ir_source, engine in engines.items():
            verdict, rule = engine_verdict(engine, probe, hook, interface)
            if verdict == "may":
                if ir_source == "parsed":
                    result.excluded += 1
                continue
            counted = True
            if verdict != seen:
                result.disagreements.append(
                    Disagreement(probe, seen, verdict, rule, ir_source)
                )
        if counted:
            result.probes += 1
            result.accepted += seen == "accept"
    return result


def parse_with(format_id: str, text: str, name: str) -> Ruleset:
    """Parse ``text`` with seglint's format ``format_id`` as a file named ``name``."""
    module = __import__(f"seglint.formats.{format_id}", fromlist=["seglint_formats"])
    fmt = module.seglint_formats()[0]
    with tempfile.TemporaryDirectory(prefix="seglint-kernel-") as folder:
        location = Path(folder) / name
        location.write_text(text)
        result = fmt.parse(SourceFile(name, location, text), FileAccess(Path(folder)))
    rulesets = result.rulesets
    if len(rulesets) != 1:
        raise AssertionError(f"{format_id} gave {len(rulesets)} rule sets for {name}")
    return rulesets[0]


def numbered(text: str) -> str:
    return "\n".join(f"{i:4} {line}" for i, line in enumerate(text.splitlines(), 1))


def failure_report(text: str, comparison: Comparison, limit: int = 8) -> str:
    lines = [
        f"{len(comparison.disagreements)} disagreements, {len(comparison.lost)} lost"
    ]
    lines += [f"  {d}" for d in comparison.disagreements[:limit]]
    lines += [f"  lost: {probe}" for probe in comparison.lost[:limit]]
    lines += ["rule set:", numbered(text)]
    return "\n".join(lines)


# --- one rule set, end to end ---------------------------------------------------------

IDENTS = IdentCounter()


def run_iptables(
    lab: Lab,
    model: Model,
    seed: int,
    backend: str = "nft",
    suite: str = "iptables-nft",
    record: bool = True,
    random_count: int = 70,
) -> tuple[Comparison, str]:
    """Render, parse, load and probe one iptables model; return the comparison."""
    text = render_iptables(model)
    family = next(iter(model.families))
    parsed = parse_with("iptables", text, "rules.v6" if family == 6 else "rules.v4")
    engines = {
        "parsed": Engine(parsed, [INTERFACE]),
        "model": Engine(model_ruleset(model, "iptables"), [INTERFACE]),
    }
    lab.load_iptables(**{f"v{family}": text}, backend=backend)
    return _probe_model(lab, model, seed, engines, suite, record, random_count), text


def run_nft(
    lab: Lab, model: Model, seed: int, record: bool = True, random_count: int = 80
) -> tuple[Comparison, str]:
    """Render, parse, load and probe one nftables model; return the comparison."""
    text = render_nft(model)
    parsed = parse_with("nftables", text, "ruleset.nft")
    engines = {
        "parsed": Engine(parsed, [INTERFACE]),
        "model": Engine(model_ruleset(model, "nft"), [INTERFACE]),
    }
    lab.load_nft(text)
    suite = "nftables" if model.hook == "input" else f"nftables-{model.hook}"
    return _probe_model(lab, model, seed, engines, suite, record, random_count), text


def _probe_model(
    lab: Lab,
    model: Model,
    seed: int,
    engines: dict[str, Engine],
    suite: str,
    record: bool,
    random_count: int,
) -> Comparison:
    rng = random.Random(seed)
    probes = random_probes(model, rng, random_count, IDENTS)
    probes += witness_probes(
        engines["parsed"], model.families, IDENTS, rng, hook=model.hook
    )
    comparison = compare(lab, dedupe(probes), engines, hook=model.hook)
    if record:
        TOTALS.add(
            suite,
            comparison.probes,
            len(comparison.disagreements),
            comparison.excluded,
            comparison.accepted,
        )
        TOTALS.lost += len(comparison.lost)
    return comparison
