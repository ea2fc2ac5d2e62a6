"""Terraform AWS resources as IR: security groups, their rules and network ACLs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seglint.formats.base import FileAccess, read_source
from seglint.formats.terraform import TerraformFormat
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

ACCEPT = Action("accept", stateful=True)
ACCEPT_STATELESS = Action("accept", stateful=False)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
UDP = Match(PROTO, IntervalSet.single(17))
WORLD4 = Match(SRC, V4_ALL)
WORLD6 = Match(SRC, V6_ALL)


def parse(tmp_path: Path, files: dict[str, str], main: str = "main.tf") -> ParseResult:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    source = read_source(tmp_path / main, main)
    return TerraformFormat().parse(source, FileAccess(tmp_path, tmp_path))


def only(result: ParseResult) -> Ruleset:
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def rules(ruleset: Ruleset, direction: str = "ingress") -> tuple[Rule, ...]:
    (chain,) = [c for name, c in ruleset.chains.items() if name.endswith(direction)]
    return chain.rules


def conditions(
    ruleset: Ruleset, direction: str = "ingress"
) -> list[tuple[object, ...]]:
    return [rule.conditions for rule in rules(ruleset, direction)]


def sg(ingress: str, extra: str = "") -> str:
    head = 'resource "aws_security_group" "mail" {\n'
    return f"{head}{extra}  ingress {{\n{ingress}  }}\n}}\n"


def test_inline_ingress_exact_rule(tmp_path: Path) -> None:
    text = sg(
        '    from_port   = 1433\n    to_port     = 1433\n    protocol    = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n'
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    (rule,) = rules(ruleset)
    assert rule.conditions == (TCP, WORLD4, Match(DPORT, IntervalSet.single(1433)))
    assert rule.action == ACCEPT
    assert rule.span == Span("main.tf", 2, 3, 7, 3)
    assert rule.label == "ingress of aws_security_group.mail"
    assert rule.text.startswith(
        'ingress { from_port = 1433 to_port = 1433 protocol = "tcp"'
    )


def test_ruleset_shape(tmp_path: Path) -> None:
    ruleset = only(
        parse(
            tmp_path,
            {
                "main.tf": sg(
                    '    protocol = "-1"\n    from_port = 0\n    to_port = 0\n'
                )
            },
        )
    )
    assert ruleset.name == "aws_security_group.mail"
    assert ruleset.kind == "host"
    assert ruleset.families == frozenset({4, 6})
    assert ruleset.format == "terraform"
    assert ruleset.path == "main.tf"
    assert ruleset.hooks == {
        "input": ("aws_security_group.mail ingress",),
        "output": ("aws_security_group.mail egress",),
    }


def test_implicit_policies(tmp_path: Path) -> None:
    ruleset = only(
        parse(
            tmp_path,
            {
                "main.tf": sg(
                    '    protocol = "-1"\n    from_port = 0\n    to_port = 0\n'
                )
            },
        )
    )
    ingress = ruleset.chains["aws_security_group.mail ingress"].policy
    egress = ruleset.chains["aws_security_group.mail egress"]
    assert ingress == Rule(
        Span("main.tf", 1, 1, 7, 1),
        (),
        DROP,
        "implicit deny of aws_security_group.mail ingress",
        implicit=True,
        label="implicit deny of aws_security_group.mail ingress",
    )
    assert egress.rules == ()
    assert egress.policy is not None
    assert egress.policy.action == DROP
    assert egress.policy.implicit
    assert "Terraform removes the default allow-all egress rule" in egress.policy.label


def test_egress_rule(tmp_path: Path) -> None:
    text = (
        'resource "aws_security_group" "s" {\n  egress {\n    from_port = 587\n'
        '    to_port = 587\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert conditions(ruleset, "egress") == [
        (TCP, Match(DST, V4_ALL), Match(DPORT, IntervalSet.single(587)))
    ]
    assert rules(ruleset, "ingress") == ()


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('protocol = "-1"\nfrom_port = 0\nto_port = 0', (WORLD4,)),
        ('protocol = "-1"\nfrom_port = 22\nto_port = 22', (WORLD4,)),
        ('protocol = "all"\nfrom_port = 0\nto_port = 65535', (WORLD4,)),
        ("protocol = -1\nfrom_port = 0\nto_port = 0", (WORLD4,)),
        (
            'protocol = "6"\nfrom_port = 20\nto_port = 21',
            (TCP, WORLD4, Match(DPORT, IntervalSet.single(20, 21))),
        ),
        (
            'protocol = "UDP"\nfrom_port = "53"\nto_port = "53"',
            (UDP, WORLD4, Match(DPORT, IntervalSet.single(53))),
        ),
        (
            "protocol = 50\nfrom_port = 0\nto_port = 0",
            (Match(PROTO, IntervalSet.single(50)), WORLD4),
        ),
        (
            'protocol = "icmp"\nfrom_port = 8\nto_port = 0',
            (
                Match(PROTO, IntervalSet.single(1)),
                WORLD4,
                Match(ICMP, IntervalSet.single(2048)),
            ),
        ),
        (
            'protocol = "icmp"\nfrom_port = 3\nto_port = -1',
            (
                Match(PROTO, IntervalSet.single(1)),
                WORLD4,
                Match(ICMP, IntervalSet.single(768, 1023)),
            ),
        ),
        (
            'protocol = "icmp"\nfrom_port = -1\nto_port = -1',
            (Match(PROTO, IntervalSet.single(1)), WORLD4),
        ),
        (
            'protocol = "58"\nfrom_port = 128\nto_port = 0',
            (
                Match(PROTO, IntervalSet.single(58)),
                WORLD4,
                Match(ICMP, IntervalSet.single(32768)),
            ),
        ),
    ],
)
def test_protocols_and_ports(
    tmp_path: Path, attributes: str, expected: tuple[object, ...]
) -> None:
    body = textwrap.indent(attributes + '\ncidr_blocks = ["0.0.0.0/0"]\n', "    ")
    assert conditions(only(parse(tmp_path, {"main.tf": sg(body)}))) == [expected]


def test_every_source_kind_is_a_rule(tmp_path: Path) -> None:
    body = (
        '    from_port = 25\n    to_port = 25\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n    ipv6_cidr_blocks = ["::/0"]\n'
        '    prefix_list_ids = ["pl-1"]\n    security_groups = ["sg-2"]\n'
        "    self = true\n"
    )
    result = parse(tmp_path, {"main.tf": sg(body)})
    ruleset = only(result)
    found = rules(ruleset)
    port = Match(DPORT, IntervalSet.single(25))
    assert [rule.conditions[1:2] for rule in found[:2]] == [(WORLD4,), (WORLD6,)]
    unknowns = [rule.conditions[1] for rule in found[2:]]
    assert [u.text for u in unknowns] == [  # type: ignore[union-attr]
        'prefix_list_ids = ["pl-1"]',
        'security_groups = ["sg-2"]',
        "self = true",
    ]
    assert all(isinstance(u, Unknown) for u in unknowns)
    assert all(
        rule.conditions[0] == TCP and rule.conditions[-1] == port for rule in found
    )
    assert {rule.span for rule in found} == {Span("main.tf", 2, 3, 11, 3)}
    assert len({rule.text for rule in found}) == 5
    assert [d.span.line for d in ruleset.diagnostics] == [8, 9, 10]


@pytest.mark.parametrize(
    "ipv6", ["ipv6_cidr_blocks = null", "ipv6_cidr_blocks = []", ""]
)
def test_null_empty_missing_mean_none(tmp_path: Path, ipv6: str) -> None:
    body = (
        f'    from_port = 1433\n    to_port = 1433\n    protocol = "tcp"\n'
        f'    cidr_blocks = ["0.0.0.0/0"]\n    {ipv6}\n'
    )
    assert conditions(only(parse(tmp_path, {"main.tf": sg(body)}))) == [
        (TCP, WORLD4, Match(DPORT, IntervalSet.single(1433)))
    ]


def test_spelled_out_ipv6_zero_prefix(tmp_path: Path) -> None:
    body = (
        '    from_port = 1433\n    to_port = 1433\n    protocol = "tcp"\n'
        '    ipv6_cidr_blocks = ["0:0:0:0:0:0:0:0/0"]\n'
    )
    assert conditions(only(parse(tmp_path, {"main.tf": sg(body)})))[0][1] == WORLD6


def test_unknown_source_becomes_unknown_condition(tmp_path: Path) -> None:
    files = {
        "main.tf": sg(
            '    from_port = 25\n    to_port = 25\n    protocol = "tcp"\n'
            "    cidr_blocks = var.ingress\n"
        ),
        "variables.tf": 'variable "ingress" {\n  type = list(string)\n}\n',
    }
    ruleset = only(parse(tmp_path, files))
    unknown = Unknown(
        "cidr_blocks = var.ingress",
        Span("main.tf", 6, 5, 6, 29),
        "terraform:src:var.ingress",
    )
    assert conditions(ruleset) == [(TCP, unknown, Match(DPORT, IntervalSet.single(25)))]
    (diagnostic,) = ruleset.diagnostics
    assert diagnostic.rule_id == "SEG902"
    assert diagnostic.level == "warning"
    assert diagnostic.span == unknown.span


def test_partly_known_source_list(tmp_path: Path) -> None:
    body = (
        '    from_port = 25\n    to_port = 25\n    protocol = "tcp"\n'
        '    cidr_blocks = ["10.0.0.0/8", "${data.x.y.cidr}"]\n'
    )
    found = conditions(only(parse(tmp_path, {"main.tf": sg(body)})))
    assert found[0][1] == Match(SRC, addresses(["10.0.0.0/8"]))
    assert isinstance(found[1][1], Unknown)


def test_terraform_011_list_in_string(tmp_path: Path) -> None:
    files = {
        "main.tf": sg(
            '    from_port = 25\n    to_port = 25\n    protocol = "tcp"\n'
            '    cidr_blocks = ["${var.nets}"]\n'
        ),
        "variables.tf": 'variable "nets" {\n  default = ["192.0.2.0/24"]\n}\n',
    }
    found = conditions(only(parse(tmp_path, files)))
    assert found == [
        (
            TCP,
            Match(SRC, addresses(["192.0.2.0/24"])),
            Match(DPORT, IntervalSet.single(25)),
        )
    ]


def test_unknown_port(tmp_path: Path) -> None:
    body = (
        '    from_port = var.p\n    to_port = var.p\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n'
    )
    found = conditions(only(parse(tmp_path, {"main.tf": sg(body)})))
    assert found[0][:2] == (TCP, WORLD4)
    assert isinstance(found[0][2], Unknown)
    assert found[0][2].text == "from_port = var.p"  # type: ignore[union-attr]


def test_port_out_of_range_is_parse_error(tmp_path: Path) -> None:
    body = (
        '    from_port = 0\n    to_port = 70000\n    protocol = "tcp"\n'
        "    cidr_blocks = []\n"
    )
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, {"main.tf": sg(body)})
    assert caught.value.span == Span("main.tf", 4, 5, 4, 19)


def test_invalid_cidr_is_parse_error(tmp_path: Path) -> None:
    body = (
        '    from_port = 1\n    to_port = 1\n    protocol = "tcp"\n'
        '    cidr_blocks = ["10.0.0.0/33"]\n'
    )
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, {"main.tf": sg(body)})
    assert caught.value.span.line == 6


# --- rule resources -------------------------------------------------------------------


SG_RULE = """\
resource "aws_security_group_rule" "{name}" {{
  type              = "{kind}"
  from_port         = {port}
  to_port           = {port}
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = {group}
}}
"""


def test_rule_attached_to_group_in_other_file(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_security_group" "mail" {\n}\n',
        "rules.tf": SG_RULE.format(
            name="sql", kind="ingress", port=1433, group="aws_security_group.mail.id"
        ),
    }
    ruleset = only(parse(tmp_path, files))
    (rule,) = rules(ruleset)
    assert rule.span == Span("rules.tf", 1, 1, 8, 1)
    assert rule.conditions == (TCP, WORLD4, Match(DPORT, IntervalSet.single(1433)))
    assert parse(tmp_path, files, "rules.tf").rulesets == (ruleset,)


def test_rule_attached_with_011_interpolation(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_security_group" "mail" {\n}\n'
        + SG_RULE.format(
            name="out", kind="egress", port=25, group='"${aws_security_group.mail.id}"'
        ),
    }
    ruleset = only(parse(tmp_path, files))
    assert [r.span.line for r in rules(ruleset, "egress")] == [3]


def test_rule_with_literal_group_id_is_own_ruleset(tmp_path: Path) -> None:
    text = SG_RULE.format(name="sql_v6", kind="ingress", port=1433, group='"sg-0123"')
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert ruleset.name == "aws_security_group_rule.sql_v6"
    assert ruleset.hooks == {"input": ("aws_security_group_rule.sql_v6 ingress",)}
    policy = ruleset.chains["aws_security_group_rule.sql_v6 ingress"].policy
    assert policy is not None
    assert policy.span.line == 1


def test_rules_of_same_group_id_share_a_ruleset(tmp_path: Path) -> None:
    text = (
        SG_RULE.format(name="a", kind="ingress", port=25, group='"sg-1"')
        + SG_RULE.format(name="b", kind="ingress", port=53, group='"sg-1"')
        + SG_RULE.format(name="c", kind="ingress", port=80, group='"sg-2"')
    )
    result = parse(tmp_path, {"main.tf": text})
    assert [r.name for r in result.rulesets] == [
        "aws_security_group_rule.a",
        "aws_security_group_rule.c",
    ]
    assert [r.span.line for r in rules(result.rulesets[0])] == [1, 9]


def test_for_each_rule_resource(tmp_path: Path) -> None:
    text = """\
        resource "aws_security_group" "mail" {
        }

        resource "aws_security_group_rule" "in" {
          for_each          = {smtp = 25, https = 443}
          type              = "ingress"
          from_port         = each.value
          to_port           = each.value
          protocol          = "tcp"
          cidr_blocks       = ["0.0.0.0/0"]
          security_group_id = aws_security_group.mail.id
        }
        """
    found = rules(only(parse(tmp_path, {"main.tf": text})))
    assert [r.span.line for r in found] == [4, 4]
    assert [r.conditions[2] for r in found] == [
        Match(DPORT, IntervalSet.single(443)),
        Match(DPORT, IntervalSet.single(25)),
    ]


def test_counted_group_and_indexed_rule(tmp_path: Path) -> None:
    text = """\
        resource "aws_security_group" "g" {
          count = 2
        }

        resource "aws_security_group_rule" "r" {
          type              = "ingress"
          from_port         = 22
          to_port           = 22
          protocol          = "tcp"
          cidr_blocks       = ["0.0.0.0/0"]
          security_group_id = aws_security_group.g[1].id
        }
        """
    result = parse(tmp_path, {"main.tf": text})
    assert [r.name for r in result.rulesets] == [
        "aws_security_group.g[0]",
        "aws_security_group.g[1]",
    ]
    assert [len(rules(r)) for r in result.rulesets] == [0, 1]


def test_vpc_ingress_and_egress_rules(tmp_path: Path) -> None:
    text = """\
        resource "aws_security_group" "mail" {
        }

        resource "aws_vpc_security_group_ingress_rule" "all" {
          security_group_id = aws_security_group.mail.id
          ip_protocol       = "-1"
          cidr_ipv6         = "::/0"
        }

        resource "aws_vpc_security_group_egress_rule" "dns" {
          security_group_id            = aws_security_group.mail.id
          ip_protocol                  = "udp"
          from_port                    = 53
          to_port                      = 53
          referenced_security_group_id = "sg-9"
        }
        """
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert conditions(ruleset) == [(WORLD6,)]
    (egress,) = conditions(ruleset, "egress")
    assert egress[0] == UDP
    assert isinstance(egress[1], Unknown)
    assert egress[2] == Match(DPORT, IntervalSet.single(53))
    assert [r.span.line for r in rules(ruleset)] == [4]


def test_dynamic_ingress_rules_at_dynamic_block(tmp_path: Path) -> None:
    text = """\
        locals {
          ports = [25, 465]
        }

        resource "aws_security_group" "mail" {
          dynamic "ingress" {
            for_each = local.ports
            iterator = port
            content {
              from_port   = port.value
              to_port     = port.value
              protocol    = "tcp"
              cidr_blocks = ["0.0.0.0/0"]
            }
          }
        }
        """
    found = rules(only(parse(tmp_path, {"main.tf": text})))
    assert [r.span for r in found] == [Span("main.tf", 6, 3, 15, 3)] * 2
    assert [r.conditions[2] for r in found] == [
        Match(DPORT, IntervalSet.single(25)),
        Match(DPORT, IntervalSet.single(465)),
    ]
    assert found[0].text.endswith("(port.key=0)")


def test_dynamic_with_unknown_for_each(tmp_path: Path) -> None:
    text = """\
        resource "aws_security_group" "mail" {
          dynamic "ingress" {
            for_each = var.rules
            content {
              from_port   = 1433
              to_port     = 1433
              protocol    = "tcp"
              cidr_blocks = ["0.0.0.0/0"]
            }
          }
        }
        """
    (rule,) = rules(only(parse(tmp_path, {"main.tf": text})))
    assert rule.conditions[:3] == (TCP, WORLD4, Match(DPORT, IntervalSet.single(1433)))
    assert isinstance(rule.conditions[3], Unknown)
    assert rule.conditions[3].text == "for_each = var.rules"  # type: ignore[union-attr]


def test_bad_rule_fails_own_file(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "aws_security_group" "mail" {\n}\n',
        "bad.tf": SG_RULE.format(
            name="x", kind="ingress", port=99999, group="aws_security_group.mail.id"
        ),
    }
    assert only(parse(tmp_path, files)).name == "aws_security_group.mail"
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, files, "bad.tf")
    assert caught.value.span.path == "bad.tf"
    assert caught.value.span.line == 3


# --- network ACLs ---------------------------------------------------------------------


NACL = """\
resource "aws_network_acl" "main" {
  ingress {
    rule_no    = 200
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = "0.0.0.0/0"
  }
  ingress {
    rule_no    = 100
    action     = "deny"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "198.51.100.0/24"
  }
  ingress {
    rule_no         = 150
    action          = "allow"
    protocol        = "icmp"
    icmp_type       = 3
    icmp_code       = 4
    ipv6_cidr_block = "::/0"
  }
}
"""


def test_nacl_order_and_actions(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, {"main.tf": NACL}))
    found = rules(ruleset)
    assert [r.span.line for r in found] == [10, 18, 2]
    assert [r.action for r in found] == [DROP, ACCEPT_STATELESS, ACCEPT_STATELESS]
    assert found[0].conditions == (Match(SRC, addresses(["198.51.100.0/24"])),)
    assert found[1].conditions == (
        Match(PROTO, IntervalSet.single(1)),
        WORLD6,
        Match(ICMP, IntervalSet.single(3 * 256 + 4)),
    )
    assert found[2].conditions == (
        TCP,
        WORLD4,
        Match(DPORT, IntervalSet.single(1024, 65535)),
    )


def test_nacl_implicit_deny(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, {"main.tf": NACL}))
    chain = ruleset.chains["aws_network_acl.main egress"]
    assert chain.rules == ()
    assert chain.policy is not None
    assert chain.policy.implicit
    assert chain.policy.label == "aws_network_acl.main egress rule * (deny all)"
    assert chain.policy.span.line == 1


def test_nacl_rule_resource(tmp_path: Path) -> None:
    text = (
        NACL
        + """\
