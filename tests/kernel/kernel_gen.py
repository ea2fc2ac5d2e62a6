"""Random rule sets for the kernel harness, rendered as iptables and nftables text.

A :class:`Model` is a small firewall: base chains on one hook (input, or
output for packets the host sends), user
chains, rules made of :class:`Cond` conditions and a target. It renders to
``iptables-restore`` input (:func:`render_iptables`) and to an ``nft -f``
file (:func:`render_nft`), and it builds the IR a correct parser would
produce (:func:`model_ruleset`). The kernel is compared with the engine
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
from seglint.ir import Action, Chain, InterfaceMatch, Match, Rule, Ruleset, Span
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
    V4_ALL,
    V6_ALL,
    IntervalSet,
    address_range,
    addresses,
    address_value,
    value_address,
)

INTERFACE = "veth0"  # the firewall's end of the veth pair
# Interface patterns in iptables spelling; nftables writes ``*`` for ``+``.
IPTABLES_INTERFACES = ("veth0", "veth+", "vet+", "veth0+", "veth1", "eth0", "eth+", "lo",
                       "+", "v+")
NFT_INTERFACES = ("veth0", "veth+", "vet+", "veth1", "eth0", "eth+", "lo", "v+")
STATE_NAMES = ("new", "established", "related", "invalid", "untracked")
ICMP_NAMES = {4: {8: "echo-request", 0: "echo-reply", 3: "destination-unreachable"},
              6: {128: "echo-request", 129: "echo-reply", 1: "destination-unreachable"}}

# Addresses a probe may carry: the kernel drops martians (loopback, multicast,
# 0/8, link-local destinations) before the input hook.
SENDABLE = {
    4: IntervalSet([(address_value(ipaddress.ip_address("1.0.0.0")),
                     address_value(ipaddress.ip_address("126.255.255.255"))),
                    (address_value(ipaddress.ip_address("128.0.0.0")),
                     address_value(ipaddress.ip_address("223.255.255.255")))]),
    6: addresses(["2000::/3", "fc00::/7"]),
}


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    """One condition: ``kind`` names it, ``value`` depends on the kind.

    kinds: proto (int), src / dst (tuple of CIDR strings), srange / drange
    (first, last), iif (pattern with ``+``), sport / dport (tuple of (lo, hi)),
    state (tuple of state names), icmp ((type, code or None) or "any").
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


