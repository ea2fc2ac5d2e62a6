"""SARIF regions point at real lines, never below line 1, for every kind of location.

GitHub rejects a SARIF upload with a region line below 1. Pinning such a
line to 1 hides the bug, so these tests also check the finding's own span.
Each of these carries the line a user should look at: a chain policy, an
implicit default (AWS default deny, pf default pass, ASA and IOS implicit
deny, Windows profile default, GCP and Azure default rules) and a parse
error at line 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_HEAD,
    azure_nsg,
    case,
    csv_row,
    gcp_firewall,
    hits,
    iptables,
    lint,
    nft,
    sarif,
    windows_csv,
)

NODE_CONFIG = """\
roles:
  processing-nodes: [198.51.100.10]
rulesets:
  - files: "*"
    host: processing-nodes
"""
EDGE_CONFIG = """\
trusted: [10.0.0.0/8, 198.51.100.0/24]
roles:
  processing-nodes: [198.51.100.10]
rulesets:
  - files: "*"
    zones: {outside: internet, inside: [198.51.100.0/24]}
"""
ASA_EDGE = (
    ASA_HEAD
    + "interface GigabitEthernet0/1\n"
    + " nameif inside\n"
    + " security-level 100\n"
    + " ip address 198.51.100.1 255.255.255.0\n"
    + "!\n"
    + "access-list OUTSIDE_IN extended permit tcp any any eq 80\n"
    + "access-list OUTSIDE_IN extended permit tcp any any eq 443\n"
    + "access-group OUTSIDE_IN in interface outside\n"
)
IOS_EDGE = """\
hostname r1
interface GigabitEthernet0/0
 ip address 203.0.113.1 255.255.255.0
 ip access-group EDGE in
!
interface GigabitEthernet0/1
 ip address 198.51.100.1 255.255.255.0
!
ip access-list extended EDGE
 permit tcp any any eq 80
 permit tcp any any eq 443
