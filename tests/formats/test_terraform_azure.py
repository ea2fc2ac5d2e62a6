"""Terraform Azure network security groups as IR: priorities, defaults, service tags."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seglint.formats._tf_azure import LOAD_BALANCER, PLATFORM, PRIVATE
from seglint.formats.base import FileAccess, read_source
from seglint.formats.terraform import TerraformFormat
from seglint.ir import (
    Action,
    InterfaceMatch,
    Match,
    ParseError,
    ParseResult,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import DPORT, DST, PROTO, SPORT, SRC, IntervalSet, addresses

ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
TCP_UDP = Match(PROTO, IntervalSet([(6, 6), (17, 17)]))


def parse(tmp_path: Path, files: dict[str, str], main: str = "main.tf") -> ParseResult:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    source = read_source(tmp_path / main, main)
    return TerraformFormat().parse(source, FileAccess(tmp_path, tmp_path))


def only(result: ParseResult) -> Ruleset:
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def chain_rules(ruleset: Ruleset, direction: str = "inbound") -> tuple[Rule, ...]:
    (chain,) = [c for name, c in ruleset.chains.items() if name.endswith(direction)]
    return chain.rules


def user_rules(ruleset: Ruleset, direction: str = "inbound") -> list[Rule]:
    return [r for r in chain_rules(ruleset, direction) if not r.implicit]


def rule(priority: int, **attributes: str) -> str:
    values = {
        "name": f'"r{priority}"',
        "priority": str(priority),
        "direction": '"Inbound"',
        "access": '"Allow"',
        "protocol": '"Tcp"',
        "source_port_range": '"*"',
        "destination_port_range": '"443"',
        "source_address_prefix": '"*"',
        "destination_address_prefix": '"*"',
    }
    values.update(attributes)
    lines = "".join(f"    {key} = {value}\n" for key, value in values.items() if value)
    return f"  security_rule {{\n{lines}  }}\n"


def nsg(*rules: str, directive: str = "") -> str:
    head = f"# seglint: {directive}\n" if directive else ""
    return (
        head
        + 'resource "azurerm_network_security_group" "nsg" {\n  name = "nsg"\n'
        + "".join(rules)
        + "}\n"
    )


def test_priority_order_and_actions(tmp_path: Path) -> None:
    text = nsg(rule(300), rule(100, access='"Deny"', destination_port_range='"1433"'))
    found = user_rules(only(parse(tmp_path, {"main.tf": text})))
    assert [r.span.line for r in found] == [14, 3]
    assert [r.action for r in found] == [DROP, ACCEPT]
    assert found[0].conditions == (TCP, Match(DPORT, IntervalSet.single(1433)))
    assert (
        found[0].label
        == "security_rule r100 (priority 100) of azurerm_network_security_group.nsg"
    )
    assert found[1].span == Span("main.tf", 3, 3, 13, 3)


def test_default_rules(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, {"main.tf": nsg(rule(100))}))
    inbound = chain_rules(ruleset)
    span = Span("main.tf", 1, 1, 14, 1)
    vnet_src = (
        Match(SRC, PRIVATE),
        Unknown("VirtualNetwork", span, "azure:src:VirtualNetwork"),
    )
    vnet_dst = (
        Match(DST, PRIVATE),
        Unknown("VirtualNetwork", span, "azure:dst:VirtualNetwork"),
    )
    assert inbound[1].conditions == vnet_src + vnet_dst
    assert (
        inbound[1].label
        == "AllowVnetInBound (priority 65000) of azurerm_network_security_group.nsg"
    )
    assert inbound[2].conditions == (
        InterfaceMatch("iif", (PLATFORM,)),
        Match(SRC, LOAD_BALANCER),
    )
    assert all(r.implicit and r.span == span for r in inbound[1:])
    policy = ruleset.chains["azurerm_network_security_group.nsg inbound"].policy
    assert policy is not None
    assert policy.action == DROP
    assert (
        policy.label
        == "DenyAllInBound (priority 65500) of azurerm_network_security_group.nsg"
    )
    outbound = chain_rules(ruleset, "outbound")
    assert [r.label.split(" ")[0] for r in outbound] == [
        "AllowVnetOutBound",
        "AllowInternetOutBound",
        "AllowInternetOutBound",
    ]
    assert outbound[1].conditions == (Match(DST, PRIVATE, negated=True),)
    assert PLATFORM in ruleset.loopback


def test_hooks(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, {"main.tf": nsg(rule(100))}))
    assert ruleset.hooks == {
        "input": ("azurerm_network_security_group.nsg inbound",),
        "output": ("azurerm_network_security_group.nsg outbound",),
    }


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {"destination_port_range": '"5222-5223"'},
            (TCP, Match(DPORT, IntervalSet.single(5222, 5223))),
        ),
        (
            {"source_port_range": '"1433"', "destination_port_range": '"443"'},
            (
                TCP,
                Match(SPORT, IntervalSet.single(1433)),
                Match(DPORT, IntervalSet.single(443)),
            ),
        ),
        (
            {
                "destination_port_range": "",
                "destination_port_ranges": '["25", "587", "1000-2000"]',
            },
            (TCP, Match(DPORT, IntervalSet([(25, 25), (587, 587), (1000, 2000)]))),
        ),
        (
            {"protocol": '"*"', "destination_port_range": '"80"'},
            (TCP_UDP, Match(DPORT, IntervalSet.single(80))),
        ),
        ({"protocol": '"*"', "destination_port_range": '"*"'}, ()),
        ({"protocol": '"Icmp"'}, (Match(PROTO, IntervalSet([(1, 1), (58, 58)])),)),
        ({"protocol": '"Esp"'}, (Match(PROTO, IntervalSet.single(50)),)),
        (
            {"source_address_prefix": '"203.0.113.0/24"'},
            (
                TCP,
                Match(SRC, addresses(["203.0.113.0/24"])),
                Match(DPORT, IntervalSet.single(443)),
            ),
        ),
        (
            {
                "source_address_prefix": "",
                "source_address_prefixes": '["192.0.2.1", "2001:db8::/32"]',
            },
            (
                TCP,
                Match(SRC, addresses(["192.0.2.1", "2001:db8::/32"])),
                Match(DPORT, IntervalSet.single(443)),
            ),
        ),
        (
            {"destination_address_prefix": '"10.0.0.4"'},
            (
                TCP,
                Match(DST, addresses(["10.0.0.4"])),
                Match(DPORT, IntervalSet.single(443)),
            ),
        ),
    ],
)
def test_rule_conditions(
    tmp_path: Path, attributes: dict[str, str], expected: tuple[object, ...]
) -> None:
    found = user_rules(only(parse(tmp_path, {"main.tf": nsg(rule(100, **attributes))})))
    assert [r.conditions for r in found] == [expected]


def test_internet_tag_is_outside_virtual_network(tmp_path: Path) -> None:
    text = nsg(rule(100, source_address_prefix='"Internet"'))
    found = user_rules(only(parse(tmp_path, {"main.tf": text})))
    assert [r.conditions[1:-1] for r in found] == [
        (Match(SRC, PRIVATE, negated=True),),
        (
            Match(SRC, PRIVATE),
            Unknown(
                "VirtualNetwork",
                Span("main.tf", 11, 5, 11, 38),
                "azure:src:VirtualNetwork",
                negated=True,
            ),
        ),
    ]


def test_configured_virtual_network(tmp_path: Path) -> None:
    text = nsg(
        rule(100, source_address_prefix='"VirtualNetwork"'),
        directive="virtual-network=10.1.0.0/16,10.2.0.0/16",
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    vnet = addresses(["10.1.0.0/16", "10.2.0.0/16"])
    assert user_rules(ruleset)[0].conditions[1] == Match(SRC, vnet)
    assert chain_rules(ruleset)[1].conditions == (Match(SRC, vnet), Match(DST, vnet))


def test_load_balancer_tag_is_platform_traffic(tmp_path: Path) -> None:
    text = nsg(rule(100, source_address_prefix='"AzureLoadBalancer"'))
    (found,) = user_rules(only(parse(tmp_path, {"main.tf": text})))
    assert found.conditions[1:3] == (
        InterfaceMatch("iif", (PLATFORM,)),
        Match(SRC, LOAD_BALANCER),
    )


def test_other_service_tag_is_unknown(tmp_path: Path) -> None:
    text = nsg(rule(100, source_address_prefix='"Storage.WestEurope"'))
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    (found,) = user_rules(ruleset)
    assert found.conditions[1] == Unknown(
        "service tag Storage.WestEurope",
        Span("main.tf", 11, 5, 11, 48),
        "azure:src:Storage.WestEurope",
    )
    assert [d.rule_id for d in ruleset.diagnostics] == ["SEG902"]


def test_outbound_rule(tmp_path: Path) -> None:
    text = nsg(
        rule(100, direction='"Outbound"', destination_address_prefix='"Internet"')
    )
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    assert user_rules(ruleset) == []
    assert [r.span.line for r in user_rules(ruleset, "outbound")] == [3, 3]


def test_unknown_direction_in_both_chains(tmp_path: Path) -> None:
    text = nsg(rule(100, direction="var.direction"))
    ruleset = only(parse(tmp_path, {"main.tf": text}))
    inbound, outbound = user_rules(ruleset), user_rules(ruleset, "outbound")
    assert len(inbound) == len(outbound) == 1
    assert isinstance(inbound[0].conditions[-1], Unknown)


def test_priority_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, {"main.tf": nsg(rule(5000))})
    assert caught.value.span.line == 5


STANDALONE = """\
resource "azurerm_network_security_rule" "swap" {
  name                        = "from-1433"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "1433"
  destination_port_range      = "443"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = "rg"
  network_security_group_name = {group}
}
"""


def test_standalone_rule_resource(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, {"main.tf": STANDALONE.replace("{group}", '"nsg"')}))
    assert ruleset.name == "azurerm_network_security_rule.swap"
    assert ruleset.hooks == {"input": ("azurerm_network_security_rule.swap inbound",)}
    (found,) = user_rules(ruleset)
    assert found.span == Span("main.tf", 1, 1, 13, 1)
    assert found.conditions == (
        TCP,
        Match(SPORT, IntervalSet.single(1433)),
        Match(DPORT, IntervalSet.single(443)),
    )
    assert [r.span.line for r in chain_rules(ruleset)] == [1, 1, 1]


@pytest.mark.parametrize("group", ['"nsg"', "azurerm_network_security_group.nsg.name"])
def test_rule_resource_attached_to_nsg(tmp_path: Path, group: str) -> None:
    files = {"main.tf": nsg(), "rules.tf": STANDALONE.replace("{group}", group)}
    ruleset = only(parse(tmp_path, files))
    assert [r.span.path for r in user_rules(ruleset)] == ["rules.tf"]
    assert parse(tmp_path, files, "rules.tf").rulesets == (ruleset,)


def test_dynamic_rules_from_tfvars(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            variable "rules" {}
            resource "azurerm_network_security_group" "nsg" {
              name = "nsg"
              dynamic "security_rule" {
                for_each = var.rules
                content {
                  name                       = security_rule.value["name"]
                  priority                   = security_rule.value["priority"]
                  direction                  = "Inbound"
                  access                     = "Allow"
                  protocol                   = "Tcp"
                  source_port_range          = "*"
                  destination_port_range     = security_rule.value["port"]
                  source_address_prefix      = "*"
                  destination_address_prefix = "*"
                }
              }
            }
            """,
        "terraform.tfvars": textwrap.dedent("""\
            rules = [
              { name = "b", priority = 200, port = "389" },
              { name = "a", priority = 110, port = "5222-5223" },
            ]
            """),
    }
    found = user_rules(only(parse(tmp_path, files)))
    assert [r.span.line for r in found] == [4, 4]
    assert [r.conditions for r in found] == [
        (TCP, Match(DPORT, IntervalSet.single(5222, 5223))),
        (TCP, Match(DPORT, IntervalSet.single(389))),
    ]
    assert [r.label.split(" ")[1] for r in found] == ["a", "b"]