# --- strategies ------------------------------------------------------------------------


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
    choices = [0, 1, 8, 12, 16, 24, 28, 31, 32] if family == 4 else \
        [0, 3, 16, 32, 48, 64, 100, 120, 127, 128]
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
def rule_conds(draw, family: int, hot: list[int], ports: list[int],
               interfaces: tuple[str, ...], dialect: str, side: str = "iif") -> list[Cond]:
    conds: list[Cond] = []
    proto_kind = draw(st.sampled_from(["none", "tcp", "udp", "icmp", "tcp", "udp", "not"]))
    icmp = ICMP4 if family == 4 else ICMP6
    if proto_kind == "not":
        conds.append(Cond("proto", draw(st.sampled_from([TCP, UDP, icmp])), negated=True))
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
            conds.append(Cond(kind, many, negated=dialect == "nft" and draw(st.booleans()),
                              spelling=spelling))
        elif roll == 2:
            pair = sorted(draw(st.lists(st.sampled_from(hot), min_size=2, max_size=2)))
            conds.append(Cond("srange" if kind == "src" else "drange",
                              tuple(str(value_address(v)) for v in pair),
                              negated=draw(st.booleans())))
    lists = any(c.kind in ("src", "dst") and len(c.value) > 1  # type: ignore[arg-type]
                for c in conds)
    if lists and dialect == "iptables":
        # iptables refuses "!" on -s or -d when either holds several addresses.
        conds = [Cond(c.kind, c.value) if c.kind in ("src", "dst") else c for c in conds]
    if draw(st.integers(0, 3)) == 0:
        conds.append(Cond(side, draw(st.sampled_from(interfaces)),
                          negated=draw(st.booleans())))
    if proto_kind in ("tcp", "udp"):
        for kind in ("dport", "sport"):
            if draw(st.integers(0, 2 if kind == "dport" else 5)) != 0:
                continue
            ranges = tuple(draw(st.lists(port_ranges(ports), min_size=1, max_size=4)))
            if dialect == "nft":
                ranges = tuple(IntervalSet(ranges).bounds)  # nft refuses overlapping items
                spelling = draw(st.sampled_from(["", "th", "named"]))
            elif len(ranges) == 1:
                lo, hi = ranges[0]
                spelling = draw(st.sampled_from(["", "", "open-low" if lo == 0 else "",
                                                 "open-high" if hi == 65535 else "",
                                                 "multiport"]))
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
        spelling = "name" if value != "any" and value[1] is None and draw(st.booleans()) \
            else ""  # type: ignore[index]
        conds.append(Cond("icmp", value, negated=draw(st.integers(0, 3)) == 0,
                          spelling=spelling))
    if draw(st.integers(0, 3)) == 0:
        states = tuple(sorted(draw(st.sets(st.sampled_from(STATE_NAMES), min_size=1,
                                           max_size=3)), key=STATE_NAMES.index))
        spelling = draw(st.sampled_from(["conntrack", "state"])) \
            if "untracked" not in states else "conntrack"
        conds.append(Cond("state", states, negated=draw(st.integers(0, 4)) == 0,
                          spelling=spelling))
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
def chain_rules(draw, families: frozenset[int], hot: dict[int, list[int]],
                ports: list[int], interfaces: tuple[str, ...], dialect: str,
                targets: list[str], user: bool, reject: bool,
                side: str = "iif") -> list[ModelRule]:
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
    ports = sorted(set(draw(st.lists(st.sampled_from([0, 1, 22, 25, 53, 80, 443, 1023, 1024,
                                                      8080, 65534, 65535]),
                                     min_size=2, max_size=5))))
    chains: list[ModelChain] = []
    tables = ["filter"] + (["mangle"] if draw(st.integers(0, 4)) == 0 else [])
    for table in tables:
        count = draw(st.integers(0, 4))
        names = [f"{table[0]}{i}" for i in range(count)]
        users = []
        # A chain jumps only to later chains, so there is no loop.
        for index in reversed(range(count)):
            rules = draw(chain_rules(families, hot, ports, IPTABLES_INTERFACES,
                                     "iptables", names[index + 1:], True, table == "filter",
                                     side))
            users.append(ModelChain(names[index], rules, None, table))
        rules = draw(chain_rules(families, hot, ports, IPTABLES_INTERFACES, "iptables",
                                 names, False, table == "filter", side))
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
    ports = sorted(set(draw(st.lists(st.sampled_from([0, 1, 22, 53, 80, 443, 1024, 8080,
                                                      65535]), min_size=2, max_size=5))))
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
            rules = draw(chain_rules(families, hot, ports, NFT_INTERFACES, "nft",
                                     names[index + 1:], True, True, side))
            users.append(ModelChain(names[index], rules, None, table, families=families))
        for number in range(draw(st.integers(1, 2)) if table == "inet" else 1):
            rules = draw(chain_rules(families, hot, ports, NFT_INTERFACES, "nft",
                                     names, False, True, side))
            policy = draw(st.sampled_from(["ACCEPT", "DROP"]))
            priority = draw(st.sampled_from([-10, 0, 0, 5, 10, 20]))
            chains.append(ModelChain(f"in{number}", rules, policy, table, priority,
                                     families))
        chains.extend(reversed(users))
    bases = sorted((c for c in chains if c.policy is not None), key=lambda c: c.priority)
    model = Model(frozenset({4, 6}), bases + [c for c in chains if c.policy is None], hook)
    model.hot_addresses = hot
    model.hot_ports = ports
    return model


# --- iptables text ---------------------------------------------------------------------


def _ports_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}:{hi}" for lo, hi in ranges)


