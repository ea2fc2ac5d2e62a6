"""Terraform GCP firewall rules as IR: priorities, implied rules, targets, ports."""

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
from seglint.space import DPORT, DST, PROTO, SRC, V4_ALL, IntervalSet, addresses

ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
TCP = Match(PROTO, IntervalSet.single(6))
WORLD4 = Match(SRC, V4_ALL)


def parse(tmp_path: Path, text: str) -> ParseResult:
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    source = read_source(tmp_path / "main.tf", "main.tf")
    return TerraformFormat().parse(source, FileAccess(tmp_path, tmp_path))


def only(result: ParseResult) -> Ruleset:
    assert len(result.rulesets) == 1
    return result.rulesets[0]


def chain(ruleset: Ruleset, direction: str = "ingress") -> tuple[Rule, ...]:
    (found,) = [c for name, c in ruleset.chains.items() if name.endswith(direction)]
    return found.rules


def firewall(name: str, body: str) -> str:
    return (
        f'resource "google_compute_firewall" "{name}" {{\n  name    = "{name}"\n'
        f'  network = "default"\n{textwrap.indent(textwrap.dedent(body), "  ")}}}\n'
    )


NETBIOS = firewall(
    "third",
    """\
    allow {
      protocol = "tcp"
      ports    = ["135-139"]
    }
    source_ranges = ["0.0.0.0/0"]
    """,
)


def test_allow_rule_points_at_resource(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, NETBIOS))
    (rule,) = chain(ruleset)
    assert rule.conditions == (TCP, WORLD4, Match(DPORT, IntervalSet.single(135, 139)))
    assert rule.action == ACCEPT
    assert rule.span == Span("main.tf", 1, 1, 9, 1)
    assert ruleset.name == "google_compute_firewall.third"


def test_implied_rules(tmp_path: Path) -> None:
    ruleset = only(parse(tmp_path, NETBIOS))
    ingress = ruleset.chains["network default ingress"].policy
    egress = ruleset.chains["network default egress"].policy
    assert ingress == Rule(
        Span("main.tf", 1, 1, 9, 1),
        (),
        DROP,
        "implied deny ingress (priority 65535) of network default",
        implicit=True,
        label="implied deny ingress (priority 65535) of network default",
    )
    assert egress is not None
    assert egress.action == ACCEPT
    assert egress.implicit
    assert ruleset.hooks == {
        "input": ("network default ingress",),
        "output": ("network default egress",),
    }


def test_priority_and_deny_first(tmp_path: Path) -> None:
    text = (
        firewall("allow_low", 'priority = 500\nallow {\n  protocol = "tcp"\n}\n')
        + firewall("allow_eq", 'allow {\n  protocol = "udp"\n}\n')
        + firewall("deny_eq", 'deny {\n  protocol = "tcp"\n}\n')
        + firewall("implicit_1000", 'allow {\n  protocol = "icmp"\n}\n')
    )
    found = chain(only(parse(tmp_path, text)))
    assert [r.label.split(" ")[0] for r in found] == [
        "google_compute_firewall.allow_low",
        "google_compute_firewall.deny_eq",
        "google_compute_firewall.allow_eq",
        "google_compute_firewall.implicit_1000",
    ]
    assert [r.action for r in found] == [ACCEPT, DROP, ACCEPT, ACCEPT]


def test_full_port_range_is_one_interval(tmp_path: Path) -> None:
    text = firewall(
        "all_ports", 'allow {\n  protocol = "tcp"\n  ports = ["0-65535", "22"]\n}\n'
    )
    (rule,) = chain(only(parse(tmp_path, text)))
    assert rule.conditions[-1] == Match(DPORT, IntervalSet.single(0, 65535))


def test_port_bound_above_65535_is_parse_error(tmp_path: Path) -> None:
    text = firewall("huge", 'allow {\n  protocol = "tcp"\n  ports = ["0-200000"]\n}\n')
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, text)
    assert caught.value.span == Span("main.tf", 6, 5, 6, 24)
    assert "0-200000" in caught.value.message


