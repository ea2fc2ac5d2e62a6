"""nftables format: grammar, IR of each construct, commands, includes, errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglint.formats._nftables_load import Loader
from seglint.formats.base import FileAccess, SourceFile
from seglint.formats.nftables import NftablesFormat, seglint_formats
from seglint.ir import (
    Action,
    Diagnostic,
    InterfaceMatch,
    Match,
    ParseError,
    ParseResult,
    Rule,
    Ruleset,
    Span,
    TupleMatch,
    Unknown,
)
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
    addresses,
)

NAME = "rules.nft"
V4 = Match(SRC, V4_ALL)
V6 = Match(SRC, V6_ALL)
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))
PORT_PROTOCOLS = Match(
    PROTO, IntervalSet([(6, 6), (17, 17), (33, 33), (132, 132), (136, 136)])
)


# --- helpers --------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = NAME) -> Path:
    location = tmp_path / name
    location.parent.mkdir(parents=True, exist_ok=True)
    location.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return location


def parse_file(tmp_path: Path, location: Path) -> ParseResult:
    display = location.relative_to(tmp_path).as_posix()
    source = SourceFile(display, location, location.read_text(encoding="utf-8"))
    return NftablesFormat().parse(source, FileAccess(tmp_path, tmp_path))


def parse(tmp_path: Path, text: str, name: str = NAME) -> Ruleset:
    result = parse_file(tmp_path, write(tmp_path, text, name))
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def parse_error(tmp_path: Path, text: str, name: str = NAME) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text, name)
    return caught.value


def chain(statements: str, family: str = "inet", extra: str = "") -> str:
    """Return a file whose input base chain has ``statements`` from line 4 on."""
    body = textwrap.indent(textwrap.dedent(statements).strip("\n"), "        ")
    return (
        f"table {family} t {{\n"
        "    chain c {\n"
        "        type filter hook input priority 0; policy drop;\n"
        f"{body}\n"
        "    }\n"
        f"{textwrap.indent(textwrap.dedent(extra), '    ')}"
        "}\n"
    )


def rules_of(
    tmp_path: Path, statements: str, family: str = "inet", extra: str = ""
) -> tuple[Rule, ...]:
    found = parse(tmp_path, chain(statements, family, extra))
    return found.chains[f"{family} t/c"].rules


def conditions(tmp_path: Path, statement: str, family: str = "inet") -> tuple:
    rules = rules_of(tmp_path, statement, family)
    assert len(rules) == 1
    return rules[0].conditions


def only_rule(
    tmp_path: Path, statement: str, family: str = "inet", extra: str = ""
) -> Rule:
    rules = rules_of(tmp_path, statement, family, extra)
    assert len(rules) == 1
    return rules[0]


def warnings_of(found: Ruleset) -> list[tuple[int, str]]:
    return [(d.span.line, d.message) for d in found.diagnostics if d.level == "warning"]


def notes_of(found: Ruleset) -> list[tuple[int, str]]:
    return [(d.span.line, d.message) for d in found.diagnostics if d.level == "note"]


def one(dim: str, lo: int, hi: int | None = None, negated: bool = False) -> Match:
    return Match(dim, IntervalSet.single(lo, hi), negated)


def icmp_type(kind: int) -> Match:
    return one(ICMP, kind * 256, kind * 256 + 255)


def span(line: int, column: int, end_column: int) -> Span:
    return Span(NAME, line, column, line, end_column)


# --- registration and detection -------------------------------------------------------


def test_hook_registers_format() -> None:
    formats = seglint_formats()
    assert [f.id for f in formats] == ["nftables"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("#!/usr/sbin/nft -f\nflush ruleset\n", 2),
        ("table inet filter {\n", 2),
        ("add rule inet filter input tcp dport 22 accept\n", 2),
        ("flush ruleset\n", 1),
        ("define wan = eth0\n", 1),
        ("table filter {\n", 1),
        ("*filter\n:INPUT DROP [0:0]\nCOMMIT\n", 0),
        ("table <bruteforce> persist\npass in all\n", 0),
    ],
)
def test_detect(head: str, expected: int) -> None:
    assert NftablesFormat().detect("x", head) == expected


def test_patterns() -> None:
    assert NftablesFormat().patterns == (
        "*.nft",
        "nftables.conf",
        "*.nftables.conf",
        "*.nftables",
    )


# --- tables, families and base chains -------------------------------------------------


@pytest.mark.parametrize(
    ("family", "families"),
    [("ip", {4}), ("ip6", {6}), ("inet", {4, 6})],
)
def test_table_family(tmp_path: Path, family: str, families: set[int]) -> None:
    found = parse(tmp_path, chain("accept", family))
    assert found.families == frozenset(families)
    assert found.chains[f"{family} t/c"].families == frozenset(families)
    assert found.hooks == {"input": (f"{family} t/c",)}


def test_table_default_family(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table t {
            chain c { type filter hook output priority 0; }
        }
        """,
    )
    assert found.hooks == {"output": ("ip t/c",)}
    assert found.families == frozenset({4})


@pytest.mark.parametrize("family", ["arp", "bridge", "netdev"])
def test_other_family_noted(tmp_path: Path, family: str) -> None:
    found = parse(
        tmp_path,
        f"""
        table {family} t {{
            chain c {{ type filter hook input priority 0; policy drop; }}
        }}
        """,
    )
    assert found.chains == {}
    assert found.hooks == {}
    assert found.families == frozenset()
    assert notes_of(found) == [
        (
            1,
            f"{family} tables are not modelled, only ip, ip6 and inet "
            f"(table {family} t)",
        ),
    ]


def test_families_only_tables_with_base_chains(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table ip a { chain c { type filter hook input priority 0; }; }
        table ip6 b { chain helper { accept; }; }
        """,
    )
    assert found.families == frozenset({4})
    assert found.chains["ip6 b/helper"].policy is None


def test_policy_explicit(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("accept"))
    policy = found.chains["inet t/c"].policy
    assert policy == Rule(
        Span(NAME, 3, 44, 3, 54),
        (),
        Action("drop"),
        "inet t/c policy drop",
        label="chain c policy drop",
    )


def test_policy_on_own_line(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table ip filter {
            chain INPUT {
                type filter hook input priority 0;
                policy drop;
            }
        }
        """,
    )
    policy = found.chains["ip filter/INPUT"].policy
    assert policy is not None
    assert policy.span.line == 4
    assert policy.label == "chain INPUT policy drop"


def test_policy_implicit_accept(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            chain c {
                type filter hook input priority 0;
            }
        }
        """,
    )
    policy = found.chains["inet t/c"].policy
    assert policy == Rule(
        Span(NAME, 3, 9, 3, 41),
        (),
        Action("accept"),
        "inet t/c policy accept",
        implicit=True,
        label="chain c policy accept",
    )


def test_policy_from_variable(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        define verdict = "drop"
        table inet t {
            chain c { type filter hook input priority 0; policy $verdict; }
        }
        """,
    )
    policy = found.chains["inet t/c"].policy
    assert policy is not None
    assert policy.action == Action("drop")


def test_invalid_policy(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook input priority 0; policy reject; }
        }
        """,
    )
    assert error.message == "invalid chain policy (reject); use accept or drop"
    assert error.span.line == 2


def test_regular_chain_has_no_policy(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("jump helper", extra="chain helper { accept; }\n"))
    helper = found.chains["inet t/helper"]
    assert helper.policy is None
    assert helper.rules[0].action == Action("accept")


@pytest.mark.parametrize(
    ("priority", "value"),
    [
        ("0", 0),
        ("-150", -150),
        ("filter", 0),
        ("raw", -300),
        ("mangle", -150),
        ("dstnat", -100),
        ("security", 50),
        ("srcnat", 100),
        ("filter + 10", 10),
        ("mangle - 5", -155),
        ("$prio", 7),
    ],
)
def test_priority_values(tmp_path: Path, priority: str, value: int) -> None:
    location = write(
        tmp_path,
        f"""
        define prio = 7
        table inet t {{
            chain c {{ type filter hook input priority {priority}; }}
        }}
        """,
    )
    source = SourceFile(NAME, location, location.read_text(encoding="utf-8"))
    model = Loader(FileAccess(tmp_path)).load(source)
    hook = model.tables[("inet", "t")].chains["c"].hook
    assert hook is not None
    assert hook.priority == value


def test_bridge_priority_names(tmp_path: Path) -> None:
    location = write(
        tmp_path,
        """
        table bridge t {
            chain c { type filter hook input priority filter; }
        }
        """,
    )
    source = SourceFile(NAME, location, location.read_text(encoding="utf-8"))
    model = Loader(FileAccess(tmp_path)).load(source)
    hook = model.tables[("bridge", "t")].chains["c"].hook
    assert hook is not None
    assert hook.priority == -200


def test_unknown_priority(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook input priority highest; }
        }
        """,
    )
    assert error.message == "unknown chain priority (highest)"
    assert error.span.line == 2