def iptables_cond(cond: Cond, family: int, proto: int = 0) -> str:
    bang = "! " if cond.negated else ""
    kind, value = cond.kind, cond.value
    if kind == "proto":
        names = {TCP: "tcp", UDP: "udp", ICMP4: "icmp", ICMP6: "ipv6-icmp"}
        return f"{bang}-p {names[value]}"  # type: ignore[index]
    if kind in ("src", "dst"):
        return f"{bang}-{kind[0]} {','.join(value)}"  # type: ignore[arg-type]
    if kind in ("srange", "drange"):
        first, last = value  # type: ignore[misc]
        option = "--src-range" if kind == "srange" else "--dst-range"
        return f"-m iprange {bang}{option} {first}-{last}"
    if kind in ("iif", "oif"):
        return f"{bang}-{kind[0]} {value}"
    if kind in ("sport", "dport"):
        ranges = value  # type: ignore[assignment]
        if len(ranges) > 1 or cond.spelling == "multiport":  # type: ignore[arg-type]
            return f"-m multiport {bang}--{kind}s {_ports_text(ranges)}"  # type: ignore[arg-type]
        lo, hi = ranges[0]  # type: ignore[index]
        text = str(lo) if lo == hi else f"{lo}:{hi}"
        if cond.spelling == "open-low":
            text = f":{hi}"
        elif cond.spelling == "open-high":
            text = f"{lo}:"
            # iptables-save writes the protocol's match module; sometimes do so too.
            return f"-m {'udp' if proto == UDP else 'tcp'} {bang}--{kind} {text}"
        return f"{bang}--{kind} {text}"
    if kind == "state":
        names = ",".join(s.upper() for s in value)  # type: ignore[union-attr]
        if cond.spelling == "state":
            return f"-m state {bang}--state {names}"
        return f"-m conntrack {bang}--ctstate {names}"
    if kind == "icmp":
        option = "--icmp-type" if family == 4 else "--icmpv6-type"
        module = "icmp" if family == 4 else "icmp6"
        if value == "any":
            text = "any"
        else:
            icmp_type, code = value  # type: ignore[misc]
            text = ICMP_NAMES[family][icmp_type] if cond.spelling == "name" else (
                str(icmp_type) if code is None else f"{icmp_type}/{code}")
        return f"-m {module} {bang}{option} {text}"
    raise ValueError(kind)


def _iptables_target(rule: ModelRule) -> str:
    if rule.target == "NONE":
        return ""
    if rule.target == "JUMP":
        return f" -j {rule.chain}"
    if rule.target == "GOTO":
        return f" -g {rule.chain}"
    if rule.target == "LOG":
        return ' -j LOG --log-prefix "seglint "'
    return f" -j {rule.target}"


def render_iptables(model: Model) -> str:
    """Return iptables-restore input; records each rule's line in ``model.lines``."""
    family = next(iter(model.families))
    out = [f"# Generated by {'ip6tables' if family == 6 else 'iptables'}-save v1.8.9"]
    builtins = {"filter": ("INPUT", "FORWARD", "OUTPUT"),
                "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")}
    model.lines.clear()
    for table in ("mangle", "filter"):
        chains = [c for c in model.chains if c.table == table]
        if not chains:
            continue
        out.append(f"*{table}")
        for name in builtins[table]:
            policy = "ACCEPT"
            if name == model.hook.upper():
                policy = model.chain(table, name).policy or "ACCEPT"
                model.policy_lines[f"{table}/{name}"] = len(out) + 1
            out.append(f":{name} {policy} [0:0]")
        for chain in chains:
            if chain.policy is None:
                out.append(f":{chain.name} - [0:0]")
        for chain in chains:
            for index, rule in enumerate(chain.rules):
                proto = next((c.value for c in rule.conds
                              if c.kind == "proto" and not c.negated), 0)
                conds = " ".join(iptables_cond(c, family, proto)  # type: ignore[arg-type]
                                 for c in _iptables_order(rule.conds))
                text = f"-A {chain.name}" + (f" {conds}" if conds else "") + \
                    _iptables_target(rule)
                model.lines[(f"{table}/{chain.name}", index)] = len(out) + 1
                out.append(text)
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def _iptables_order(conds: list[Cond]) -> list[Cond]:
    # -p must come before the options of the protocol's match (--dport, --icmp-type),
    # and a plain --sport must come before "-m multiport", whose --sports it would
    # otherwise abbreviate.
    def rank(cond: Cond) -> int:
        if cond.kind == "proto":
            return 0
        if cond.kind in ("sport", "dport") and "multiport" not in iptables_cond(cond, 4):
            return 1
        return 2

    return sorted(conds, key=rank)


