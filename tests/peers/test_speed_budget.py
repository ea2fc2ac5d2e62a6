"""No blow-up with size: ranges stay single intervals and large files are checked.

Peers expanded ``0-200000`` into one object per port and slowed down by
orders of magnitude on large inputs. These tests hold no timing assertion
(timings depend on the machine). They assert the properties that keep the
cost bounded. A full port range is one rule with one interval in the IR. An
out-of-range bound is a parse error before anything is built. A generated
5,000-rule file is checked end to end with exact results.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    AZURE_FIRST,
    CFN_FIRST,
    CSV_FIRST,
    IOS_FIRST,
    IPTABLES_FIRST,
    NFT_FIRST,
    PF_FIRST,
    asa,
    aws_ingress,
    aws_sg,
    azure_nsg,
    azure_rule,
    case,
    cfn,
    csv_row,
    diagnostics,
    exposures,
    gcp_firewall,
    hits,
    ios,
    iptables,
    lint,
    needs,
    nft,
    pf,
    windows_csv,
)

from seglint.formats.base import FileAccess, read_source  # noqa: E402
from seglint.ir import Match, Rule  # noqa: E402
from seglint.plugins import load_plugins  # noqa: E402
from seglint.space import DPORT  # noqa: E402

FORMATS = {fmt.id: fmt for fmt in load_plugins().formats}
RULE_COUNT = 5000


def port_rules(
    format_id: str, tmp_path: Path, name: str, text: str
) -> list[tuple[str, Rule]]:
    """Parse ``text`` and return (ruleset/chain, rule) of the rules that match a port.

    A format may place one rule in several chains (pf puts "pass in" in the
    input and the forward chain, Windows an allow rule in each profile).
    """
    location = tmp_path / name
    location.write_text(text, encoding="utf-8")
    parsed = FORMATS[format_id].parse(read_source(location, name), FileAccess(tmp_path))
    found = []
    for ruleset in parsed.rulesets:
        for chain in ruleset.chains.values():
            for rule in chain.rules:
                if any(
                    isinstance(c, Match) and c.dim == DPORT for c in rule.conditions
                ):
                    found.append((f"{ruleset.name}/{chain.name}", rule))
    return found


# (format, file name, text, line of the rule, the interval)
FULL_RANGES = [
    case(
        "iptables",
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1:65535 -j ACCEPT"),
        IPTABLES_FIRST,
        (1, 65535),
        id="iptables",
    ),
    case(
        "iptables",
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp -m multiport --dports 0:65535 -j ACCEPT"),
        IPTABLES_FIRST,
        (0, 65535),
        id="iptables-multiport",
    ),
    case(
        "nftables",
        "nftables",
        "host.nft",
        nft("tcp dport 0-65535 accept"),
        NFT_FIRST,
        (0, 65535),
        id="nftables",
    ),
    # pf drops a 0:65535 port match as no condition, which is as good.
    case(
        "pf",
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1:65535"),
        PF_FIRST,
        (1, 65535),
        id="pf",
    ),
    case(
        "asa",
        "asa",
        "edge.asa",
        asa("access-list OUTSIDE_IN extended permit tcp any any range 1 65535"),
        ASA_FIRST,
        (1, 65535),
        id="asa",
    ),
    case(
        "ios",
        "ios",
        "edge.ios",
        ios("permit tcp any any range 1 65535"),
        IOS_FIRST,
        (1, 65535),
        id="ios",
    ),
    case(
        "terraform",
        "terraform",
        "main.tf",
        gcp_firewall("all", ports=["0-65535"]),
        1,
        (0, 65535),
        id="gcp",
    ),
    case(
        "terraform",
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(from_port=0, to_port=65535, cidr_blocks='["0.0.0.0/0"]')),
        2,
        (0, 65535),
        id="aws",
    ),
    case(
        "terraform",
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("all", 100, port="0-65535")),
        AZURE_FIRST,
        (0, 65535),
        id="azure",
    ),
    case(
        "cloudformation",
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {
                "IpProtocol": "tcp",
                "FromPort": "0",
                "ToPort": "65535",
                "CidrIp": "0.0.0.0/0",
            }
        ),
        CFN_FIRST,
        (0, 65535),
        id="cfn",
    ),
    case(
        "windows-firewall",
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("All", local_port="1-65535")),
        CSV_FIRST,
        (1, 65535),
        id="windows",
    ),
]


@pytest.mark.parametrize(("format_id", "name", "text", "line", "interval"), FULL_RANGES)
def test_full_range_one_interval(
    tmp_path: Path,
    format_id: str,
    name: str,
    text: str,
    line: int,
    interval: tuple[int, int],
) -> None:
    rules = [rule for _, rule in port_rules(format_id, tmp_path, name, text)]
    assert {rule.span.line for rule in rules} == {line}
    for rule in rules:
        ports = [c for c in rule.conditions if isinstance(c, Match) and c.dim == DPORT]
        assert len(ports) == 1
        assert ports[0].values.bounds == (interval,)


@pytest.mark.parametrize(("format_id", "name", "text", "line", "interval"), FULL_RANGES)
def test_full_range_one_rule(
    tmp_path: Path,
    format_id: str,
    name: str,
    text: str,
    line: int,
    interval: tuple[int, int],
) -> None:
    chains = [chain for chain, _ in port_rules(format_id, tmp_path, name, text)]
    assert chains
    assert len(chains) == len(set(chains))


# Bounds past 65535 fail before anything is built from them.
TOO_LARGE = [
    case(
        "terraform",
        "main.tf",
        gcp_firewall("all", ports=["0-200000"]),
        6,
        id="gcp-200000",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 0:200000 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-200000",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 0-200000 accept"),
        NFT_FIRST,
        id="nft-200000",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), TOO_LARGE)
def test_huge_range_parse_error(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert diagnostics(result) == [("SEG901", name, line)]


def generated_rules(count: int) -> list[str]:
    """Return ``count`` rules from distinct private /24s to distinct ports, then one
    rule that opens tcp/1433 to everyone."""
    rules = []
    for index in range(count):
        high, low = divmod(index, 250)
        rules.append(
            f"-A INPUT -s 10.{high}.{low}.0/24 -p tcp --dport {2000 + index} -j ACCEPT"
        )
    rules.append("-A INPUT -p tcp --dport 1433 -j ACCEPT")
    return rules


@needs("iptables")
def test_large_file_checked(tmp_path: Path) -> None:
    result = lint(tmp_path, {"big.rules": iptables(*generated_rules(RULE_COUNT))})
    assert result.diagnostics == []
    assert result.files_checked == 1
    assert exposures(result) == [("SEG204", "big.rules", IPTABLES_FIRST + RULE_COUNT)]


@needs("iptables")
def test_large_file_shadowing(tmp_path: Path) -> None:
    # A DROP that covers everything before 5,000 rules: each of them is shadowed.
    rules = ["-A INPUT -j DROP", *generated_rules(RULE_COUNT)]
    result = lint(tmp_path, {"big.rules": iptables(*rules)})
    shadowed = hits(result, "SEG301")
    assert len(shadowed) == RULE_COUNT + 1
    assert shadowed[0] == ("SEG301", "big.rules", IPTABLES_FIRST + 1)
    assert exposures(result) == []
