"""Fingerprints stay the same when lines move and differ between findings.

Without stable ``partialFingerprints`` a SARIF consumer (GitHub code
scanning, ``--baseline``) treats every finding as new once a line is added
above it. The fingerprint hashes the rule id, the file and what the finding
means (the rule text and the flow), never the line.
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
    case,
    cfn,
    csv_row,
    ios,
    iptables,
    lint,
    needs,
    netsh,
    netsh_rule,
    nft,
    one,
    pf,
    sarif_results,
    windows_csv,
)

from seglint.report import FINGERPRINT_KEY  # noqa: E402

SQL_IPT = "-A INPUT -p tcp --dport 1433 -j ACCEPT"
SSH_IPT = "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT"
SQL_ACL = "access-list OUTSIDE_IN extended permit tcp any any eq 1433"
SSH_ACL = "access-list OUTSIDE_IN extended permit tcp 10.0.0.0 255.0.0.0 any eq 22"
SQL_INGRESS = aws_ingress(cidr_blocks='["0.0.0.0/0"]')
OTHER_SG = (
    "# the SSH group\n"
    'resource "aws_security_group" "ssh" {\n'
    "  ingress {\n"
    "    from_port   = 22\n"
    "    to_port     = 22\n"
    '    protocol    = "tcp"\n'
    '    cidr_blocks = ["10.0.0.0/8"]\n'
    "  }\n"
    "}\n\n"
)
SQL_ENTRY = {
    "IpProtocol": "tcp",
    "FromPort": "1433",
    "ToPort": "1433",
    "CidrIp": "0.0.0.0/0",
}
SSH_ENTRY = {
    "IpProtocol": "tcp",
    "FromPort": "22",
    "ToPort": "22",
    "CidrIp": "10.0.0.0/8",
}

# (file name, text, line, text with lines added above the rule, its new line)
MOVES = [
    case(
        "iptables",
        "host.rules",
        iptables(SQL_IPT),
        IPTABLES_FIRST,
        "# moved\n\n" + iptables(SSH_IPT, SQL_IPT),
        IPTABLES_FIRST + 3,
        id="iptables",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1433 accept"),
        NFT_FIRST,
        "# moved\n"
        + nft("ip saddr 10.0.0.0/8 tcp dport 22 accept", "tcp dport 1433 accept"),
        NFT_FIRST + 2,
        id="nftables",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1433"),
        PF_FIRST,
        "# moved\n"
        + pf(
            "pass in proto tcp from 10.0.0.0/8 to any port 22",
            "pass in proto tcp to any port 1433",
        ),
        PF_FIRST + 2,
        id="pf",
    ),
    case(
        "asa",
        "edge.asa",
        asa(SQL_ACL),
        ASA_FIRST,
        asa("access-list OUTSIDE_IN remark moved", SSH_ACL, SQL_ACL),
        ASA_FIRST + 2,
        id="asa",
    ),
    case(
        "ios",
        "edge.ios",
        ios("permit tcp any any eq 1433"),
        IOS_FIRST,
        ios(
            "remark moved",
            "permit tcp 10.0.0.0 0.255.255.255 any eq 22",
            "permit tcp any any eq 1433",
        ),
        IOS_FIRST + 2,
        id="ios",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(SQL_INGRESS),
        2,
        OTHER_SG + aws_sg(SQL_INGRESS),
        12,
        id="terraform",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(SQL_ENTRY),
        CFN_FIRST,
        "# moved\n" + cfn(SSH_ENTRY, SQL_ENTRY),
        CFN_FIRST + 5,
        id="cloudformation",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Sql")),
        CSV_FIRST,
        windows_csv(
            csv_row("Ssh", local_port="22", remote="10.0.0.0/8"), csv_row("Sql")
        ),
        CSV_FIRST + 1,
        id="windows-csv",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        netsh(netsh_rule("Sql")),
        2,
        netsh(
            netsh_rule("Ssh", local_port="22", remote="10.0.0.0/8"), netsh_rule("Sql")
        ),
        15,
        id="windows-netsh",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "moved", "moved_line"), MOVES)
def test_stable_when_moved(
    tmp_path: Path, name: str, text: str, line: int, moved: str, moved_line: int
) -> None:
    before = one(lint(tmp_path / "a", {name: text}), "SEG204", line)
    after = one(lint(tmp_path / "b", {name: moved}), "SEG204", moved_line)
    assert after.fingerprint == before.fingerprint


@pytest.mark.parametrize(("name", "text", "line", "moved", "moved_line"), MOVES)
def test_sarif_fingerprint_stable(
    tmp_path: Path, name: str, text: str, line: int, moved: str, moved_line: int
) -> None:
    def sql_fingerprints(folder: Path, content: str) -> list[str]:
        results = sarif_results(lint(folder, {name: content}), folder)
        return [
            item["partialFingerprints"][FINGERPRINT_KEY]
            for item in results
            if item["ruleId"] == "SEG204"
        ]

    before = sql_fingerprints(tmp_path / "a", text)
    after = sql_fingerprints(tmp_path / "b", moved)
    assert len(before) == 1
    assert after == before


@pytest.mark.parametrize(("name", "text", "line", "moved", "moved_line"), MOVES)
def test_distinct_per_finding(
    tmp_path: Path, name: str, text: str, line: int, moved: str, moved_line: int
) -> None:
    result = lint(tmp_path, {name: text})
    fingerprints = [f.fingerprint for f in result.findings]
    assert len(set(fingerprints)) == len(fingerprints)


# Two rules that expose the same port, each a finding of its own.
TWO_RULES = [
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -s 198.51.100.0/24 -p tcp --dport 1433 -j ACCEPT",
            "-A INPUT -s 203.0.113.0/24 -p tcp --dport 1433 -j ACCEPT",
        ),
        IPTABLES_FIRST,
        IPTABLES_FIRST + 1,
        id="iptables",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(
            aws_ingress(cidr_blocks='["198.51.100.0/24"]'),
            aws_ingress(cidr_blocks='["203.0.113.0/24"]'),
        ),
        2,
        8,
        id="terraform",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(
            {**SQL_ENTRY, "CidrIp": "198.51.100.0/24"},
            {**SQL_ENTRY, "CidrIp": "203.0.113.0/24"},
        ),
        CFN_FIRST,
        CFN_FIRST + 4,
        id="cloudformation",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(
            csv_row("Sql", remote="198.51.100.0/24"),
            csv_row("Sql", remote="203.0.113.0/24"),
        ),
        CSV_FIRST,
        CSV_FIRST + 1,
        id="windows-same-name",
    ),
]


@pytest.mark.parametrize(("name", "text", "first", "second"), TWO_RULES)
def test_different_rules_differ(
    tmp_path: Path, name: str, text: str, first: int, second: int
) -> None:
    result = lint(tmp_path, {name: text})
    one_fingerprint = one(result, "SEG204", first).fingerprint
    other_fingerprint = one(result, "SEG204", second).fingerprint
    assert one_fingerprint != other_fingerprint


@needs("iptables")
def test_rule_ids_on_line_differ(tmp_path: Path) -> None:
    result = lint(tmp_path, {"host.rules": iptables("-A INPUT -j ACCEPT")})
    fingerprints = {f.rule_id: f.fingerprint for f in result.findings}
    assert len(fingerprints) == 8
    assert len(set(fingerprints.values())) == 8


@needs("iptables")
def test_same_rule_other_file_differs(tmp_path: Path) -> None:
    files = {"a.rules": iptables(SQL_IPT), "b.rules": iptables(SQL_IPT)}
    result = lint(tmp_path, files, targets=["a.rules", "b.rules"])
    fingerprints = [f.fingerprint for f in result.findings if f.rule_id == "SEG204"]
    assert len(fingerprints) == 2
    assert fingerprints[0] != fingerprints[1]


@needs("iptables")
def test_changed_rule_changes(tmp_path: Path) -> None:
    # Widening the rule is a new finding for a baseline, not the accepted one.
    before = one(
        lint(tmp_path / "a", {"host.rules": iptables(SQL_IPT)}),
        "SEG204",
        IPTABLES_FIRST,
    )
    wider = iptables("-A INPUT -p tcp --dport 1400:1500 -j ACCEPT")
    after = one(lint(tmp_path / "b", {"host.rules": wider}), "SEG204", IPTABLES_FIRST)
    assert after.fingerprint != before.fingerprint


@needs("iptables")
def test_whitespace_change_stable(tmp_path: Path) -> None:
    # Rule.text is normalised for whitespace, so re-indenting keeps the fingerprint.
    before = one(
        lint(tmp_path / "a", {"host.rules": iptables(SQL_IPT)}),
        "SEG204",
        IPTABLES_FIRST,
    )
    spaced = iptables("-A INPUT  -p tcp   --dport 1433 -j ACCEPT")
    after = one(lint(tmp_path / "b", {"host.rules": spaced}), "SEG204", IPTABLES_FIRST)
    assert after.fingerprint == before.fingerprint