# --- nftables text ---------------------------------------------------------------------


def _nft_set(items: list[str], negated: bool) -> str:
    op = "!= " if negated else ""
    if len(items) == 1:
        return op + items[0]
    return op + "{ " + ", ".join(items) + " }"


def nft_cond(cond: Cond, family: int, proto: int = 0,
             sets: dict[str, tuple[str, list[str]]] | None = None,
             inet: bool = True) -> str:
    """Render one condition; a "named" one declares its set in ``sets``."""
    kind, value = cond.kind, cond.value
    ip = "ip" if family == 4 else "ip6"

    def named(set_type: str, items: list[str]) -> str | None:
        if cond.spelling != "named" or sets is None:
            return None
        name = f"set{len(sets)}"
        sets[name] = (set_type, items)
        return ("!= " if cond.negated else "") + "@" + name

    if kind == "proto":
        names = {TCP: "tcp", UDP: "udp", ICMP4: "icmp", ICMP6: "ipv6-icmp"}
        # In an inet table a plain l4proto match would see both families; the
        # model's rule is about one family, so say which (nft refuses it elsewhere).
        nfproto = f"meta nfproto {'ipv4' if family == 4 else 'ipv6'} " if inet else ""
        return f"{nfproto}meta l4proto " + \
            _nft_set([names[value]], cond.negated)  # type: ignore[index]
    if kind in ("src", "dst"):
        items = [str(ipaddress.ip_network(v, strict=False)) for v in value]  # type: ignore[union-attr]
        written = named("ipv4_addr" if family == 4 else "ipv6_addr", items)
        return f"{ip} {kind[0]}addr " + (written or _nft_set(items, cond.negated))
    if kind in ("srange", "drange"):
        first, last = value  # type: ignore[misc]
        item = first if first == last else f"{first}-{last}"
        return f"{ip} {kind[0]}addr " + _nft_set([item], cond.negated)
    if kind in ("iif", "oif"):
        name = str(value).replace("+", "*")
        return f'{kind}name {"!= " if cond.negated else ""}"{name}"'
    if kind in ("sport", "dport"):
        items = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in value]  # type: ignore[union-attr]
        word = "th" if cond.spelling == "th" else {TCP: "tcp", UDP: "udp"}[proto]
        return f"{word} {kind} " + (named("inet_service", items) or
                                    _nft_set(items, cond.negated))
    if kind == "state":
        return "ct state " + _nft_set(list(value), cond.negated)  # type: ignore[arg-type]
    if kind == "icmp":
        word = "icmp" if family == 4 else "icmpv6"
        icmp_type, code = value  # type: ignore[misc]
        name = ICMP_NAMES[family][icmp_type]
        if code is None:
            return f"{word} type " + _nft_set([name], cond.negated)
        if cond.negated:
            # "not (type T and code C)" cannot be one nft expression; use a
            # match on the code alone, which the model reads the same way.
            return f"{word} type {name} {word} code != {code}"
        return f"{word} type {name} {word} code {code}"
    raise ValueError(kind)


def _nft_target(rule: ModelRule) -> str:
    return {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return",
            "LOG": "counter", "NONE": "counter", "JUMP": f"jump {rule.chain}",
            "GOTO": f"goto {rule.chain}"}[rule.target]


def rule_family(model: Model, chain: ModelChain, rule: ModelRule) -> int:
    """The family a rule's conditions are written for (address conditions decide)."""
    for cond in rule.conds:
        if cond.kind in ("src", "dst", "srange", "drange"):
            first = cond.value[0]  # type: ignore[index]
            return ipaddress.ip_address(str(first).split("/")[0]).version
        if cond.kind == "proto" and cond.value == ICMP6:
            return 6
        if cond.kind == "proto" and cond.value == ICMP4:
            return 4
    return min(chain.families)


