"""ASA format: IR of each construct, object groups, chains, errors, corpus, e2e."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.formats.asa import AsaFormat, seglint_formats
from seglint.formats.base import FileAccess, SourceFile
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
    V4_ALL,
    V6_ALL,
    IntervalSet,
    addresses,
)

PATH = "edge/asa.cfg"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))
ICMP4 = Match(PROTO, IntervalSet.single(1))

# Lines 1-16; the first line after it is line 17.
INTERFACES = """\
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.0
!
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.255.255.0
!
interface GigabitEthernet0/2
 nameif dmz
 security-level 50
 ip address 198.51.100.1 255.255.255.0
 ipv6 address 2001:db8:5::1/64
!
"""
FIRST = 17


def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (only in the development workspace)")
    return SHARED


def parse(text: str, path: str = PATH) -> Ruleset:
    source = SourceFile(path, Path(path), text)
    result = AsaFormat().parse(source, FileAccess(Path.cwd()))
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text)
    return caught.value


def acl(lines: str, name: str = "out_in", bind: str = "outside") -> Ruleset:
    """Parse INTERFACES, then ``lines``, then an access-group of ``name``."""
    return parse(INTERFACES + lines + f"access-group {name} in interface {bind}\n")


def entries(lines: str, name: str = "out_in") -> tuple[Rule, ...]:
    """Return the rules of an access list, without its implicit deny."""
    rules = acl(lines, name).chains[f"access-list {name}"].rules
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


# --- rule set shape -------------------------------------------------------------------


def test_ruleset_shape() -> None:
    found = acl("access-list out_in extended permit ip any any\n")
    assert found.format == "asa"
    assert found.kind == "network"
    assert found.families == frozenset({4, 6})
    assert found.hooks == {"forward": ("access-group in", "access-group out")}


def test_interface_networks() -> None:
    found = acl("access-list out_in extended permit ip any any\n")
    assert found.interfaces == {
        "outside": hosts("203.0.113.0/24"),
        "inside": hosts("10.0.0.0/24"),
        "dmz": hosts("198.51.100.0/24", "2001:db8:5::/64"),
    }


def test_registered() -> None:
    assert [fmt.id for fmt in seglint_formats()] == ["asa"]


@pytest.mark.parametrize(
    ("head", "score"),
    [
        (": Saved\n:\nASA Version 9.8(4)\n", 2),
        ("interface ethernet1\n  nameif outside\n", 2),
        ("access-list acl_in extended permit ip any any\n", 2),
        ("access-list 101 permit ip any any\n", 1),
        ("ip access-list extended web\n permit tcp any any eq 80\n", 0),
        ("*filter\n:INPUT DROP [0:0]\n", 0),
    ],
)
def test_detect(head: str, score: int) -> None:
    assert AsaFormat().detect("fw.cfg", head) == score


# --- entries --------------------------------------------------------------------------


def test_entry_exact_rule() -> None:
    text = "access-list out_in extended permit tcp any host 198.51.100.10 eq smtp"
    assert only(text) == Rule(
        line_span(FIRST, text),
        (Match(DST, hosts("198.51.100.10")), TCP, Match(DPORT, ports(25))),
        ACCEPT,
        text,
    )


def test_entry_deny() -> None:
    text = "access-list out_in extended deny ip 192.0.2.0 255.255.255.0 any"
    assert only(text) == Rule(
        line_span(FIRST, text), (Match(SRC, hosts("192.0.2.0/24")),), DROP, text
    )


def test_entry_without_extended_keyword() -> None:
    # PIX 7 and Firewall Builder write extended entries without "extended".
    text = "access-list out_in permit tcp any any eq 80"
    assert only(text).conditions == (TCP, Match(DPORT, ports(80)))


def test_whitespace_normalised_in_text() -> None:
    text = "access-list out_in extended deny   ip any any  "
    assert only(text).text == "access-list out_in extended deny ip any any"


def test_implicit_deny() -> None:
    lines = (
        "access-list out_in remark inbound rules\n"
        "access-list out_in extended permit tcp any any eq 25\n"
        "access-list out_in remark end of list\n"
    )
    rules = acl(lines).chains["access-list out_in"].rules
    label = "implicit deny at the end of access-list out_in"
    assert rules[-1] == Rule(
        line_span(FIRST + 2, "access-list out_in remark end of list"),
        (),
        DROP,
        label,
        implicit=True,
        label=label,
    )


def test_remarks_make_no_rules() -> None:
    rules = entries(
        "access-list out_in remark web\n"
        "access-list out_in extended permit tcp any any eq 80\n"
    )
    assert [rule.span.line for rule in rules] == [FIRST + 1]


@pytest.mark.parametrize(
    ("operand", "condition"),
    [
        ("any", None),
        ("any4", Match(SRC, V4_ALL)),
        ("any6", Match(SRC, V6_ALL)),
        ("host 192.0.2.7", Match(SRC, hosts("192.0.2.7"))),
        ("host 2001:db8::7", Match(SRC, hosts("2001:db8::7"))),
        ("192.0.2.0 255.255.255.128", Match(SRC, hosts("192.0.2.0/25"))),
        ("2001:db8:1::/48", Match(SRC, hosts("2001:db8:1::/48"))),
    ],
)
def test_source_operands(operand: str, condition: Match | None) -> None:
    rule = only(f"access-list out_in extended permit ip {operand} any")
    assert rule.conditions == (() if condition is None else (condition,))


def test_name_alias() -> None:
    rule = only(
        "access-list out_in extended permit ip host web any\n",
        "names\nname 192.0.2.80 web description front end\n",
    )
    assert rule.conditions == (Match(SRC, hosts("192.0.2.80")),)


def test_name_alias_with_mask() -> None:
    rule = only(
        "access-list out_in extended permit ip webnet 255.255.255.0 any\n",
        "name 192.0.2.0 webnet\n",
    )
    assert rule.conditions == (Match(SRC, hosts("192.0.2.0/24")),)


def test_undefined_name_is_error() -> None:
    error = parse_error(
        INTERFACES + "access-list out_in extended permit ip host web any\n"
        "access-group out_in in interface outside\n"
    )
    assert error.span.line == FIRST
    assert error.span.column == 44
    assert "name web is not defined" in error.message


@pytest.mark.parametrize(
    ("protocol", "conditions"),
    [
        ("ip", ()),
        ("tcp", (TCP,)),
        ("udp", (UDP,)),
        ("icmp", (ICMP4,)),
        ("icmp6", (Match(PROTO, IntervalSet.single(58)),)),
        ("esp", (Match(PROTO, IntervalSet.single(50)),)),
        ("gre", (Match(PROTO, IntervalSet.single(47)),)),
        ("47", (Match(PROTO, IntervalSet.single(47)),)),
        ("0", ()),
    ],
)
def test_protocols(protocol: str, conditions: tuple[Match, ...]) -> None:
    assert (
        only(f"access-list out_in extended permit {protocol} any any").conditions
        == conditions
    )


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("eq 443", ports(443)),
        ("neq 443", IntervalSet([(0, 442), (444, 65535)])),
        ("lt 1024", ports(0, 1023)),
        ("gt 1023", ports(1024, 65535)),
        ("range 8000 8080", ports(8000, 8080)),
        ("range ftp-data ftp", ports(20, 21)),
    ],
)
def test_port_operators(spec: str, values: IntervalSet) -> None:
    rule = only(f"access-list out_in extended permit tcp any any {spec}")
    assert rule.conditions == (TCP, Match(DPORT, values))


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("sqlnet", 1521),
        ("smtp", 25),
        ("domain", 53),
        ("www", 80),
        ("http", 80),
        ("https", 443),
        ("pop3", 110),
        ("imap4", 143),
        ("ldap", 389),
        ("ldaps", 636),
        ("netbios-ns", 137),
        ("netbios-dgm", 138),
        ("netbios-ssn", 139),
        ("ssh", 22),
        ("telnet", 23),
        ("ftp", 21),
        ("ftp-data", 20),
        ("ntp", 123),
        ("snmp", 161),
        ("syslog", 514),
        ("kerberos", 750),
        ("radius", 1645),
        ("citrix-ica", 1494),
    ],
)
def test_asa_port_names(name: str, number: int) -> None:
    rule = only(f"access-list out_in extended permit tcp any any eq {name}")
    assert rule.conditions == (TCP, Match(DPORT, ports(number)))


def test_sqlnet_is_not_sql_server() -> None:
    rule = only("access-list out_in extended permit tcp any any eq sqlnet")
    assert 1433 not in rule.conditions[1].values  # type: ignore[union-attr]


def test_source_port() -> None:
    rule = only("access-list out_in extended permit udp any eq domain any gt 1023")
    assert rule.conditions == (
        UDP,
        Match(SPORT, ports(53)),
        Match(DPORT, ports(1024, 65535)),
    )


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("echo", IntervalSet.single(8 * 256, 8 * 256 + 255)),
        ("3", IntervalSet.single(3 * 256, 3 * 256 + 255)),
        ("3 4", IntervalSet.single(3 * 256 + 4)),
    ],
)
def test_icmp_types(spec: str, values: IntervalSet) -> None:
    rule = only(f"access-list out_in extended permit icmp any any {spec}")
    assert rule.conditions == (ICMP4, Match(ICMP, values))


def test_icmp6_type_names() -> None:
    rule = only("access-list out_in extended permit icmp6 any any echo-reply")
    assert rule.conditions == (
        Match(PROTO, IntervalSet.single(58)),
        Match(ICMP, IntervalSet.single(129 * 256, 129 * 256 + 255)),
    )


def test_inactive_entry_ignored() -> None:
    rules = entries(
        "access-list out_in extended permit tcp any any eq 23 inactive\n"
        "access-list out_in extended permit tcp any any eq 22\n"
    )
    assert [rule.span.line for rule in rules] == [FIRST + 1]


def test_log_options_ignored() -> None:
    rule = only(
        "access-list out_in extended permit tcp any any eq 22 log 6 interval 300"
    )
    assert rule.conditions == (TCP, Match(DPORT, ports(22)))


def test_time_range_unknown() -> None:
    text = "access-list out_in extended permit tcp any any eq 22 time-range WORK"
    found = acl(text + "\n")
    rule = found.chains["access-list out_in"].rules[0]
    span = Span(PATH, FIRST, 54, FIRST, 68)
    assert rule.conditions == (
        TCP,
        Match(DPORT, ports(22)),
        Unknown("time-range WORK", span, "time-range:time-range WORK"),
    )
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "time-range is not modelled (time-range WORK), so findings that depend "
            "on it are marked may",
            span,
        ),
    )


def test_interface_operand_unknown() -> None:
    found = acl("access-list out_in extended permit tcp any interface outside eq 22\n")
    rule = found.chains["access-list out_in"].rules[0]
    span = Span(PATH, FIRST, 44, FIRST, 60)
    assert rule.conditions == (
        Unknown("address of interface outside", span, "interface:outside"),
        TCP,
        Match(DPORT, ports(22)),
    )
    assert [(d.rule_id, d.span.line) for d in found.diagnostics] == [("SEG902", FIRST)]


def test_user_identity_unknown() -> None:
    rule = only("access-list out_in extended permit tcp user LOCAL\\ann any any eq 22")
    assert isinstance(rule.conditions[-1], Unknown)
    assert rule.conditions[-1].text == "user LOCAL\\ann"


def test_line_number_inserts() -> None:
    rules = entries(
        "access-list out_in extended permit tcp any any eq 22\n"
        "access-list out_in line 1 extended deny tcp any any eq 22\n"
    )
    assert [(rule.span.line, rule.action.kind) for rule in rules] == [
        (FIRST + 1, "drop"),
        (FIRST, "accept"),
    ]


def test_no_access_list_removes_entry() -> None:
    rules = entries(
        "access-list out_in extended permit tcp any any eq 22\n"
        "access-list out_in extended permit tcp any any eq 80\n"
        "no access-list out_in extended permit tcp any any eq 22\n"
    )
    assert [rule.span.line for rule in rules] == [FIRST + 1]


def test_clear_configure_access_list() -> None:
    rules = entries(
        "access-list out_in extended permit tcp any any eq 22\n"
        "clear configure access-list out_in\n"
        "access-list out_in extended permit tcp any any eq 80\n"
    )
    assert [rule.span.line for rule in rules] == [FIRST + 2]


# --- objects and object groups --------------------------------------------------------


def test_network_object_forms() -> None:
    objects = (
        "object network H\n host 192.0.2.1\n"
        "object network S\n subnet 192.0.2.64 255.255.255.192\n"
        "object network R\n range 192.0.2.200 192.0.2.210\n"
        "object network S6\n subnet 2001:db8:9::/48\n"
        "object-group network ALL\n network-object object H\n"
        " network-object object S\n network-object object R\n"
        " network-object object S6\n"
    )
    rule = only("access-list out_in extended permit ip any object-group ALL", objects)
    assert rule.conditions == (
        Match(
            DST,
            IntervalSet(
                list(hosts("192.0.2.1", "192.0.2.64/26", "2001:db8:9::/48").bounds)
                + [(addresses(["192.0.2.200"]).min(), addresses(["192.0.2.210"]).min())]
            ),
        ),
    )


def test_nested_forward_referenced_groups() -> None:
    # The list uses TOP before any group exists; TOP nests MIDDLE, which
    # nests LEAF, each defined further down the file.
    lines = (
        "access-list out_in extended permit tcp any object-group TOP eq 25\n"
        "object-group network TOP\n network-object host 192.0.2.1\n"
        " group-object MIDDLE\n"
        "object-group network MIDDLE\n group-object LEAF\n"
        " network-object 192.0.2.64 255.255.255.192\n"
        "object-group network LEAF\n network-object host 2001:db8::25\n"
    )
    rule = entries(lines)[0]
    assert rule.conditions == (
        Match(DST, hosts("192.0.2.1", "192.0.2.64/26", "2001:db8::25")),
        TCP,
        Match(DPORT, ports(25)),
    )


def test_group_cycle_is_error() -> None:
    text = (
        INTERFACES + "object-group network A\n group-object B\n"
        "object-group network B\n network-object host 192.0.2.1\n group-object A\n"
    )
    error = parse_error(text)
    assert error.span.line == FIRST
    assert error.message == (
        "object-group A is part of a reference cycle "
        "(object-group A -> object-group B -> object-group A)"
    )


def test_self_reference_is_error() -> None:
    error = parse_error(INTERFACES + "object-group network A\n group-object A\n")
    assert error.span.line == FIRST
    assert "reference cycle" in error.message


def test_undefined_group_is_error() -> None:
    error = parse_error(
        INTERFACES + "access-list out_in extended permit ip any "
        "object-group NOPE\naccess-group out_in in interface outside\n"
    )
    assert (error.span.line, error.span.column) == (FIRST, 56)
    assert error.message == "object-group NOPE is not defined"


def test_group_of_wrong_kind_is_error() -> None:
    error = parse_error(
        INTERFACES + "object-group service WEB tcp\n port-object eq 80\n"
        "object-group network N\n group-object WEB\n"
    )
    assert error.span.line == FIRST + 3
    assert (
        "object-group WEB is a service (with a protocol) object-group" in error.message
    )


def test_protocol_group_keeps_port_qualifier() -> None:
    # The port after the destination applies to every protocol of the group.
    lines = (
        "object-group protocol TCPUDP\n protocol-object tcp\n protocol-object udp\n"
        "access-list out_in extended permit object-group TCPUDP any host 192.0.2.53 "
        "eq domain\n"
    )
    rule = entries(lines)[0]
    assert rule.conditions == (
        Match(DST, hosts("192.0.2.53")),
        Match(PROTO, IntervalSet([(6, 6), (17, 17)])),
        Match(DPORT, ports(53)),
    )


def test_protocol_group_drops_portless_protocols_with_port() -> None:
    lines = (
        "object-group protocol MIX\n protocol-object tcp\n protocol-object icmp\n"
        "access-list out_in extended permit object-group MIX any any eq 80\n"
    )
    assert entries(lines)[0].conditions == (TCP, Match(DPORT, ports(80)))


def test_service_group_in_protocol_position() -> None:
    lines = (
        "object-group service SVC\n service-object tcp destination eq 8443\n"
        " service-object udp destination eq 25\n"
        " service-object tcp-udp destination range 1098 1099\n service-object esp\n"
        " service-object icmp echo\n"
        "access-list out_in extended permit object-group SVC any any\n"
    )
    rule = entries(lines)[0]
    assert rule.conditions == (
        TupleMatch(
            (PROTO, DPORT, ICMP),
            (
                (
                    IntervalSet([(6, 6)]),
                    IntervalSet([(1098, 1099), (8443, 8443)]),
                    IntervalSet.single(0, 65535),
                ),
                (
                    IntervalSet([(17, 17)]),
                    IntervalSet([(25, 25), (1098, 1099)]),
                    IntervalSet.single(0, 65535),
                ),
                (
                    IntervalSet.single(50),
                    IntervalSet.single(0, 65535),
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


def test_service_object_source_and_old_syntax() -> None:
    lines = (
        "object-group service SVC\n"
        " service-object tcp source eq 20 destination gt 1023\n"
        "access-list out_in extended permit object-group SVC any any\n"
    )
    assert entries(lines)[0].conditions == (
        TCP,
        Match(SPORT, ports(20)),
        Match(DPORT, ports(1024, 65535)),
    )
    old = (
        "object-group service OLD\n service-object tcp eq 25\n"
        "access-list out_in extended permit object-group OLD any any\n"
    )
    assert entries(old)[0].conditions == (TCP, Match(DPORT, ports(25)))


def test_service_object_in_protocol_position() -> None:
    lines = (
        "object service SMTP\n service tcp destination eq smtp\n"
        "access-list out_in extended permit object SMTP any any\n"
    )
    assert entries(lines)[0].conditions == (TCP, Match(DPORT, ports(25)))


def test_port_group_as_destination_and_source() -> None:
    lines = (
        "object-group service WEB tcp\n port-object eq www\n"
        " port-object range 8000 8080\n"
        "object-group service HIGH tcp-udp\n port-object range 1024 65535\n"
        "access-list out_in extended permit tcp any object-group HIGH any "
        "object-group WEB\n"
    )
    rule = entries(lines)[0]
    assert rule.conditions == (
        TCP,
        Match(SPORT, ports(1024, 65535)),
        Match(DPORT, IntervalSet([(80, 80), (8000, 8080)])),
    )


def test_network_group_after_source_is_destination() -> None:
    lines = (
        "object-group network DST\n network-object host 192.0.2.9\n"
        "access-list out_in extended permit tcp any object-group DST eq 22\n"
    )
    assert entries(lines)[0].conditions == (
        Match(DST, hosts("192.0.2.9")),
        TCP,
        Match(DPORT, ports(22)),
    )


def test_icmp_type_group() -> None:
    lines = (
        "object-group icmp-type PING\n icmp-object echo\n icmp-object 0\n"
        "access-list out_in extended permit icmp any any object-group PING\n"
    )
    assert entries(lines)[0].conditions == (
        ICMP4,
        Match(ICMP, IntervalSet([(0, 255), (8 * 256, 8 * 256 + 255)])),
    )


def test_nested_service_groups() -> None:
    lines = (
        "object-group service OUTER\n group-object INNER\n"
        " service-object tcp destination eq 443\n"
        "object-group service INNER\n service-object tcp destination eq 80\n"
        "access-list out_in extended permit object-group OUTER any any\n"
    )
    assert entries(lines)[0].conditions == (
        TCP,
        Match(DPORT, IntervalSet([(80, 80), (443, 443)])),
    )


def test_unknown_group_member_is_warning() -> None:
    lines = (
        "object-group network N\n network-object host 192.0.2.1\n"
        " ggnetwork-object 192.0.2.6 255.255.255.128\n"
        "access-list out_in extended permit ip any object-group N\n"
    )
    found = acl(lines)
    assert found.chains["access-list out_in"].rules[0].conditions == (
        Match(DST, hosts("192.0.2.1")),
    )
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "unknown sub-command in object-group network N ignored "
            "(ggnetwork-object); the ASA rejects it",
            Span(PATH, FIRST + 2, 2, FIRST + 2, 43),
        ),
    )


def test_fqdn_object_unknown() -> None:
    lines = (
        "object network SITE\n fqdn www.example.com\n"
        "access-list out_in extended permit tcp any object SITE eq 443\n"
    )
    found = acl(lines)
    rule = found.chains["access-list out_in"].rules[0]
    span = Span(PATH, FIRST + 1, 2, FIRST + 1, 21)
    assert rule.conditions == (
        Unknown("fqdn www.example.com", span, "fqdn:SITE"),
        TCP,
        Match(DPORT, ports(443)),
    )
    assert [(d.rule_id, d.span.line) for d in found.diagnostics] == [
        ("SEG902", FIRST + 1)
    ]


# --- masks ----------------------------------------------------------------------------


def test_non_contiguous_mask_exact() -> None:
    rule = only(
        "access-list out_in extended permit ip any 10.100.70.160 255.254.255.252"
    )
    assert rule.conditions == (
        Match(DST, hosts("10.100.70.160/30", "10.101.70.160/30")),
    )


def test_non_contiguous_mask_too_large() -> None:
    text = "access-list out_in extended permit ip 10.0.0.128 255.0.0.192 any"
    found = acl(text + "\n")
    rules = found.chains["access-list out_in"].rules[:-1]
    span = Span(PATH, FIRST, 39, FIRST, 60)
    assert rules == (
        Rule(
            line_span(FIRST, text),
            (
                Unknown(
                    "non-contiguous mask (10.0.0.128 255.0.0.192)",
                    span,
                    "mask:10.0.0.128 255.0.0.192",
                ),
                Match(SRC, hosts("10.0.0.0/8")),
            ),
            ACCEPT,
            text,
        ),
    )
    assert [(d.rule_id, d.span.line, d.level) for d in found.diagnostics] == [
        ("SEG902", FIRST, "warning")
    ]


def test_group_with_known_and_unknown_parts() -> None:
    lines = (
        "object-group network MIX\n network-object host 192.0.2.1\n"
        " network-object 10.0.0.128 255.0.0.192\n"
        "access-list out_in extended permit ip any object-group MIX\n"
    )
    rules = entries(lines)
    assert [rule.span.line for rule in rules] == [FIRST + 3, FIRST + 3]
    assert rules[0].conditions == (Match(DST, hosts("192.0.2.1")),)
    assert isinstance(rules[1].conditions[0], Unknown)
    assert rules[1].conditions[1] == Match(DST, hosts("10.0.0.0/8"))


# --- base chains ----------------------------------------------------------------------


def test_access_group_dispatch() -> None:
    found = acl("access-list out_in extended permit tcp any any eq 25\n")
    text = "access-group out_in in interface outside"
    assert (
        Rule(
            line_span(FIRST + 1, text),
            (InterfaceMatch("iif", ("outside",)),),
            Action("goto", "access-list out_in"),
            text,
        )
        in found.chains["access-group in"].rules
    )


def test_security_level_default() -> None:
    found = acl("access-list out_in extended permit tcp any any eq 25\n")
    rules = found.chains["access-group in"].rules
    inside = [
        rule for rule in rules if InterfaceMatch("iif", ("inside",)) in rule.conditions
    ]
    where = "interface inside, security level 100"
    span = line_span(8, " security-level 100")
    same = f"same-security traffic is not permitted ({where})"
    lower = f"security-level default: traffic to lower levels is allowed ({where})"
    higher = f"security-level default: traffic to higher levels is dropped ({where})"
    assert inside == [
        Rule(
            span,
            (InterfaceMatch("iif", ("inside",)), InterfaceMatch("oif", ("inside",))),
            DROP,
            same,
            implicit=True,
            label=same,
        ),
        Rule(
            span,
            (
                InterfaceMatch("iif", ("inside",)),
                InterfaceMatch("oif", ("outside", "dmz")),
            ),
            ACCEPT,
            lower,
            implicit=True,
            label=lower,
        ),
        Rule(
            span,
            (InterfaceMatch("iif", ("inside",)),),
            DROP,
            higher,
            implicit=True,
            label=higher,
        ),
    ]


def test_same_security_inter_interface() -> None:
    text = (
        INTERFACES.replace("security-level 50", "security-level 100")
        + "same-security-traffic permit inter-interface\n"
    )
    rules = parse(text).chains["access-group in"].rules
    accept = [
        rule
        for rule in rules
        if rule.action == ACCEPT and InterfaceMatch("iif", ("dmz",)) in rule.conditions
    ]
    assert accept[0].conditions[1] == InterfaceMatch("oif", ("outside", "inside"))


def test_same_security_dropped_without_permit() -> None:
    text = INTERFACES.replace("security-level 50", "security-level 100")
    rules = parse(text).chains["access-group in"].rules
    assert rules[2].conditions == (
        InterfaceMatch("iif", ("inside",)),
        InterfaceMatch("oif", ("inside", "dmz")),
    )
    assert rules[2].action == DROP


def test_same_security_intra_interface() -> None:
    text = INTERFACES + "same-security-traffic permit intra-interface\n"
    rules = parse(text).chains["access-group in"].rules
    inside = [r for r in rules if InterfaceMatch("iif", ("inside",)) in r.conditions]
    # No same-security drop: the first rule is the default accept, which now
    # includes the input interface itself.
    assert inside[0].action == ACCEPT
    assert inside[0].conditions[1] == InterfaceMatch(
        "oif", ("outside", "dmz", "inside")
    )


def test_missing_security_level_is_zero() -> None:
    text = "interface Gi0/3\n nameif users\n ip address 10.9.0.1 255.255.255.0\n"
    rules = parse(INTERFACES + text).chains["access-group in"].rules
    users = [
        rule for rule in rules if InterfaceMatch("iif", ("users",)) in rule.conditions
    ]
    # Nothing is lower than 0, and outside has the same level.
    assert [rule.action for rule in users] == [DROP, DROP]
    assert users[0].conditions[1] == InterfaceMatch("oif", ("users", "outside"))
    assert users[1].conditions == (InterfaceMatch("iif", ("users",)),)


def test_policies() -> None:
    found = acl("access-list out_in extended permit tcp any any eq 25\n")
    inbound = found.chains["access-group in"].policy
    outbound = found.chains["access-group out"].policy
    assert inbound is not None and outbound is not None
    assert (inbound.action, inbound.implicit, inbound.span.line) == (DROP, True, 1)
    assert (outbound.action, outbound.implicit, outbound.span.line) == (ACCEPT, True, 1)


def test_outbound_access_group() -> None:
    found = parse(
        INTERFACES + "access-list dmz_out extended permit tcp any any eq 25\n"
        "access-group dmz_out out interface dmz\n"
    )
    text = "access-group dmz_out out interface dmz"
    assert found.chains["access-group out"].rules == (
        Rule(
            line_span(FIRST + 1, text),
            (InterfaceMatch("oif", ("dmz",)),),
            Action("goto", "access-list dmz_out"),
            text,
        ),
    )


def test_global_access_group() -> None:
    found = parse(
        INTERFACES + "access-list out_in extended permit tcp any any eq 25\n"
        "access-list all extended permit tcp any any eq 80\n"
        "access-group out_in in interface outside\n"
        "access-group all global\n"
    )
    rules = found.chains["access-group in"].rules
    jump = [rule for rule in rules if rule.action.kind == "jump"]
    assert [rule.action.target for rule in jump] == ["access-list out_in then global"]
    assert rules[-1] == Rule(
        line_span(FIRST + 3, "access-group all global"),
        (InterfaceMatch("iif", ("outside", "inside", "dmz")),),
        Action("goto", "access-list all"),
        "access-group all global",
    )
    assert not any(rule.implicit and rule.action == ACCEPT for rule in rules)
    assert not found.chains["access-list out_in then global"].rules[-1].implicit
    assert found.chains["access-list all"].rules[-1].implicit


def test_shutdown_interface_blocks() -> None:
    text = INTERFACES.replace(
        " ipv6 address 2001:db8:5::1/64\n",
        " ipv6 address 2001:db8:5::1/64\n shutdown\n",
    )
    found = parse(text)
    label = "interface dmz is shut down"
    blocked = Rule(
        line_span(16, " shutdown"),
        (InterfaceMatch("oif", ("dmz",)),),
        DROP,
        label,
        implicit=True,
        label=label,
    )
    assert found.chains["access-group out"].rules == (blocked,)


def test_undefined_access_list_warns() -> None:
    found = parse(INTERFACES + "access-group nope in interface outside\n")
    assert found.diagnostics == (
        Diagnostic(
            "SEG902",
            "access-group refers to access-list nope, which is not defined; ignored, "
            "as the ASA rejects it",
            line_span(FIRST, "access-group nope in interface outside"),
        ),
    )
    assert "access-list nope" not in found.chains


def test_standard_access_list_not_bound() -> None:
    found = parse(
        INTERFACES + "access-list std standard permit host 192.0.2.1\n"
        "access-group std in interface outside\n"
    )
    assert [d.message.split(";")[0] for d in found.diagnostics] == [
        "access-group refers to standard access-list std"
    ]


# --- parsing robustness ---------------------------------------------------------------


def test_unrelated_commands_skipped() -> None:
    text = (
        ": Saved\n: Serial Number: X\nASA Version 9.5(2)204\n!\nterminal width 511\n"
        "policy-map global_policy\n class inspection_default\n  inspect esmtp\n"
        "crypto ca trustpool policy\n auto-import\nsome unknown command here\n"
        "Cryptochecksum:89fc0e7a75db639607400231a59c9051\n: end\n"
    )
    found = parse(INTERFACES + text)
    assert found.diagnostics == ()


def test_unindented_sub_commands() -> None:
    text = "interface ethernet1\nnameif outside\nsecurity-level 0\nexit\n"
    assert parse(text).chains["access-group in"].rules[0].conditions == (
        InterfaceMatch("iif", ("outside",)),
        InterfaceMatch("oif", ("outside",)),
    )


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        (
            "access-list a extended permit tcp any any eq",
            45,
            "expected one of: name, number",
        ),
        ("access-list a extended allow tcp any any", 24, "'deny'"),
        ("access-list a extended permit tcp any", 38, "missing destination address"),
        (
            "access-list a extended permit tcp any any eq smpt",
            46,
            "unknown port name (smpt)",
        ),
        ("access-list a extended permit tcp any any eq 70000", 43, "port out of range"),
        ("access-list a extended permit icmp any any eq 80", 44, "needs protocol tcp"),
        ("access-list a extended permit tcp any any bogus", 43, "unexpected 'bogus'"),
    ],
)
def test_malformed_entries(line: str, column: int, expected: str) -> None:
    error = parse_error(INTERFACES + line + "\naccess-group a in interface outside\n")
    assert (error.span.path, error.span.line, error.span.column) == (
        PATH,
        FIRST,
        column,
    )
    assert expected in error.message


def test_control_plane_access_group_noted() -> None:
    found = acl(
        "access-list mgmt extended permit tcp any any eq 22\n"
        "access-group mgmt in interface inside control-plane\n"
        "access-list out_in extended permit ip any any\n"
    )
    assert [(d.level, d.span.line) for d in found.diagnostics] == [("note", FIRST + 1)]
    assert "access-list mgmt" not in found.chains


def test_no_access_group_removes_binding() -> None:
    found = acl(
        "access-list out_in extended permit ip any any\n"
        "access-group out_in in interface outside\n"
        "no access-group out_in in interface outside\n",
        bind="dmz",
    )
    targets = [r.action.target for r in found.chains["access-group in"].rules]
    assert targets.count("access-list out_in") == 1


def test_numeric_list_name() -> None:
    rules = entries("access-list 101 extended permit tcp any any eq 25\n", "101")
    assert rules[0].conditions == (TCP, Match(DPORT, ports(25)))


def test_single_line_banner_keeps_commands() -> None:
    text = "banner motd Authorized access only\n"
    rules = entries(text + "access-list out_in extended permit tcp any any eq 25\n")
    assert [rule.span.line for rule in rules] == [FIRST + 1]


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("access-list a extended permit ip host 300.1.1.1 any", 39, "name 300.1.1.1"),
        ("access-list a extended permit ip 1:2:3/200 any", 34, "invalid address"),
    ],
)
def test_invalid_addresses(line: str, column: int, expected: str) -> None:
    error = parse_error(INTERFACES + line + "\naccess-group a in interface outside\n")
    assert (error.span.line, error.span.column) == (FIRST, column)
    assert expected in error.message


def test_invalid_interface_mask() -> None:
    error = parse_error(
        "interface Gi0/0\n nameif a\n ip address 10.0.0.1 255.0.255.0\n"
    )
    assert (error.span.line, error.span.column) == (3, 2)
    assert error.message == "invalid address or mask (10.0.0.1/255.0.255.0)"


def test_malformed_unbound_list_is_error() -> None:
    error = parse_error(
        INTERFACES + "access-list nat extended permit tcp any any eq smpt\n"
    )
    assert error.span.line == FIRST


# --- corpus ---------------------------------------------------------------------------


def corpus_file(name: str) -> Ruleset:
    location = shared_dir() / "corpus" / "asa" / name
    return parse(location.read_text(encoding="utf-8"), name)


def test_corpus_files_parse() -> None:
    files = sorted((shared_dir() / "corpus" / "asa").glob("*.cfg"))
    assert files
    for location in files:
        found = parse(location.read_text(encoding="utf-8"), location.name)
        assert found.chains["access-group in"].rules


def test_corpus_asav_typo_and_masks() -> None:
    found = corpus_file("asav-baseline-multizone.cfg")
    assert [(d.rule_id, d.span.line, d.level) for d in found.diagnostics] == [
        ("SEG902", 81, "warning"),
        ("SEG902", 83, "warning"),
        ("SEG902", 85, "warning"),
    ]
    assert found.interfaces["users"] == hosts("10.100.0.0/24")


def test_corpus_asav_service_group_as_protocol() -> None:
    found = corpus_file("asav-baseline-multizone.cfg")
    rule = found.chains["access-list users-in"].rules[2]
    assert rule.span.line == 124
    assert rule.conditions == (
        Match(SRC, hosts("10.100.0.0/24")),
        Match(DST, hosts("192.0.2.4")),
        TCP,
        Match(DPORT, ports(8080)),
    )


def test_corpus_fwbuilder_port_groups() -> None:
    found = corpus_file("fwbuilder-firewall50-asa.cfg")
    rules = found.chains["access-list outside_acl_in"].rules
    udp = next(rule for rule in rules if rule.span.line == 296)
    assert udp.conditions == (
        Match(DST, hosts("192.168.1.10")),
        UDP,
        Match(DPORT, IntervalSet([(53, 53), (161, 161)])),
    )


# --- end to end -----------------------------------------------------------------------

E2E_CONFIG = """\
: Saved
ASA Version 9.8(4)
hostname edge
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.0
!
interface GigabitEthernet0/1
 nameif dmz
 security-level 50
 ip address 198.51.100.1 255.255.255.240
