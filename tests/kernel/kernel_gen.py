"""Random rule sets and probe packets for the kernel harness.

A :class:`Model` is a small firewall: base chains on one hook (input, or
output for packets the host sends), user chains, and rules made of
:class:`Cond` conditions and a target. :mod:`kernel_render` writes it as
``iptables-restore`` input or an ``nft -f`` file and builds the IR a
correct parser would produce. The kernel is compared with the engine
twice: on the IR parsed from the text (the product) and on the model's own
IR (which tells an engine fault from a parser fault).

Addresses, ports and interface names are drawn from a few values per rule
set, so that conditions overlap and packets hit their edges.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from hypothesis import strategies as st
from kernel_packets import ICMP4, ICMP6, TCP, UDP, Probe

from seglint.space import IntervalSet, address_value, addresses, value_address

INTERFACE = "veth0"  # the firewall's end of the veth pair
# Interface patterns in iptables spelling; nftables writes ``*`` for ``+``.
IPTABLES_INTERFACES = (
    "veth0",
    "veth+",
    "vet+",
    "veth0+",
    "veth1",
    "eth0",
    "eth+",
    "lo",
    "+",
    "v+",
)
NFT_INTERFACES = ("veth0", "veth+", "vet+", "veth1", "eth0", "eth+", "lo", "v+")
STATE_NAMES = ("new", "established", "related", "invalid", "untracked")
ICMP_NAMES = {
    4: {8: "echo-request", 0: "echo-reply", 3: "destination-unreachable"},
    6: {128: "echo-request", 129: "echo-reply", 1: "destination-unreachable"},
}

# Addresses a probe may carry: the kernel drops martians (loopback, multicast,
# 0/8, link-local destinations) before the input hook.
SENDABLE = {
    4: IntervalSet(
        [
            (
                address_value(ipaddress.ip_address("1.0.0.0")),
                address_value(ipaddress.ip_address("126.255.255.255")),
            ),
            (
                address_value(ipaddress.ip_address("128.0.0.0")),
                address_value(ipaddress.ip_address("223.255.255.255")),
            ),
        ]
    ),
    6: addresses(["2000::/3", "fc00::/7"]),
}


# --- the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    """One condition: ``kind`` names it, ``value`` depends on the kind.

    kinds: proto (int), src / dst (tuple of CIDR strings), srange / drange
    (first, last), iif / oif (pattern with ``+``), sport / dport (tuple of
    (lo, hi)), state (tuple of state names), icmp ((type, code or None) or "any").
    """

    kind: str
    value: object
    negated: bool = False
    spelling: str = ""  # an alternative way to write it (port range forms, -m state)


@dataclass
class ModelRule:
    conds: list[Cond]
    target: str  # ACCEPT DROP REJECT RETURN LOG NONE JUMP GOTO
    chain: str = ""


@dataclass
class ModelChain:
    name: str
    rules: list[ModelRule]
    policy: str | None = None  # ACCEPT or DROP for base chains
    table: str = "filter"  # iptables table, or the nftables table the chain is in
    priority: int = 0
    families: frozenset[int] = frozenset({4, 6})


@dataclass
class Model:
    families: frozenset[int]
    chains: list[ModelChain]  # base chains first, in the order the hook runs them
    hook: str = "input"
    lines: dict[tuple[str, int], int] = field(default_factory=dict)  # rule -> line
    policy_lines: dict[str, int] = field(default_factory=dict)
    hot_addresses: dict[int, list[int]] = field(default_factory=dict)
    hot_ports: list[int] = field(default_factory=list)

    def chain(self, table: str, name: str) -> ModelChain:
        for chain in self.chains:
            if chain.table == table and chain.name == name:
                return chain
        raise KeyError(f"{table}/{name}")

    def bases(self) -> list[ModelChain]:
        return [chain for chain in self.chains if chain.policy is not None]


# --- strategies ----------------------------------------------------------------------


@st.composite
def hot_values(draw, family: int) -> list[int]:
    """A few addresses of ``family`` that the rule set and the probes share."""
    sendable = SENDABLE[family]
    out = []
    for _ in range(draw(st.integers(2, 5))):
        lo, hi = draw(st.sampled_from(sendable.bounds))
        out.append(draw(st.integers(lo, hi)))
    return out


@st.composite
def cidrs(draw, family: int, hot: list[int]) -> str:
    base = value_address(draw(st.sampled_from(hot)))
    width = 32 if family == 4 else 128
    choices = (
        [0, 1, 8, 12, 16, 24, 28, 31, 32]
        if family == 4
        else [0, 3, 16, 32, 48, 64, 100, 120, 127, 128]
    )
    prefix = draw(st.one_of(st.sampled_from(choices), st.integers(0, width)))
    if prefix == width and draw(st.booleans()):
        return str(base)
    # Host bits are sometimes left in: iptables and nft mask them.
    if draw(st.integers(0, 3)) == 0:
        return f"{base}/{prefix}"
    return str(ipaddress.ip_network(f"{base}/{prefix}", strict=False))


@st.composite
def port_ranges(draw, hot: list[int]) -> tuple[int, int]:
    lo = draw(st.sampled_from(hot))
    width = draw(st.sampled_from([0, 0, 1, 10, 1000, 70000]))
    return lo, min(lo + width, 65535)


@st.composite
def rule_conds(
    draw,
    family: int,
    hot: list[int],
    ports: list[int],
    interfaces: tuple[str, ...],
    dialect: str,
    side: str = "iif",
) -> list[Cond]:
    conds: list[Cond] = []
    proto_kind = draw(
        st.sampled_from(["none", "tcp", "udp", "icmp", "tcp", "udp", "not"])
    )
    icmp = ICMP4 if family == 4 else ICMP6
    if proto_kind == "not":
        conds.append(
            Cond("proto", draw(st.sampled_from([TCP, UDP, icmp])), negated=True)
        )
    elif proto_kind != "none":
        conds.append(Cond("proto", {"tcp": TCP, "udp": UDP, "icmp": icmp}[proto_kind]))
    for kind in ("src", "dst"):
        roll = draw(st.integers(0, 5))
        if roll == 0:
            cidr = draw(cidrs(family, hot))
            # iptables-nft 1.8.9 cannot load "! -d 0.0.0.0/0" (RULE_APPEND fails).
            if cidr.endswith("/0"):
                cidr = cidr[:-2] + "/1"
            conds.append(Cond(kind, (cidr,), negated=True))
        elif roll == 1:
            many = tuple(draw(st.lists(cidrs(family, hot), min_size=1, max_size=3)))
            spelling = ""
            # nft reads a set of overlapping prefixes as an error; iptables does not.
            if dialect == "nft":
                many = _disjoint(many)
                spelling = draw(st.sampled_from(["", "named"]))
            conds.append(
                Cond(
                    kind,
                    many,
                    negated=dialect == "nft" and draw(st.booleans()),
                    spelling=spelling,
                )
            )
        elif roll == 2:
            pair = sorted(draw(st.lists(st.sampled_from(hot), min_size=2, max_size=2)))
            conds.append(
                Cond(
                    "srange" if kind == "src" else "drange",
                    tuple(str(value_address(v)) for v in pair),
                    negated=draw(st.booleans()),
                )
            )
    lists = any(
        c.kind in ("src", "dst") and len(c.value) > 1  # type: ignore[arg-type]
        for c in conds
    )
    if lists and dialect == "iptables":
        # iptables rejects "!" on -s or -d when either has several addresses.
        conds = [
            Cond(c.kind, c.value) if c.kind in ("src", "dst") else c for c in conds
        ]
    if draw(st.integers(0, 3)) == 0:
        conds.append(
            Cond(side, draw(st.sampled_from(interfaces)), negated=draw(st.booleans()))
        )
    if proto_kind in ("tcp", "udp"):
        for kind in ("dport", "sport"):
            if draw(st.integers(0, 2 if kind == "dport" else 5)) != 0:
                continue
            ranges = tuple(draw(st.lists(port_ranges(ports), min_size=1, max_size=4)))
            if dialect == "nft":
                ranges = tuple(
                    IntervalSet(ranges).bounds
                )  # nft rejects overlapping items
                spelling = draw(st.sampled_from(["", "th", "named"]))
            elif len(ranges) == 1:
                lo, hi = ranges[0]
                spelling = draw(
                    st.sampled_from(
                        [
                            "",
                            "",
                            "open-low" if lo == 0 else "",
                            "open-high" if hi == 65535 else "",
                            "multiport",
                        ]
                    )
                )
            else:
                spelling = ""
            negated = draw(st.integers(0, 3)) == 0
            if ranges == ((0, 65535),) and spelling != "multiport":
                # iptables-nft 1.8.9 loads "! --dport 0:65535" as no port match at
                # all (every packet matches); iptables-legacy matches none.
                negated = False
            conds.append(Cond(kind, ranges, negated=negated, spelling=spelling))
    if proto_kind == "icmp" and draw(st.booleans()):
        icmp_type = draw(st.sampled_from(sorted(ICMP_NAMES[family])))
        choices: list[object] = [(icmp_type, None), (icmp_type, 0), (icmp_type, 1)]
        if dialect == "iptables" and family == 4:  # ip6tables knows no "any" type
            choices.append("any")
        value: object = draw(st.sampled_from(choices))
        spelling = (
            "name"
            if value != "any" and value[1] is None and draw(st.booleans())
            else ""
        )  # type: ignore[index]
        # "! --icmp-type any" matches no packet in iptables-legacy but every ICMP
        # packet in iptables-nft 1.8.9, which loads it without the negation.
        negated = value != "any" and draw(st.integers(0, 3)) == 0
        conds.append(Cond("icmp", value, negated=negated, spelling=spelling))
    if draw(st.integers(0, 3)) == 0:
        states = tuple(
            sorted(
                draw(st.sets(st.sampled_from(STATE_NAMES), min_size=1, max_size=3)),
                key=STATE_NAMES.index,
            )
        )
        spelling = (
            draw(st.sampled_from(["conntrack", "state"]))
            if "untracked" not in states
            else "conntrack"
        )
        conds.append(
            Cond(
                "state", states, negated=draw(st.integers(0, 4)) == 0, spelling=spelling
            )
        )
    return conds


def _disjoint(items: tuple[str, ...]) -> tuple[str, ...]:
    kept: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    out = []
    for text in items:
        net = ipaddress.ip_network(text, strict=False)
        if any(net.overlaps(other) for other in kept):
            continue
        kept.append(net)
        out.append(text)
    return tuple(out)


@st.composite
def chain_rules(
    draw,
    families: frozenset[int],
    hot: dict[int, list[int]],
    ports: list[int],
    interfaces: tuple[str, ...],
    dialect: str,
    targets: list[str],
    user: bool,
    reject: bool,
    side: str = "iif",
) -> list[ModelRule]:
    rules = []
    kinds = ["ACCEPT", "ACCEPT", "DROP", "DROP", "LOG"]
    kinds += ["REJECT"] if reject else []
    kinds += ["NONE"] if dialect == "iptables" else []
    kinds += ["RETURN"] if user or dialect == "iptables" else []
    kinds += ["JUMP", "JUMP", "GOTO"] if targets else []
    for _ in range(draw(st.integers(0, 7))):
        family = draw(st.sampled_from(sorted(families)))
        conds = draw(rule_conds(family, hot[family], ports, interfaces, dialect, side))
        target = draw(st.sampled_from(kinds))
        chain = draw(st.sampled_from(targets)) if target in ("JUMP", "GOTO") else ""
        rules.append(ModelRule(conds, target, chain))
    return rules


@st.composite
def iptables_models(draw, family: int | None = None, hook: str = "input") -> Model:
    """A filter INPUT (or OUTPUT) chain, maybe a mangle one too, and user chains."""
    base = hook.upper()
    side = "iif" if hook == "input" else "oif"
    family = family or draw(st.sampled_from([4, 6]))
    families = frozenset({family})
    hot = {family: draw(hot_values(family))}
    ports = sorted(
        set(
            draw(
                st.lists(
                    st.sampled_from(
                        [0, 1, 22, 25, 53, 80, 443, 1023, 1024, 8080, 65534, 65535]
                    ),
                    min_size=2,
                    max_size=5,
                )
            )
        )
    )
    chains: list[ModelChain] = []
    tables = ["filter"] + (["mangle"] if draw(st.integers(0, 4)) == 0 else [])
    for table in tables:
        count = draw(st.integers(0, 4))
        names = [f"{table[0]}{i}" for i in range(count)]
        users = []
        # A chain jumps only to later chains, so there is no loop.
        for index in reversed(range(count)):
            rules = draw(
                chain_rules(
                    families,
                    hot,
                    ports,
                    IPTABLES_INTERFACES,
                    "iptables",
                    names[index + 1 :],
                    True,
                    table == "filter",
                    side,
                )
            )
            users.append(ModelChain(names[index], rules, None, table))
        rules = draw(
            chain_rules(
                families,
                hot,
                ports,
                IPTABLES_INTERFACES,
                "iptables",
                names,
                False,
                table == "filter",
                side,
            )
        )
        policy = draw(st.sampled_from(["ACCEPT", "DROP"]))
        chains.append(ModelChain(base, rules, policy, table))
        chains.extend(reversed(users))
    # mangle runs before filter on the input hook.
    chains.sort(key=lambda c: (c.policy is None, c.table != "mangle"))
    model = Model(families, chains, hook)
    model.hot_addresses = hot
    model.hot_ports = ports
    return model


@st.composite
def nft_models(draw, hook: str = "input") -> Model:
    """An inet table with one or two input base chains, maybe an ip or ip6 table too."""
    side = "iif" if hook == "input" else "oif"
    hot = {4: draw(hot_values(4)), 6: draw(hot_values(6))}
    ports = sorted(
        set(
            draw(
                st.lists(
                    st.sampled_from([0, 1, 22, 53, 80, 443, 1024, 8080, 65535]),
                    min_size=2,
                    max_size=5,
                )
            )
        )
    )
    chains: list[ModelChain] = []
    tables = [("inet", frozenset({4, 6}))]
    extra = draw(st.sampled_from(["", "", "ip", "ip6"]))
    if extra:
        tables.append((extra, frozenset({4 if extra == "ip" else 6})))
    for table, families in tables:
        count = draw(st.integers(0, 3))
        names = [f"u{i}" for i in range(count)]
        users = []
        for index in reversed(range(count)):
            rules = draw(
                chain_rules(
                    families,
                    hot,
                    ports,
                    NFT_INTERFACES,
                    "nft",
                    names[index + 1 :],
                    True,
                    True,
                    side,
                )
            )
            users.append(
                ModelChain(names[index], rules, None, table, families=families)
            )
        for number in range(draw(st.integers(1, 2)) if table == "inet" else 1):
            rules = draw(
                chain_rules(
                    families,
                    hot,
                    ports,
                    NFT_INTERFACES,
                    "nft",
                    names,
                    False,
                    True,
                    side,
                )
            )
            policy = draw(st.sampled_from(["ACCEPT", "DROP"]))
            priority = draw(st.sampled_from([-10, 0, 0, 5, 10, 20]))
            chains.append(
                ModelChain(f"in{number}", rules, policy, table, priority, families)
            )
        chains.extend(reversed(users))
    bases = sorted(
        (c for c in chains if c.policy is not None), key=lambda c: c.priority
    )
    model = Model(
        frozenset({4, 6}), bases + [c for c in chains if c.policy is None], hook
    )
    model.hot_addresses = hot
    model.hot_ports = ports
    return model


# --- probes --------------------------------------------------------------------------


def _edge_addresses(model: Model, family: int) -> list[int]:
    values = list(model.hot_addresses.get(family, ()))
    for chain in model.chains:
        for rule in chain.rules:
            for cond in rule.conds:
                if cond.kind in ("src", "dst"):
                    for text in cond.value:  # type: ignore[union-attr]
                        net = ipaddress.ip_network(text, strict=False)
                        if net.version != family:
                            continue
                        lo = address_value(net.network_address)
                        hi = address_value(net.broadcast_address)
                        values += [lo, hi, lo - 1, hi + 1]
                elif cond.kind in ("srange", "drange"):
                    first, last = (ipaddress.ip_address(v) for v in cond.value)  # type: ignore[union-attr]
                    if first.version == family:
                        lo, hi = address_value(first), address_value(last)
                        values += [lo, hi, lo - 1, hi + 1]
    sendable = SENDABLE[family]
    return sorted({v for v in values if v in sendable})


def _edge_ports(model: Model) -> list[int]:
    values = set(model.hot_ports)
    for chain in model.chains:
        for rule in chain.rules:
            for cond in rule.conds:
                if cond.kind in ("sport", "dport"):
                    for lo, hi in cond.value:  # type: ignore[union-attr]
                        values.update({lo, hi, lo - 1, hi + 1})
    return sorted(v for v in values if 0 <= v <= 65535)


def random_probes(
    model: Model, rng: random.Random, count: int, idents: IdentCounter
) -> list[Probe]:
    """Probes built from the rule set's edges plus some random values."""
    edges = {f: _edge_addresses(model, f) for f in model.families}
    return edge_probes(
        sorted(model.families), edges, _edge_ports(model), rng, count, idents
    )


