"""CloudFormation format: security groups, rule resources, intrinsic functions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seglint.formats.base import FileAccess, read_source
from seglint.formats.cloudformation import CloudFormationFormat
from seglint.ir import (
    Action,
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
    SRC,
    V4_ALL,
    V6_ALL,
    IntervalSet,
    addresses,
)

REPO = Path(__file__).resolve().parents[2]
ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))

HEAD = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  AdminCidr: {Type: String, Default: 10.0.50.0/24}
  NoDefault: {Type: String}
  Hosts: {Type: CommaDelimitedList, Default: "192.0.2.1/32,192.0.2.2/32"}
  Port: {Type: Number, Default: 25}
  Env: {Type: String, Default: prod}
Mappings:
  Nets:
    Office: {Cidr: 203.0.113.0/24}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Unknown: !Equals [!Ref NoDefault, x]
Resources:
"""


def template(body: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(body), "  ")


def group(ingress: str = "", egress: str | None = None, name: str = "Sg") -> str:
    """Return a security group resource with the given inline lists (YAML items)."""
    text = (
        f"{name}:\n  Type: AWS::EC2::SecurityGroup\n"
        "  Properties:\n    GroupDescription: x\n"
    )
    if ingress:
        text += "    SecurityGroupIngress:\n" + textwrap.indent(
            textwrap.dedent(ingress), "      "
        )
    if egress is not None:
        text += "    SecurityGroupEgress:" + (
            " []\n"
            if not egress
            else "\n" + textwrap.indent(textwrap.dedent(egress), "      ")
        )
    return text


def parse(tmp_path: Path, text: str, name: str = "stack.yaml") -> ParseResult:
    location = tmp_path / name
    location.write_text(text, encoding="utf-8")
    source = read_source(location, name)
    return CloudFormationFormat().parse(source, FileAccess(tmp_path, tmp_path))


def only(result: ParseResult, name: str = "Sg") -> Ruleset:
    return next(item for item in result.rulesets if item.name == name)


def ingress(result: ParseResult, name: str = "Sg") -> list[tuple]:
    return [rule.conditions for rule in only(result, name).chains["ingress"].rules]


def warnings(result: ParseResult) -> list:
    return [d for d in result.diagnostics if d.level == "warning"]


def line_of(text: str, needle: str, start: int = 1) -> int:
    lines = text.split("\n")
    return next(n for n in range(start, len(lines) + 1) if needle in lines[n - 1])


def value_span(text: str, needle: str, path: str = "stack.yaml") -> Span:
    """Return the span of a property value: from its first column to the line's end."""
    number = line_of(text, needle)
    line = text.split("\n")[number - 1]
    column = line.index(needle) + len(needle) + 1
    while line[column - 1] == " ":
        column += 1
    return Span(path, number, column, number, len(line.rstrip()))


# --- detection ----------------------------------------------------------------

DETECT_CASES = [
    ("version key", 'AWSTemplateFormatVersion: "2010-09-09"\n', 2),
    ("resources yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n", 2),
    ("resources json", '{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup"}}}', 2),
    ("seglint config", "roles:\n  array-manager: [10.0.0.10]\n", 0),
    ("kubernetes", "apiVersion: v1\nkind: Service\n", 0),
    ("terraform", 'resource "aws_security_group" "x" {}\n', 0),
]


@pytest.mark.parametrize(
    ("label", "head", "score"), DETECT_CASES, ids=[c[0] for c in DETECT_CASES]
)
def test_detect(label: str, head: str, score: int) -> None:
    assert CloudFormationFormat().detect("stack.yaml", head) == score


# --- security groups ----------------------------------------------------------


def test_inline_ingress_exact_rule(tmp_path: Path) -> None:
    text = template(
        group("""\
        - Description: smtp
          IpProtocol: tcp
          FromPort: 25
          ToPort: 25
          CidrIp: 0.0.0.0/0
        """)
    )
    result = parse(tmp_path, text)
    item = line_of(text, "- Description: smtp")
    dash = text.split("\n")[item - 1].index("-") + 1
    last = text.split("\n")[item + 3]
    assert only(result).chains["ingress"].rules == (
        Rule(
            Span("stack.yaml", item, dash, item + 4, len(last)),
            (TCP, Match(DPORT, IntervalSet.single(25)), Match(SRC, V4_ALL)),
            ACCEPT,
            "Sg ingress IpProtocol=tcp FromPort=25 ToPort=25 CidrIp=0.0.0.0/0",
            label="ingress rule of Sg",
        ),
    )
    assert result.diagnostics == ()