def test_two_base_chains_priority_order(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet late {
            chain in { type filter hook input priority filter + 10; policy drop; }
        }
        table ip early {
            chain in { type filter hook input priority raw; }
        }
        table inet same {
            chain in { type filter hook input priority 10; }
        }
        """,
    )
    assert found.hooks == {"input": ("ip early/in", "inet late/in", "inet same/in")}
    assert found.chains["ip early/in"].families == frozenset({4})


def test_hook_paths(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            chain post { type filter hook postrouting priority 0; }
            chain out { type filter hook output priority 0; }
            chain forw { type filter hook forward priority 0; }
            chain inp { type filter hook input priority 0; }
            chain pre { type filter hook prerouting priority 0; }
            chain ing { type filter hook ingress device "eth0" priority 0; }
        }
        """,
    )
    assert found.hooks == {
        "input": ("inet t/ing", "inet t/pre", "inet t/inp"),
        "forward": ("inet t/ing", "inet t/pre", "inet t/forw", "inet t/post"),
        "output": ("inet t/out", "inet t/post"),
    }


@pytest.mark.parametrize(
    ("chain_type", "hook"),
    [("nat", "prerouting"), ("nat", "postrouting"), ("route", "output")],
)
def test_nat_and_route_chains_noted(tmp_path: Path, chain_type: str, hook: str) -> None:
    found = parse(
        tmp_path,
        f"""
        table ip t {{
            chain c {{
                type {chain_type} hook {hook} priority 0; policy accept;
                tcp dport 22 dnat to 10.0.0.1
            }}
        }}
        """,
    )
    assert found.chains == {}
    assert found.hooks == {}
    assert notes_of(found) == [
        (
            3,
            f"{chain_type} chains are not modelled and their rules are not checked "
            f"(chain c type {chain_type} hook {hook})",
        )
    ]


def test_chains_only_nat_jumps_to_are_left_out(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table ip t {
            map ports { type inet_service : verdict; elements = { 22 : jump viamap }; }
            chain pre {
                type nat hook prerouting priority dstnat; policy accept;
                jump docker
            }
            chain docker {
                iifname "docker0" return
                tcp dport 8080 dnat to 172.17.0.2:80
                jump shared
            }
            chain shared { ip daddr 192.0.2.1 return; }
            chain viamap { accept; }
            chain in {
                type filter hook input priority 0; policy drop;
                jump shared
                tcp dport vmap @ports
            }
        }
        """,
    )
    assert sorted(found.chains) == ["ip t/in", "ip t/shared", "ip t/viamap"]
    assert [line for line, _ in notes_of(found)] == [4]
    assert warnings_of(found) == []


def test_dormant_table_noted(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            flags dormant
            chain c { type filter hook input priority 0; policy drop; }
        }
        """,
    )
    assert found.hooks == {}
    assert notes_of(found) == [(1, "dormant table is not evaluated (table inet t)")]


def test_unknown_hook(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook inbound priority 0; }
        }
        """,
    )
    assert error.message == "unknown hook (inbound)"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (chain("accept"), "host"),
        (
            "table inet t { chain f { type filter hook forward priority 0; }; }\n",
            "network",
        ),
        (
            "table inet t {\n"
            "chain f { type filter hook forward priority 0; policy drop; }\n}\n"
            "table inet u { chain i { type filter hook input priority 0; }; }\n",
            "host",
        ),
        (
            "table inet t {\n"
            "chain f { type filter hook forward priority 0; policy drop; jump x; }\n"
            "chain x { accept; }\n"
            "chain i { type filter hook input priority 0; }\n}\n",
            "either",
        ),
    ],
)
def test_ruleset_kind(tmp_path: Path, text: str, kind: str) -> None:
    assert parse(tmp_path, text).kind == kind


def test_ruleset_fields(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("accept"))
    assert found.path == NAME
    assert found.format == "nftables"


# --- rules: spans, text and verdicts --------------------------------------------------


def test_rule_span_and_text(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path, "tcp dport 22   counter packets 3 bytes 180  accept # ssh"
    )
    assert rule.span == Span(NAME, 4, 9, 4, 58)
    assert rule.text == "tcp dport 22 counter packets 3 bytes 180 accept"
    assert rule.action == Action("accept")
    assert rule.action.stateful is False


@pytest.mark.parametrize(
    ("statement", "action"),
    [
        ("accept", Action("accept")),
        ("drop", Action("drop")),
        ("reject", Action("reject")),
        ("reject with icmp type port-unreachable", Action("reject")),
        ("reject with icmpx admin-prohibited", Action("reject")),
        ("reject with tcp reset", Action("reject")),
        ("return", Action("return")),
        ("continue", Action("next")),
        ("counter", Action("next")),
        ('log prefix "in: " level info flags tcp sequence,options', Action("next")),
        ("meta nftrace set 1", Action("next")),
        ("meta mark set ct mark", Action("next")),
        ("tcp option maxseg size set rt mtu", Action("next")),
        ('counter name "c1" accept comment "named counter"', Action("accept")),
        ("jump helper", Action("jump", "inet t/helper")),
        ("goto helper", Action("goto", "inet t/helper")),
        ('jump "helper"', Action("jump", "inet t/helper")),
    ],
)
def test_verdicts(tmp_path: Path, statement: str, action: Action) -> None:
    rule = only_rule(tmp_path, statement, extra="chain helper { return; }\n")
    assert rule.action == action
    assert rule.conditions == ()


def test_jump_unknown_chain(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("jump nowhere"))
    assert error.message == "jump to unknown chain (nowhere)"
    assert error.span == Span(NAME, 4, 14, 4, 20)


def test_jump_to_chain_declared_later(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook input priority 0; jump later; }
        }
        table inet t {
            chain later { drop; }
        }
        """,
    )
    assert found.chains["inet t/c"].rules[0].action == Action("jump", "inet t/later")


def test_statement_after_verdict(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("accept counter"))
    assert (
        error.message
        == "statement after the verdict has no effect (counter); nft rejects it"
    )
    assert error.span.line == 4


def test_queue_may_accept(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, "tcp dport 25 queue num 3 bypass")
    unknown = Unknown(
        "queue num 3 bypass", span(4, 22, 39), "queue num 3 bypass at rules.nft:4:22"
    )
    assert [r.action for r in rules] == [Action("accept"), Action("drop")]
    assert rules[0].conditions == (TCP, one(DPORT, 25), unknown)
    assert rules[1].conditions == (TCP, one(DPORT, 25))


def test_queue_warning(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("tcp dport 25 queue"))
    assert warnings_of(found) == [
        (4, "queue verdict is decided by a userspace program (queue)"),
    ]


def test_anonymous_chain_may_decide(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, "tcp dport 25 jump { accept; }")
    assert [r.action for r in rules] == [Action("accept"), Action("drop")]
    assert all(isinstance(r.conditions[-1], Unknown) for r in rules)