!
interface GigabitEthernet0/2
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.0.0.0
!
object-group network SEG_NODES
 network-object host 198.51.100.10
 network-object host 198.51.100.11
object network AM
 host 10.0.0.10
access-list outside_in extended permit tcp any object-group SEG_NODES eq www
access-list outside_in extended permit tcp any object AM eq 19001
access-list outside_in remark end of inbound rules
access-list dmz_in extended permit tcp object-group SEG_NODES any eq smtp
access-list dmz_in extended permit tcp object-group SEG_NODES object AM eq 19001
access-list dmz_in extended permit object-group DNS object-group SEG_NODES any eq domain
access-list dmz_in extended permit tcp object-group SEG_NODES any object-group WEB
object-group protocol DNS
 protocol-object udp
 protocol-object tcp
object-group service WEB tcp
 port-object eq www
 port-object eq https
access-group outside_in in interface outside
access-group dmz_in in interface dmz
"""

E2E_SETTINGS = """\
seg:
  version: "10.2"
trusted:
  - 10.0.0.0/8
roles:
  array-manager: [10.0.0.10]
  processing-nodes: [198.51.100.10, 198.51.100.11]
  sql-server: [10.0.0.20]
  dns-servers: [10.0.0.53]
rulesets:
  - files: "edge.cfg"
    zones:
      dmz: [198.51.100.0/28]
      inside: [10.0.0.0/8]
      outside: internet