def test_group_ruleset_shape(tmp_path: Path) -> None:
    text = template(
        group("- {IpProtocol: tcp, FromPort: 25, ToPort: 25, CidrIp: 0.0.0.0/0}\n")
    )
    item = only(parse(tmp_path, text))
    resource = line_of(text, "  Sg:")
    span = Span("stack.yaml", resource, 3, resource, 5)
    assert item.hooks == {"input": ("ingress",), "output": ("egress",)}
    assert item.families == frozenset({4, 6})
    assert item.kind == "host"
    assert item.format == "cloudformation"
    assert item.chains["ingress"].policy == Rule(
        span,
        (),
        DROP,
        "security group Sg default deny inbound",
        implicit=True,
        label="security group Sg default deny inbound",
    )
    assert item.chains["egress"].policy == Rule(
        span,
        (),
        ACCEPT,
        "security group Sg default egress rule (allow all)",
        implicit=True,
        label="security group Sg default egress rule (allow all)",
    )


EGRESS_CASES = [
    ("absent", None, ACCEPT),
    ("empty list", "", ACCEPT),
    (
        "listed",
        "- {IpProtocol: udp, FromPort: 53, ToPort: 53, CidrIp: 10.0.0.53/32}\n",
        DROP,
    ),
]


@pytest.mark.parametrize(
    ("label", "egress", "policy"), EGRESS_CASES, ids=[c[0] for c in EGRESS_CASES]
)
def test_default_egress(
    tmp_path: Path, label: str, egress: str | None, policy: Action
) -> None:
    item = only(parse(tmp_path, template(group(egress=egress))))
    assert item.chains["egress"].policy.action == policy  # type: ignore[union-attr]


def test_egress_rule_uses_destination(tmp_path: Path) -> None:
    text = template(
        group(
            egress="- {IpProtocol: udp, FromPort: 53, ToPort: 53, "
            "CidrIp: 10.0.0.53/32}\n"
        )
    )
    assert [
        r.conditions for r in only(parse(tmp_path, text)).chains["egress"].rules
    ] == [
        (
            UDP,
            Match(DPORT, IntervalSet.single(53)),
            Match(DST, addresses(["10.0.0.53"])),
        ),
    ]


PROTOCOL_CASES = [
    ("-1", "IpProtocol: -1", ()),
    ("quoted -1", 'IpProtocol: "-1"', ()),
    ("all", "IpProtocol: all", ()),
    ("numeric tcp", 'IpProtocol: "6"', (TCP, Match(DPORT, IntervalSet.single(25)))),
    ("numeric udp", "IpProtocol: 17", (UDP, Match(DPORT, IntervalSet.single(25)))),
    ("gre ignores ports", "IpProtocol: 47", (Match(PROTO, IntervalSet.single(47)),)),
    ("upper case", "IpProtocol: TCP", (TCP, Match(DPORT, IntervalSet.single(25)))),
]


@pytest.mark.parametrize(
    ("label", "line", "expected"), PROTOCOL_CASES, ids=[c[0] for c in PROTOCOL_CASES]
)
def test_protocols(tmp_path: Path, label: str, line: str, expected: tuple) -> None:
    text = template(
        group(f"- {line}\n  FromPort: 25\n  ToPort: 25\n  CidrIp: 0.0.0.0/0\n")
    )
    assert ingress(parse(tmp_path, text)) == [(*expected, Match(SRC, V4_ALL))]


ICMP_CASES = [
    ("icmp", -1, -1, ()),
    ("icmp", 8, -1, (Match(ICMP, IntervalSet.single(8 * 256, 8 * 256 + 255)),)),
    ("icmp", 3, 4, (Match(ICMP, IntervalSet.single(3 * 256 + 4)),)),
    ("icmpv6", 128, 0, (Match(ICMP, IntervalSet.single(128 * 256)),)),
]