def test_default_source_is_ipv4_world(tmp_path: Path) -> None:
    text = firewall("nosrc", 'allow {\n  protocol = "tcp"\n  ports = ["25"]\n}\n')
    (rule,) = chain(only(parse(tmp_path, text)))
    assert rule.conditions == (TCP, WORLD4, Match(DPORT, IntervalSet.single(25)))


def test_source_tags_are_unknown_and_union(tmp_path: Path) -> None:
    text = firewall(
        "tags",
        """\
        allow {
          protocol = "all"
        }
        source_ranges = ["192.0.2.0/24"]
        source_tags   = ["web"]
        """,
    )
    found = chain(only(parse(tmp_path, text)))
    assert found[0].conditions == (Match(SRC, addresses(["192.0.2.0/24"])),)
    assert isinstance(found[1].conditions[0], Unknown)
    assert found[1].conditions[0].text == 'source_tags = ["web"]'  # type: ignore[union-attr]


def test_egress_rule(tmp_path: Path) -> None:
    text = firewall(
        "out",
        """\
        direction = "EGRESS"
        deny {
          protocol = "tcp"
          ports    = ["25"]
        }
        destination_ranges = ["203.0.113.0/24"]
        """,
    )
    ruleset = only(parse(tmp_path, text))
    assert chain(ruleset) == ()
    (rule,) = chain(ruleset, "egress")
    assert rule.conditions == (
        TCP,
        Match(DST, addresses(["203.0.113.0/24"])),
        Match(DPORT, IntervalSet.single(25)),
    )
    assert rule.action == DROP


def test_egress_default_destination(tmp_path: Path) -> None:
    text = firewall("out", 'direction = "EGRESS"\nallow {\n  protocol = "udp"\n}\n')
    (rule,) = chain(only(parse(tmp_path, text)), "egress")
    assert rule.conditions == (Match(PROTO, IntervalSet.single(17)), Match(DST, V4_ALL))


def test_disabled_rule_is_ignored(tmp_path: Path) -> None:
    text = NETBIOS + firewall(
        "off", 'disabled = true\nallow {\n  protocol = "all"\n}\n'
    )
    ruleset = only(parse(tmp_path, text))
    assert len(chain(ruleset)) == 1
    assert [(d.level, d.span.line) for d in ruleset.diagnostics] == [("note", 13)]


def test_target_tags_make_scopes(tmp_path: Path) -> None:
    text = NETBIOS + firewall(
        "sql",
        """\
        allow {
          protocol = "tcp"
          ports    = ["1433"]
        }
        target_tags = ["db"]
        """,
    )
    result = parse(tmp_path, text)
    assert [r.name for r in result.rulesets] == [
        "google_compute_firewall.third",
        "network default (tag db)",
    ]
    assert [len(chain(r)) for r in result.rulesets] == [1, 2]


def test_unknown_target_tags(tmp_path: Path) -> None:
    text = firewall("t", 'allow {\n  protocol = "tcp"\n}\ntarget_tags = var.tags\n')
    (rule,) = chain(only(parse(tmp_path, text)))
    assert isinstance(rule.conditions[-1], Unknown)
    assert rule.conditions[-1].text == "target_tags = var.tags"  # type: ignore[union-attr]


def test_networks_are_separate(tmp_path: Path) -> None:
    other = NETBIOS.replace('"third"', '"fourth"', 1).replace(
        'network = "default"', "network = google_compute_network.vpc.self_link"
    )
    result = parse(tmp_path, NETBIOS + other)
    assert [r.name for r in result.rulesets] == [
        "google_compute_firewall.third",
        "google_compute_firewall.fourth",
    ]
    assert "network google_compute_network.vpc ingress" in result.rulesets[1].chains
