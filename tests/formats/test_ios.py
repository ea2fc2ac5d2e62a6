"""IOS format: numbered and named lists, wildcards, groups, chains, corpus, e2e."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.formats.base import FileAccess, SourceFile
from seglint.formats.ios import IosFormat, seglint_formats
from seglint.ir import (
    Action,
    Diagnostic,
    InterfaceMatch,
    Match,
    ParseError,
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
    PROTO,
    SPORT,
    SRC,
    STATE,
    STATE_INDEX,
    IntervalSet,
    addresses,
)

PATH = "routers/edge.cfg"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
ACCEPT = Action("accept", stateful=False)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))
ESTABLISHED = Match(STATE, IntervalSet.single(STATE_INDEX["established"]))

# Lines 1-9; the first line after it is line 10.
INTERFACES = """\
hostname edge
!
interface GigabitEthernet0/0
 ip address 203.0.113.1 255.255.255.0
 ip access-group 101 in
!
interface GigabitEthernet0/1
 ip address 10.0.0.1 255.255.255.0
!
"""
FIRST = 10


def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (only in the development workspace)")
    return SHARED


def parse_all(text: str, path: str = PATH) -> tuple[Ruleset, ...]:
    source = SourceFile(path, Path(path), text)
    return IosFormat().parse(source, FileAccess(Path.cwd())).rulesets


def parse(text: str, path: str = PATH) -> Ruleset:
    rulesets = parse_all(text, path)
    assert len(rulesets) == 1
    return rulesets[0]


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def entries(lines: str, chain: str = "access-list 101") -> tuple[Rule, ...]:
    rules = parse(INTERFACES + lines).chains[chain].rules
    assert rules[-1].implicit
    return rules[:-1]


def only(line: str, before: str = "") -> Rule:
    rules = entries(before + line + "\n")
    assert len(rules) == 1
    return rules[0]


def line_span(number: int, text: str) -> Span:
    start = len(text) - len(text.lstrip()) + 1
    return Span(PATH, number, start, number, len(text.rstrip()))


def ports(lo: int, hi: int | None = None) -> IntervalSet:
    return IntervalSet.single(lo, hi)


def hosts(*items: str) -> IntervalSet:
    return addresses(items)


def named(lines: str, name: str = "WEB", kind: str = "extended") -> str:
    """Return an interface bound to a named list, and the list with ``lines``."""
    return (
        f"interface Gi0/2\n ip access-group {name} in\n"
        f"ip access-list {kind} {name}\n" + lines
    )


# --- rule set shape -------------------------------------------------------------------


def test_ruleset_shape() -> None:
    found = parse(INTERFACES + "access-list 101 permit ip any any\n")
    assert (found.format, found.kind, found.name) == ("ios", "network", "")
    assert found.families == frozenset({4})
    assert found.hooks == {"forward": ("ip access-group in", "ip access-group out")}
    assert found.interfaces == {
        "GigabitEthernet0/0": hosts("203.0.113.0/24"),
        "GigabitEthernet0/1": hosts("10.0.0.0/24"),
    }


def test_registered() -> None:
    assert [fmt.id for fmt in seglint_formats()] == ["ios"]


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ("version 15.2\nhostname r1\n", 2),
        ("interface Gi0/0\n ip access-group 101 in\n", 2),
        ("access-list 101 permit tcp any any eq 80\n", 2),
        ("ip access-list extended WEB\n permit tcp any any eq 80\n", 2),
        (": Saved\nASA Version 9.8(4)\naccess-list 101 permit ip any any\n", 0),
        ("*filter\n:INPUT DROP [0:0]\n", 0),
    ],
)
def test_detect(head: str, score: int) -> None:
    assert IosFormat().detect("r1.cfg", head) == score


# --- numbered lists -------------------------------------------------------------------


def test_extended_entry_exact_rule() -> None:
    text = "access-list 101 permit tcp any host 10.0.0.25 eq smtp"
    assert only(text) == Rule(
        line_span(FIRST, text),
        (Match(DST, hosts("10.0.0.25")), TCP, Match(DPORT, ports(25))),
        ACCEPT,
        text,
    )


def test_implicit_deny() -> None:
    rules = (
        parse(
            INTERFACES + "access-list 101 permit tcp any any eq 80\n"
            "access-list 101 remark last\n"
        )
        .chains["access-list 101"]
        .rules
    )
    label = "implicit deny at the end of access-list 101"
    assert rules[-1] == Rule(
        line_span(FIRST + 1, "access-list 101 remark last"),
        (),
        DROP,
        label,
        implicit=True,
        label=label,
    )


@pytest.mark.parametrize(
    ("operand", "values"),
    [
        ("10.1.2.0 0.0.0.255", hosts("10.1.2.0/24")),
        ("192.168.4.1 0.0.0.255", hosts("192.168.4.0/24")),  # host bits ignored
        ("10.0.0.0 0.255.255.255", hosts("10.0.0.0/8")),
        ("10.1.2.3 0.0.0.0", hosts("10.1.2.3")),
        ("host 10.1.2.3", hosts("10.1.2.3")),
        (
            "10.1.0.5 0.0.255.0",
            IntervalSet(
                (a, a)
                for a in range(
                    addresses(["10.1.0.5"]).min(),
                    addresses(["10.1.255.5"]).min() + 1,
                    256,
                )
            ),
        ),
        (
            "10.1.2.0 0.0.1.254",
            IntervalSet(
                [(addresses(["10.1.2.0"]).min(), addresses(["10.1.3.255"]).min())]
            ).subtract(
                IntervalSet(
                    (a, a)
                    for a in range(
                        addresses(["10.1.2.1"]).min(),
                        addresses(["10.1.3.255"]).min() + 1,
                        2,
                    )
                )
            ),
        ),
    ],
)
def test_wildcard_masks(operand: str, values: IntervalSet) -> None:
    assert only(f"access-list 101 permit ip {operand} any").conditions == (
        Match(SRC, values),
    )


def test_non_contiguous_wildcard_too_large() -> None:
    text = "access-list 101 permit ip 10.0.0.1 0.255.255.0 any"
    found = parse(INTERFACES + text + "\n")
    rule = found.chains["access-list 101"].rules[0]
    span = Span(PATH, FIRST, 27, FIRST, 46)
    assert rule.conditions == (
        Unknown(
            "non-contiguous wildcard (10.0.0.1 0.255.255.0)",
            span,
            "mask:10.0.0.1 0.255.255.0",
        ),
        Match(SRC, hosts("10.0.0.0/8")),
    )
    assert [(d.rule_id, d.span.line) for d in found.diagnostics] == [("SEG902", FIRST)]


@pytest.mark.parametrize(
    ("entry", "conditions"),
    [
        ("permit ip any any", ()),
        ("permit udp any any eq domain", (UDP, Match(DPORT, ports(53)))),
        (
            "permit tcp any any range 135 netbios-ss",
            (TCP, Match(DPORT, ports(135, 139))),
        ),
        (
            "permit tcp any eq www any gt 1023",
            (TCP, Match(SPORT, ports(80)), Match(DPORT, ports(1024, 65535))),
        ),
        (
            "permit tcp any any neq 23",
            (TCP, Match(DPORT, IntervalSet([(0, 22), (24, 65535)]))),
        ),
        ("permit tcp any any lt 1024", (TCP, Match(DPORT, ports(0, 1023)))),
        ("permit esp any any", (Match(PROTO, IntervalSet.single(50)),)),
        ("permit 47 any any", (Match(PROTO, IntervalSet.single(47)),)),
        (
            "permit icmp any any echo-reply",
            (Match(PROTO, IntervalSet.single(1)), Match(ICMP, ports(0, 255))),
        ),
        (
            "permit icmp any any port-unreachable",
            (Match(PROTO, IntervalSet.single(1)), Match(ICMP, ports(3 * 256 + 3))),
        ),
        (
            "permit icmp any any 3 4",
            (Match(PROTO, IntervalSet.single(1)), Match(ICMP, ports(3 * 256 + 4))),
        ),
    ],
)
def test_extended_entries(entry: str, conditions: tuple[Match, ...]) -> None:
    assert only(f"access-list 101 {entry}").conditions == conditions


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("www", 80),
        ("smtp", 25),
        ("domain", 53),
        ("pop3", 110),
        ("telnet", 23),
        ("ftp", 21),
        ("ftp-data", 20),
        ("bootps", 67),
        ("netbios-ns", 137),
        ("netbios-dgm", 138),
        ("netbios-ss", 139),
        ("snmp", 161),
        ("syslog", 514),
        ("ntp", 123),
        ("msrpc", 135),
    ],
)
def test_ios_port_names(name: str, number: int) -> None:
    rule = only(f"access-list 101 permit tcp any any eq {name}")
    assert rule.conditions == (TCP, Match(DPORT, ports(number)))


def test_established() -> None:
    text = "access-list 101 permit tcp any 10.0.0.0 0.0.0.255 established"
    assert only(text).conditions == (Match(DST, hosts("10.0.0.0/24")), TCP, ESTABLISHED)


def test_established_needs_tcp() -> None:
    error = parse_error(INTERFACES + "access-list 101 permit udp any any established\n")
    assert (error.span.line, error.span.column) == (FIRST, 36)
    assert error.message == "established needs protocol tcp"


def test_log_ignored() -> None:
    assert only("access-list 101 deny tcp any any eq 23 log").conditions == (
        TCP,
        Match(DPORT, ports(23)),
    )


@pytest.mark.parametrize(
    ("option", "column"),
    [
        ("time-range WORK", 36),
        ("fragments", 36),
        ("precedence critical", 36),
        ("match-all +ack +syn", 36),
        ("ttl gt 5", 36),
        ("dscp ef", 36),
    ],
)
def test_unmodelled_options(option: str, column: int) -> None:
    found = parse(INTERFACES + f"access-list 101 permit tcp any any {option}\n")
    rule = found.chains["access-list 101"].rules[0]
    span = Span(PATH, FIRST, column, FIRST, column + len(option) - 1)
    assert rule.conditions == (
        TCP,
        Unknown(option, span, f"{option.split()[0]}:{option}"),
    )
    assert [(d.rule_id, d.level, d.span) for d in found.diagnostics] == [
        ("SEG902", "warning", span)
    ]


def test_standard_numbered_list() -> None:
    found = parse(
        INTERFACES.replace("101 in", "10 in") + "access-list 10 permit 10.1.0.0 "
        "0.0.255.255\naccess-list 10 deny any\naccess-list 10 permit host 10.2.0.1\n"
        "access-list 10 permit 10.3.0.1\n"
    )
    rules = found.chains["access-list 10"].rules
    assert [rule.conditions for rule in rules[:-1]] == [
        (Match(SRC, hosts("10.1.0.0/16")),),
        (),
        (Match(SRC, hosts("10.2.0.1")),),
        (Match(SRC, hosts("10.3.0.1")),),
    ]
    assert [rule.action for rule in rules[:-1]] == [ACCEPT, DROP, ACCEPT, ACCEPT]


def test_no_access_list_removes_list() -> None:
    rules = entries(
        "access-list 101 permit tcp any any eq 23\nno access-list 101\n"
        "access-list 101 permit tcp any any eq 22\n"
    )
    assert [rule.span.line for rule in rules] == [FIRST + 2]


def test_entry_without_protocol_is_warning() -> None:
    # IOS rejects "deny any" in an extended list. seglint keeps the line as
    # an entry that may or may not match and reads the rest of the list.
    text = "access-list 101 deny any"
    found = parse(
        INTERFACES + "access-list 101 permit tcp any any eq 25\n" + text + "\n"
    )
    rule = found.chains["access-list 101"].rules[1]
    span = line_span(FIRST + 1, text)
    assert rule == Rule(
        span,
        (Unknown("entry without a protocol", span, f"noproto:{text}"),),
        DROP,
        text,
    )
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "extended access-list entry without a protocol (access-list 101 deny "
            "any); IOS rejects it, so seglint reads it as an entry that may or may "
            "not match",
            span,
        ),
    )


# --- named lists ----------------------------------------------------------------------


def test_named_extended_list() -> None:
    text = named(" permit tcp any any eq 443\n deny ip any any\n")
    rules = parse(text).chains["ip access-list extended WEB"].rules
    assert rules[0] == Rule(
        line_span(4, " permit tcp any any eq 443"),
        (TCP, Match(DPORT, ports(443))),
        ACCEPT,
        "ip access-list extended WEB: permit tcp any any eq 443",
    )
    assert rules[-1].label == "implicit deny at the end of ip access-list extended WEB"
    assert rules[-1].span.line == 5


def test_sequence_numbers_order_entries() -> None:
    text = named(
        " 20 permit tcp any any eq 80\n 10 deny tcp any any eq 80\n"
        " permit tcp any any eq 22\n"
    )
    rules = parse(text).chains["ip access-list extended WEB"].rules
    assert [(rule.span.line, rule.action.kind) for rule in rules[:-1]] == [
        (5, "drop"),
        (4, "accept"),
        (6, "accept"),
    ]


def test_no_sequence_removes_entry() -> None:
    text = named(" 10 permit tcp any any eq 80\n 20 permit tcp any any eq 22\n no 10\n")
    rules = parse(text).chains["ip access-list extended WEB"].rules
    assert [rule.span.line for rule in rules[:-1]] == [5]


def test_no_ip_access_list_removes_list() -> None:
    text = named(" permit tcp any any eq 80\n") + (
        "no ip access-list extended WEB\nip access-list extended WEB\n"
        " permit tcp any any eq 22\n"
    )
    rules = parse(text).chains["ip access-list extended WEB"].rules
    assert [rule.span.line for rule in rules[:-1]] == [7]


def test_reentered_list_appends() -> None:
    text = named(" permit tcp any any eq 80\n") + (
        "ip access-list extended WEB\n permit tcp any any eq 22\n"
    )
    rules = parse(text).chains["ip access-list extended WEB"].rules
    assert [rule.span.line for rule in rules[:-1]] == [4, 6]


def test_named_standard_list() -> None:
    text = named(" permit 10.0.0.0 0.0.0.255\n", "MGMT", "standard")
    rules = parse(text).chains["ip access-list standard MGMT"].rules
    assert rules[0].conditions == (Match(SRC, hosts("10.0.0.0/24")),)


def test_unknown_list_sub_command_is_warning() -> None:
    found = parse(named(" permit tcp any any eq 80\n bogus thing\n"))
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "unknown sub-command in ip access-list extended WEB ignored (bogus)",
            line_span(5, " bogus thing"),
        ),
    )


def test_reflect_and_evaluate() -> None:
    found = parse(named(" permit tcp any any reflect MIRROR\n evaluate MIRROR\n"))
    rules = found.chains["ip access-list extended WEB"].rules
    assert rules[0].conditions == (TCP,)
    assert isinstance(rules[1].conditions[0], Unknown)
    assert rules[1].action == ACCEPT
    assert [(d.level, d.span.line) for d in found.diagnostics] == [
        ("note", 4),
        ("warning", 5),
    ]


# --- object groups --------------------------------------------------------------------


def test_object_groups() -> None:
    text = (
        "object-group network SERVERS\n host 10.0.0.25\n 10.0.1.0 255.255.255.0\n"
        " 10.0.2.0 /24\n range 10.0.3.1 10.0.3.2\n group-object MORE\n"
        "object-group network MORE\n host 10.0.9.9\n"
        "object-group service MAIL\n tcp eq smtp\n tcp-udp 53\n icmp echo\n"
        "access-list 101 permit object-group MAIL any object-group SERVERS\n"
    )
    rule = entries(text)[0]
    assert rule.span.line == FIRST + 12
    assert rule.conditions == (
        Match(
            DST,
            IntervalSet(
                hosts("10.0.0.25", "10.0.1.0/24", "10.0.2.0/24", "10.0.9.9").bounds
                + ((addresses(["10.0.3.1"]).min(), addresses(["10.0.3.2"]).min()),)
            ),
        ),
        TupleMatch(
            (PROTO, DPORT, ICMP),
            (
                (
                    IntervalSet.single(6),
                    IntervalSet([(25, 25), (53, 53)]),
                    IntervalSet.single(0, 65535),
                ),
                (
                    IntervalSet.single(17),
                    IntervalSet.single(53),
                    IntervalSet.single(0, 65535),
                ),
                (
                    IntervalSet.single(1),
                    IntervalSet.single(0, 65535),
                    IntervalSet.single(8 * 256, 8 * 256 + 255),
                ),
            ),
        ),
    )


def test_service_group_optional_eq() -> None:
    text = (
        "object-group service FTP\n tcp source 20 1024\n"
        "access-list 101 permit object-group FTP any any\n"
    )
    assert entries(text)[0].conditions == (
        TCP,
        Match(SPORT, ports(20)),
        Match(DPORT, ports(1024)),
    )


def test_object_group_cycle_is_error() -> None:
    error = parse_error(
        "object-group network A\n group-object B\n"
        "object-group network B\n group-object A\n"
    )
    assert error.span.line == 1
    assert "reference cycle" in error.message


def test_no_object_group_removes_group() -> None:
    error = parse_error(
        INTERFACES + "object-group network A\n host 10.0.0.1\n"
        "no object-group network A\n"
        "access-list 101 permit ip any object-group A\n"
    )
    assert error.message == "object-group A is not defined"
    assert error.span.line == FIRST + 3


# --- interfaces and chains ------------------------------------------------------------


def test_access_group_dispatch_and_policy() -> None:
    found = parse(INTERFACES + "access-list 101 permit tcp any any eq 25\n")
    chain = found.chains["ip access-group in"]
    assert chain.rules == (
        Rule(
            line_span(5, " ip access-group 101 in"),
            (InterfaceMatch("iif", ("GigabitEthernet0/0",)),),
            Action("goto", "access-list 101"),
            "ip access-group 101 in",
        ),
    )
    assert chain.families == frozenset({4})
    label = "no inbound ipv4 access list on the interface"
    assert chain.policy == Rule(
        line_span(3, "interface GigabitEthernet0/0"),
        (),
        ACCEPT,
        label,
        implicit=True,
        label=label,
    )


def test_outbound_list() -> None:
    found = parse(
        "interface Gi0/1\n ip access-group 120 out\n"
        "access-list 120 deny tcp any any eq 23\n"
    )
    assert found.chains["ip access-group out"].rules[0].conditions == (
        InterfaceMatch("oif", ("Gi0/1",)),
    )


def test_no_ip_access_group() -> None:
    found = parse(
        INTERFACES + "interface GigabitEthernet0/0\n no ip access-group 101 in\n"
        "access-list 101 permit tcp any any eq 25\n"
    )
    assert found.chains["ip access-group in"].rules == ()


def test_undefined_list_permits_all() -> None:
    found = parse(INTERFACES)
    assert found.chains["ip access-group in"].rules == ()
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "access list 101 applied to GigabitEthernet0/0 is not defined; IOS then "
            "permits all traffic",
            line_span(5, " ip access-group 101 in"),
        ),
    )


def test_shutdown_interface() -> None:
    found = parse("interface Gi0/3\n shutdown\n")
    label = "interface Gi0/3 is shut down"
    assert found.chains["ip access-group in"].rules == (
        Rule(
            line_span(2, " shutdown"),
            (InterfaceMatch("iif", ("Gi0/3",)),),
            DROP,
            label,
            implicit=True,
            label=label,
        ),
    )


def test_ipv6_traffic_filter() -> None:
    text = (
        "ipv6 unicast-routing\ninterface Gi0/0\n ipv6 address 2001:db8:1::1/64\n"
        " ipv6 traffic-filter V6IN in\nipv6 access-list V6IN\n"
        " sequence 10 permit tcp any host 2001:db8:1::25 eq smtp\n"
        " permit icmp any any echo-request\n"
    )
    found = parse(text)
    assert found.families == frozenset({4, 6})
    assert found.hooks["forward"] == (
        "ip access-group in",
        "ip access-group out",
        "ipv6 traffic-filter in",
        "ipv6 traffic-filter out",
    )
    assert found.chains["ipv6 traffic-filter in"].families == frozenset({6})
    rules = found.chains["ipv6 access-list V6IN"].rules
    assert rules[0].conditions == (
        Match(DST, hosts("2001:db8:1::25")),
        TCP,
        Match(DPORT, ports(25)),
    )
    assert rules[1].conditions == (
        Match(PROTO, IntervalSet.single(58)),
        Match(ICMP, ports(128 * 256, 128 * 256 + 255)),
    )
    assert [rule.label for rule in rules[2:]] == [
        "implicit permit icmp any any nd-na in ipv6 access-list V6IN",
        "implicit permit icmp any any nd-ns in ipv6 access-list V6IN",
        "implicit deny at the end of ipv6 access-list V6IN",
    ]
    assert found.interfaces == {"Gi0/0": hosts("2001:db8:1::/64")}


def test_ipv4_address_in_ipv6_list_is_error() -> None:
    error = parse_error(
        "interface Gi0/0\n ipv6 traffic-filter V6 in\nipv6 access-list V6\n"
        " permit ipv6 host 10.0.0.1 any\n"
    )
    assert (error.span.line, error.span.column) == (4, 14)


def test_secondary_addresses() -> None:
    found = parse(
        "interface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n"
        " ip address 10.0.1.1 255.255.255.0 secondary\n"
        " ip address 10.0.2.1 255.255.255.0\n"
    )
    assert found.interfaces == {"Gi0/0": hosts("10.0.2.0/24", "10.0.1.0/24")}


def test_unindented_interface_lines() -> None:
    found = parse(
        "interface lan\nip access-group 102 in\nip address 192.168.1.1 255.255.0.0\n"
        "ip nat inside\n!\naccess-list 102 permit tcp any any eq 80\n"
    )
    assert found.interfaces == {"lan": hosts("192.168.0.0/16")}
    assert (
        found.chains["ip access-group in"].rules[0].action.target == "access-list 102"
    )


# --- parsing robustness ---------------------------------------------------------------


def test_unrelated_commands_skipped() -> None:
    text = (
        "version 15.2\nservice timestamps debug datetime msec\n"
        "banner motd ^C\naccess-list 101 this is banner text\n^C\n"
        "router ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n"
        "line vty 0 4\n access-class 5 in\n transport input ssh\n"
        "ip access-list logging interval 10\nsnmp-server community x RO\nend\n"
    )
    found = parse(INTERFACES + "access-list 101 permit ip any any\n" + text)
    assert found.diagnostics == ()
    assert len(found.chains["access-list 101"].rules) == 2


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("access-list 101 permit tcp any any eq", 38, "expected one of: name, number"),
        ("access-list 101 permit tcp any", 31, "missing destination address"),
        ("access-list 101 permit tcp 10.0.0.1 any", 28, "expected a wildcard mask"),
        ("access-list 101 permit tcp any any eq smpt", 39, "unknown port name (smpt)"),
        (
            "access-list 101 permit tcp any any range 90 80",
            36,
            "port range is reversed",
        ),
        ("access-list 101 permit bogus any any", 24, "unknown protocol (bogus)"),
        ("access-list 101 allow tcp any any", 17, "'permit'"),
        ("access-list 101 permit tcp any any eq 25 junk", 42, "unexpected 'junk'"),
    ],
)
def test_malformed_entries(line: str, column: int, expected: str) -> None:
    error = parse_error(INTERFACES + line + "\n")
    assert (error.span.path, error.span.line, error.span.column) == (
        PATH,
        FIRST,
        column,
    )
    assert expected in error.message


def test_multi_line_banner_skipped() -> None:
    text = "banner motd #\naccess-list 101 deny ip any any\n#\n"
    found = parse(INTERFACES + text + "access-list 101 permit tcp any any eq 80\n")
    rules = found.chains["access-list 101"].rules
    assert [rule.span.line for rule in rules[:-1]] == [FIRST + 3]


def test_invalid_interface_mask() -> None:
    error = parse_error("interface Gi0/0\n ip address 10.0.0.1 255.255.0.255\n")
    assert (error.span.line, error.span.column) == (2, 2)
    assert error.message == "invalid address or mask (10.0.0.1/255.255.0.255)"


def test_duplicate_sequence_is_error() -> None:
    error = parse_error(
        named(" 10 permit tcp any any eq 80\n 10 permit tcp any any eq 22\n")
    )
    assert error.span.line == 5
    assert error.message == (
        "duplicate sequence number (10) in ip access-list extended WEB"
    )


# --- several devices ------------------------------------------------------------------


def test_hostname_sections_are_devices() -> None:
    text = (
        "hostname a\ninterface x\n ip access-group 101 in\n"
        "access-list 101 permit tcp any any eq 25\n"
        "hostname b\ninterface y\n ip access-group 101 in\n"
        "access-list 101 permit tcp any any eq 80\n"
    )
    first, second = parse_all(text)
    assert (first.name, second.name) == ("a", "b")
    assert first.chains["access-list 101"].rules[0].span.line == 4
    assert second.chains["access-list 101"].rules[0].span.line == 8
    assert second.chains["ip access-group in"].rules[0].conditions == (
        InterfaceMatch("iif", ("y",)),
    )


# --- corpus ---------------------------------------------------------------------------


def corpus(name: str) -> tuple[Ruleset, ...]:
    location = shared_dir() / "corpus" / "ios" / name
    return parse_all(location.read_text(encoding="utf-8"), name)


def test_corpus_files_parse() -> None:
    files = sorted((shared_dir() / "corpus" / "ios").glob("*.cfg"))
    assert files
    for location in files:
        assert parse_all(location.read_text(encoding="utf-8"), location.name)


def test_corpus_margrave_dmz() -> None:
    inner, outer = corpus("margrave-dmz-mail-intern-extern.cfg")
    assert (inner.name, outer.name) == ("int", "ext")
    assert [(d.rule_id, d.span.line) for d in outer.diagnostics] == [
        ("SEG902", 49),
        ("SEG902", 41),
        ("SEG902", 44),
    ]
    first = inner.chains["access-list 102"].rules[0]
    assert first.conditions == (
        Match(SRC, hosts("192.168.4.0/24")),
        Match(DST, hosts("10.1.1.3")),
    )


def test_corpus_fwbuilder_established_and_groups() -> None:
    (found,) = corpus("fwbuilder-testios5-1-objgroups.cfg")
    rules = found.chains["ip access-list extended e0_in"].rules
    rule = next(rule for rule in rules if rule.span.line == 94)
    assert rule.conditions == (
        Match(SRC, hosts("198.51.100.0/24", "203.0.113.0/24")),
        Match(DST, hosts("10.10.10.0/23")),
        TCP,
        Match(SPORT, ports(80)),
        ESTABLISHED,
    )
    interfaces = found.chains["ip access-group in"].rules
    assert [rule.action.target for rule in interfaces] == [
        "ip access-list extended e1_in",
        "ip access-list extended e0_in",
    ]


# --- end to end -----------------------------------------------------------------------

E2E_CONFIG = """\
hostname edge
interface GigabitEthernet0/0
 description internet
 ip address 203.0.113.1 255.255.255.0
 ip access-group OUTSIDE_IN in