# --- matches --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("tcp dport 22", (TCP, one(DPORT, 22))),
        ("tcp dport ssh", (TCP, one(DPORT, 22))),
        ("tcp dport smtp", (TCP, one(DPORT, 25))),
        ("tcp dport https", (TCP, one(DPORT, 443))),
        ("tcp dport 1024-65535", (TCP, one(DPORT, 1024, 65535))),
        ("tcp dport 1024 - 2048", (TCP, one(DPORT, 1024, 2048))),
        (
            "tcp dport { 22, 80-81, https }",
            (TCP, Match(DPORT, IntervalSet([(22, 22), (80, 81), (443, 443)]))),
        ),
        ("tcp dport != 22", (TCP, one(DPORT, 22, negated=True))),
        (
            "tcp dport != { 22, 25 }",
            (TCP, Match(DPORT, IntervalSet([(22, 22), (25, 25)]), True)),
        ),
        ("tcp dport < 1024", (TCP, one(DPORT, 0, 1023))),
        ("tcp dport >= 1024", (TCP, one(DPORT, 1024, 65535))),
        ("tcp dport gt 1023", (TCP, one(DPORT, 1024, 65535))),
        ("tcp sport 53", (TCP, one(SPORT, 53))),
        ("udp dport 53", (UDP, one(DPORT, 53))),
        ("udp sport domain", (UDP, one(SPORT, 53))),
        ("sctp dport 2905", (one(PROTO, 132), one(DPORT, 2905))),
        ("dccp dport 5004", (one(PROTO, 33), one(DPORT, 5004))),
        ("udplite dport 9", (one(PROTO, 136), one(DPORT, 9))),
        ("th dport 53", (PORT_PROTOCOLS, one(DPORT, 53))),
        ("th sport 0x35", (PORT_PROTOCOLS, one(SPORT, 53))),
        ("meta l4proto tcp", (TCP,)),
        ("meta l4proto { tcp, udp }", (Match(PROTO, IntervalSet([(6, 6), (17, 17)])),)),
        ("meta l4proto != 17", (one(PROTO, 17, negated=True),)),
        ("meta l4proto ipv6-icmp", (one(PROTO, 58),)),
        ("ip protocol tcp", (V4, TCP)),
        ("ip protocol != icmp", (V4, one(PROTO, 1, negated=True))),
        ("ip6 nexthdr icmpv6", (V6, one(PROTO, 58))),
        ("meta protocol ip", (V4,)),
        ("meta protocol { ip, ip6 }", ()),
        ("meta protocol ip6", (V6,)),
        ("meta protocol != ip", (V6,)),
        ("meta protocol arp", (Match(SRC, IntervalSet()),)),
        ("meta nfproto ipv4", (V4,)),
        ("meta nfproto ipv6", (V6,)),
        ("ip saddr 10.0.0.0/8", (Match(SRC, addresses(["10.0.0.0/8"])),)),
        ("ip saddr 10.1.2.3/8", (Match(SRC, addresses(["10.0.0.0/8"])),)),
        ("ip daddr 192.0.2.1", (Match(DST, addresses(["192.0.2.1"])),)),
        (
            "ip daddr 192.0.2.1-192.0.2.9",
            (
                Match(
                    DST,
                    IntervalSet.single(
                        addresses(["192.0.2.1"]).min(), addresses(["192.0.2.9"]).min()
                    ),
                ),
            ),
        ),
        (
            "ip saddr { 10.0.0.0/8, 192.168.0.0/16 }",
            (Match(SRC, addresses(["10.0.0.0/8", "192.168.0.0/16"])),),
        ),
        (
            "ip saddr != 10.0.0.0/8",
            (Match(SRC, V4_ALL.subtract(addresses(["10.0.0.0/8"]))),),
        ),
        ("ip6 saddr 2001:db8::/32", (Match(SRC, addresses(["2001:db8::/32"])),)),
        ("ip6 daddr ::1", (Match(DST, addresses(["::1"])),)),
        ("ip6 daddr 2001:db8::", (Match(DST, addresses(["2001:db8::"])),)),
        (
            "ip6 daddr 2001:db8::-2001:db9::",
            (
                Match(
                    DST,
                    IntervalSet.single(
                        addresses(["2001:db8::"]).min(), addresses(["2001:db9::"]).min()
                    ),
                ),
            ),
        ),
        (
            "ip6 saddr { ::1-::5, fe80::/10 }",
            (
                Match(
                    SRC,
                    IntervalSet.single(
                        addresses(["::1"]).min(), addresses(["::5"]).min()
                    ).union(addresses(["fe80::/10"])),
                ),
            ),
        ),
        (
            "ip6 saddr != fe80::/10",
            (Match(SRC, V6_ALL.subtract(addresses(["fe80::/10"]))),),
        ),
        ("ct state established", (one(STATE, STATE_INDEX["established"]),)),
        (
            "ct state established,related",
            (Match(STATE, IntervalSet([(1, 1), (2, 2)])),),
        ),
        (
            "ct state new, established , related, untracked",
            (Match(STATE, IntervalSet([(0, 2), (4, 4)])),),
        ),
        ("ct state { established, related }", (Match(STATE, IntervalSet([(1, 2)])),)),
        ("ct state != invalid", (one(STATE, STATE_INDEX["invalid"], negated=True),)),
        ("ct state ! established", (one(STATE, 1, negated=True),)),
        ("ct state 8", (one(STATE, STATE_INDEX["new"]),)),
        (
            "ct state != { established, related }",
            (Match(STATE, IntervalSet([(1, 2)]), True),),
        ),
        # A comma list is one bitmask: == compares the whole mask, which no
        # packet has, and != is then always true.
        ("ct state == established,related", (Match(STATE, IntervalSet()),)),
        ("ct state != established,related", ()),
        ("icmp type echo-request", (V4, one(PROTO, 1), icmp_type(8))),
        (
            "icmp type { echo-reply, 3 }",
            (V4, one(PROTO, 1), Match(ICMP, IntervalSet([(0, 255), (768, 1023)]))),
        ),
        ("icmp type != echo-request", (V4, one(PROTO, 1), one(ICMP, 2048, 2303, True))),
        ("icmpv6 type nd-neighbor-solicit", (V6, one(PROTO, 58), icmp_type(135))),
        (
            "icmp code port-unreachable",
            (
                V4,
                one(PROTO, 1),
                Match(
                    ICMP, IntervalSet((t * 256 + 3, t * 256 + 3) for t in range(256))
                ),
            ),
        ),
        (
            "icmpv6 code 4",
            (
                V6,
                one(PROTO, 58),
                Match(
                    ICMP, IntervalSet((t * 256 + 4, t * 256 + 4) for t in range(256))
                ),
            ),
        ),
        ("iif lo", (InterfaceMatch(IIF, ("lo",)),)),
        ('iifname "eth0"', (InterfaceMatch(IIF, ("eth0",)),)),
        ('iifname "eth*"', (InterfaceMatch(IIF, ("eth+",)),)),
        ('iifname != "ppp*"', (InterfaceMatch(IIF, ("ppp+",), True),)),
        ("meta iifname { eth0, wlan0 }", (InterfaceMatch(IIF, ("eth0", "wlan0")),)),
        ("oif eth1", (InterfaceMatch(OIF, ("eth1",)),)),
        ('oifname "wg*"', (InterfaceMatch(OIF, ("wg+",)),)),
        ("meta oifname != eth0", (InterfaceMatch(OIF, ("eth0",), True),)),
    ],
)
def test_match(tmp_path: Path, statement: str, expected: tuple) -> None:
    assert conditions(tmp_path, statement + " accept") == expected


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("ip protocol tcp", (TCP,)),
        ("meta protocol ip", ()),
        ("icmp type echo-request", (one(PROTO, 1), icmp_type(8))),
        ("meta protocol ip6", (Match(SRC, IntervalSet()),)),
    ],
)
def test_match_in_ip_table(tmp_path: Path, statement: str, expected: tuple) -> None:
    assert conditions(tmp_path, statement + " accept", family="ip") == expected


def test_matches_combine(tmp_path: Path) -> None:
    found = conditions(
        tmp_path,
        "iifname eth0 ip saddr 10.0.0.0/8 tcp dport { 22, 443 } ct state new accept",
    )
    assert found == (
        InterfaceMatch(IIF, ("eth0",)),
        Match(SRC, addresses(["10.0.0.0/8"])),
        TCP,
        Match(DPORT, IntervalSet([(22, 22), (443, 443)])),
        one(STATE, 0),
    )


def test_family_stated_once(tmp_path: Path) -> None:
    found = conditions(
        tmp_path, "ip protocol icmp ip daddr 192.0.2.1 icmp type 8 accept"
    )
    assert found == (
        V4,
        one(PROTO, 1),
        Match(DST, addresses(["192.0.2.1"])),
        one(PROTO, 1),
        icmp_type(8),
    )


def test_conflicting_families_match_nothing(tmp_path: Path) -> None:
    found = conditions(tmp_path, "meta nfproto ipv4 meta protocol ip6 accept")
    assert found == (V4, Match(SRC, IntervalSet()))


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("ip saddr 10.0.0.300", "invalid address (10.0.0.300)"),
        ("ip saddr ::1", "IPv4 address expected (::1)"),
        ("ip6 saddr 10.0.0.1", "IPv6 address expected (10.0.0.1)"),
        ("tcp dport 70000", "port out of range (70000 > 65535)"),
        ("meta l4proto nosuch", "unknown protocol (nosuch)"),
        ("ct state fresh", "unknown ct state (fresh)"),
        ("icmp type echo", "unknown icmp type (echo)"),
        ("tcp dport", "expected a value (found accept)"),
    ],
)
def test_invalid_values(tmp_path: Path, statement: str, message: str) -> None:
    error = parse_error(tmp_path, chain(statement + " accept"))
    assert error.message == message
    assert error.span.line == 4


def test_value_error_points_at_value(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("ip saddr 10.0.0.300 accept"))
    assert error.span == Span(NAME, 4, 18, 4, 27)


