"""Findings point at the file and line that hold the rule, through includes and modules.

A report that names the including file, or a line shifted by a heredoc, a
block scalar, a line continuation, CRLF line endings or a byte order mark,
sends the user to the wrong place. Each case puts the exposing rule in a
known file at a known line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    CSV_FIRST,
    IPTABLES_FIRST,
    asa,
    case,
    csv_row,
    diagnostics,
    hits,
    iptables,
    lint,
    needs,
    netsh,
    netsh_rule,
    windows_csv,
)

SQL_PF = "# sql rules\n\npass in proto tcp to any port 1433\n"
SQL_SG = """\
# the SQL group
resource "aws_security_group" "sql" {
  name = "sql"
  ingress {
    from_port   = 1433
    to_port     = 1433
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""

# (files, files to check, expected SEG204 locations)
INCLUDES = [
    case(
        "pf",
        {
            "pf.conf": 'block in all\nanchor "sql"\n'
            'load anchor "sql" from "anchors/sql.conf"\n',
            "anchors/sql.conf": SQL_PF,
        },
        ["pf.conf"],
        [("anchors/sql.conf", 3)],
        id="pf-load-anchor",
    ),
    case(
        "pf",
        {
            "pf.conf": 'block in all\nanchor "outer"\n'
            'load anchor "outer" from "outer.conf"\n',
            "outer.conf": 'anchor "inner"\nload anchor "inner" from "inner.conf"\n',
            "inner.conf": SQL_PF,
        },
        ["pf.conf"],
        [("inner.conf", 3)],
        id="pf-nested-anchor",
    ),
    case(
        "pf",
        {"pf.conf": 'block in all\ninclude "sql.pf"\n', "sql.pf": SQL_PF},
        ["pf.conf"],
        [("sql.pf", 3)],
        id="pf-include",
    ),
    case(
        "pf",
        {
            "pf.conf": 'block in all\nanchor "sql" {\n  # sql\n'
            "  pass in proto tcp to any port 1433\n}\n"
        },
        ["pf.conf"],
        [("pf.conf", 4)],
        id="pf-inline-anchor",
    ),
    case(
        "nftables",
        {
            "host.nft": "table inet filter {\n  chain input {\n"
            "    type filter hook input priority 0; policy drop;\n"
            '    include "sql.inc"\n  }\n}\n',
            "sql.inc": "# sql\n\ntcp dport 1433 accept\n",
        },
        ["host.nft"],
        [("sql.inc", 3)],
        id="nft-include-in-chain",
    ),
    case(
        "nftables",
        {
            "main.nft": 'include "conf.d/sql.nft"\n',
            "conf.d/sql.nft": "# sql\ntable inet filter {\n  chain input {\n"
            "    type filter hook input priority 0; "
            "policy drop;\n"
            "    tcp dport 1433 accept\n  }\n}\n",
        },
        ["main.nft"],
        [("conf.d/sql.nft", 5)],
        id="nft-include-table",
    ),
    case(
        "nftables",
        {
            "host.nft": "table inet filter {\n  chain input {\n"
            "    type filter hook input priority 0; policy drop;\n"
            '    include "rules.d/*.nft"\n  }\n}\n',
            "rules.d/a.nft": "# a\ntcp dport 1433 accept\n",
            "rules.d/b.nft": "# b\n\n\ntcp dport 1433 accept\n",
        },
        ["host.nft"],
        [("rules.d/a.nft", 2)],
        id="nft-include-glob",
    ),
    case(
        "terraform",
        {
            "main.tf": 'module "sql" {\n  source = "./modules/sql"\n}\n',
            "modules/sql/main.tf": SQL_SG,
        },
        ["."],
        [("modules/sql/main.tf", 4)],
        id="terraform-module-folder",
    ),
    case(
        "terraform",
        {
            "variables.tf": 'variable "port" {\n  default = 1433\n}\n',
            "sg.tf": SQL_SG.replace("= 1433", "= var.port"),
        },
        ["."],
        [("sg.tf", 4)],
        id="terraform-other-file-of-module",
    ),
]


@pytest.mark.parametrize(("files", "targets", "expected"), INCLUDES)
def test_include_location(
    tmp_path: Path,
    files: dict[str, str],
    targets: list[str],
    expected: list[tuple[str, int]],
) -> None:
    result = lint(tmp_path, files, targets=targets)
    assert diagnostics(result) == []
    assert hits(result, "SEG204") == [("SEG204", path, line) for path, line in expected]


@needs("nftables")
def test_nft_glob_second_file(tmp_path: Path) -> None:
    # The second included file opens NetBIOS; it is reported in that file.
    files = {
        "host.nft": "table inet filter {\n  chain input {\n"
        "    type filter hook input priority 0; policy drop;\n"
        '    include "rules.d/*.nft"\n  }\n}\n',
        "rules.d/a.nft": "# a\ntcp dport 1433 accept\n",
        "rules.d/b.nft": "# b\n\n\ntcp dport 139 accept\n",
    }
    result = lint(tmp_path, files)
    assert hits(result, "SEG201") == [("SEG201", "rules.d/b.nft", 4)]


@needs("terraform")
@pytest.mark.xfail(
    strict=True,
    reason="module blocks are not followed: a root module checked alone reports "
    "only a SEG902 at each module call, not the module's findings, and a "
    "module checked alone does not receive the values its caller passes",
)
def test_module_call_followed(tmp_path: Path) -> None:
    files = {
        "main.tf": 'module "sql" {\n  source = "./modules/sql"\n  port   = 1433\n}\n',
        "modules/sql/main.tf": 'variable "port" {}\n\n'
        + SQL_SG.replace("= 1433", "= var.port").split("\n", 1)[1],
    }
    result = lint(tmp_path, files, targets=["main.tf"])
    assert hits(result, "SEG204") == [("SEG204", "modules/sql/main.tf", 4)]
    assert result.findings[0].may is False


# --- lines after multi-line constructs -------------------------------------------

TF_HEREDOC = """\
resource "aws_security_group" "node" {
  description = <<-EOT
    Multi { line }
    text "quoted"
  EOT

  ingress {
    from_port   = 1433
    to_port     = 1433
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""
CFN_BLOCKS = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: >
  folded
  text

Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: |
        literal
        block
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 1433
          ToPort: 1433
          CidrIp: 0.0.0.0/0
"""
CFN_JSON = """\
{
  "Description": "one\\ntwo",
  "Resources": {
    "Sg": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "sql",
        "SecurityGroupIngress": [
          {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"},
          {
            "IpProtocol": "tcp",
            "FromPort": 1433,
            "ToPort": 1433,
            "CidrIp": "0.0.0.0/0"
          }
        ]
      }
    }
  }
}
"""
NFT_MULTILINE = """\
#!/usr/sbin/nft -f
flush ruleset

table inet filter {
  set admins {
    type ipv4_addr
    elements = {
      10.0.0.1,
      10.0.0.2
    }
  }
  chain input {
    type filter hook input priority 0; policy drop;
    tcp dport 1433 \\
      accept
  }
}
"""
PF_CONTINUED = """\
ext_if = "em0"

block in all
pass in on $ext_if proto tcp \\
  to any port 1433
"""

# (file name, text, line of the rule)
MULTILINE = [
    case("terraform", "main.tf", TF_HEREDOC, 7, id="terraform-heredoc"),
    case("cloudformation", "sg.cfn.yaml", CFN_BLOCKS, 14, id="cfn-block-scalars"),
    case("cloudformation", "sg.cfn.json", CFN_JSON, 10, id="cfn-json"),
    case("nftables", "host.nft", NFT_MULTILINE, 14, id="nft-set-and-continuation"),
    case("pf", "pf.conf", PF_CONTINUED, 4, id="pf-continuation"),
    case(
        "iptables",
        "host.rules",
        "# generated\n\n" + iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
        IPTABLES_FIRST + 2,
        id="iptables-comments",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            "access-list OUTSIDE_IN remark sql from anywhere",
            "access-list OUTSIDE_IN extended permit tcp any any eq 1433",
        ),
        ASA_FIRST + 1,
        id="asa-remark",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        netsh(
            netsh_rule("Ssh", local_port="22", remote="10.0.0.0/8"), netsh_rule("Sql")
        ),
        15,
        id="windows-netsh-second-block",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), MULTILINE)
def test_line_after_multiline(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert diagnostics(result) == []
    assert hits(result, "SEG204") == [("SEG204", name, line)]


# Terraform with CRLF is test_terraform_crlf.
CRLF = [param for param in MULTILINE if not param.id.startswith("terraform")]


@pytest.mark.parametrize(("name", "text", "line"), CRLF)
def test_crlf_same_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    crlf = text.replace("\n", "\r\n").encode("utf-8")
    result = lint(tmp_path, {name: crlf})
    assert diagnostics(result) == []
    assert hits(result, "SEG204") == [("SEG204", name, line)]


@needs("terraform")
def test_terraform_crlf(tmp_path: Path) -> None:
    result = lint(tmp_path, {"main.tf": TF_HEREDOC.replace("\n", "\r\n").encode()})
    assert diagnostics(result) == []
    assert hits(result, "SEG204") == [("SEG204", "main.tf", 7)]


# --- encodings that Windows tools write -------------------------------------------

CSV_TWO_ROWS = windows_csv(
    csv_row("Ssh", local_port="22", remote="10.0.0.0/8"), csv_row("Sql")
).replace("\n", "\r\n")
NETSH_TWO_RULES = netsh(
    netsh_rule("Ssh", local_port="22", remote="10.0.0.0/8"), netsh_rule("Sql")
).replace("\n", "\r\n")

# (file name, bytes, line of the SEG204 rule)
ENCODINGS = [
    case(
        "windows-firewall",
        "rules.csv",
        CSV_TWO_ROWS.encode("utf-16"),
        CSV_FIRST + 1,
        id="csv-utf16",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        CSV_TWO_ROWS.encode("utf-8"),
        CSV_FIRST + 1,
        id="csv-utf8",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        NETSH_TWO_RULES.encode("utf-16"),
        15,
        id="netsh-utf16",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        NETSH_TWO_RULES.encode("utf-8-sig"),
        15,
        id="netsh-utf8-bom",
    ),
    case(
        "iptables",
        "host.rules",
        iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT").encode("utf-8-sig"),
        IPTABLES_FIRST,
        id="iptables-utf8-bom",
    ),
]


@pytest.mark.parametrize(("name", "data", "line"), ENCODINGS)
def test_encoding_same_line(tmp_path: Path, name: str, data: bytes, line: int) -> None:
    result = lint(tmp_path, {name: data})
    assert diagnostics(result) == []
    assert hits(result, "SEG204") == [("SEG204", name, line)]


@needs("windows-firewall")
def test_csv_utf8_bom(tmp_path: Path) -> None:
    result = lint(tmp_path, {"rules.csv": CSV_TWO_ROWS.encode("utf-8-sig")})
    assert hits(result, "SEG204") == [("SEG204", "rules.csv", CSV_FIRST + 1)]


# --- settings read from another file -------------------------------------------------


def profiles(policy: str) -> str:
    blocks = []
    for name in ("Domain", "Private", "Public"):
        blocks.append(
            f"{name} Profile Settings:\n{'-' * 70}\n{'State':<38}ON\n"
            f"{'Firewall Policy':<38}{policy}\n\n"
        )
    return "\n" + "".join(blocks) + "Ok.\n"


@needs("windows-firewall")
def test_profile_file_location(tmp_path: Path) -> None:
    # An AllowInbound default comes from the profile file beside the rules, so
    # the findings point at its "Firewall Policy" lines.
    files = {
        "rules.csv": windows_csv(csv_row("Ssh", local_port="22", remote="10.0.0.0/8")),
        "rules-profiles.txt": profiles("AllowInbound,AllowOutbound"),
    }
    result = lint(tmp_path, files)
    assert hits(result, "SEG204") == [
        ("SEG204", "rules-profiles.txt", 5),
        ("SEG204", "rules-profiles.txt", 10),
        ("SEG204", "rules-profiles.txt", 15),
    ]


@needs("iptables")
def test_two_files_own_lines(tmp_path: Path) -> None:
    files = {
        "a.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
        "b.rules": "# b\n" + iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
    }
    result = lint(tmp_path, files, targets=["a.rules", "b.rules"])
    assert hits(result, "SEG204") == [
        ("SEG204", "a.rules", IPTABLES_FIRST),
        ("SEG204", "b.rules", IPTABLES_FIRST + 1),
    ]