@pytest.mark.parametrize(("protocol", "low", "high", "expected"), ICMP_CASES)
def test_icmp_type_and_code(
    tmp_path: Path, protocol: str, low: int, high: int, expected: tuple
) -> None:
    text = template(
        group(
            f"- {{IpProtocol: {protocol}, FromPort: {low}, ToPort: {high}, "
            "CidrIp: 0.0.0.0/0}\n"
        )
    )
    number = 1 if protocol == "icmp" else 58
    assert ingress(parse(tmp_path, text)) == [
        (Match(PROTO, IntervalSet.single(number)), *expected, Match(SRC, V4_ALL)),
    ]


CIDR_CASES = [
    ("CidrIpv6: ::/0", V6_ALL),
    ("CidrIpv6: 0:0:0:0:0:0:0:0/0", V6_ALL),
    ("CidrIpv6: 2001:db8::/32", addresses(["2001:db8::/32"])),
    ("CidrIp: 10.1.2.3/8", addresses(["10.0.0.0/8"])),
]


@pytest.mark.parametrize(("line", "values"), CIDR_CASES)
def test_cidr_values(tmp_path: Path, line: str, values: IntervalSet) -> None:
    text = template(
        group(f"- IpProtocol: tcp\n  FromPort: 1433\n  ToPort: 1433\n  {line}\n")
    )
    assert ingress(parse(tmp_path, text)) == [
        (TCP, Match(DPORT, IntervalSet.single(1433)), Match(SRC, values)),
    ]


PEER_CASES = [
    "SourceSecurityGroupId: sg-0123",
    "SourcePrefixListId: pl-0123",
    "SourceSecurityGroupName: web",
]


@pytest.mark.parametrize("line", PEER_CASES)
def test_group_and_prefix_list_peers_unknown(tmp_path: Path, line: str) -> None:
    text = template(
        group(f"- IpProtocol: tcp\n  FromPort: 25\n  ToPort: 25\n  {line}\n")
    )
    result = parse(tmp_path, text)
    key, value = line.split(": ")
    span = value_span(text, f"{key}:")
    assert ingress(result) == [
        (
            TCP,
            Match(DPORT, IntervalSet.single(25)),
            Unknown(f"{key} {value}", span, f"cfn:{key}:{value}"),
        ),
    ]
    assert [d.span for d in warnings(result)] == [span]


def test_several_peers_are_a_union(tmp_path: Path) -> None:
    text = template(
        group(
            "- IpProtocol: tcp\n  FromPort: 25\n  ToPort: 25\n"
            "  SourceSecurityGroupId: sg-1\n  CidrIp: 0.0.0.0/0\n"
            "  CidrIpv6: ::/0\n"
        )
    )
    found = ingress(parse(tmp_path, text))
    assert [c[-1] for c in found[:2]] == [Match(SRC, V4_ALL), Match(SRC, V6_ALL)]
    assert isinstance(found[2][-1], Unknown)
    assert len(found) == 3


INVALID_CASES = [
    (
        "missing protocol",
        "- {FromPort: 25, ToPort: 25, CidrIp: 0.0.0.0/0}\n",
        "IpProtocol",
    ),
    ("bad protocol", "- {IpProtocol: smtp, CidrIp: 0.0.0.0/0}\n", "IpProtocol"),
    ("missing ports", "- {IpProtocol: tcp, CidrIp: 0.0.0.0/0}\n", "FromPort"),
    (
        "port -1 for tcp",
        "- {IpProtocol: tcp, FromPort: -1, ToPort: -1, CidrIp: 0.0.0.0/0}\n",
        "FromPort",
    ),
    (
        "bad cidr",
        "- {IpProtocol: tcp, FromPort: 1, ToPort: 2, CidrIp: ten}\n",
        "CidrIp",
    ),
    (
        "v6 in CidrIp",
        "- {IpProtocol: tcp, FromPort: 1, ToPort: 2, CidrIp: '::/0'}\n",
        "CidrIp",
    ),
    ("no peer", "- {IpProtocol: tcp, FromPort: 1, ToPort: 2}\n", "source"),
]