# --- unknown constructs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "unknown"),
    [
        ("tcp flags syn", ("tcp flags syn", "tcp flags syn", False)),
        (
            "tcp flags syn / fin,syn,rst,ack",
            (
                "tcp flags syn / fin, syn, rst, ack",
                "tcp flags syn / fin, syn, rst, ack",
                False,
            ),
        ),
        (
            "tcp flags & (fin|syn|rst|ack) == syn",
            (
                "tcp flags & (fin | syn | rst | ack) == syn",
                "tcp flags & (fin | syn | rst | ack) syn",
                False,
            ),
        ),
        ("ct status dnat", ("ct status dnat", "ct status dnat", False)),
        ("ct status != dnat", ("ct status != dnat", "ct status dnat", True)),
        (
            "fib daddr type local",
            ("fib daddr type local", "fib daddr type local", False),
        ),
        (
            "fib saddr . iif oif missing",
            ("fib saddr . iif oif missing", "fib saddr . iif oif missing", False),
        ),
        ("meta mark 0x1", ("meta mark 0x1", "meta mark 0x1", False)),
        ("mark != 0x1", ("mark != 0x1", "mark 0x1", True)),
        (
            "meta pkttype broadcast",
            ("meta pkttype broadcast", "meta pkttype broadcast", False),
        ),
        (
            "ct mark and 0xff == 0x1",
            ("ct mark and 0xff == 0x1", "ct mark and 0xff 0x1", False),
        ),
        ("ip ttl < 10", ("ip ttl < 10", "ip ttl < 10", False)),
        (
            "socket transparent 1",
            ("socket transparent 1", "socket transparent 1", False),
        ),
        ("osf name Linux", ("osf name Linux", "osf name Linux", False)),
        ("@th,16,16 22", ("@th , 16 , 16 22", "@th , 16 , 16 22", False)),
    ],
)
def test_unknown_match(
    tmp_path: Path, statement: str, unknown: tuple[str, str, bool]
) -> None:
    rule = only_rule(tmp_path, statement + " accept")
    condition = rule.conditions[-1]
    assert isinstance(condition, Unknown)
    assert (condition.text, condition.key, condition.negated) == unknown
    assert condition.span.line == 4
    assert condition.span.column == 9


def test_unknown_header_field_implies_family_and_protocol(tmp_path: Path) -> None:
    assert conditions(tmp_path, "tcp flags syn accept")[0] == TCP
    assert conditions(tmp_path, "ip ttl 1 accept")[0] == V4
    assert conditions(tmp_path, "icmpv6 mtu 1280 accept")[:2] == (V6, one(PROTO, 58))


def test_unknown_match_warning(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("ct status dnat counter accept"))
    assert warnings_of(found) == [(4, "match is not modelled (ct status dnat)")]
    assert found.diagnostics[0].span == Span(NAME, 4, 9, 4, 22)


def test_unknown_keeps_family(tmp_path: Path) -> None:
    found = conditions(tmp_path, "ip ttl 1 ip saddr example.com accept")
    assert found[0] == V4
    assert isinstance(found[1], Unknown)
    assert isinstance(found[2], Unknown)
    assert found[2].text == "ip saddr example.com"


def test_host_name_is_unknown(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("ip saddr example.com accept"))
    assert warnings_of(found) == [
        (4, "host name is resolved when nft loads the file (ip saddr example.com)"),
    ]
    assert found.chains["inet t/c"].rules[0].conditions == (
        V4,
        Unknown("ip saddr example.com", span(4, 9, 28), "ip saddr example.com"),
    )


def test_unknown_service_is_unknown(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("tcp dport seglint-nosuch accept"))
    assert warnings_of(found) == [
        (
            4,
            "service name is not known to seglint (tcp dport seglint-nosuch); "
            "use the port number",
        )
    ]
    rule = found.chains["inet t/c"].rules[0]
    assert rule.conditions[0] == TCP
    assert isinstance(rule.conditions[1], Unknown)


@pytest.mark.parametrize(
    ("statement", "text", "message"),
    [
        ("limit rate 5/second", "limit rate 5/second", "rate limit is not modelled"),
        (
            "limit rate over 10 mbytes/second burst 5 mbytes",
            "limit rate over 10 mbytes/second burst 5 mbytes",
            "rate limit is not modelled",
        ),
        ("limit name lim1", "limit name lim1", "rate limit is not modelled"),
        ("quota over 25 mbytes", "quota over 25 mbytes", "quota is not modelled"),
        (
            "ct count over 10",
            "ct count over 10",
            "connection count limit is not modelled",
        ),
        (
            "meter flood size 128 { ip saddr limit rate over 10/second }",
            "meter flood size 128 { ip saddr limit rate over 10/second }",
            "meter is not modelled",
        ),
    ],
)
def test_stateful_unknown(
    tmp_path: Path, statement: str, text: str, message: str
) -> None:
    found = parse(tmp_path, chain(f"tcp dport 22 {statement} accept"))
    rule = found.chains["inet t/c"].rules[0]
    end = 22 + len(text) - 1
    assert rule.conditions == (
        TCP,
        one(DPORT, 22),
        Unknown(text, span(4, 22, end), f"{text} at rules.nft:4:22"),
    )
    assert warnings_of(found) == [(4, f"{message} ({text})")]


def test_unknown_without_verdict_is_silent(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("tcp flags syn tcp option maxseg size set rt mtu"))
    rule = found.chains["inet t/c"].rules[0]
    assert rule.action == Action("next")
    assert rule.conditions == (
        TCP,
        Unknown("tcp flags syn", span(4, 9, 21), "tcp flags syn"),
    )
    assert warnings_of(found) == []


def test_notrack_warns(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("udp dport 53 notrack"))
    assert found.chains["inet t/c"].rules[0].action == Action("next")
    assert warnings_of(found) == [
        (
            4,
            "notrack is not modelled: later rules see these packets as untracked "
            "(udp dport 53 notrack)",
        )
    ]


def test_nat_statement_in_filter_chain_unknown(tmp_path: Path) -> None:
    rule = only_rule(tmp_path, "tcp dport 80 redirect to :8080")
    assert rule.conditions[-1] == Unknown(
        "redirect to :8080", span(4, 22, 38), "redirect to :8080"
    )


# --- sets and maps --------------------------------------------------------------------


def test_named_set(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path,
        "ip saddr @lan tcp dport @ports accept",
        extra="""
        set lan {
            type ipv4_addr
            flags interval
            elements = { 10.0.0.0/8,
                         192.168.1.0/24, }   # trailing comma
        }
        set ports { type inet_service; flags interval; elements = { ssh, 8000-8080 }; }
        """,
    )
    assert rule.conditions == (
        Match(SRC, addresses(["10.0.0.0/8", "192.168.1.0/24"])),
        TCP,
        Match(DPORT, IntervalSet([(22, 22), (8000, 8080)])),
    )


def test_named_set_negated(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path,
        "ip saddr != @lan drop",
        extra="""
        set lan { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 }; }
        """,
    )
    assert rule.conditions == (Match(SRC, V4_ALL.subtract(addresses(["10.0.0.0/8"]))),)


def test_named_set_of_interfaces(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path,
        "iifname @lan accept",
        extra="""
        set lan { type ifname; flags interval; elements = { "eth0", "wlan*" }; }
        """,
    )
    assert rule.conditions == (InterfaceMatch(IIF, ("eth0", "wlan+")),)


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        (
            "set bad { type ipv4_addr; flags dynamic; }",
            "set elements change at run time",
        ),
        (
            "set bad { type ipv4_addr; flags timeout; }",
            "set elements change at run time",
        ),
        (
            "set bad { type ipv4_addr; timeout 1h; elements = { 192.0.2.1 }; }",
            "set elements change at run time",
        ),
        ("set bad { type ipv4_addr; }", "set has no elements in the file"),
    ],
)
def test_runtime_set_is_unknown(tmp_path: Path, declaration: str, reason: str) -> None:
    found = parse(tmp_path, chain("ip saddr @bad drop", extra=declaration + "\n"))
    rule = found.chains["inet t/c"].rules[0]
    assert rule.conditions == (
        V4,
        Unknown("ip saddr @bad", span(4, 9, 21), "inet t @bad: ip saddr @bad"),
    )
    assert warnings_of(found) == [(4, f"{reason} (ip saddr @bad)")]


def test_element_options_ignored(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path,
        "tcp dport @ports accept",
        extra="""
        set ports {
            type inet_service
            counter
            elements = { 22 counter packets 1 bytes 60, 80 comment "web" }
        }
        """,
    )
    assert rule.conditions == (TCP, Match(DPORT, IntervalSet([(22, 22), (80, 80)])))


