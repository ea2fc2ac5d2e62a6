"""Constructs the engine does not model are surfaced, never silently widened or dropped.

A peer that ignored an unmodelled match either over-reported (the rule
matches everything) or under-reported (the rule never matches) without
saying so. seglint turns each such construct into a SEG902 warning at the
construct's line and reports the exposure of the rule as "may": the
exposure is neither dropped nor claimed as certain.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    CSV_FIRST,
    IOS_FIRST,
    IPTABLES_FIRST,
    NFT_FIRST,
    PF_FIRST,
    asa,
    case,
    csv_row,
    diagnostics,
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

ACL = "access-list OUTSIDE_IN extended permit"
TF_DATA = """\
data "aws_ip_ranges" "ec2" {
  services = ["ec2"]
}

resource "aws_security_group" "node" {
  ingress {
    from_port   = 1433
    to_port     = 1433
    protocol    = "tcp"
    cidr_blocks = data.aws_ip_ranges.ec2.cidr_blocks
  }
}
"""
TF_VARIABLE = TF_DATA.replace(
    'data "aws_ip_ranges" "ec2" {\n  services = ["ec2"]\n}',
    'variable "sources" {\n  type = list(string)\n}',
).replace("data.aws_ip_ranges.ec2.cidr_blocks", "var.sources")
CFN_REF = """\
Parameters:
  Sources:
    Type: String
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: sql
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 1433
          ToPort: 1433
          CidrIp: !Ref Sources
"""
CFN_IMPORT = CFN_REF.replace("!Ref Sources", "!ImportValue shared-cidr")

# (file name, text, line of the rule, lines of the SEG902 warnings)
UNSUPPORTED = [
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -p tcp --dport 1433 -m recent --rcheck --name sql -j ACCEPT"
        ),
        IPTABLES_FIRST,
        [IPTABLES_FIRST],
        id="iptables-recent",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1433 -m limit --limit 5/min -j ACCEPT"),
        IPTABLES_FIRST,
        [IPTABLES_FIRST],
        id="iptables-limit",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1433 -m geoip --src-cc US -j ACCEPT"),
        IPTABLES_FIRST,
        [IPTABLES_FIRST],
        id="iptables-unknown-module",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1433 -j NFQUEUE --queue-num 1"),
        IPTABLES_FIRST,
        [IPTABLES_FIRST],
        id="iptables-unknown-target",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1433 limit rate 10/second accept"),
        NFT_FIRST,
        [NFT_FIRST],
        id="nft-limit",
    ),
    case(
        "nftables",
        "host.nft",
        nft("meta mark 0x1 tcp dport 1433 accept"),
        NFT_FIRST,
        [NFT_FIRST],
        id="nft-meta-mark",
    ),
    case(
        "nftables",
        "host.nft",
        nft("ct mark 0x1 tcp dport 1433 accept"),
        NFT_FIRST,
        [NFT_FIRST],
        id="nft-ct-mark",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1433 user root"),
        PF_FIRST,
        [PF_FIRST],
        id="pf-user",
    ),
    case(
        "pf",
        "pf.conf",
        pf('pass in proto tcp from any os "Windows" to any port 1433'),
        PF_FIRST,
        [PF_FIRST],
        id="pf-os",
    ),
    case(
        "pf",
        "pf.conf",
        'table <partners> persist file "/etc/partners"\n'
        + pf("pass in proto tcp from <partners> to any port 1433"),
        PF_FIRST + 1,
        [1, PF_FIRST + 1],
        id="pf-table-file-outside",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "object network SQLHOST",
            " fqdn sql.example.com",
            f"{ACL} tcp any object SQLHOST eq 1433",
        ),
        ASA_FIRST + 2,
        [ASA_FIRST + 1],
        id="asa-fqdn",
    ),
    case(
        "asa",
        "edge.asa",
        asa(f"{ACL} tcp user LOCAL\\bob any host 10.0.0.20 eq 1433"),
        ASA_FIRST,
        [ASA_FIRST],
        id="asa-user",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "time-range WORK",
            " periodic weekdays 8:00 to 18:00",
            f"{ACL} tcp any host 10.0.0.20 eq 1433 time-range WORK",
        ),
        ASA_FIRST + 2,
        [ASA_FIRST + 2],
        id="asa-time-range",
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any eq 1433 time-range WORK"),
        IOS_FIRST,
        [IOS_FIRST],
        id="ios-time-range",
    ),
    case("terraform", "main.tf", TF_DATA, 6, [10], id="terraform-data-source"),
    case("terraform", "main.tf", TF_VARIABLE, 6, [10], id="terraform-variable"),
    case("cloudformation", "sg.cfn.yaml", CFN_REF, 10, [13], id="cfn-ref-no-default"),
    case("cloudformation", "sg.cfn.yaml", CFN_IMPORT, 10, [13], id="cfn-import-value"),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Sql", program=r"C:\sql\sqlservr.exe")),
        CSV_FIRST,
        [1, CSV_FIRST],
        id="windows-program",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Sql", remote="LocalSubnet")),
        CSV_FIRST,
        [1, CSV_FIRST],
        id="windows-local-subnet",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "warnings"), UNSUPPORTED)
def test_warning_at_construct(
    tmp_path: Path, name: str, text: str, line: int, warnings: list[int]
) -> None:
    # The CSV cases also warn at line 1 that no profile settings were found.
    result = lint(tmp_path, {name: text})
    assert diagnostics(result) == []
    assert sorted(hits(result, "SEG902")) == [("SEG902", name, w) for w in warnings]


@pytest.mark.parametrize(("name", "text", "line", "warnings"), UNSUPPORTED)
def test_exposure_is_may(
    tmp_path: Path, name: str, text: str, line: int, warnings: list[int]
) -> None:
    result = lint(tmp_path, {name: text})
    assert hits(result, "SEG204") == [("SEG204", name, line)]
    finding = one(result, "SEG204", line)
    assert finding.may is True
    assert " may be reachable " in finding.message


# The same constructs on a rule that drops: an exposure behind it is "may"
# too, because the drop may not match.
DROPS = [
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -p tcp --dport 1433 -m recent --rcheck --name bad -j DROP",
            "-A INPUT -p tcp --dport 1433 -j ACCEPT",
        ),
        IPTABLES_FIRST + 1,
        id="iptables",
    ),
    case(
        "nftables",
        "host.nft",
        nft("meta mark 0x1 tcp dport 1433 drop", "tcp dport 1433 accept"),
        NFT_FIRST + 1,
        id="nftables",
    ),
    case(
        "pf",
        "pf.conf",
        "pass in proto tcp to any port 1433\n"
        "block in quick proto tcp to any port 1433 user nobody\n",
        1,
        id="pf",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), DROPS)
def test_unknown_drop_gives_may(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert hits(result, "SEG204") == [("SEG204", name, line)]
    assert one(result, "SEG204", line).may is True


@needs("iptables")
def test_parse_error_other_file_checked(tmp_path: Path) -> None:
    # A file that fails to parse is reported; the other files are still checked.
    files = {
        "bad.rules": iptables("-A INPUT -p tcp --dport 70000 -j ACCEPT"),
        "good.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
    }
    result = lint(tmp_path, files, targets=["bad.rules", "good.rules"])
    assert diagnostics(result) == [("SEG901", "bad.rules", IPTABLES_FIRST)]
    assert hits(result, "SEG204") == [("SEG204", "good.rules", IPTABLES_FIRST)]
    assert result.exit_code == 2