!
"""
IOS_CONFIG = EDGE_CONFIG.replace("outside", "GigabitEthernet0/0").replace(
    "inside", "GigabitEthernet0/1"
)
AWS_EMPTY = 'resource "aws_security_group" "node" {\n  name = "node"\n}\n'
CFN_EMPTY = (
    "Resources:\n"
    "  Sg:\n"
    "    Type: AWS::EC2::SecurityGroup\n"
    "    Properties:\n"
    "      GroupDescription: none\n"
)
GCP_SSH = gcp_firewall("ssh", ports=["22"], sources='source_ranges = ["10.0.0.0/8"]')

# (files, config, rule id, file, line): the finding sits on a policy line or on
# the location of an implicit default.
DEFAULTS = [
    case(
        "iptables",
        {"host.rules": iptables().replace(":INPUT DROP", ":INPUT ACCEPT")},
        None,
        "SEG204",
        "host.rules",
        2,
        id="iptables-policy-accept",
    ),
    case(
        "iptables",
        {"host.rules": iptables()},
        NODE_CONFIG,
        "SEG101",
        "host.rules",
        2,
        id="iptables-policy-drop",
    ),
    case(
        "nftables",
        {"host.nft": nft(policy="accept")},
        None,
        "SEG204",
        "host.nft",
        3,
        id="nft-policy-accept",
    ),
    case(
        "nftables",
        {"host.nft": nft().replace(" policy drop;", "")},
        None,
        "SEG204",
        "host.nft",
        3,
        id="nft-no-policy",
    ),
    case(
        "pf",
        {"pf.conf": "set skip on lo\npass out all\n"},
        None,
        "SEG204",
        "pf.conf",
        1,
        id="pf-default-pass",
    ),
    case("pf", {"pf.conf": ""}, None, "SEG204", "pf.conf", 1, id="pf-empty-file"),
    case(
        "terraform",
        {"main.tf": AWS_EMPTY},
        NODE_CONFIG,
        "SEG101",
        "main.tf",
        1,
        id="aws-default-deny",
    ),
    case(
        "terraform",
        {"main.tf": GCP_SSH},
        NODE_CONFIG,
        "SEG101",
        "main.tf",
        1,
        id="gcp-implied-deny",
    ),
    case(
        "terraform",
        {"main.tf": azure_nsg()},
        NODE_CONFIG,
        "SEG101",
        "main.tf",
        1,
        id="azure-deny-all-inbound",
    ),
    case(
        "cloudformation",
        {"sg.cfn.yaml": CFN_EMPTY},
        NODE_CONFIG,
        "SEG101",
        "sg.cfn.yaml",
        2,
        id="cfn-default-deny",
    ),
    case(
        "asa",
        {"edge.asa": ASA_EDGE},
        EDGE_CONFIG,
        "SEG101",
        "edge.asa",
        14,
        id="asa-implicit-deny",
    ),
    case(
        "ios",
        {"edge.ios": IOS_EDGE},
        IOS_CONFIG,
        "SEG101",
        "edge.ios",
        11,
        id="ios-implicit-deny",
    ),
    case(
        "windows-firewall",
        {
            "rules.csv": windows_csv(
                csv_row("Ssh", local_port="22", remote="10.0.0.0/8")
            )
        },
        NODE_CONFIG,
        "SEG101",
        "rules.csv",
        1,
        id="windows-default-block",
    ),
]


def regions(log: dict[str, Any]) -> list[dict[str, int]]:
    """Return every region of the results and notifications of a SARIF log."""
    run = log["runs"][0]
    found = []
    for result in run["results"]:
        for location in result["locations"]:
            found.append(location["physicalLocation"]["region"])
        for location in result.get("relatedLocations", []):
            found.append(location["physicalLocation"]["region"])
    for invocation in run["invocations"]:
        for note in invocation.get("toolExecutionNotifications", []):
            for location in note.get("locations", []):
                found.append(location["physicalLocation"]["region"])
    return found


@pytest.mark.parametrize(("files", "config", "rule_id", "path", "line"), DEFAULTS)
def test_default_finding_line(
    tmp_path: Path,
    files: dict[str, str],
    config: str | None,
    rule_id: str,
    path: str,
    line: int,
) -> None:
    result = lint(tmp_path, files, config=config)
    assert result.diagnostics == []
    assert (rule_id, path, line) in hits(result, rule_id)


@pytest.mark.parametrize(("files", "config", "rule_id", "path", "line"), DEFAULTS)
def test_spans_are_real_lines(
    tmp_path: Path,
    files: dict[str, str],
    config: str | None,
    rule_id: str,
    path: str,
    line: int,
) -> None:
    # The finding's own span, before the SARIF writer could clamp it.
    result = lint(tmp_path, files, config=config)
    for finding in result.findings:
        assert finding.span.line >= 1, finding
        assert finding.span.column >= 1, finding
        assert finding.span.end_line >= finding.span.line, finding
        for step in (*finding.trace, *finding.related):
            assert step.span.line >= 1, step


@pytest.mark.parametrize(("files", "config", "rule_id", "path", "line"), DEFAULTS)
def test_sarif_region_is_span(
    tmp_path: Path,
    files: dict[str, str],
    config: str | None,
    rule_id: str,
    path: str,
    line: int,
) -> None:
    result = lint(tmp_path, files, config=config)
    log = sarif(result, tmp_path)
    located = [
        (
            item["ruleId"],
            item["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for item in log["runs"][0]["results"]
    ]
    assert (rule_id, line) in located
    for region in regions(log):
        assert region["startLine"] >= 1
        assert region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]


# Files that fail to parse at line 1, and where their error points.
PARSE_ERRORS = [
    case("pf", "pf.conf", "pass in frm any\n", 1, id="pf"),
    case("iptables", "rules.v4", "-A INPUT --bogus\n", 1, id="iptables"),
    case("nftables", "host.nft", "}\n", 1, id="nft"),
    case("asa", "edge.asa", "access-list X extended permit tcp any\n", 1, id="asa"),
    case(
        "terraform",
        "main.tf",
        'resource "aws_security_group" "x" {',
        1,
        id="terraform-no-newline",
    ),
    case("windows-firewall", "rules.csv", windows_csv('"x"\n'), 2, id="windows-csv"),
]


@pytest.mark.parametrize(("name", "text", "line"), PARSE_ERRORS)
def test_parse_error_notification(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    result = lint(tmp_path, {name: text})
    assert [(d.rule_id, d.span.path, d.span.line) for d in result.diagnostics] == [
        ("SEG901", name, line)
    ]
    run = sarif(result, tmp_path)["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    # Run notes (zero config) are notifications without a descriptor.
    notes = [n for n in invocation["toolExecutionNotifications"] if "descriptor" in n]
    assert [note["descriptor"]["id"] for note in notes] == ["SEG901"]
    region = notes[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == line
    assert region["startColumn"] >= 1


@pytest.mark.parametrize(("files", "config", "rule_id", "path", "line"), DEFAULTS)
def test_valid_against_schema(
    tmp_path: Path,
    shared: Path,
    files: dict[str, str],
    config: str | None,
    rule_id: str,
    path: str,
    line: int,
) -> None:
    schema = json.loads(
        (shared / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    log = sarif(lint(tmp_path, files, config=config), tmp_path)
    jsonschema.validators.validator_for(schema)(schema).validate(log)