def test_set_filled_by_rules_is_unknown(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        chain(
            """
        tcp dport 22 ct state new add @seen { ip saddr }
        ip saddr @seen drop
        """,
            extra="set seen { type ipv4_addr; size 65; elements = { 192.0.2.1 }; }\n",
        ),
    )
    rules = found.chains["inet t/c"].rules
    assert rules[0].action == Action("next")
    assert rules[0].conditions == (TCP, one(DPORT, 22), one(STATE, 0))
    assert isinstance(rules[1].conditions[1], Unknown)
    assert warnings_of(found) == [
        (5, "set elements change at run time (ip saddr @seen)")
    ]


def test_set_update_with_limit_is_unknown(tmp_path: Path) -> None:
    text = "add @flood { ip saddr limit rate over 10/second }"
    found = parse(
        tmp_path,
        chain(
            f"ct state new {text} drop",
            extra="set flood { type ipv4_addr; flags dynamic; }\n",
        ),
    )
    rule = found.chains["inet t/c"].rules[0]
    assert rule.conditions == (
        one(STATE, 0),
        Unknown(text, span(4, 22, 70), f"{text} at rules.nft:4:22"),
    )
    assert warnings_of(found) == [
        (4, f"limit in a set update is not modelled ({text})")
    ]


def test_unknown_set(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("ip saddr @nosuch drop"))
    assert error.message == "set not found (@nosuch) in table inet t"
    assert error.span == span(4, 18, 24)


def test_concatenation_with_set(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path,
        "meta l4proto . th dport @svc accept",
        extra="""
        set svc {
            type inet_proto . inet_service
            flags interval
            elements = {
                tcp . domain,  # DNS over TCP
                udp . 53,
                tcp . 8000-8080
            }
        }
        """,
    )
    assert rule.conditions == (
        PORT_PROTOCOLS,
        TupleMatch(
            (PROTO, DPORT),
            (
                (IntervalSet.single(6), IntervalSet.single(53)),
                (IntervalSet.single(17), IntervalSet.single(53)),
                (IntervalSet.single(6), IntervalSet.single(8000, 8080)),
            ),
        ),
    )


def test_concatenation_anonymous_negated(tmp_path: Path) -> None:
    rule = only_rule(
        tmp_path, "ip saddr . tcp dport != { 10.0.0.1 . 22, 10.0.0.2 . 80 } drop"
    )
    assert rule.conditions == (
        V4,
        TCP,
        TupleMatch(
            (SRC, DPORT),
            (
                (addresses(["10.0.0.1"]), IntervalSet.single(22)),
                (addresses(["10.0.0.2"]), IntervalSet.single(80)),
            ),
            negated=True,
        ),
    )


def test_concatenation_single_element(tmp_path: Path) -> None:
    rule = only_rule(tmp_path, 'iifname . tcp dport { "eth0" . 22 } accept')
    assert rule.conditions == (TCP, InterfaceMatch(IIF, ("eth0",)), one(DPORT, 22))


def test_concatenation_arity(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("ip saddr . tcp dport { 10.0.0.1 } drop"))
    assert error.message == (
        "element does not match the concatenation (10.0.0.1); "
        "it needs 2 parts joined by '.'"
    )


def test_ct_state_vmap(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        "ct state vmap { established : accept, related : accept, invalid : drop }",
    )
    assert [(r.conditions, r.action, r.label) for r in rules] == [
        ((one(STATE, 1),), Action("accept"), "ct state established : accept"),
        ((one(STATE, 2),), Action("accept"), "ct state related : accept"),
        ((one(STATE, 3),), Action("drop"), "ct state invalid : drop"),
    ]
    assert {r.span for r in rules} == {span(4, 9, 80)}
    assert {r.text for r in rules} == {
        "ct state vmap { established : accept, related : accept, invalid : drop }"
    }


def test_meta_protocol_vmap(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        "meta protocol vmap { ip: jump v4, ip6: jump v6 }",
        extra="chain v4 { accept; }\nchain v6 { drop; }\n",
    )
    assert [(r.conditions, r.action) for r in rules] == [
        ((V4,), Action("jump", "inet t/v4")),
        ((V6,), Action("jump", "inet t/v6")),
    ]


def test_concatenated_vmap_multiline(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        """
        iifname != wan ip protocol . th dport vmap {
            udp . 67 : accept,     # dhcp
            tcp . 22 : jump ssh,
            udp . 1000-2000 : drop,
        }
        """,
        extra="chain ssh { accept; }\n",
    )
    prefix = (InterfaceMatch(IIF, ("wan",), True), V4, PORT_PROTOCOLS)
    assert [(r.conditions, r.action) for r in rules] == [
        (prefix + (UDP, one(DPORT, 67)), Action("accept")),
        (prefix + (TCP, one(DPORT, 22)), Action("jump", "inet t/ssh")),
        (prefix + (UDP, one(DPORT, 1000, 2000)), Action("drop")),
    ]
    assert {r.span for r in rules} == {Span(NAME, 4, 9, 8, 9)}
    assert {r.text for r in rules} == {
        "iifname != wan ip protocol . th dport vmap { udp . 67 : accept, "
        "tcp . 22 : jump ssh, udp . 1000-2000 : drop, }"
    }


def test_interface_vmap_with_variables(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        define lan = "eth1"
        define wan = "eth0"
        table inet t {
            chain c {
                type filter hook forward priority 0; policy drop;
                oifname $wan iifname vmap { $lan : accept, "wg*" : goto vpn }
            }
            chain vpn { drop; }
        }
        """,
    )
    rules = found.chains["inet t/c"].rules
    assert [(r.conditions, r.action) for r in rules] == [
        (
            (InterfaceMatch(OIF, ("eth0",)), InterfaceMatch(IIF, ("eth1",))),
            Action("accept"),
        ),
        (
            (InterfaceMatch(OIF, ("eth0",)), InterfaceMatch(IIF, ("wg+",))),
            Action("goto", "inet t/vpn"),
        ),
    ]


def test_named_vmap(tmp_path: Path) -> None:
    rules = rules_of(
        tmp_path,
        "tcp dport vmap @ports",
        extra="""
        map ports {
            type inet_service : verdict
            elements = { 22 : accept, 23 : drop }
        }
        """,
    )
    assert [(r.conditions, r.action) for r in rules] == [
        ((TCP, one(DPORT, 22)), Action("accept")),
        ((TCP, one(DPORT, 23)), Action("drop")),
    ]


def test_dynamic_vmap_may_decide(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        chain(
            "tcp dport vmap @ports",
            extra="""
        map ports { type inet_service : verdict; flags dynamic; }
        """,
        ),
    )
    rules = found.chains["inet t/c"].rules
    assert [r.action for r in rules] == [Action("accept"), Action("drop")]
    assert [r.conditions[:1] for r in rules] == [(TCP,), (TCP,)]
    assert [type(r.conditions[1]) for r in rules] == [Unknown, Unknown]
    assert warnings_of(found) == [
        (4, "set elements change at run time (tcp dport vmap @ports)")
    ]


def test_unknown_key_vmap(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, "meta mark vmap { 1 : accept, 2 : drop }")
    assert [r.action for r in rules] == [Action("accept"), Action("drop")]
    assert [r.conditions for r in rules] == [
        (Unknown("meta mark 1", span(4, 9, 26), "meta mark 1"),),
        (Unknown("meta mark 2", span(4, 9, 38), "meta mark 2"),),
    ]


def test_invalid_map_verdict(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("tcp dport vmap { 22 : allow }"))
    assert error.message == "invalid verdict in a verdict map (allow)"


# --- variables ------------------------------------------------------------------------


def test_define_nested(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        define admin = 192.0.2.10
        define admins = { $admin, 192.0.2.20 }
        define mgmt = {
            $admins,
            198.51.100.0/24,
        }
        table inet t {
            chain c {
                type filter hook input priority 0;
                ip saddr $mgmt tcp dport 22 accept
            }
        }
        """,
    )
    rule = found.chains["inet t/c"].rules[0]
    assert rule.conditions == (
        Match(SRC, addresses(["192.0.2.10", "192.0.2.20", "198.51.100.0/24"])),
        TCP,
        one(DPORT, 22),
    )
    assert rule.text == "ip saddr $mgmt tcp dport 22 accept"


def test_define_redefine_undefine(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        define port = 22
        redefine port = 2222
        table inet t {
            chain c { type filter hook input priority 0; tcp dport $port accept; }
        }
        undefine port
        """,
    )
    assert found.chains["inet t/c"].rules[0].conditions == (TCP, one(DPORT, 2222))


def test_define_scoped_to_block(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        table inet t {
            define inner = 22
            chain c { type filter hook input priority 0; tcp dport $inner accept; }
        }
        table inet t {
            chain d { tcp dport $inner accept; }
        }
        """,
    )
    assert (
        error.message == "undefined variable ($inner); define it before its first use"
    )
    assert error.span == Span(NAME, 6, 25, 6, 30)


