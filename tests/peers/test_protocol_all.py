"""Protocol "all" opens every protocol and every port, in every format.

A checker that compares only tcp and udp rules against a port list misses a
rule whose protocol is "all" (spelled -1, all, *, Any, ip, 0 or left out).
A checker that keeps the port fields of such a rule narrows it to those ports.
Each case below opens everything from the internet on one line, so every
exposure check (SEG201-SEG208) must fire at that line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
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
    ios,
    iptables,
    lint,
    netsh,
    netsh_rule,
    nft,
    one,
    pf,
    windows_csv,
)

EVERY_EXPOSURE = [f"SEG20{n}" for n in range(1, 9)]
CIDR_V4 = '["0.0.0.0/0"]'

NACL = """\
resource "aws_network_acl" "main" {
  vpc_id = "vpc-1"
  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "0.0.0.0/0"
  }
}
"""
SG_RULE = """\
resource "aws_security_group_rule" "all" {
  type              = "ingress"
  security_group_id = "sg-1"
  from_port         = 0
  to_port           = 0
  protocol          = "all"
  cidr_blocks       = ["0.0.0.0/0"]
}
"""
VPC_RULE = """\
resource "aws_vpc_security_group_ingress_rule" "all" {
  security_group_id = "sg-1"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
"""
CFN_JSON = """\
{
  "Resources": {
    "Sg": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "all",
        "SecurityGroupIngress": [
          {
            "IpProtocol": "-1",
            "CidrIp": "0.0.0.0/0"
          }
        ]
      }
    }
  }
}
"""
CFN_INGRESS_RESOURCE = """\
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: mail
  SqlIn:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !Ref Sg
      IpProtocol: -1
      CidrIp: 0.0.0.0/0
"""

CASES = [
    # iptables: no -p, -p all and -p 0 all mean every protocol.
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-no-p",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p all -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-p-all",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p 0 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-p-0",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -m comment --comment open -s 0.0.0.0/0 -j ACCEPT"),
        IPTABLES_FIRST,
        id="iptables-source-only",
    ),
    case(
        "iptables",
        "rules.v6",
        iptables("-A INPUT -s ::/0 -j ACCEPT"),
        IPTABLES_FIRST,
        id="ip6tables-no-p",
    ),
    # nftables: a rule without a protocol match.
    case("nftables", "host.nft", nft("accept"), NFT_FIRST, id="nft-bare-accept"),
    case(
        "nftables",
        "host.nft",
        nft("ip saddr 0.0.0.0/0 accept"),
        NFT_FIRST,
        id="nft-saddr-only",
    ),
    case(
        "nftables",
        "host.nft",
        nft("ip6 saddr ::/0 accept"),
        NFT_FIRST,
        id="nft6-saddr-only",
    ),
    # pf: a rule without proto.
    case("pf", "pf.conf", pf("pass in all"), PF_FIRST, id="pf-all"),
    case("pf", "pf.conf", pf("pass in from any to any"), PF_FIRST, id="pf-from-any"),
    case("pf", "pf.conf", pf("pass in inet6 from any to any"), PF_FIRST, id="pf-inet6"),
    # ASA: protocol ip, directly or through a protocol object-group.
    case(
        "asa",
        "edge.asa",
        asa("access-list OUTSIDE_IN extended permit ip any any"),
        ASA_FIRST,
        id="asa-ip",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object-group protocol EVERY",
            " protocol-object ip",
            "access-list OUTSIDE_IN extended permit object-group EVERY any any",
        ),
        ASA_FIRST + 2,
        id="asa-protocol-group-ip",
    ),
    # IOS: protocol ip and ipv6.
    case("ios", "edge.ios", ios("permit ip any any"), IOS_FIRST, id="ios-ip"),
    case(
        "ios", "edge.ios", ios("permit ipv6 any any", v6=True), IOS_FIRST, id="ios-ipv6"
    ),
    # Terraform: -1, "all" and the number -1; the ports of such a rule are ignored.
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress('"-1"', 0, 0, cidr_blocks=CIDR_V4)),
        2,
        id="aws-minus-1",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress('"all"', 0, 0, cidr_blocks=CIDR_V4)),
        2,
        id="aws-all",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress("-1", 0, 0, cidr_blocks=CIDR_V4)),
        2,
        id="aws-number",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress('"-1"', 80, 80, cidr_blocks=CIDR_V4)),
        2,
        id="aws-minus-1-with-ports",
    ),
    case("terraform", "main.tf", SG_RULE, 1, id="aws-sg-rule-all"),
    case("terraform", "main.tf", VPC_RULE, 1, id="aws-vpc-rule-minus-1"),
    case("terraform", "main.tf", NACL, 3, id="aws-nacl-minus-1"),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("all", 100, protocol="*", port="*")),
        5,
        id="azure-star",
    ),
    case(
        "terraform",
        "main.tf",
        gcp_firewall("all", protocol="all", ports=None),
        1,
        id="gcp-all",
    ),
    # CloudFormation: -1 as a number, as a string, with ports that AWS ignores.
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}),
        CFN_FIRST,
        id="cfn-number",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn({"IpProtocol": '"-1"', "CidrIp": "0.0.0.0/0"}),
        CFN_FIRST,
        id="cfn-string",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {
                "IpProtocol": '"-1"',
                "FromPort": "80",
                "ToPort": "80",
                "CidrIp": "0.0.0.0/0",
            }
        ),
        CFN_FIRST,
        id="cfn-minus-1-with-ports",
    ),
    case("cloudformation", "sg.cfn.json", CFN_JSON, 8, id="cfn-json"),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        CFN_INGRESS_RESOURCE,
        6,
        id="cfn-ingress-resource",
    ),
    # Windows Firewall: protocol Any, in netsh output and in a CSV export.
    case(
        "windows-firewall",
        "rules.txt",
        netsh(netsh_rule("Open", protocol="Any", local_port=None)),
        2,
        id="netsh-any",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Open", protocol="Any", local_port="Any")),
        CSV_FIRST,
        id="csv-any",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), CASES)
def test_every_exposure_at_line(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == [(rule_id, name, line) for rule_id in EVERY_EXPOSURE]


@pytest.mark.parametrize(("name", "text", "line"), CASES)
def test_sql_witness(tmp_path: Path, name: str, text: str, line: int) -> None:
    finding = one(lint(tmp_path, {name: text}), "SEG204", line)
    assert finding.may is False
    assert finding.witness is not None
    assert (finding.witness.proto, finding.witness.dport) == (6, 1433)


# Protocols without ports: their port fields (an ICMP type, nothing for ESP)
# must not turn into tcp ports.
PORTLESS = [
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {
                "IpProtocol": '"50"',
                "FromPort": "1433",
                "ToPort": "1433",
                "CidrIp": "0.0.0.0/0",
            }
        ),
        id="cfn-esp",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {
                "IpProtocol": "icmp",
                "FromPort": "8",
                "ToPort": "0",
                "CidrIp": "0.0.0.0/0",
            }
        ),
        id="cfn-icmp",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(aws_ingress('"icmp"', 8, 0, cidr_blocks=CIDR_V4)),
        id="aws-icmp",
    ),
]


@pytest.mark.parametrize(("name", "text"), PORTLESS)
def test_portless_protocol_no_tcp(tmp_path: Path, name: str, text: str) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert exposures(result) == []