@pytest.mark.parametrize(
    ("label", "item", "what"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_values_unknown(
    tmp_path: Path, label: str, item: str, what: str
) -> None:
    result = parse(tmp_path, template(group(item)))
    (conditions,) = ingress(result)
    unknowns = [c for c in conditions if isinstance(c, Unknown)]
    assert len(unknowns) == 1
    assert unknowns[0].text.startswith(what)
    assert len(warnings(result)) == 1


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("- {IpProtocol: tcp, FromPort: 30, ToPort: 20, CidrIp: 0.0.0.0/0}\n",
         "invalid port range 30-20"),
        ("- {IpProtocol: tcp, FromPort: 1, ToPort: 70000, CidrIp: 0.0.0.0/0}\n",
         "invalid ToPort 70000"),
    ],
)
def test_invalid_port_range_is_parse_error(tmp_path: Path, item: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, template(group(item)))
    assert caught.value.message.startswith(message)


# --- rule resources -----------------------------------------------------------

ATTACH_CASES = [
    "GroupId: !Ref Sg",
    "GroupId: !GetAtt Sg.GroupId",
    "GroupId: {'Fn::GetAtt': [Sg, GroupId]}",
    "GroupId: {Ref: Sg}",
    "GroupName: !Ref Sg",
]


@pytest.mark.parametrize("reference", ATTACH_CASES)
def test_ingress_resource_attaches(tmp_path: Path, reference: str) -> None:
    text = template(
        group("- {IpProtocol: tcp, FromPort: 25, ToPort: 25, CidrIp: 0.0.0.0/0}\n")
        + "Extra:\n  Type: AWS::EC2::SecurityGroupIngress\n  Properties:\n"
        f"    {reference}\n    IpProtocol: tcp\n    FromPort: 443\n"
        "    ToPort: 443\n    CidrIp: !Ref AdminCidr\n"
    )
    result = parse(tmp_path, text)
    assert [item.name for item in result.rulesets] == ["Sg"]
    rules = only(result).chains["ingress"].rules
    resource = line_of(text, "  Extra:")
    assert rules[1].span == Span(
        "stack.yaml", resource, 3, resource + 7, len("      CidrIp: !Ref AdminCidr")
    )
    assert rules[1].conditions == (
        TCP,
        Match(DPORT, IntervalSet.single(443)),
        Match(SRC, addresses(["10.0.50.0/24"])),
    )


def test_egress_resource_keeps_default(tmp_path: Path) -> None:
    text = template(
        group() + "Out:\n  Type: AWS::EC2::SecurityGroupEgress\n  Properties:\n"
        "    GroupId: !Ref Sg\n    IpProtocol: tcp\n    FromPort: 25\n"
        "    ToPort: 25\n    CidrIp: 0.0.0.0/0\n"
    )
    egress = only(parse(tmp_path, text)).chains["egress"]
    assert len(egress.rules) == 1
    assert egress.policy.action == ACCEPT  # type: ignore[union-attr]


def test_orphan_rule_resource_own_ruleset(tmp_path: Path) -> None:
    text = template(
        "# seglint: host=array-manager\n"
        "Lone:\n  Type: AWS::EC2::SecurityGroupIngress\n  Properties:\n"
        "    GroupId: !ImportValue shared-sg\n    IpProtocol: tcp\n"
        "    FromPort: 19001\n    ToPort: 19001\n    CidrIp: 0.0.0.0/0\n"
    )
    result = parse(tmp_path, text)
    lone = only(result, "Lone")
    resource = line_of(text, "  Lone:")
    assert lone.hooks == {"input": ("ingress",)}
    assert lone.directives == {"host": "array-manager"}
    assert [r.conditions for r in lone.chains["ingress"].rules] == [
        (TCP, Match(DPORT, IntervalSet.single(19001)), Match(SRC, V4_ALL)),
    ]
    assert lone.chains["ingress"].policy.span.line == resource  # type: ignore[union-attr]
    assert lone.chains["ingress"].policy.action == DROP  # type: ignore[union-attr]
    assert [d.level for d in result.diagnostics] == ["note"]


