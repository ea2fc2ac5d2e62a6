"""Windows Firewall format: netsh text, CSV exports, profiles and block-wins order."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.formats.base import FileAccess, read_source
from seglint.formats.windows_firewall import WindowsFirewallFormat
from seglint.ir import (
    Action,
    Chain,
    Match,
    ParseError,
    ParseResult,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import (
    DPORT,
    DST,
    ICMP,
    PROTO,
    SPORT,
    SRC,
    V6_ALL,
    IntervalSet,
    address_range,
    addresses,
)

REPO = Path(__file__).resolve().parents[2]
ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))

FIELD_ORDER = (
    "Description",
    "Enabled",
    "Direction",
    "Profiles",
    "Grouping",
    "LocalIP",
    "RemoteIP",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "Edge traversal",
    "Program",
    "Service",
    "InterfaceTypes",
    "Security",
    "Rule source",
    "Action",
)


def netsh_rule(
    name: str, icmp: list[tuple[str, str]] | None = None, **fields: str
) -> str:
    """Return one rule block as netsh prints it (keys padded to column 39)."""
    values = {
        "Enabled": "Yes",
        "Direction": "In",
        "Profiles": "Domain,Private,Public",
        "Grouping": "",
        "LocalIP": "Any",
        "RemoteIP": "Any",
        "Protocol": "TCP",
        "LocalPort": "Any",
        "RemotePort": "Any",
        "Edge traversal": "No",
        "Program": "Any",
        "InterfaceTypes": "Any",
        "Security": "NotRequired",
        "Rule source": "Local Setting",
        "Action": "Allow",
    }
    values.update({key.replace("_", " "): value for key, value in fields.items()})
    lines = [f"{'Rule Name:':<38}{name}", "-" * 70]
    for key in FIELD_ORDER:
        if key not in values or values[key] is None:
            continue
        lines.append(f"{key + ':':<38}{values[key]}".rstrip())
        if key == "Protocol" and icmp:
            lines.append(f"{'':38}Type    Code")
            lines.extend(f"{'':38}{kind:<8}{code}" for kind, code in icmp)
    return "\n".join(lines) + "\n"


def profiles(
    domain: str = "ON",
    policy: str = "BlockInbound,AllowOutbound",
    names: tuple[str, ...] = ("Domain", "Private", "Public"),
) -> str:
    blocks = []
    for name in names:
        blocks.append(
            f"{name} Profile Settings:\n{'-' * 70}\n{'State':<38}{domain}\n"
            f"{'Firewall Policy':<38}{policy}\n"
            f"{'LocalFirewallRules':<38}N/A (GPO-store only)\n\n"
        )
    return "".join(blocks) + "Ok.\n\n"


def parse(
    tmp_path: Path,
    text: str,
    name: str = "rules.txt",
    siblings: dict[str, str] | None = None,
) -> ParseResult:
    for sibling, content in (siblings or {}).items():
        (tmp_path / sibling).write_text(content, encoding="utf-8")
    location = tmp_path / name
    location.write_bytes(text.encode("utf-8"))
    source = read_source(location, name)
    return WindowsFirewallFormat().parse(source, FileAccess(tmp_path, tmp_path))


def ruleset(result: ParseResult, profile: str = "domain") -> Ruleset:
    return next(item for item in result.rulesets if item.name == profile)


def rules(result: ParseResult, chain: str, profile: str = "domain") -> tuple[Rule, ...]:
    return ruleset(result, profile).chains[chain].rules


def conditions(result: ParseResult, chain: str = "allow-in") -> list[tuple]:
    return [rule.conditions for rule in rules(result, chain)]


def warnings(result: ParseResult) -> list:
    return [
        d for d in result.diagnostics if d.rule_id == "SEG902" and d.level == "warning"
    ]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def full_span(text: str, number: int, path: str = "rules.txt", column: int = 1) -> Span:
    line = text.split("\n")[number - 1]
    return Span(path, number, column, number, len(line.rstrip()))


# --- detection ----------------------------------------------------------------

DETECT_CASES = [
    ("netsh rules", netsh_rule("web", LocalPort="80"), 2),
    ("netsh profiles only", profiles(), 2),
    (
        "rule csv",
        '"Name","DisplayName","Enabled","Direction","Profile","Action",'
        '"Protocol","LocalPort","RemotePort","LocalAddress","RemoteAddress"\n',
        2,
    ),
    (
        "profile csv",
        '"Name","Enabled","DefaultInboundAction","DefaultOutboundAction"\n',
        2,
    ),
    (
        "iptables",
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 25 -j ACCEPT\nCOMMIT\n",
        0,
    ),
    ("other csv", "name,port\nsmtp,25\n", 0),
    ("localised netsh", "Regelname:                            web\n", 0),
]


@pytest.mark.parametrize(
    ("label", "head", "score"), DETECT_CASES, ids=[c[0] for c in DETECT_CASES]
)
def test_detect(label: str, head: str, score: int) -> None:
    assert WindowsFirewallFormat().detect("rules.txt", head) == score


# --- block wins, order, profiles ----------------------------------------------


def test_block_wins_over_earlier_allow(tmp_path: Path) -> None:
    text = (
        netsh_rule("allow smtp", LocalPort="25")
        + "\n"
        + netsh_rule(
            "block bad net",
            RemoteIP="203.0.113.0/24",
            Protocol="Any",
            LocalPort=None,
            RemotePort=None,
            Action="Block",
        )
    )
    result = parse(tmp_path, text)
    domain = ruleset(result)
    assert domain.hooks == {
        "input": ("block-in", "allow-in"),
        "output": ("block-out", "allow-out"),
    }
    block_line = line_of(text, "block bad net")
    last = len(text.split("\n")) - 1
    assert domain.chains["block-in"].rules == (
        Rule(
            Span("rules.txt", block_line, 1, last, len("Action:") + 31 + len("Block")),
            (Match(SRC, addresses(["203.0.113.0/24"])),),
            DROP,
            'rule "block bad net" dir=in action=block profiles=domain,private,public '
            "interfacetypes=Any localip=Any program=Any protocol=Any "
            "remoteip=203.0.113.0/24 "
            "security=NotRequired",
            label='rule "block bad net"',
        ),
    )
    assert conditions(result) == [(TCP, Match(DPORT, IntervalSet.single(25)))]
    assert rules(result, "allow-in")[0].action == ACCEPT
    assert rules(result, "allow-in")[0].span.line == 1


def test_block_chain_policy_is_implicit_accept(tmp_path: Path) -> None:
    text = profiles() + netsh_rule("web", LocalPort="80")
    policy = ruleset(parse(tmp_path, text)).chains["block-in"].policy
    assert policy is not None
    assert policy.action == ACCEPT
    assert policy.implicit is True
    assert policy.conditions == ()


def test_disabled_rules_ignored(tmp_path: Path) -> None:
    text = netsh_rule("off", Enabled="No", LocalPort="RPC", Program=r"C:\x.exe")
    result = parse(tmp_path, text)
    for profile in ("domain", "private", "public"):
        for chain in ruleset(result, profile).chains.values():
            assert chain.rules == ()
    assert [d.rule_id for d in result.diagnostics if d.level == "warning"] == []


PROFILE_CASES = [
    ("Domain", {"domain"}),
    ("Private", {"private"}),
    ("Public", {"public"}),
    ("Domain,Public", {"domain", "public"}),
    ("Any", {"domain", "private", "public"}),
]


@pytest.mark.parametrize(("written", "expected"), PROFILE_CASES)
def test_rule_in_listed_profiles(
    tmp_path: Path, written: str, expected: set[str]
) -> None:
    result = parse(tmp_path, netsh_rule("web", Profiles=written, LocalPort="80"))
    assert [item.name for item in result.rulesets] == ["domain", "private", "public"]
    found = {item.name for item in result.rulesets if item.chains["allow-in"].rules}
    assert found == expected


def test_ruleset_metadata(tmp_path: Path) -> None:
    item = ruleset(parse(tmp_path, netsh_rule("web", LocalPort="80")))
    assert item.format == "windows-firewall"
    assert item.kind == "host"
    assert item.families == frozenset({4, 6})
    assert item.path == "rules.txt"


# --- profile settings ---------------------------------------------------------


def test_policy_points_at_firewall_policy_line(tmp_path: Path) -> None:
    text = profiles() + netsh_rule("web", LocalPort="80")
    item = ruleset(parse(tmp_path, text), "private")
    number = (
        line_of(text.split("Private Profile")[1], "Firewall Policy")
        + line_of(text, "Private Profile")
        - 1
    )
    span = full_span(text, number)
    assert item.chains["allow-in"].policy == Rule(
        span,
        (),
        DROP,
        "private profile Firewall Policy BlockInbound,AllowOutbound",
        label="private profile policy BlockInbound",
    )
    assert item.chains["allow-out"].policy == Rule(
        span,
        (),
        ACCEPT,
        "private profile Firewall Policy BlockInbound,AllowOutbound",
        label="private profile policy AllowOutbound",
    )


def test_policy_implicit_without_profiles(tmp_path: Path) -> None:
    result = parse(tmp_path, netsh_rule("web", LocalPort="80"))
    policy = ruleset(result, "public").chains["allow-in"].policy
    assert policy is not None
    assert policy.span == Span("rules.txt", 1)
    assert policy.implicit is True
    assert policy.action == DROP
    out = ruleset(result, "public").chains["allow-out"].policy
    assert out is not None
    assert out.action == ACCEPT
    notes = [d for d in result.diagnostics if d.level == "note"]
    assert len(notes) == 1
    assert notes[0].span.line == 1


POLICY_CASES = [
    ("BlockInbound,AllowOutbound", DROP, ACCEPT, ACCEPT),
    ("AllowInbound,AllowOutbound", ACCEPT, ACCEPT, ACCEPT),
    ("BlockInbound,BlockOutbound", DROP, DROP, ACCEPT),
    ("BlockInboundAlways,AllowOutbound", DROP, ACCEPT, DROP),
]


@pytest.mark.parametrize(("policy", "inbound", "outbound", "block_end"), POLICY_CASES)
def test_firewall_policy_values(
    tmp_path: Path, policy: str, inbound: Action, outbound: Action, block_end: Action
) -> None:
    item = ruleset(
        parse(tmp_path, profiles(policy=policy) + netsh_rule("web", LocalPort="80"))
    )
    assert item.chains["allow-in"].policy.action == inbound  # type: ignore[union-attr]
    assert item.chains["allow-out"].policy.action == outbound  # type: ignore[union-attr]
    assert item.chains["block-in"].policy.action == block_end  # type: ignore[union-attr]


def test_not_configured_policy_uses_defaults(tmp_path: Path) -> None:
    text = profiles(policy="NotConfigured,NotConfigured") + netsh_rule(
        "web", LocalPort="80"
    )
    policy = ruleset(parse(tmp_path, text)).chains["allow-in"].policy
    assert policy is not None
    assert policy.action == DROP
    assert policy.implicit is True
    assert policy.span.line == line_of(text, "Firewall Policy")


def test_profile_state_off_accepts_all(tmp_path: Path) -> None:
    text = profiles(domain="OFF") + netsh_rule("block", LocalPort="80", Action="Block")
    item = ruleset(parse(tmp_path, text), "public")
    number = (
        line_of(text.split("Public Profile")[1], "State")
        + line_of(text, "Public Profile")
        - 1
    )
    policy = Rule(
        full_span(text, number),
        (),
        ACCEPT,
        "public profile State OFF",
        label="public profile State OFF",
    )
    assert item.hooks == {"input": ("off-in",), "output": ("off-out",)}
    assert item.chains["off-in"] == Chain("off-in", (), policy)
    assert item.chains["off-out"] == Chain("off-out", (), policy)


def test_current_profile_only(tmp_path: Path) -> None:
    text = profiles(policy="AllowInbound,AllowOutbound", names=("Private",))
    result = parse(tmp_path, text + netsh_rule("web", LocalPort="80"))
    assert ruleset(result, "private").chains["allow-in"].policy.action == ACCEPT  # type: ignore[union-attr]
    assert ruleset(result, "domain").chains["allow-in"].policy.action == DROP  # type: ignore[union-attr]


# --- keywords and values ------------------------------------------------------

ADDRESS_KEYWORDS = [
    "LocalSubnet",
    "Internet",
    "Intranet",
    "DNS",
    "DHCP",
    "WINS",
    "DefaultGateway",
    "PlayToDevice",
    "IntranetRemoteAccess",
]


@pytest.mark.parametrize("keyword", ADDRESS_KEYWORDS)
def test_address_keyword_unknown(tmp_path: Path, keyword: str) -> None:
    text = netsh_rule("web", LocalPort="80", RemoteIP=keyword)
    result = parse(tmp_path, text)
    span = full_span(text, line_of(text, "RemoteIP:"))
    assert conditions(result) == [
        (
            TCP,
            Unknown(
                f"remote address keyword {keyword}",
                span,
                f"winfw:src:{keyword.lower()}",
            ),
            Match(DPORT, IntervalSet.single(80)),
        ),
    ]
    found = warnings(result)
    assert [(d.span, d.level) for d in found] == [(span, "warning")]
    assert keyword in found[0].message


PORT_KEYWORDS = ["RPC", "RPC-EPMap", "IPHTTPS", "Teredo", "Ply2Disc", "mDNS"]


@pytest.mark.parametrize("keyword", PORT_KEYWORDS)
def test_port_keyword_unknown(tmp_path: Path, keyword: str) -> None:
    text = netsh_rule("svc", LocalPort=keyword)
    result = parse(tmp_path, text)
    span = full_span(text, line_of(text, "LocalPort:"))
    assert conditions(result) == [
        (
            TCP,
            Unknown(
                f"local port keyword {keyword}", span, f"winfw:dport:{keyword.lower()}"
            ),
        ),
    ]
    assert [d.span.line for d in warnings(result)] == [span.line]


VALUE_CASES = [
    (
        "RemoteIP",
        "10.0.0.1-10.0.0.9",
        Match(SRC, address_range("10.0.0.1", "10.0.0.9")),
    ),
    ("RemoteIP", "10.0.0.0/8", Match(SRC, addresses(["10.0.0.0/8"]))),
    ("RemoteIP", "10.0.0.0/255.0.0.0", Match(SRC, addresses(["10.0.0.0/8"]))),
    (
        "RemoteIP",
        "192.0.2.7,2001:db8::/32",
        Match(SRC, addresses(["192.0.2.7/32", "2001:db8::/32"])),
    ),
    ("RemoteIP", "::/0", Match(SRC, V6_ALL)),
    ("RemoteIP", "fe80::1-fe80::9", Match(SRC, address_range("fe80::1", "fe80::9"))),
    ("LocalIP", "10.0.0.10", Match(DST, addresses(["10.0.0.10"]))),
    (
        "LocalPort",
        "80,443,5000-5010",
        Match(DPORT, IntervalSet([(80, 80), (443, 443), (5000, 5010)])),
    ),
    ("RemotePort", "1024-65535", Match(SPORT, IntervalSet.single(1024, 65535))),
]


@pytest.mark.parametrize(("key", "value", "expected"), VALUE_CASES)
def test_exact_values(tmp_path: Path, key: str, value: str, expected: Match) -> None:
    result = parse(tmp_path, netsh_rule("r", **{key: value}))
    assert conditions(result) == [(TCP, expected)]
    assert result.diagnostics == () or all(
        d.level == "note" for d in result.diagnostics
    )


def test_outbound_dimensions(tmp_path: Path) -> None:
    text = netsh_rule(
        "smtp out",
        Direction="Out",
        RemoteIP="198.51.100.0/24",
        LocalIP="10.0.0.10",
        RemotePort="25",
        LocalPort="1024-65535",
    )
    result = parse(tmp_path, text)
    assert conditions(result, "allow-out") == [
        (
            TCP,
            Match(DST, addresses(["198.51.100.0/24"])),
            Match(SRC, addresses(["10.0.0.10"])),
            Match(SPORT, IntervalSet.single(1024, 65535)),
            Match(DPORT, IntervalSet.single(25)),
        )
    ]
    assert rules(result, "allow-in") == ()


def test_mixed_list_splits_rules(tmp_path: Path) -> None:
    text = netsh_rule("mixed", RemoteIP="LocalSubnet,10.0.0.0/8", LocalPort="135,RPC")
    result = parse(tmp_path, text)
    remote = full_span(text, line_of(text, "RemoteIP:"))
    local = full_span(text, line_of(text, "LocalPort:"))
    subnet = Unknown(
        "remote address keyword LocalSubnet", remote, "winfw:src:localsubnet"
    )
    rpc = Unknown("local port keyword RPC", local, "winfw:dport:rpc")
    exact_src = Match(SRC, addresses(["10.0.0.0/8"]))
    exact_port = Match(DPORT, IntervalSet.single(135))
    assert conditions(result) == [
        (TCP, exact_src, exact_port),
        (TCP, exact_src, rpc),
        (TCP, subnet, exact_port),
        (TCP, subnet, rpc),
    ]
    assert len(warnings(result)) == 2


PROTOCOL_CASES = [
    ("TCP", (TCP,)),
    ("UDP", (UDP,)),
    ("47", (Match(PROTO, IntervalSet.single(47)),)),
    ("GRE", (Match(PROTO, IntervalSet.single(47)),)),
    ("Any", ()),
    ("ICMPv4", (Match(PROTO, IntervalSet.single(1)),)),
    ("ICMPv6", (Match(PROTO, IntervalSet.single(58)),)),
]


@pytest.mark.parametrize(("protocol", "expected"), PROTOCOL_CASES)
def test_protocols(tmp_path: Path, protocol: str, expected: tuple) -> None:
    text = netsh_rule("p", Protocol=protocol, LocalPort=None, RemotePort=None)
    assert conditions(parse(tmp_path, text)) == [expected]


def test_any_protocol_with_port_limits_to_tcp_udp(tmp_path: Path) -> None:
    text = netsh_rule("p", Protocol="Any", LocalPort="53")
    assert conditions(parse(tmp_path, text)) == [
        (
            Match(PROTO, IntervalSet([(6, 6), (17, 17)])),
            Match(DPORT, IntervalSet.single(53)),
        )
    ]


ICMP_CASES = [
    ([("8", "Any")], IntervalSet.single(8 * 256, 8 * 256 + 255)),
    ([("3", "4")], IntervalSet.single(3 * 256 + 4)),
    ([("0", "Any"), ("8", "Any")], IntervalSet([(0, 255), (8 * 256, 8 * 256 + 255)])),
]


@pytest.mark.parametrize(("pairs", "values"), ICMP_CASES)
def test_icmp_type_code_rows(tmp_path: Path, pairs: list, values: IntervalSet) -> None:
    text = netsh_rule(
        "ping", Protocol="ICMPv4", LocalPort=None, RemotePort=None, icmp=pairs
    )
    assert conditions(parse(tmp_path, text)) == [
        (Match(PROTO, IntervalSet.single(1)), Match(ICMP, values)),
    ]


def test_icmp_any_type_no_condition(tmp_path: Path) -> None:
    text = netsh_rule(
        "ping",
        Protocol="ICMPv6",
        LocalPort=None,
        RemotePort=None,
        icmp=[("Any", "Any")],
    )
    assert conditions(parse(tmp_path, text)) == [
        (Match(PROTO, IntervalSet.single(58)),)
    ]


RESTRICTION_CASES = [
    (
        "Program",
        r"C:\Program Files\Trustwave\x.exe",
        "program restriction",
        r"winfw:program:c:\program files\trustwave\x.exe",
    ),
    ("Service", "dnscache", "service restriction", "winfw:service:dnscache"),
    ("InterfaceTypes", "LAN", "interface type restriction", "winfw:interfacetypes:lan"),
    ("Security", "Authenticate", "IPsec requirement", "winfw:security:authenticate"),
]


@pytest.mark.parametrize(("key", "value", "what", "unknown_key"), RESTRICTION_CASES)
def test_restrictions_unknown(
    tmp_path: Path, key: str, value: str, what: str, unknown_key: str
) -> None:
    text = netsh_rule("r", LocalPort="25", **{key: value})
    result = parse(tmp_path, text)
    span = full_span(text, line_of(text, f"{key}:"))
    assert conditions(result) == [
        (
            TCP,
            Unknown(f"{what} {value}", span, unknown_key),
            Match(DPORT, IntervalSet.single(25)),
        ),
    ]
    assert [d.span for d in warnings(result)] == [span]


def test_edge_traversal_ignored(tmp_path: Path) -> None:
    text = netsh_rule("r", LocalPort="25", Edge_traversal="Yes")
    result = parse(tmp_path, text)
    assert conditions(result) == [(TCP, Match(DPORT, IntervalSet.single(25)))]
    assert result.diagnostics == () or all(
        d.level == "note" for d in result.diagnostics
    )


def test_unknown_field_unknown(tmp_path: Path) -> None:
    text = netsh_rule("r", LocalPort="25").replace(
        "Action:",
        "RemoteComputerGroup:                  O:LSD:(A;;CC;;;S-1-5-21)\nAction:",
    )
    result = parse(tmp_path, text)
    span = full_span(text, line_of(text, "RemoteComputerGroup:"))
    unknown = Unknown(
        "field RemoteComputerGroup O:LSD:(A;;CC;;;S-1-5-21)",
        span,
        "winfw:remotecomputergroup:o:lsd:(a;;cc;;;s-1-5-21)",
    )
    assert conditions(result) == [(TCP, unknown, Match(DPORT, IntervalSet.single(25)))]


def test_bypass_rule_tops_both_chains(tmp_path: Path) -> None:
    text = (
        netsh_rule(
            "block all", Protocol="Any", LocalPort=None, RemotePort=None, Action="Block"
        )
        + "\n"
        + netsh_rule("bypass", LocalPort="3389", Action="Bypass")
    )
    result = parse(tmp_path, text)
    line = line_of(text, "bypass")
    block_chain = rules(result, "block-in")
    allow_chain = rules(result, "allow-in")
    assert [rule.span.line for rule in block_chain] == [line, 1]
    assert block_chain[0] == allow_chain[0]
    assert block_chain[0].action == ACCEPT
    assert block_chain[0].conditions[1].key == "winfw:ipsec-bypass"  # type: ignore[union-attr]


# --- spans, input quirks and errors -------------------------------------------


def test_rule_span_covers_block(tmp_path: Path) -> None:
    text = (
        "\n\n" + netsh_rule("web", LocalPort="80", Description="Web server") + "Ok.\n"
    )
    rule = rules(parse(tmp_path, text), "allow-in")[0]
    action_line = line_of(text, "Action:")
    assert rule.span == Span(
        "rules.txt", 3, 1, action_line, len("Action:") + 31 + len("Allow")
    )


def test_crlf_input(tmp_path: Path) -> None:
    text = (profiles() + netsh_rule("web", LocalPort="80")).replace("\n", "\r\n")
    result = parse(tmp_path, text)
    rule = rules(result, "allow-in")[0]
    assert rule.conditions == (TCP, Match(DPORT, IntervalSet.single(80)))
    assert rule.span.line == line_of(text, "Rule Name:")


ERROR_CASES = [
    ("missing action", netsh_rule("web", Action=None), "Rule Name:", "no Action"),
    (
        "bad direction",
        netsh_rule("web", Direction="Sideways"),
        "Direction:",
        "invalid direction",
    ),
    ("bad enabled", netsh_rule("web", Enabled="Maybe"), "Enabled:", "invalid enabled"),
    (
        "bad profile",
        netsh_rule("web", Profiles="Home"),
        "Profiles:",
        "invalid profiles",
    ),
    ("no rules", "hello\n", "hello", "no Windows Firewall rules"),
]


@pytest.mark.parametrize(
    ("label", "text", "needle", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
def test_parse_errors(
    tmp_path: Path, label: str, text: str, needle: str, message: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text)
    assert message in caught.value.message
    assert caught.value.span.line == line_of(text, needle)


# --- CSV export ---------------------------------------------------------------

CSV_HEADER = (
    '"Name","DisplayName","Enabled","Direction","Profile","Action","Protocol",'
    '"LocalPort","RemotePort","IcmpType","LocalAddress","RemoteAddress","Program",'
    '"Service"\n'
)


def csv_row(
    display: str,
    enabled: str = "True",
    direction: str = "Inbound",
    profile: str = "Any",
    action: str = "Allow",
    protocol: str = "TCP",
    local_port: str = "Any",
    remote_port: str = "Any",
    icmp: str = "Any",
    local: str = "Any",
    remote: str = "Any",
    program: str = "Any",
    service: str = "Any",
) -> str:
    cells = [
        display.replace(" ", "-").replace("\n", "-"),
        display,
        enabled,
        direction,
        profile,
        action,
        protocol,
        local_port,
        remote_port,
        icmp,
        local,
        remote,
        program,
        service,
    ]
    return ",".join(f'"{cell}"' for cell in cells) + "\n"


def test_csv_rules_and_row_spans(tmp_path: Path) -> None:
    text = (
        "#TYPE System.Management.Automation.PSCustomObject\n"
        + CSV_HEADER
        + csv_row("SEG SMTP", local_port="25", remote="10.0.0.0/255.0.0.0")
        + csv_row(
            "Block SMTP out", direction="Outbound", action="Block", remote_port="25"
        )
        + csv_row("Old", enabled="False", local_port="445")
    )
    result = parse(tmp_path, text, "rules.csv")
    allow = rules(result, "allow-in")
    block = rules(result, "block-out")
    assert [rule.conditions for rule in allow] == [
        (
            TCP,
            Match(SRC, addresses(["10.0.0.0/8"])),
            Match(DPORT, IntervalSet.single(25)),
        ),
    ]
    assert allow[0].span == Span("rules.csv", 3, 1, 3, len(text.split("\n")[2]))
    assert allow[0].label == 'rule "SEG SMTP"'
    assert [rule.conditions for rule in block] == [
        (TCP, Match(DPORT, IntervalSet.single(25)))
    ]
    assert block[0].span.line == 4
    assert block[0].action == DROP


def test_csv_profiles_column(tmp_path: Path) -> None:
    text = CSV_HEADER + csv_row("RDP", profile="Domain, Private", local_port="3389")
    result = parse(tmp_path, text, "rules.csv")
    assert len(rules(result, "allow-in", "domain")) == 1
    assert len(rules(result, "allow-in", "private")) == 1
    assert rules(result, "allow-in", "public") == ()


def test_csv_icmp_and_keywords(tmp_path: Path) -> None:
    text = CSV_HEADER + csv_row(
        "PMTU", protocol="ICMPv4", icmp="3:4", remote="LocalSubnet", program=r"System"
    )
    result = parse(tmp_path, text, "rules.csv")
    program = cell_span(text, 2, '"System"')
    remote = cell_span(text, 2, '"LocalSubnet"')
    assert conditions(result) == [
        (
            Match(PROTO, IntervalSet.single(1)),
            Match(ICMP, IntervalSet.single(3 * 256 + 4)),
            Unknown("program restriction System", program, "winfw:program:system"),
            Unknown(
                "remote address keyword LocalSubnet", remote, "winfw:src:localsubnet"
            ),
        )
    ]
    assert [d.span for d in warnings(result)] == [program, remote]


def cell_span(text: str, number: int, cell: str) -> Span:
    """Return the span of a quoted cell of a CSV line, quotes included."""
    start = text.split("\n")[number - 1].index(cell) + 1
    return Span("rules.csv", number, start, number, start + len(cell) - 1)


def test_csv_multiline_cell_keeps_lines(tmp_path: Path) -> None:
    text = (
        CSV_HEADER
        + csv_row("two\nlines", local_port="80")
        + csv_row("next", local_port="81")
    )
    result = parse(tmp_path, text, "rules.csv")
    assert [rule.span.line for rule in rules(result, "allow-in")] == [2, 4]
    assert rules(result, "allow-in")[0].span.end_line == 3


CSV_ERRORS = [
    ("array not joined", csv_row("x", remote="System.Object[]"), "System.Object[]"),
    ("bad direction", csv_row("x", direction="Both"), "invalid Direction"),
    ("bad enabled", csv_row("x", enabled="Sometimes"), "invalid Enabled"),
    ("short row", '"a","b"\n', "columns"),
]


@pytest.mark.parametrize(
    ("label", "row", "message"), CSV_ERRORS, ids=[c[0] for c in CSV_ERRORS]
)
def test_csv_errors(tmp_path: Path, label: str, row: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, CSV_HEADER + row, "rules.csv")
    assert message in caught.value.message
    assert caught.value.span.line == 2


def test_csv_object_array_points_at_cell(tmp_path: Path) -> None:
    text = CSV_HEADER + csv_row("x", remote="System.Object[]")
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text, "rules.csv")
    assert caught.value.span == cell_span(text, 2, '"System.Object[]"')


PROFILE_CSV = (
    '"Name","Enabled","DefaultInboundAction","DefaultOutboundAction",'
    '"AllowInboundRules"\n'
    '"Domain","True","Block","Block","True"\n'
    '"Private","False","Block","Allow","True"\n'
    '"Public","True","Block","Allow","False"\n'
)


def test_sibling_profile_csv(tmp_path: Path) -> None:
    text = CSV_HEADER + csv_row("web", local_port="80")
    result = parse(tmp_path, text, "node-rules.csv", {"node-profiles.csv": PROFILE_CSV})
    domain = ruleset(result, "domain").chains["allow-out"].policy
    assert domain is not None
    assert domain.action == DROP
    assert domain.span == Span(
        "node-profiles.csv", 2, 1, 2, len(PROFILE_CSV.split("\n")[1])
    )
    assert domain.implicit is False
    assert ruleset(result, "private").hooks == {
        "input": ("off-in",),
        "output": ("off-out",),
    }
    public = ruleset(result, "public").chains["block-in"].policy
    assert public is not None
    assert public.action == DROP


def test_sibling_profile_text(tmp_path: Path) -> None:
    text = netsh_rule("web", LocalPort="80")
    result = parse(
        tmp_path,
        text,
        "am-rules.txt",
        {"am-profiles.txt": profiles(policy="AllowInbound,AllowOutbound")},
    )
    policy = ruleset(result).chains["allow-in"].policy
    assert policy is not None
    assert policy.action == ACCEPT
    assert policy.span.path == "am-profiles.txt"
    assert policy.span.line == 4


def test_sibling_profile_longest_prefix(tmp_path: Path) -> None:
    text = netsh_rule("web", LocalPort="80")
    result = parse(
        tmp_path,
        text,
        "am-rules.txt",
        {
            "am-profiles.txt": profiles(policy="AllowInbound,AllowOutbound"),
            "node-profiles.txt": profiles(),
        },
    )
    assert ruleset(result).chains["allow-in"].policy.span.path == "am-profiles.txt"  # type: ignore[union-attr]


def test_sibling_profile_tie_warns(tmp_path: Path) -> None:
    text = netsh_rule("web", LocalPort="80")
    result = parse(
        tmp_path,
        text,
        "rules.txt",
        {
            "a.txt": profiles(policy="AllowInbound,AllowOutbound"),
            "b.txt": profiles(),
        },
    )
    policy = ruleset(result).chains["allow-in"].policy
    assert policy is not None
    assert policy.span == Span("rules.txt", 1)
    found = warnings(result)
    assert len(found) == 1
    assert "a.txt, b.txt" in found[0].message


def test_sibling_with_rules_not_used(tmp_path: Path) -> None:
    other = profiles(policy="AllowInbound,AllowOutbound") + netsh_rule(
        "x", LocalPort="1"
    )
    result = parse(
        tmp_path, netsh_rule("web", LocalPort="80"), "rules.txt", {"other.txt": other}
    )
    assert ruleset(result).chains["allow-in"].policy.span.path == "rules.txt"  # type: ignore[union-attr]


def test_profile_only_file_has_no_rulesets(tmp_path: Path) -> None:
    assert parse(tmp_path, profiles(), "profiles.txt") == ParseResult()


# --- end to end ---------------------------------------------------------------

api = pytest.importorskip("seglint.api")


def findings(paths: list[Path], cwd: Path) -> list[tuple[str, str, int]]:
    result = api.check(paths, cwd=cwd)
    return sorted(
        (f.rule_id, f.span.path, f.span.line)
        for f in result.findings
        if f.level in ("error", "warning")
    )


def test_examples_end_to_end() -> None:
    assert findings([REPO / "examples" / "windows"], REPO) == [
        ("SEG102", "examples/windows/node-1.csv", 8),
        ("SEG203", "examples/windows/array-manager.txt", 76),
    ]


def test_zero_config_exposure(tmp_path: Path) -> None:
    text = (
        netsh_rule("sql", LocalPort="1433")
        + "\n"
        + netsh_rule(
            "sql block", LocalPort="1433", RemoteIP="203.0.113.0/24", Action="Block"
        )
        + "\n"
        + netsh_rule("netbios", LocalPort="135-139", Enabled="No")
    )
    (tmp_path / "host.txt").write_text(text, encoding="utf-8")
    assert findings([tmp_path / "host.txt"], tmp_path) == [("SEG204", "host.txt", 1)]