resource "aws_network_acl_rule" "out" {
  network_acl_id = aws_network_acl.main.id
  rule_number    = 100
  egress         = true
  protocol       = "tcp"
  rule_action    = "allow"
  cidr_block     = "0.0.0.0/0"
  from_port      = 25
  to_port        = 25
}
"""
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    (rule,) = rules(ruleset, "egress")
    assert rule.conditions == (
        TCP,
        Match(DST, V4_ALL),
        Match(DPORT, IntervalSet.single(25)),
    )
    assert rule.action == ACCEPT_STATELESS


def test_directive_ties_group_and_acl(tmp_path: Path) -> None:
    text = (
        "# seglint: host=array-manager\n"
        + NACL
        + "# seglint: host=array-manager\n"
        + 'resource "aws_security_group" "am" {\n}\n'
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert ruleset.name == "aws_network_acl.main + aws_security_group.am"
    assert ruleset.directives == {"host": "array-manager"}
    assert ruleset.hooks == {
        "input": ("aws_network_acl.main ingress", "aws_security_group.am ingress"),
        "output": ("aws_security_group.am egress", "aws_network_acl.main egress"),
    }


def test_directive_merges_groups_of_one_host(tmp_path: Path) -> None:
    text = """\
        # seglint: host=processing-nodes
        resource "aws_security_group" "smtp" {
          ingress {
            from_port   = 25
            to_port     = 25
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }

        # seglint: host=processing-nodes
        resource "aws_security_group" "dns" {
          egress {
            from_port   = 53
            to_port     = 53
            protocol    = "udp"
            cidr_blocks = ["10.0.0.53/32"]
          }
        }
        """
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert ruleset.hooks == {
        "input": ("aws_security_group.smtp ingress",),
        "output": ("aws_security_group.smtp egress",),
    }
    assert [r.span.line for r in rules(ruleset)] == [3]
    assert [r.span.line for r in rules(ruleset, "egress")] == [13]