def render_nft(model: Model) -> str:
    """Return an ``nft -f`` file; records each rule's line in ``model.lines``."""
    out: list[str] = []
    model.lines.clear()
    tables: list[str] = []
    for chain in model.chains:
        if chain.table not in tables:
            tables.append(chain.table)
    for table in tables:
        out.append(f"table {table} seglint_{table} {{")
        sets: dict[str, tuple[str, list[str]]] = {}
        header = len(out)
        for chain in (c for c in model.chains if c.table == table):
            out.append(f"    chain {chain.name} {{")
            if chain.policy is not None:
                model.policy_lines[f"{table}/{chain.name}"] = len(out) + 1
                out.append(f"        type filter hook {model.hook} priority {chain.priority}; "
                           f"policy {chain.policy.lower()};")
            for index, rule in enumerate(chain.rules):
                family = rule_family(model, chain, rule)
                proto = next((c.value for c in rule.conds
                              if c.kind == "proto" and not c.negated), 0)
                conds = [nft_cond(c, family, proto, sets,  # type: ignore[arg-type]
                                  table == "inet")
                         for c in _nft_order(rule.conds)]
                model.lines[(f"{table}/{chain.name}", index)] = len(out) + 1
                out.append("        " + " ".join(conds + [_nft_target(rule)]))
            out.append("    }")
        out.append("}")
        # Sets go at the top of the table; shift the recorded lines below them.
        declared = [f"    set {name} {{ type {kind}; flags interval; "
                    f"elements = {{ {', '.join(items)} }}; }}"
                    for name, (kind, items) in sets.items()]
        out[header:header] = declared
        for key, line in model.lines.items():
            if line > header:
                model.lines[key] = line + len(declared)
        for key, line in model.policy_lines.items():
            if line > header and key.startswith(f"{table}/"):
                model.policy_lines[key] = line + len(declared)
    return "\n".join(out) + "\n"


def _nft_order(conds: list[Cond]) -> list[Cond]:
    return sorted(conds, key=lambda c: c.kind != "proto")


# --- the IR a correct parser produces -------------------------------------------------------


def _ports(ranges: tuple[tuple[int, int], ...]) -> IntervalSet:
    return IntervalSet(ranges)


def ir_conditions(cond: Cond, family: int, dialect: str) -> list[object]:
    """The IR conditions of one model condition in ``dialect`` (iptables or nft)."""
    kind, value, negated = cond.kind, cond.value, cond.negated
    family_set = V4_ALL if family == 4 else V6_ALL
    nft_family = [Match(SRC, family_set)] if dialect == "nft" else []
    if kind == "proto":
        return nft_family + [Match(PROTO, IntervalSet.single(value), negated)]  # type: ignore[arg-type]
    if kind in ("src", "dst", "srange", "drange"):
        dim = SRC if kind in ("src", "srange") else DST
        if kind in ("src", "dst"):
            values = addresses(list(value))  # type: ignore[arg-type]
        else:
            values = address_range(*value)  # type: ignore[misc]
        return nft_family + [Match(dim, values, negated)]
    if kind in ("iif", "oif"):
        return [InterfaceMatch(IIF if kind == "iif" else OIF, (str(value),), negated)]
    if kind in ("sport", "dport"):
        dim = SPORT if kind == "sport" else DPORT
        return [Match(dim, _ports(value), negated)]  # type: ignore[arg-type]
    if kind == "state":
        indexes = IntervalSet((STATE_INDEX[s], STATE_INDEX[s]) for s in value)  # type: ignore[union-attr]
        return [Match(STATE, indexes, negated)]
    if kind == "icmp":
        proto = ICMP4 if family == 4 else ICMP6
        base = nft_family + [Match(PROTO, IntervalSet.single(proto))]
        if value == "any":
            return base + [Match(ICMP, IntervalSet.single(0, 65535), negated)]
        icmp_type, code = value  # type: ignore[misc]
        if code is None:
            return base + [Match(ICMP, IntervalSet.single(icmp_type * 256,
                                                          icmp_type * 256 + 255), negated)]
        if dialect == "nft" and negated:
            return base + [Match(ICMP, IntervalSet.single(icmp_type * 256,
                                                          icmp_type * 256 + 255)),
                           Match(ICMP, IntervalSet.single(icmp_type * 256 + code), True)]
        return base + [Match(ICMP, IntervalSet.single(icmp_type * 256 + code), negated)]
    raise ValueError(kind)


