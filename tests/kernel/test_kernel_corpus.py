"""The engine against the kernel on the real iptables files of the shared corpus.

Every file under ``corpus/iptables`` is parsed by seglint, loaded with
iptables-restore and probed on the input hook. Probing runs once for
each interface the file names (the firewall's end of the veth takes that
name) and once for an interface it does not name. Packets: values around
the file's addresses and ports, one witness per outcome of the engine, and
the witness of every input-hook finding that ``seglint.api.check`` reports
on the file.

Two things are left out of the kernel's copy and named in the run summary.
The nat table goes, because seglint does not model address translation (it
notes the table) while the kernel would rewrite the probes. Any rule that
iptables-restore rejects goes too. Packets whose engine result is "may" (an
unknown match module decides) are left out of the comparison. An exposure
finding's witness must be accepted by the kernel.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from kernel_diff import (  # noqa: E402
    IDENTS,
    TOTALS,
    compare,
    dedupe,
    failure_report,
    parse_with,
    witness_probes,
)
from kernel_gen import edge_probes  # noqa: E402
from kernel_lab import Lab, Rejected  # noqa: E402
from kernel_packets import ECHO_REQUEST, ICMP4, ICMP6, TCP, UDP, Probe  # noqa: E402

from seglint.engine import Engine  # noqa: E402
from seglint.ir import InterfaceMatch, Match, Ruleset, TupleMatch  # noqa: E402
from seglint.space import DPORT, DST, SPORT, SRC, V6_OFFSET  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CORPUS = SHARED / "corpus" / "iptables"
NOT_RULES = {"SOURCES.tsv", "README.md"}
OTHER_INTERFACE = "veth0"  # named by no corpus file
RANDOM_PER_INTERFACE = 150


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_RULES
    )


def without_nat(text: str) -> tuple[str, list[str]]:
    """Blank out nat tables, keeping line numbers; return the text and notes."""
    lines = text.split("\n")
    notes = []
    inside = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "*nat":
            inside = True
            notes.append(
                f"line {index + 1}: nat table (address translation is not modelled)"
            )
        if inside:
            lines[index] = "#"
            if stripped == "COMMIT":
                inside = False
    return "\n".join(lines), notes


def load_what_loads(lab: Lab, text: str, family: int) -> tuple[str, list[str]]:
    """Load ``text``; blank each rule iptables-restore rejects and try again."""
    notes: list[str] = []
    for _ in range(50):
        try:
            lab.load_iptables(**{f"v{family}": text})
            return text, notes
        except Rejected as exc:
            found = re.search(r"line:? (\d+)", exc.message)
            if found is None:
                raise
            number = int(found.group(1))
            lines = text.split("\n")
            notes.append(
                f"line {number}: rejected by the kernel "
                f"({exc.message.splitlines()[-1].strip()}): {lines[number - 1]}"
            )
            lines[number - 1] = "#"
            text = "\n".join(lines)
    raise AssertionError("too many rules rejected: " + "; ".join(notes))


def interfaces(ruleset: Ruleset) -> list[str]:
    """One name per class of interfaces the rules tell apart (loopback left out)."""
    names = {OTHER_INTERFACE}
    for chain in ruleset.chains.values():
        for rule in chain.rules:
            for condition in rule.conditions:
                if isinstance(condition, InterfaceMatch) and condition.dim == "iif":
                    for name in condition.names:
                        # A prefix gets a name that only the prefix matches.
                        names.add(name[:-1] + "x" if name.endswith("+") else name)
    return sorted(n for n in names if n not in ruleset.loopback and 0 < len(n) <= 15)


def edges(ruleset: Ruleset) -> tuple[dict[int, list[int]], list[int]]:
    addresses: dict[int, list[int]] = {4: [], 6: []}
    ports: set[int] = {0, 1, 1024, 65535}
    for chain in ruleset.chains.values():
        for rule in chain.rules:
            for condition in rule.conditions:
                pairs = []
                if isinstance(condition, Match):
                    pairs = [(condition.dim, condition.values)]
                elif isinstance(condition, TupleMatch):
                    pairs = [
                        (dim, row[i])
                        for row in condition.rows
                        for i, dim in enumerate(condition.dims)
                    ]
                for dim, values in pairs:
                    for lo, hi in values:
                        if dim in (SRC, DST):
                            family = 6 if lo >= V6_OFFSET else 4
                            addresses[family] += [lo, hi, lo - 1, hi + 1]
                        elif dim in (SPORT, DPORT):
                            ports.update({lo, hi, lo - 1, hi + 1})
    return addresses, sorted(p for p in ports if 0 <= p <= 65535)


def finding_probes(
    path: Path, family: int
) -> dict[str | None, list[tuple[str, Probe]]]:
    """Witnesses of input-hook findings with their rule ids, by input interface.

    The key None maps to the witnesses that may arrive on any interface.
    """
    from seglint.api import check

    out: dict[str | None, list[tuple[str, Probe]]] = {}
    for finding in check([path]).findings:
        packet = finding.witness
        # The SEG policy puts the hook first in a finding's identity; only the
        # input hook is probed, with new connections.
        hook = finding.identity[0] if finding.identity else ""
        if finding.may or packet is None or hook != "input" or packet.state != "new":
            continue
        if packet.family != family:
            continue
        if packet.proto in (TCP, UDP):
            probe = Probe(
                packet.proto,
                packet.src,
                packet.dst,
                packet.sport or 0,
                packet.dport or 0,
            )
        elif packet.proto in (ICMP4, ICMP6) and packet.icmp_type in (
            None,
            ECHO_REQUEST[family],
        ):
            probe = Probe(packet.proto, packet.src, packet.dst, ident=IDENTS.next())
        else:
            continue
        interface = packet.iif
        if interface is not None and interface.endswith("*"):
            interface = interface[:-1] + "x"
        if interface == "any other interface":
            interface = OTHER_INTERFACE
        out.setdefault(interface, []).append((finding.rule_id, probe))
    return out


@pytest.mark.parametrize("name", corpus_files() or ["(none)"])
def test_corpus_file(lab, name):
    if not CORPUS.is_dir():
        pytest.skip("../shared is not present (only in the development workspace)")
    path = CORPUS / name
    original = path.read_text()
    families = parse_with("iptables", original, name).families
    assert len(families) == 1, families
    family = next(iter(families))

    text, notes = without_nat(original)
    text, dropped = load_what_loads(lab, text, family)
    TOTALS.rejected += [f"{name} {note}" for note in notes + dropped]
    ruleset = parse_with("iptables", text, name)
    witnesses = finding_probes(path, family)
    address_edges, port_edges = edges(ruleset)
    rng = random.Random(name)

    for number, interface in enumerate(interfaces(ruleset)):
        lab.rename_interface(interface)
        try:
            engine = Engine(ruleset, [interface])
            probes = edge_probes(
                [family], address_edges, port_edges, rng, RANDOM_PER_INTERFACE, IDENTS
            )
            probes += witness_probes(engine, [family], IDENTS, rng, interface=interface)
            exposures = witnesses.get(interface, []) + witnesses.get(None, [])
            probes += [probe for _, probe in exposures]
            comparison = compare(lab, dedupe(probes), {"parsed": engine}, interface)
        finally:
            lab.rename_interface(OTHER_INTERFACE)
        TOTALS.add(
            "corpus",
            comparison.probes,
            len(comparison.disagreements),
            comparison.excluded,
            comparison.accepted,
            rulesets=int(number == 0),
        )
        TOTALS.lost += len(comparison.lost)
        report = f"{name} on {interface}: " + failure_report(text, comparison)
        assert not comparison.lost, report
        assert not comparison.disagreements, report
        # An exposure finding states that its witness gets in: the kernel must agree.
        checked = [
            (rule_id, probe)
            for rule_id, probe in exposures
            if rule_id.startswith("SEG2")
        ]
        refuted = [
            (rule_id, str(probe))
            for rule_id, probe in checked
            if comparison.kernel.get(probe.key()) != "accept"
        ]
        TOTALS.confirmed += len(checked) - len(refuted)
        assert not refuted, f"{refuted}\n{report}"