# --- commands -------------------------------------------------------------------------


def test_command_lines(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        #!/usr/sbin/nft -f
        add table inet fw
        add chain inet fw input { type filter hook input priority 0 ; policy drop ; }
        add chain inet fw extra
        add rule inet fw input tcp dport 22 accept
        add rule inet fw input jump extra
        insert rule inet fw input ct state established accept
        add rule inet fw extra udp dport 53 accept
        add rule inet fw input index 0 tcp dport 25 accept
        """,
    )
    rules = found.chains["inet fw/input"].rules
    assert [(r.span.line, r.text) for r in rules] == [
        (7, "ct state established accept"),
        (9, "tcp dport 25 accept"),
        (5, "tcp dport 22 accept"),
        (6, "jump extra"),
    ]
    assert rules[0].span == Span(NAME, 7, 1, 7, 53)
    assert found.chains["inet fw/input"].policy.span.line == 3  # type: ignore[union-attr]
    assert found.chains["inet fw/extra"].rules[0].conditions == (UDP, one(DPORT, 53))


def test_rule_command_default_family(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table filter { chain input { type filter hook input priority 0; }; }
        add rule filter input ip daddr 192.0.2.1 accept
        """,
    )
    assert found.chains["ip filter/input"].rules[0].conditions == (
        Match(DST, addresses(["192.0.2.1"])),
    )


def test_commands_mixed_with_blocks(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet fw {
            chain input { type filter hook input priority 0; policy drop; }
        }
        add rule inet fw input tcp dport 25 accept
        table inet fw {
            chain input { tcp dport 587 accept; }
        }
        """,
    )
    rules = found.chains["inet fw/input"].rules
    assert [r.span.line for r in rules] == [4, 6]


def test_flush_ruleset_clears_earlier_tables(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet old { chain c { type filter hook input priority 0; }; }
        flush ruleset
        table inet new { chain c { type filter hook input priority 0; }; }
        """,
    )
    assert [name for name in found.chains if not name.startswith("(")] == ["inet new/c"]
    assert found.hooks["input"] == ("inet new/c",)


def test_flush_ruleset_without_input_chain_accepts(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        flush ruleset
        table inet f { chain fw { type filter hook forward priority 0; policy drop; }; }
        """,
    )
    assert found.hooks["input"] == ("(no input chain)",)
    policy = found.chains["(no input chain)"].policy
    assert policy is not None
    assert (policy.action.kind, policy.span.line) == ("accept", 1)


def test_flush_ruleset_family(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table ip a { chain c { type filter hook input priority 0; }; }
        table inet b { chain c { type filter hook input priority 0; }; }
        flush ruleset ip
        """,
    )
    assert list(found.chains) == ["inet b/c"]


def test_flush_chain_and_table(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook input priority 0; tcp dport 22 accept; }
            chain d { tcp dport 23 accept; }
        }
        flush chain inet t c
        add rule inet t c tcp dport 80 accept
        table inet u { chain e { tcp dport 24 accept; }; }
        flush table inet u
        """,
    )
    assert [r.text for r in found.chains["inet t/c"].rules] == ["tcp dport 80 accept"]
    assert [r.text for r in found.chains["inet t/d"].rules] == ["tcp dport 23 accept"]
    assert found.chains["inet u/e"].rules == ()


def test_delete_table_and_chain(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            chain c { type filter hook input priority 0; }
            chain d { accept; }
        }
        table ip gone { chain c { type filter hook input priority 0; }; }
        delete chain inet t d
        delete table ip gone
        """,
    )
    assert list(found.chains) == ["inet t/c"]


def test_delete_then_recreate_table(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t
        delete table inet t
        table inet t {
            chain c { type filter hook input priority 0; policy drop; }
        }
        """,
    )
    assert found.hooks == {"input": ("inet t/c",)}
    assert found.chains["inet t/c"].rules == ()


def test_crlf_and_line_continuation(tmp_path: Path) -> None:
    location = tmp_path / NAME
    location.write_bytes(
        b"#!/usr/sbin/nft -f\r\n"
        b"table inet t {\r\n"
        b"  chain c {\r\n"
        b"    type filter hook input priority 0; \\\r\n"
        b"      policy drop;\r\n"
        b"    tcp dport { 22,\r\n"
        b"      80 } accept\r\n"
        b"  }\r\n"
        b"}\r\n"
    )
    found = parse_file(tmp_path, location).rulesets[0]
    chain_found = found.chains["inet t/c"]
    assert chain_found.policy is not None
    assert chain_found.policy.span.line == 5
    assert chain_found.rules[0].span.line == 6
    assert chain_found.rules[0].conditions == (
        TCP,
        Match(DPORT, IntervalSet([(22, 22), (80, 80)])),
    )


def test_rename_chain(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t { chain c { type filter hook input priority 0; }; }
        rename chain inet t c input
        """,
    )
    assert found.hooks == {"input": ("inet t/input",)}


def test_delete_rule_by_handle_warns(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t { chain c { type filter hook input priority 0; accept; }; }
        delete rule inet t c handle 4
        """,
    )
    assert len(found.chains["inet t/c"].rules) == 1
    assert warnings_of(found) == [
        (
            2,
            "delete rule by handle is not applied: handles are not in the file "
            "(delete rule)",
        ),
    ]


def test_add_rule_by_handle_warns(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t { chain c { type filter hook input priority 0; accept; }; }
        add rule inet t c position 4 drop
        """,
    )
    assert [r.action for r in found.chains["inet t/c"].rules] == [
        Action("accept"),
        Action("drop"),
    ]
    assert warnings_of(found) == [
        (
            2,
            "rule position is not in the file, so the rule is placed at the end of the "
            "chain (position 4)",
        )
    ]


def test_elements_commands(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        table inet t {
            set lan { type ipv4_addr; flags interval; }
            chain c { type filter hook input priority 0; ip saddr @lan accept; }
        }
        add element inet t lan { 10.0.0.0/8, 192.0.2.0/24 }
        delete element inet t lan { 192.0.2.0/24 }
        """,
    )
    assert found.chains["inet t/c"].rules[0].conditions == (
        Match(SRC, addresses(["10.0.0.0/8"])),
    )


def test_add_set_command(tmp_path: Path) -> None:
    found = parse(
        tmp_path,
        """
        add table inet t
        add set inet t ports { type inet_service; flags interval; }
        add element inet t ports { 8000-8100 }
        add chain inet t c { type filter hook input priority 0; }
        add rule inet t c tcp dport @ports accept
        """,
    )
    assert found.chains["inet t/c"].rules[0].conditions == (TCP, one(DPORT, 8000, 8100))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("add rule inet t c accept\n", "table not found (inet t); add the table first"),
        ("add table inet t\nadd rule inet t c accept\n", "chain not found (inet t c)"),
        ("add table inet t\nadd element inet t s { 1 }\n", "set not found (inet t s)"),
    ],
)
def test_command_on_missing_object(tmp_path: Path, text: str, message: str) -> None:
    error = parse_error(tmp_path, text)
    assert error.message == message


# --- includes -------------------------------------------------------------------------


def test_include_relative(tmp_path: Path) -> None:
    write(tmp_path, "define ssh_port = 2222\n", "conf/defs.nft")
    write(
        tmp_path,
        """
        table inet t {
            chain extra { tcp dport $ssh_port accept; }
        }
        """,
        "conf/rules/extra.nft",
    )
    found = parse(
        tmp_path,
        """
        include "defs.nft"
        include "rules/extra.nft"
        table inet t { chain c { type filter hook input priority 0; jump extra; }; }
        """,
        "conf/main.nft",
    )
    extra = found.chains["inet t/extra"].rules[0]
    assert extra.conditions == (TCP, one(DPORT, 2222))
    assert extra.span.path == "conf/rules/extra.nft"
    assert extra.span.line == 2


def test_include_glob_in_order(tmp_path: Path) -> None:
    write(tmp_path, "add rule inet t c tcp dport 2 accept\n", "d/b.nft")
    write(tmp_path, "add rule inet t c tcp dport 1 accept\n", "d/a.nft")
    write(tmp_path, "add rule inet t c tcp dport 3 accept\n", "d/.hidden.nft")
    found = parse(
        tmp_path,
        """
        table inet t { chain c { type filter hook input priority 0; }; }
        include "d/*.nft"
        """,
    )
    assert [r.span.path for r in found.chains["inet t/c"].rules] == [
        "d/a.nft",
        "d/b.nft",
    ]


def test_include_glob_without_match_is_note(tmp_path: Path) -> None:
    found = parse(tmp_path, 'include "none/*.nft"\n' + chain("accept"))
    assert notes_of(found) == [(1, "include matches no file (none/*.nft)")]


def test_include_inside_chain_block(tmp_path: Path) -> None:
    write(tmp_path, "tcp dport 22 accept\nudp dport 53 accept\n", "body.nft")
    found = parse(
        tmp_path,
        """
        table inet t {
            chain c {
                type filter hook input priority 0; policy drop;
                include "body.nft"
            }
        }
        """,
    )
    rules = found.chains["inet t/c"].rules
    assert [(r.span.path, r.span.line) for r in rules] == [
        ("body.nft", 1),
        ("body.nft", 2),
    ]


def test_include_inside_table_block(tmp_path: Path) -> None:
    write(tmp_path, "set lan { type ipv4_addr; elements = { 10.0.0.1 }; }\n", "s.nft")
    found = parse(
        tmp_path,
        """
        table inet t {
            include "s.nft"
            chain c { type filter hook input priority 0; ip saddr @lan accept; }
        }
        """,
    )
    assert found.chains["inet t/c"].rules[0].conditions == (
        Match(SRC, addresses(["10.0.0.1"])),
    )


def test_include_outside_tree(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        flush ruleset
        include "/etc/nftables.d/defs.nft"
        """,
    )
    assert error.message == (
        "include outside the checked tree is not read (/etc/nftables.d/defs.nft); "
        "check a folder that contains the included file"
    )
    assert error.span == Span(NAME, 2, 1, 2, 34)