!
interface GigabitEthernet0/1
 description seg nodes
 ip address 198.51.100.1 255.255.255.240
!
ip access-list extended OUTSIDE_IN
 10 permit tcp any host 198.51.100.10 eq smtp
 20 permit tcp any host 198.51.100.10 eq 135
 30 permit tcp any host 198.51.100.11 established
 remark node .11 gets replies only
!
end
"""

E2E_SETTINGS = """\
seg:
  version: "10.2"
trusted:
  - 10.0.0.0/8
roles:
  processing-nodes: [198.51.100.10, 198.51.100.11]
rulesets:
  - files: "edge.cfg"
    zones:
      GigabitEthernet0/1: [198.51.100.0/28]
      GigabitEthernet0/0: internet
"""


def e2e_findings(tmp_path: Path) -> list[tuple[str, str, int]]:
    from seglint.api import check

    (tmp_path / "edge.cfg").write_text(E2E_CONFIG, encoding="utf-8")
    (tmp_path / "seglint.yaml").write_text(E2E_SETTINGS, encoding="utf-8")
    result = check([tmp_path / "edge.cfg"], cwd=tmp_path)
    assert result.diagnostics == []
    return sorted({(f.rule_id, f.span.path, f.span.line) for f in result.findings})


def test_e2e_netbios_exposed(tmp_path: Path) -> None:
    assert ("SEG201", "edge.cfg", 13) in e2e_findings(tmp_path)


def test_e2e_established_exposes_nothing(tmp_path: Path) -> None:
    assert [item for item in e2e_findings(tmp_path) if item[2] == 14] == []


def test_e2e_smtp_inbound_blocked_by_implicit_deny(tmp_path: Path) -> None:
    # Node .11 receives only established packets, so new SMTP connections
    # to it reach the implicit deny, which points at the list's last line.
    assert ("SEG101", "edge.cfg", 15) in e2e_findings(tmp_path)