def edge_probes(
    families: list[int],
    edges: dict[int, list[int]],
    ports: list[int],
    rng: random.Random,
    count: int,
    idents: IdentCounter,
) -> list[Probe]:
    """``count`` probes: mostly edge addresses and ports, sometimes random ones."""
    usable = {
        family: [v for v in edges.get(family, ()) if v in SENDABLE[family]]
        for family in families
    }

    def address(family: int) -> str:
        if usable[family] and rng.random() < 0.8:
            return str(value_address(rng.choice(usable[family])))
        lo, hi = rng.choice(SENDABLE[family].bounds)
        return str(value_address(rng.randint(lo, hi)))

    def port() -> int:
        if ports and rng.random() < 0.7:
            return rng.choice(ports)
        return rng.randint(0, 65535)

    out = []
    for _ in range(count):
        family = rng.choice(families)
        proto = rng.choice([TCP, TCP, UDP, UDP, ICMP4 if family == 4 else ICMP6])
        src, dst = address(family), address(family)
        if proto in (TCP, UDP):
            out.append(Probe(proto, src, dst, port(), port()))
        else:
            out.append(Probe(proto, src, dst, ident=idents.next()))
    return out


class IdentCounter:
    """Hands out ICMP echo identifiers, so that no two probes share a connection."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value = self.value % 65535 + 1
        return self.value