def test_include_parent_folder_outside_tree(tmp_path: Path) -> None:
    (tmp_path / "outside.nft").write_text("define x = 1\n", encoding="utf-8")
    tree = tmp_path / "tree"
    location = write(tree, 'include "../outside.nft"\n')
    with pytest.raises(ParseError) as caught:
        parse_file(tree, location)
    assert caught.value.span.path == NAME
    assert caught.value.span.line == 1
    assert caught.value.message.startswith(
        "include outside the checked tree is not read"
    )


def test_include_missing_file(tmp_path: Path) -> None:
    error = parse_error(tmp_path, 'flush ruleset\ninclude "defs.nft"\n')
    assert error.message == "include file not found (defs.nft)"
    assert error.span.line == 2


def test_include_loop(tmp_path: Path) -> None:
    write(tmp_path, 'include "a.nft"\n', "b.nft")
    error = parse_error(tmp_path, 'include "b.nft"\n', "a.nft")
    assert error.message == "include loop (a.nft is already being read)"
    assert error.span.path == "b.nft"


def test_include_parse_error_in_included_file(tmp_path: Path) -> None:
    write(tmp_path, "table inet t {\n  chain c {\n", "broken.nft")
    error = parse_error(tmp_path, 'include "broken.nft"\n')
    assert error.span.path == "broken.nft"
    assert error.message.startswith("unexpected end of file")


# --- list ruleset output --------------------------------------------------------------


# nft list ruleset indents with tabs.
LIST_RULESET = """
table inet firewalld { # handle 12
    ct helper helper-tftp-udp {
        type "tftp" protocol udp
        l3proto inet
    }

    flowtable ft {
        hook ingress priority filter + 10
        devices = { eth0, eth1 }
    }

    set blocked {
        type ipv4_addr
        flags interval
        auto-merge
        elements = { 192.0.2.0/24, 198.51.100.7,
                 203.0.113.1-203.0.113.9 }
    }

    counter dropped {
        packets 0 bytes 0
    }

    chain filter_INPUT { # handle 4
        type filter hook input priority filter + 10; policy accept;
        ct state { established, related } accept # handle 95
        iifname "lo" accept
        ip saddr @blocked counter name "dropped" drop
        jump filter_IN_public
        reject with icmpx admin-prohibited
    }

    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy accept;
        flow add @ft
        reject with icmpx type admin-prohibited
    }

    chain filter_IN_public {
        meta l4proto { icmp, ipv6-icmp } accept
        tcp dport 22 ct state { new, untracked } accept
        meta l4proto { tcp, udp } th dport 53 accept
        udp dport 69 ct helper set "helper-tftp-udp"
    }
}
""".replace("    ", "\t")


def test_list_ruleset_output(tmp_path: Path) -> None:
    found = parse(tmp_path, LIST_RULESET)
    assert found.hooks == {
        "input": ("inet firewalld/filter_INPUT",),
        "forward": ("inet firewalld/filter_FORWARD",),
    }
    assert found.diagnostics == ()
    inputs = found.chains["inet firewalld/filter_INPUT"].rules
    assert [(r.span.line, r.action.kind) for r in inputs] == [
        (26, "accept"),
        (27, "accept"),
        (28, "drop"),
        (29, "jump"),
        (30, "reject"),
    ]
    assert inputs[2].conditions == (
        Match(
            SRC,
            IntervalSet(
                [
                    (addresses(["192.0.2.0"]).min(), addresses(["192.0.2.255"]).min()),
                    (
                        addresses(["198.51.100.7"]).min(),
                        addresses(["198.51.100.7"]).min(),
                    ),
                    (
                        addresses(["203.0.113.1"]).min(),
                        addresses(["203.0.113.9"]).min(),
                    ),
                ]
            ),
        ),
    )
    public = found.chains["inet firewalld/filter_IN_public"].rules
    assert public[1].conditions == (
        TCP,
        one(DPORT, 22),
        Match(STATE, IntervalSet([(0, 0), (4, 4)])),
    )
    assert public[3].action == Action("next")


# --- parse errors ---------------------------------------------------------------------


def test_error_expected_tokens(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        """
        table inet t {
            chain c {
                type filter input priority 0;
            }
        }
        """,
    )
    assert error.message == "unexpected 'input' (expected 'hook')"
    assert error.span == Span(NAME, 3, 21, 3, 25)


def test_error_top_level_word(tmp_path: Path) -> None:
    error = parse_error(tmp_path, "flush ruleset\nallow tcp 22\n")
    assert error.span == Span(NAME, 2, 1, 2, 5)
    assert error.message.startswith("unexpected 'allow' (expected ")
    assert "'table'" in error.message
    assert "'add'" in error.message


def test_error_unclosed_block(tmp_path: Path) -> None:
    error = parse_error(tmp_path, "table inet t {\n    chain c {\n        accept\n")
    assert error.message.startswith("unexpected end of file (expected ")
    assert "'}'" in error.message
    assert error.span.line == 3


def test_error_bad_character(tmp_path: Path) -> None:
    error = parse_error(tmp_path, chain("tcp dport 22 ~ accept"))
    assert error.message.startswith("unexpected character '~'")
    assert (error.span.line, error.span.column) == (4, 22)


def test_error_missing_separator(tmp_path: Path) -> None:
    error = parse_error(
        tmp_path,
        "table inet t {\n  chain c { type filter hook input"
        " priority 0 policy drop; }\n}\n",
    )
    assert error.message.startswith("unexpected 'policy'")
    assert error.span.line == 2


# Words and symbols of rules, valid and not, for the robustness property.
FUZZ_WORDS = (
    "ip",
    "ip6",
    "saddr",
    "daddr",
    "tcp",
    "udp",
    "th",
    "dport",
    "meta",
    "l4proto",
    "protocol",
    "ct",
    "state",
    "status",
    "count",
    "over",
    "established",
    "accept",
    "drop",
    "reject",
    "with",
    "icmp",
    "type",
    "code",
    "jump",
    "goto",
    "d",
    "return",
    "queue",
    "vmap",
    "map",
    "{",
    "}",
    ",",
    ":",
    ".",
    "-",
    "/",
    "!=",
    "<",
    "!",
    "&",
    "(",
    ")",
    "@s",
    "@m",
    "$v",
    "10.0.0.0/8",
    "::1",
    "22",
    "80-90",
    "ssh",
    "iifname",
    "lo",
    '"eth*"',
    "limit",
    "rate",
    "5/second",
    "counter",
    "log",
    "comment",
    '"x"',
    "set",
    "add",
    "update",
    "notrack",
    "fib",
    "mark",
    "flags",
    "syn",
    "meter",
    "quota",
    "elements",
    "timeout",
    "tcp . 22",
    "\n",
    ";",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FUZZ_WORDS), min_size=1, max_size=12))
