"""Port ranges are intervals with validated bounds, in every format.

A checker that expands ``0-200000`` into one object per port runs out of
memory, and one that does not check the bounds accepts ports that no
firewall has. Each range case opens 1400-1500, which contains 1433: SEG204
fires at the rule's line and SEG208 names the rest of the interval, which
shows the range was kept as an interval and cut around the SEG port.
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
    ios,
    iptables,
    lint,
    needs,
    netsh,
    netsh_rule,
    nft,
    one,
    pf,
    windows_csv,
)

CIDR_V4 = '["0.0.0.0/0"]'
REST = "tcp/1400-1432,1434-1500"  # 1400-1500 without the SEG204 port
REST_22 = "tcp/22,1400-1432,1434-1500"


def cfn_ports(first: str, last: str) -> str:
    return cfn(
        {"IpProtocol": "tcp", "FromPort": first, "ToPort": last, "CidrIp": "0.0.0.0/0"}
    )


def asa_acl(ports: str) -> str:
    return asa(f"access-list OUTSIDE_IN extended permit tcp any any {ports}")


# (file name, text, line, the SEG208 flow of that line)
RANGES = [
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1400:1500 -j ACCEPT"),
        IPTABLES_FIRST,
        REST,
        id="iptables-dport",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp -m multiport --dports 22,1400:1500 -j ACCEPT"),
        IPTABLES_FIRST,
        REST_22,
        id="iptables-multiport",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1400-1500 accept"),
        NFT_FIRST,
        REST,
        id="nft-range",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport { 22, 1400-1500 } accept"),
        NFT_FIRST,
        REST_22,
        id="nft-set",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1400:1500"),
        PF_FIRST,
        REST,
        id="pf-colon",
    ),
    case(
        "asa", "edge.asa", asa_acl("range 1400 1500"), ASA_FIRST, REST, id="asa-range"
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any range 1400 1500"),
        IOS_FIRST,
        REST,
        id="ios-range",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(from_port=1400, to_port=1500, cidr_blocks=CIDR_V4)),
        2,
        REST,
        id="aws",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("sql", 100, port="1400-1500")),
        AZURE_FIRST,
        REST,
        id="azure",
    ),
    case(
        "terraform",
        "main.tf",
        gcp_firewall("sql", ports=["22", "1400-1500"]),
        1,
        REST_22,
        id="gcp",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn_ports("1400", "1500"),
        CFN_FIRST,
        REST,
        id="cfn",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Sql", local_port="22,1400-1500")),
        CSV_FIRST,
        REST_22,
        id="windows-csv",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        netsh(netsh_rule("Sql", local_port="1400-1500")),
        2,
        REST,
        id="windows-netsh",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "rest"), RANGES)
def test_range_contains_port(
    tmp_path: Path, name: str, text: str, line: int, rest: str
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == [("SEG204", name, line), ("SEG208", name, line)]


@pytest.mark.parametrize(("name", "text", "line", "rest"), RANGES)
def test_range_kept_as_interval(
    tmp_path: Path, name: str, text: str, line: int, rest: str
) -> None:
    finding = one(lint(tmp_path, {name: text}), "SEG208", line)
    assert finding.message.startswith(f"{rest} on ")


# Operators with exclusive or open bounds, each checked on both sides of 1433.
# (file name, text, line, whether tcp/1433 is inside)
BOUNDS = [
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1434:1500 -j ACCEPT"),
        IPTABLES_FIRST,
        False,
        id="iptables-above",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1400:1433 -j ACCEPT"),
        IPTABLES_FIRST,
        True,
        id="iptables-upper-bound",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1433: -j ACCEPT"),
        IPTABLES_FIRST,
        True,
        id="iptables-open-end",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport :1432 -j ACCEPT"),
        IPTABLES_FIRST,
        False,
        id="iptables-open-start",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport ! 1400:1500 -j ACCEPT"),
        IPTABLES_FIRST,
        False,
        id="iptables-negated",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1432 >< 1434"),
        PF_FIRST,
        True,
        id="pf-exclusive",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1433 >< 1500"),
        PF_FIRST,
        False,
        id="pf-exclusive-edge",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1400 <> 1500"),
        PF_FIRST,
        False,
        id="pf-outside",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port > 1432"),
        PF_FIRST,
        True,
        id="pf-greater",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port < 1433"),
        PF_FIRST,
        False,
        id="pf-less",
    ),
    case("asa", "edge.asa", asa_acl("gt 1432"), ASA_FIRST, True, id="asa-gt"),
    case("asa", "edge.asa", asa_acl("gt 1433"), ASA_FIRST, False, id="asa-gt-edge"),
    case("asa", "edge.asa", asa_acl("lt 1434"), ASA_FIRST, True, id="asa-lt"),
    case("asa", "edge.asa", asa_acl("neq 1433"), ASA_FIRST, False, id="asa-neq"),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any gt 1433"),
        IOS_FIRST,
        False,
        id="ios-gt-edge",
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any lt 1434"),
        IOS_FIRST,
        True,
        id="ios-lt",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport != 1400-1500 accept"),
        NFT_FIRST,
        False,
        id="nft-negated",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport >= 1434 accept"),
        NFT_FIRST,
        False,
        id="nft-greater-equal",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "inside"), BOUNDS)
def test_range_bound(
    tmp_path: Path, name: str, text: str, line: int, inside: bool
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    expected = [("SEG204", name, line)] if inside else []
    assert [hit for hit in exposures(result) if hit[0] == "SEG204"] == expected


# Ports outside 0-65535 and reversed ranges are parse errors at the line.
INVALID = [
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1:70000 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-high",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp -m multiport --dports 22,1400:70000 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-multiport-high",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1500:1400 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-reversed",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1-70000 accept"),
        NFT_FIRST,
        id="nft-high",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1:70000"),
        PF_FIRST,
        id="pf-high",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1500:1400"),
        PF_FIRST,
        id="pf-reversed",
    ),
    case("asa", "edge.asa", asa_acl("range 1 70000"), ASA_FIRST, id="asa-high"),
    case("asa", "edge.asa", asa_acl("range 1500 1400"), ASA_FIRST, id="asa-reversed"),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any range 1 70000"),
        IOS_FIRST,
        id="ios-high",
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any range 1500 1400"),
        IOS_FIRST,
        id="ios-reversed",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(from_port=1, to_port=70000, cidr_blocks=CIDR_V4)),
        4,
        id="aws-high",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(from_port=1500, to_port=1400, cidr_blocks=CIDR_V4)),
        2,
        id="aws-reversed",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("sql", 100, port="0-200000")),
        AZURE_FIRST + 7,
        id="azure-high",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("sql", 100, port="1500-1400")),
        AZURE_FIRST + 7,
        id="azure-reversed",
    ),
    case(
        "terraform",
        "main.tf",
        gcp_firewall("sql", ports=["0-200000"]),
        6,
        id="gcp-high",
    ),
    case(
        "terraform",
        "main.tf",
        gcp_firewall("sql", ports=["1500-1400"]),
        6,
        id="gcp-reversed",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), INVALID)
def test_invalid_range_parse_error(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert diagnostics(result) == [("SEG901", name, line)]
    assert exposures(result) == []
    assert result.exit_code == 2


# CloudFormation, Windows Firewall and nftables give the same parse error as
# the other formats, since AWS, Windows and nft reject such a range too.


@needs("cloudformation")
@pytest.mark.parametrize(
    ("first", "last", "line"),
    [("1", "70000", CFN_FIRST + 2), ("1500", "1400", CFN_FIRST + 1)],
)
def test_cfn_invalid_range(tmp_path: Path, first: str, last: str, line: int) -> None:
    # The line of the value that is wrong: ToPort when too high, else FromPort.
    result = lint(tmp_path, {"sg.cfn.yaml": cfn_ports(first, last)})
    assert diagnostics(result) == [("SEG901", "sg.cfn.yaml", line)]


@needs("windows-firewall")
@pytest.mark.parametrize("ports", ["1-70000", "1500-1400"])
def test_windows_invalid_range(tmp_path: Path, ports: str) -> None:
    text = windows_csv(csv_row("Sql", local_port=ports))
    result = lint(tmp_path, {"rules.csv": text})
    assert diagnostics(result) == [("SEG901", "rules.csv", CSV_FIRST)]


@needs("nftables")
def test_nft_reversed_range(tmp_path: Path) -> None:
    result = lint(tmp_path, {"host.nft": nft("tcp dport 1500-1400 accept")})
    assert diagnostics(result) == [("SEG901", "host.nft", NFT_FIRST)]
