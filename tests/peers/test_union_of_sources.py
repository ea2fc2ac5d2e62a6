"""A rule's sources are a union: one unknown or private source hides no other.

A checker that returns early on the first source kind it meets (``self =
true``, a security group id, a network tag, a private CIDR) passes a rule
that also lets in the internet. Each case puts an internet source next to
another kind in one rule. The exposure must be a definite finding at that
rule's line, with a witness from the internet source.
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
    gcp_firewall,
    hits,
    ios,
    iptables,
    lint,
    needs,
    nft,
    one,
    pf,
    windows_csv,
)

PUBLIC = "198.51.100.7"
PUBLIC_NET = f"{PUBLIC}/32"
TCP_1433 = {"IpProtocol": "tcp", "FromPort": "1433", "ToPort": "1433"}

SG_RULE_SELF = f"""\
resource "aws_security_group_rule" "sql" {{
  type              = "ingress"
  security_group_id = "sg-1"
  from_port         = 1433
  to_port           = 1433
  protocol          = "tcp"
  self              = true
  cidr_blocks       = ["{PUBLIC}/32"]
}}
"""

# (file name, text, line of the rule, network the witness source is in)
CASES = [
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(self="true", cidr_blocks=f'["{PUBLIC}/32"]')),
        2,
        PUBLIC_NET,
        id="aws-self-and-cidr",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress(cidr_blocks=f'["{PUBLIC}/32"]', self="true")),
        2,
        PUBLIC_NET,
        id="aws-cidr-and-self",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(
            aws_ingress(
                security_groups='["sg-0123456789abcdef0"]',
                cidr_blocks=f'["{PUBLIC}/32"]',
            )
        ),
        2,
        PUBLIC_NET,
        id="aws-group-and-cidr",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(
            aws_ingress(
                prefix_list_ids='["pl-12345678"]', cidr_blocks=f'["{PUBLIC}/32"]'
            )
        ),
        2,
        PUBLIC_NET,
        id="aws-prefix-list-and-cidr",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(
            aws_ingress(
                cidr_blocks='["10.0.0.0/8"]', ipv6_cidr_blocks='["2001:db8:7::/48"]'
            )
        ),
        2,
        "2001:db8:7::/48",
        id="aws-private-v4-and-public-v6",
    ),
    case(
        "terraform",
        "main.tf",
        SG_RULE_SELF,
        1,
        PUBLIC_NET,
        id="aws-sg-rule-self-and-cidr",
    ),
    case(
        "terraform",
        "main.tf",
        gcp_firewall(
            "sql", sources=f'source_tags = ["app"]\n  source_ranges = ["{PUBLIC}/32"]'
        ),
        1,
        PUBLIC_NET,
        id="gcp-tags-and-ranges",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(
            azure_rule(
                "sql",
                100,
                source=f'source_address_prefixes    = ["10.0.0.0/8", "{PUBLIC}/32"]',
            )
        ),
        AZURE_FIRST,
        PUBLIC_NET,
        id="azure-private-and-public",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {**TCP_1433, "CidrIp": f"{PUBLIC}/32"},
            {**TCP_1433, "SourceSecurityGroupId": "sg-0123456789abcdef0"},
        ),
        CFN_FIRST,
        PUBLIC_NET,
        id="cfn-cidr-then-group",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {**TCP_1433, "SourceSecurityGroupId": "sg-0123456789abcdef0"},
            {**TCP_1433, "CidrIp": f"{PUBLIC}/32"},
        ),
        CFN_FIRST + 4,
        PUBLIC_NET,
        id="cfn-group-then-cidr",
    ),
    case(
        "iptables",
        "host.rules",
        iptables(f"-A INPUT -s 10.0.0.5,{PUBLIC} -p tcp --dport 1433 -j ACCEPT"),
        IPTABLES_FIRST,
        PUBLIC_NET,
        id="iptables-source-list",
    ),
    case(
        "nftables",
        "host.nft",
        nft(f"ip saddr {{ 10.0.0.0/8, {PUBLIC} }} tcp dport 1433 accept"),
        NFT_FIRST,
        PUBLIC_NET,
        id="nft-anonymous-set",
    ),
    case(
        "pf",
        "pf.conf",
        pf(f"pass in proto tcp from {{ 10.0.0.0/8, {PUBLIC} }} to any port 1433"),
        PF_FIRST,
        PUBLIC_NET,
        id="pf-list",
    ),
    case(
        "pf",
        "pf.conf",
        "table <inside> { 10.0.0.0/8 }\n"
        + pf(f"pass in proto tcp from {{ <inside>, {PUBLIC} }} to any port 1433"),
        PF_FIRST + 1,
        PUBLIC_NET,
        id="pf-table-and-address",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group network SRC",
            " network-object 10.0.0.0 255.0.0.0",
            f" network-object host {PUBLIC}",
            "access-list OUTSIDE_IN extended permit tcp object-group SRC any eq 1433",
        ),
        ASA_FIRST + 3,
        PUBLIC_NET,
        id="asa-network-group",
    ),
    case(
        "ios",
        "edge.ios",
        ios(
            "permit tcp object-group SRC any eq 1433",
            before=f"object-group network SRC\n 10.0.0.0 255.0.0.0\n host {PUBLIC}\n",
        ),
        IOS_FIRST + 3,
        PUBLIC_NET,
        id="ios-network-group",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Sql", remote=f"LocalSubnet,{PUBLIC}")),
        CSV_FIRST,
        PUBLIC_NET,
        id="windows-keyword-and-address",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "source"), CASES)
def test_internet_source_found(
    tmp_path: Path, name: str, text: str, line: int, source: str
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert ("SEG204", name, line) in hits(result, "SEG204")


@pytest.mark.parametrize(("name", "text", "line", "source"), CASES)
def test_definite_with_witness(
    tmp_path: Path, name: str, text: str, line: int, source: str
) -> None:
    finding = one(lint(tmp_path, {name: text}), "SEG204", line)
    assert finding.may is False
    assert finding.witness is not None
    assert ipaddress.ip_address(finding.witness.src) in ipaddress.ip_network(source)
    assert finding.witness.dport == 1433


@needs("terraform")
def test_self_reported_unknown(tmp_path: Path) -> None:
    # The unknown part is surfaced at its own line, next to the finding.
    text = aws_sg(aws_ingress(self="true", cidr_blocks=f'["{PUBLIC}/32"]'))
    result = lint(tmp_path, {"main.tf": text})
    assert hits(result, "SEG902") == [("SEG902", "main.tf", 6)]


@needs("cloudformation")
def test_group_only_is_may(tmp_path: Path) -> None:
    text = cfn({**TCP_1433, "SourceSecurityGroupId": "sg-0123456789abcdef0"})
    result = lint(tmp_path, {"sg.cfn.yaml": text})
    assert hits(result, "SEG204", "SEG902") == [
        ("SEG204", "sg.cfn.yaml", CFN_FIRST),
        ("SEG902", "sg.cfn.yaml", CFN_FIRST + 3),
    ]
    assert one(result, "SEG204", CFN_FIRST).may is True


@needs("cloudformation")
def test_group_entry_stays_may(tmp_path: Path) -> None:
    text = cfn(
        {**TCP_1433, "SourceSecurityGroupId": "sg-0123456789abcdef0"},
        {**TCP_1433, "CidrIp": "0.0.0.0/0"},
    )
    result = lint(tmp_path, {"sg.cfn.yaml": text})
    assert one(result, "SEG204", CFN_FIRST).may is True