def test_any_rule_parses_or_raises_parse_error(words: list[str]) -> None:
    text = (
        "define v = { 192.0.2.1, 22 }\n"
        "table inet t {\n"
        "    set s { type ipv4_addr; elements = { 10.0.0.1 }; }\n"
        "    map m { type inet_service : verdict; elements = { 22 : accept }; }\n"
        "    chain d { accept; }\n"
        "    chain c {\n"
        "        type filter hook input priority 0;\n"
        f"        {' '.join(words)}\n"
        "    }\n"
        "}\n"
    )
    source = SourceFile(NAME, Path(NAME), text)
    try:
        NftablesFormat().parse(source, FileAccess(Path.cwd()))
    except ParseError as error:
        assert error.span.line >= 1


# --- corpus and cases -----------------------------------------------------------------


def corpus_file(shared: Path, name: str) -> tuple[Path, Path]:
    location = shared / "corpus" / "nftables" / name
    return location.parent, location


def test_corpus_debian_router(shared: Path) -> None:
    root, location = corpus_file(shared, "debian-router-vlans.nftables.conf")
    found = parse_file(root, location).rulesets[0]
    # The file flushes the ruleset and has no output chain: output accepts all.
    assert found.hooks == {
        "input": ("inet filter/input",),
        "forward": ("inet filter/forward",),
        "output": ("(no output chain)",),
    }
    assert found.kind == "either"
    assert warnings_of(found) == [(67, "match is not modelled (ct status dnat)")]
    assert [line for line, _ in notes_of(found)] == [200, 214]
    forward = found.chains["inet filter/forward"].rules
    assert [r.span.line for r in forward] == [150] + [154] * 6 + [165] * 6
    dns = found.chains["inet filter/allow_dns"].rules[0]
    assert dns.conditions[2] == TupleMatch(
        (PROTO, DPORT),
        (
            (IntervalSet.single(6), IntervalSet.single(53)),
            (IntervalSet.single(17), IntervalSet.single(53)),
        ),
    )


def test_corpus_mailweb(shared: Path) -> None:
    root, location = corpus_file(shared, "mailweb-ip-ip6-tables.nftables.conf")
    found = parse_file(root, location).rulesets[0]
    assert found.hooks["input"] == ("ip filter/INPUT", "ip6 filter/INPUT")
    assert found.chains["ip filter/INPUT"].policy.span.line == 6  # type: ignore[union-attr]
    assert found.diagnostics == ()
    smtp = found.chains["ip6 filter/INPUT"].rules[8]
    assert (smtp.span.line, smtp.conditions) == (53, (TCP, one(DPORT, 25)))


def test_corpus_pherms(shared: Path) -> None:
    root, location = corpus_file(shared, "pherms-base-smtp-smb.nft")
    found = parse_file(root, location).rulesets[0]
    assert warnings_of(found) == [
        (25, "rate limit is not modelled (limit rate 5/second)"),
        (37, "rate limit is not modelled (limit rate 5/second)"),
    ]
    inbound = found.chains["inet firewall/inbound"].rules
    assert [r.span.line for r in inbound] == [
        47,
        47,
        47,
        50,
        53,
        53,
        56,
        57,
        76,
        77,
        81,
        82,
    ]
    assert inbound[-2].conditions == (
        Match(SRC, addresses(["192.168.2.0/24"])),
        TCP,
        Match(DPORT, IntervalSet([(137, 139), (445, 445)])),
    )


def test_corpus_http_gateway_include(shared: Path) -> None:
    root, location = corpus_file(shared, "http-gateway-crowdsec.nftables.conf")
    with pytest.raises(ParseError) as caught:
        parse_file(root, location)
    assert caught.value.span.line == 7
    assert caught.value.message == (
        "include outside the checked tree is not read (/mnt/nftables/defs.ruleset); "
        "check a folder that contains the included file"
    )


def test_corpus_http_gateway_with_defs(shared: Path, tmp_path: Path) -> None:
    _, location = corpus_file(shared, "http-gateway-crowdsec.nftables.conf")
    text = location.read_text(encoding="utf-8").replace(
        '"/mnt/nftables/defs.ruleset"', '"defs.ruleset"'
    )
    (tmp_path / "defs.ruleset").write_text(
        "define monitoring_saddr = 2001:db8::9\n", encoding="utf-8"
    )
    copy = tmp_path / "gateway.nft"
    copy.write_text(text, encoding="utf-8")
    found = parse_file(tmp_path, copy).rulesets[0]
    assert [line for line, _ in warnings_of(found)] == [48, 49, 50, 89, 90, 91]
    assert warnings_of(found)[2] == (
        50,
        "set elements change at run time (ip saddr @crowdsec)",
    )
    monitoring = found.chains["ip6 filter/input"].rules[-1]
    assert monitoring.span.line == 100
    assert monitoring.conditions[0] == Match(SRC, addresses(["::/128", "2001:db8::9"]))


def test_case_policy_accept(shared: Path) -> None:
    location = shared / "cases" / "c10-policy-accept-exposes" / "open.nft"
    found = parse_file(location.parent, location).rulesets[0]
    policy = found.chains["inet filter/input"].policy
    assert policy is not None
    assert (policy.span.line, policy.action, policy.implicit) == (
        3,
        Action("accept"),
        False,
    )
    assert found.diagnostics == ()


# --- end to end -----------------------------------------------------------------------


def check_findings(paths: list[Path]) -> list[tuple[str, str, int]]:
    from seglint.api import check

    result = check(paths)
    assert result.diagnostics == []
    return sorted(
        (f.rule_id, Path(f.span.path).name, f.span.line)
        for f in result.findings
        if f.level in ("error", "warning")
    )


def test_e2e_case_policy_accept(shared: Path) -> None:
    found = check_findings([shared / "cases" / "c10-policy-accept-exposes"])
    assert found == [(f"SEG20{n}", "open.nft", 3) for n in range(1, 8)]


def test_e2e_netbios_exposed(tmp_path: Path) -> None:
    path = write(tmp_path, chain("tcp dport { 135-139, 445 } accept"), "host.nft")
    assert check_findings([path]) == [("SEG201", "host.nft", 4)]


def test_e2e_trusted_source_clean(tmp_path: Path) -> None:
    path = write(
        tmp_path, chain("ip saddr 10.0.0.0/8 tcp dport 139 accept"), "host.nft"
    )
    assert check_findings([path]) == []


def test_e2e_ip_table_leaves_ipv6_open(tmp_path: Path) -> None:
    text = chain("tcp dport 1433 drop", family="ip").replace(
        "policy drop", "policy accept"
    )
    path = write(tmp_path, text, "host.nft")
    # IPv6 is not decided by a file with only an ip table.
    found = [f for f in check_findings([path]) if f[0] == "SEG204"]
    assert found == []


def test_e2e_second_base_chain_drops(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        table inet first {
            chain in { type filter hook input priority 0; policy accept; }
        }
        table inet second {
            chain in {
                type filter hook input priority 10; policy drop;
                tcp dport 443 accept
            }
        }
        """,
        "host.nft",
    )
    assert check_findings([path]) == [("SEG206", "host.nft", 7)]


def test_e2e_unknown_match_may(tmp_path: Path) -> None:
    path = write(tmp_path, chain("tcp dport 19001 ct status dnat accept"), "host.nft")
    assert check_findings([path]) == [
        ("SEG203", "host.nft", 4),
        ("SEG902", "host.nft", 4),
    ]


def test_e2e_parse_error(tmp_path: Path) -> None:
    from seglint.api import check

    path = write(tmp_path, chain("ip saddr 10.0.0.300 accept"), "host.nft")
    result = check([path])
    assert [
        (d.rule_id, Path(d.span.path).name, d.span.line, d.span.column)
        for d in result.diagnostics
    ] == [("SEG901", "host.nft", 4, 18)]
    assert result.exit_code == 2


def test_e2e_include_outside_tree(tmp_path: Path) -> None:
    from seglint.api import check

    path = write(
        tmp_path, 'include "/etc/nftables/defs.nft"\n' + chain("accept"), "host.nft"
    )
    result = check([path])
    assert [
        (d.rule_id, Path(d.span.path).name, d.span.line) for d in result.diagnostics
    ] == [("SEG901", "host.nft", 1)]


def test_diagnostic_type(tmp_path: Path) -> None:
    found = parse(tmp_path, chain("ct status dnat accept"))
    assert found.diagnostics == (
        Diagnostic("SEG902", "match is not modelled (ct status dnat)", span(4, 9, 22)),
    )


def test_e2e_finding_in_included_file(tmp_path: Path) -> None:
    write(tmp_path, "tcp dport 1433 accept\n", "parts/body.inc")
    path = write(
        tmp_path,
        """
        table inet t {
            chain c {
                type filter hook input priority 0; policy drop;
                include "parts/body.inc"
            }
        }
        """,
        "host.nft",
    )
    assert check_findings([path]) == [("SEG204", "body.inc", 1)]