# --- intrinsic functions ------------------------------------------------------

RESOLVED_CASES = [
    ("!Ref AdminCidr", "10.0.50.0/24"),
    ("!Sub '${AdminCidr}'", "10.0.50.0/24"),
    ("!Sub ['${Net}/32', {Net: 192.0.2.9}]", "192.0.2.9/32"),
    ("!Join ['', ['192.0.2.', '0/24']]", "192.0.2.0/24"),
    ("!Select [1, !Split [',', '192.0.2.1/32,192.0.2.2/32']]", "192.0.2.2/32"),
    ("!Select [0, !Ref Hosts]", "192.0.2.1/32"),
    ("!FindInMap [Nets, Office, Cidr]", "203.0.113.0/24"),
    ("!If [IsProd, 192.0.2.0/24, 198.51.100.0/24]", "192.0.2.0/24"),
    ("!If [IsDev, 192.0.2.0/24, 198.51.100.0/24]", "198.51.100.0/24"),
    ("{Ref: AdminCidr}", "10.0.50.0/24"),
    ("{'Fn::Sub': '${AdminCidr}'}", "10.0.50.0/24"),
    ("{'Fn::Join': ['/', [192.0.2.0, 24]]}", "192.0.2.0/24"),
]


@pytest.mark.parametrize(("expression", "cidr"), RESOLVED_CASES)
def test_intrinsics_resolved(tmp_path: Path, expression: str, cidr: str) -> None:
    text = template(
        group(
            f"- IpProtocol: tcp\n  FromPort: !Ref Port\n  ToPort: 25\n"
            f"  CidrIp: {expression}\n"
        )
    )
    result = parse(tmp_path, text)
    assert ingress(result) == [
        (TCP, Match(DPORT, IntervalSet.single(25)), Match(SRC, addresses([cidr]))),
    ]
    assert warnings(result) == []


UNRESOLVED_CASES = [
    ("!Ref NoDefault", "parameter NoDefault has no Default"),
    ("!Ref AWS::Region", "known only when the stack is created"),
    ("!Sub '${NoDefault}/32'", "NoDefault not known"),
    ("!ImportValue shared-cidr", "Fn::ImportValue is not evaluated"),
    ("!Select [0, !GetAZs '']", "Fn::GetAZs is not evaluated"),
    ("!Select [0, !Cidr [10.0.0.0/16, 4, 8]]", "Fn::Cidr is not evaluated"),
    ("!GetAtt Other.CidrBlock", "Fn::GetAtt is not evaluated"),
    ("!FindInMap [Nets, Home, Cidr]", "mapping entry Nets.Home.Cidr not found"),
    ("!If [Unknown, 192.0.2.0/24, 198.51.100.0/24]", "condition Unknown is not known"),
    ("!Base64 abc", "Fn::Base64 is not evaluated"),
    ("!Frobnicate x", "unknown tag !Frobnicate"),
    (
        "!!python/object/apply:os.system ['true']",
        "unknown tag !!python/object/apply:os.system",
    ),
]


@pytest.mark.parametrize(("expression", "reason"), UNRESOLVED_CASES)
def test_intrinsics_unresolved(tmp_path: Path, expression: str, reason: str) -> None:
    text = template(
        group(
            f"- IpProtocol: tcp\n  FromPort: 25\n  ToPort: 25\n  CidrIp: {expression}\n"
        )
    )
    result = parse(tmp_path, text)
    span = value_span(text, "CidrIp:")
    (conditions,) = ingress(result)
    assert conditions[:2] == (TCP, Match(DPORT, IntervalSet.single(25)))
    assert isinstance(conditions[2], Unknown)
    assert conditions[2].span == span
    assert conditions[2].text.startswith("CidrIp ")
    (warning,) = warnings(result)
    assert warning.span == span
    assert reason in warning.message