def _ir_action(rule: ModelRule, table: str) -> Action:
    kind = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject", "RETURN": "return",
            "LOG": "next", "NONE": "next", "JUMP": "jump", "GOTO": "goto"}[rule.target]
    return Action(kind, f"{table}/{rule.chain}" if rule.chain else "")  # type: ignore[arg-type]


def model_ruleset(model: Model, dialect: str, path: str = "model") -> Ruleset:
    """Return the IR of ``model`` as written in ``dialect``; render it first for lines."""
    chains: dict[str, Chain] = {}
    for chain in model.chains:
        name = f"{chain.table}/{chain.name}"
        rules = []
        for index, rule in enumerate(chain.rules):
            family = rule_family(model, chain, rule) if dialect == "nft" else \
                next(iter(model.families))
            conditions: list[object] = []
            for cond in rule.conds:
                conditions.extend(ir_conditions(cond, family, dialect))
            line = model.lines.get((name, index), 1)
            rules.append(Rule(Span(path, line), tuple(conditions),  # type: ignore[arg-type]
                              _ir_action(rule, chain.table), f"{name} rule {index + 1}"))
        policy = None
        if chain.policy is not None:
            kind = "accept" if chain.policy == "ACCEPT" else "drop"
            policy = Rule(Span(path, model.policy_lines.get(name, 1)), (), Action(kind),
                          f"{name} policy", label=f"chain {name} policy {chain.policy}")
        chains[name] = Chain(name, tuple(rules), policy, chain.families)
    bases = tuple(f"{c.table}/{c.name}" for c in model.bases())
    return Ruleset(path, dialect, chains, {model.hook: bases}, model.families)


# --- probes ----------------------------------------------------------------------------------


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
                    first, last = (ipaddress.ip_address(v)
                                   for v in cond.value)  # type: ignore[union-attr]
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


def random_probes(model: Model, rng: random.Random, count: int,
                  idents: IdentCounter) -> list[Probe]:
    """Probes built from the rule set's edges plus some random values."""
    edges = {f: _edge_addresses(model, f) for f in model.families}
    return edge_probes(sorted(model.families), edges, _edge_ports(model), rng, count, idents)


def edge_probes(families: list[int], edges: dict[int, list[int]], ports: list[int],
                rng: random.Random, count: int, idents: IdentCounter) -> list[Probe]:
    """``count`` probes: mostly edge addresses and ports, sometimes random ones."""
    out = []
    for _ in range(count):
        family = rng.choice(families)
        sendable = SENDABLE[family]
        usable = [v for v in edges.get(family, ()) if v in sendable]

        def address() -> str:
            if usable and rng.random() < 0.8:
                return str(value_address(rng.choice(usable)))
            lo, hi = rng.choice(sendable.bounds)
            return str(value_address(rng.randint(lo, hi)))

        def port() -> int:
            return rng.choice(ports) if ports and rng.random() < 0.7 else \
                rng.randint(0, 65535)

        proto = rng.choice([TCP, TCP, UDP, UDP, ICMP4 if family == 4 else ICMP6])
        if proto in (TCP, UDP):
            out.append(Probe(proto, address(), address(), port(), port()))
        else:
            out.append(Probe(proto, address(), address(), ident=idents.next()))
    return out


class IdentCounter:
    """Hands out ICMP echo identifiers, so that no two probes share a connection."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value = self.value % 65535 + 1
        return self.value
