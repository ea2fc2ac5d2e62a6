"""Exposure depends on the address scope of the sources, not on their prefix length.

A checker that calls every rule with a list of /32s "public ingress", or that
skips small prefixes as harmless, gets both ways wrong. A few public /32s are
an exposure and the witness must come from one of them, so a user sees which
address triggered it. Private addresses of any prefix length are not.
"""

from __future__ import annotations

import ipaddress
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
    exposures,
    gcp_firewall,
    hcl_list,
    ios,
    iptables,
    lint,
    nft,
    pf,
    windows_csv,
)

PUBLIC = ["198.51.100.7", "203.0.113.9"]
PRIVATE = ["10.1.2.3", "192.168.7.0/24"]
TCP_1433 = {"IpProtocol": "tcp", "FromPort": "1433", "ToPort": "1433"}


def host_cidrs(sources: list[str]) -> list[str]:
    return [s if "/" in s else f"{s}/32" for s in sources]


def asa_group(sources: list[str]) -> list[str]:
    lines = ["object-group network SRC"]
    for source in sources:
        network = ipaddress.ip_network(host_cidrs([source])[0])
        if network.prefixlen == 32:
            lines.append(f" network-object host {network.network_address}")
        else:
            lines.append(f" network-object {network.network_address} {network.netmask}")
    return lines


def ios_group(sources: list[str]) -> str:
    text = "object-group network SRC\n"
    for line in asa_group(sources)[1:]:
        text += line.replace(" network-object", "") + "\n"
    return text


def cases(sources: list[str]) -> list[object]:
    """Return (file name, text, lines of the rules) cases that accept ``sources``."""
    listed = ",".join(sources)
    braces = ", ".join(sources)
    cidrs = host_cidrs(sources)
    azure_source = f"source_address_prefixes    = {hcl_list(cidrs)}"
    return [
        case(
            "iptables",
            "host.rules",
            iptables(f"-A INPUT -s {listed} -p tcp --dport 1433 -j ACCEPT"),
            [IPTABLES_FIRST],
            id="iptables",
        ),
        case(
            "nftables",
            "host.nft",
            nft(f"ip saddr {{ {braces} }} tcp dport 1433 accept"),
            [NFT_FIRST],
            id="nft",
        ),
        case(
            "pf",
            "pf.conf",
            pf(f"pass in proto tcp from {{ {braces} }} to any port 1433"),
            [PF_FIRST],
            id="pf",
        ),
        case(
            "asa",
            "edge.asa",
            asa(
                *asa_group(sources),
                "access-list OUTSIDE_IN extended permit tcp object-group SRC any "
                "eq 1433",
            ),
            [ASA_FIRST + 3],
            id="asa",
        ),
        case(
            "ios",
            "edge.ios",
            ios("permit tcp object-group SRC any eq 1433", before=ios_group(sources)),
            [IOS_FIRST + 3],
            id="ios",
        ),
        case(
            "terraform",
            "main.tf",
            aws_sg(aws_ingress(cidr_blocks=hcl_list(cidrs))),
            [2],
            id="aws",
        ),
        case(
            "terraform",
            "main.tf",
            azure_nsg(azure_rule("sql", 100, source=azure_source)),
            [AZURE_FIRST],
            id="azure",
        ),
        case(
            "terraform",
            "main.tf",
            gcp_firewall("sql", sources=f"source_ranges = {hcl_list(cidrs)}"),
            [1],
            id="gcp",
        ),
        case(
            "cloudformation",
            "sg.cfn.yaml",
            cfn(*({**TCP_1433, "CidrIp": cidr} for cidr in cidrs)),
            [CFN_FIRST, CFN_FIRST + 4],
            id="cfn",
        ),
        case(
            "windows-firewall",
            "rules.csv",
            windows_csv(csv_row("Sql", remote=listed)),
            [CSV_FIRST],
            id="windows",
        ),
    ]


@pytest.mark.parametrize(("name", "text", "lines"), cases(PUBLIC))
def test_public_hosts_exposed(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == [("SEG204", name, line) for line in lines]


@pytest.mark.parametrize(("name", "text", "lines"), cases(PUBLIC))
def test_witness_from_listed_host(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    result = lint(tmp_path, {name: text})
    sources = [f.witness.src for f in result.findings if f.witness is not None]
    assert len(sources) == len(lines)
    for source in sources:
        assert source in PUBLIC
    for finding in result.findings:
        assert finding.may is False


@pytest.mark.parametrize(("name", "text", "lines"), cases(PRIVATE))
def test_private_hosts_not_exposed(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == []


@pytest.mark.parametrize(("name", "text", "lines"), cases([PRIVATE[0], PUBLIC[1]]))
def test_mixed_list_names_public(
    tmp_path: Path, name: str, text: str, lines: list[int]
) -> None:
    result = lint(tmp_path, {name: text})
    sources = [f.witness.src for f in result.findings if f.witness is not None]
    assert sources == [PUBLIC[1]]