def test_unresolved_same_key_shared(tmp_path: Path) -> None:
    text = template(
        group(
            "- {IpProtocol: tcp, FromPort: 25, ToPort: 25, CidrIp: !Ref NoDefault}\n"
            "- {IpProtocol: udp, FromPort: 53, ToPort: 53, CidrIp: !Ref NoDefault}\n"
        )
    )
    keys = {c[-1].key for c in ingress(parse(tmp_path, text))}
    assert keys == {"cfn:CidrIp:!Ref NoDefault"}


def test_if_item_unknown_condition(tmp_path: Path) -> None:
    text = template(
        group(
            "- !If\n  - Unknown\n  - {IpProtocol: tcp, FromPort: 22, ToPort: 22, "
            "CidrIp: 0.0.0.0/0}\n  - !Ref AWS::NoValue\n"
        )
    )
    result = parse(tmp_path, text)
    line = line_of(text, "- !If")
    condition = Unknown(
        "condition Unknown",
        Span("stack.yaml", line, 1, line, len("        - !If")),
        "cfn:condition:Unknown",
    )
    assert ingress(result) == [
        (condition, TCP, Match(DPORT, IntervalSet.single(22)), Match(SRC, V4_ALL)),
    ]
    assert [d.span.line for d in warnings(result)] == [line]


def test_if_item_known_condition(tmp_path: Path) -> None:
    text = template(
        group(
            "- !If [IsDev, {IpProtocol: tcp, FromPort: 22, ToPort: 22, "
            "CidrIp: 0.0.0.0/0}, !Ref AWS::NoValue]\n"
            "- {IpProtocol: tcp, FromPort: 25, ToPort: 25, CidrIp: 0.0.0.0/0}\n"
        )
    )
    assert ingress(parse(tmp_path, text)) == [
        (TCP, Match(DPORT, IntervalSet.single(25)), Match(SRC, V4_ALL)),
    ]


def test_if_list_unknown_condition_both_branches(tmp_path: Path) -> None:
    text = template(
        "Sg:\n  Type: AWS::EC2::SecurityGroup\n  Properties:\n    GroupDescription: x\n"
        "    SecurityGroupIngress: !If\n      - Unknown\n"
        "      - [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}]\n"
        "      - [{IpProtocol: tcp, FromPort: 25, ToPort: 25, CidrIp: 0.0.0.0/0}]\n"
    )
    found = ingress(parse(tmp_path, text))
    assert [(c[0].text, c[0].negated, c[2]) for c in found] == [
        ("condition Unknown", False, Match(DPORT, IntervalSet.single(22))),
        ("condition Unknown", True, Match(DPORT, IntervalSet.single(25))),
    ]


def test_unresolved_list_unknown(tmp_path: Path) -> None:
    text = template(
        "Sg:\n  Type: AWS::EC2::SecurityGroup\n  Properties:\n    GroupDescription: x\n"
        "    SecurityGroupEgress: !Ref NoDefault\n"
    )
    item = only(parse(tmp_path, text))
    (rule,) = item.chains["egress"].rules
    assert isinstance(rule.conditions[0], Unknown)
    assert rule.action == ACCEPT
    assert item.chains["egress"].policy.action == DROP  # type: ignore[union-attr]


def test_resource_condition_false_skipped(tmp_path: Path) -> None:
    text = template(
        "Sg:\n  Type: AWS::EC2::SecurityGroup\n  Condition: IsDev\n"
        "  Properties: {GroupDescription: x}\n"
    )
    result = parse(tmp_path, text)
    assert result.rulesets == ()
    assert [d.level for d in result.diagnostics] == ["note"]


# --- directives, JSON, errors -------------------------------------------------


def test_directive_above_resource(tmp_path: Path) -> None:
    text = template(
        '# SEG node group\n# seglint: host=processing-nodes zones="dmz"\n'
        + group(name="Node")
        + "\n# seglint: host=array-manager\n\n"
        + group(name="Manager")
    )
    result = parse(tmp_path, text)
    assert only(result, "Node").directives == {
        "host": "processing-nodes",
        "zones": "dmz",
    }
    assert only(result, "Manager").directives == {}