"""


def e2e_findings(tmp_path: Path) -> list[tuple[str, str, int]]:
    from seglint.api import check

    (tmp_path / "edge.cfg").write_text(E2E_CONFIG, encoding="utf-8")
    (tmp_path / "seglint.yaml").write_text(E2E_SETTINGS, encoding="utf-8")
    result = check([tmp_path / "edge.cfg"], cwd=tmp_path)
    assert result.diagnostics == []
    return sorted({(f.rule_id, f.span.path, f.span.line) for f in result.findings})


def test_e2e_manager_port_exposed(tmp_path: Path) -> None:
    assert ("SEG203", "edge.cfg", 25) in e2e_findings(tmp_path)


def test_e2e_smtp_inbound_blocked_by_implicit_deny(tmp_path: Path) -> None:
    assert ("SEG101", "edge.cfg", 26) in e2e_findings(tmp_path)


def test_e2e_console_exposed_to_nodes(tmp_path: Path) -> None:
    # The nodes have public addresses, and WEB lets them reach the manager's 443.
    assert ("SEG206", "edge.cfg", 30) in e2e_findings(tmp_path)


def test_e2e_required_flows_that_pass(tmp_path: Path) -> None:
    found = {rule_id for rule_id, _path, _line in e2e_findings(tmp_path)}
    # Nodes -> manager 19001 (dmz_in) and manager -> nodes 19001 (inside has
    # no access list: the security-level default lets 100 -> 50 through).
    assert "SEG110" not in found
    assert "SEG111" not in found
    assert "SEG102" not in found