def test_json_template(tmp_path: Path) -> None:
    text = (
        '{\n  "AWSTemplateFormatVersion": "2010-09-09",\n'
        '  "Parameters": {"Net": {"Type": "String", "Default": "::/0"}},\n'
        '  "Resources": {\n    "Sg": {\n      "Type": "AWS::EC2::SecurityGroup",\n'
        '      "Properties": {\n        "GroupDescription": "x",\n'
        '        "SecurityGroupIngress": [\n'
        '          {"IpProtocol": "tcp", "FromPort": 1433, "ToPort": 1433,\n'
        '           "CidrIpv6": {"Ref": "Net"}}\n        ]\n      }\n    }\n  }\n}\n'
    )
    result = parse(tmp_path, text, "stack.json")
    rules = only(result).chains["ingress"].rules
    assert rules[0].conditions == (
        TCP,
        Match(DPORT, IntervalSet.single(1433)),
        Match(SRC, V6_ALL),
    )
    assert rules[0].span == Span(
        "stack.json", 10, 11, 11, len('           "CidrIpv6": {"Ref": "Net"}}')
    )


ERROR_CASES = [
    ("bad yaml", "AWSTemplateFormatVersion: x\nResources:\n  A: [1\n  B: 2\n", 4, 4),
    (
        "duplicate key",
        "Resources:\n  A: {Type: AWS::EC2::SecurityGroup}\n  A: {Type: x}\n",
        3,
        3,
    ),
    ("no resources", "AWSTemplateFormatVersion: x\n", 1, 1),
    ("not a mapping", "- a\n- b\n", 1, 1),
]


@pytest.mark.parametrize(
    ("label", "text", "line", "column"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES]
)
def test_parse_errors(
    tmp_path: Path, label: str, text: str, line: int, column: int
) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text)
    assert (caught.value.span.line, caught.value.span.column) == (line, column)


def test_billion_laughs_aliases(tmp_path: Path) -> None:
    lines = [
        "AWSTemplateFormatVersion: x",
        "Resources:",
        "  Sg:",
        "    Type: AWS::EC2::SecurityGroup",
        "    Metadata:",
        "      a0: &a0 [x, x]",
    ]
    lines += [
        f"      a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]"
        for n in range(1, 30)
    ]
    lines += ["    Properties: {GroupDescription: x}"]
    result = parse(tmp_path, "\n".join(lines) + "\n")
    assert [item.name for item in result.rulesets] == ["Sg"]


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
    assert findings([REPO / "examples" / "cloudformation"], REPO) == [
        ("SEG102", "examples/cloudformation/processing-node.yaml", 18),
        ("SEG203", "examples/cloudformation/array-manager.yaml", 49),
    ]


def test_protocol_all_zero_config(tmp_path: Path) -> None:
    text = (
        "AWSTemplateFormatVersion: x\nResources:\n  Open:\n"
        "    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
        "      GroupDescription: x\n      SecurityGroupIngress:\n"
        "        - IpProtocol: -1\n          FromPort: 0\n          ToPort: 0\n"
        "          CidrIp: 0.0.0.0/0\n"
    )
    (tmp_path / "open.yaml").write_text(text, encoding="utf-8")
    assert findings([tmp_path / "open.yaml"], tmp_path) == [
        (rule, "open.yaml", 8)
        for rule in (
            "SEG201",
            "SEG202",
            "SEG203",
            "SEG204",
            "SEG205",
            "SEG206",
            "SEG207",
        )
    ]


def test_ipv6_world_zero_config(tmp_path: Path) -> None:
    text = (
        "AWSTemplateFormatVersion: x\nResources:\n  Sql:\n"
        "    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
        "      GroupDescription: x\n      SecurityGroupIngress:\n"
        "        - {IpProtocol: tcp, FromPort: 1433, ToPort: 1433,"
        " CidrIp: 10.0.0.0/8}\n"
        "        - {IpProtocol: tcp, FromPort: 1433, ToPort: 1433,"
        " CidrIpv6: '::/0'}\n"
    )
    (tmp_path / "sql.yaml").write_text(text, encoding="utf-8")
    assert findings([tmp_path / "sql.yaml"], tmp_path) == [("SEG204", "sql.yaml", 9)]
