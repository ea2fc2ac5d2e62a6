"""Suppressions apply to exactly one rule and are reported when they do nothing.

Peers applied ignore comments to a whole parent block, or dropped them
silently when the syntax was a little off. A seglint suppression
(``seglint: disable=ID reason="..."``) covers the findings on its own line
and on the line below it, in each comment syntax of the formats: ``#``,
``!`` for Cisco, ``//`` and ``#`` in HCL. Everything else stays reported,
and a suppression that suppresses nothing is a warning of the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    CFN_FIRST,
    IOS_FIRST,
    IPTABLES_FIRST,
    NFT_FIRST,
    PF_FIRST,
    asa,
    aws_ingress,
    aws_sg,
    case,
    cfn,
    ios,
    iptables,
    lint,
    needs,
    nft,
    one,
    pf,
    sarif,
)

from seglint.api import RunResult  # noqa: E402

REASON = "reviewed with the network team"
DISABLE = f'seglint: disable=SEG204 reason="{REASON}"'
FIRST_SRC, SECOND_SRC = "198.51.100.0/24", "203.0.113.0/24"
ACL = "access-list OUTSIDE_IN extended"


def sql_state(result: RunResult) -> list[tuple[int, str]]:
    """Return (line, suppression kind) of the SEG204 findings."""
    return [
        (f.span.line, f.suppression_kind)
        for f in result.findings
        if f.rule_id == "SEG204"
    ]


def unused(result: RunResult) -> list[tuple[str, int]]:
    return [(w.span.path, w.span.line) for w in result.suppression_warnings]


def ipt(comment: str) -> str:
    return iptables(
        comment,
        f"-A INPUT -s {FIRST_SRC} -p tcp --dport 1433 -j ACCEPT",
        f"-A INPUT -s {SECOND_SRC} -p tcp --dport 1433 -j ACCEPT",
    )


def nft_two(comment: str) -> str:
    return nft(
        comment,
        f"ip saddr {FIRST_SRC} tcp dport 1433 accept",
        f"ip saddr {SECOND_SRC} tcp dport 1433 accept",
    )


def pf_two(comment: str) -> str:
    return pf(
        comment,
        f"pass in proto tcp from {FIRST_SRC} to any port 1433",
        f"pass in proto tcp from {SECOND_SRC} to any port 1433",
    )


def asa_two(comment: str) -> str:
    return asa(
        comment,
        f"{ACL} permit tcp 198.51.100.0 255.255.255.0 any eq 1433",
        f"{ACL} permit tcp 203.0.113.0 255.255.255.0 any eq 1433",
    )


def ios_two(comment: str) -> str:
    # The comment sits inside the ACL block, as a line of its own.
    return ios(
        comment.lstrip(),
        "permit tcp 198.51.100.0 0.0.0.255 any eq 1433",
        "permit tcp 203.0.113.0 0.0.0.255 any eq 1433",
    )


def tf_two(comment: str) -> str:
    text = aws_sg(
        aws_ingress(cidr_blocks=f'["{FIRST_SRC}"]'),
        aws_ingress(cidr_blocks=f'["{SECOND_SRC}"]'),
    )
    return text.replace("  ingress {\n", f"  {comment}\n  ingress {{\n", 1)


def cfn_two(comment: str) -> str:
    text = cfn(
        {
            "IpProtocol": "tcp",
            "FromPort": "1433",
            "ToPort": "1433",
            "CidrIp": FIRST_SRC,
        },
        {
            "IpProtocol": "tcp",
            "FromPort": "1433",
            "ToPort": "1433",
            "CidrIp": SECOND_SRC,
        },
    )
    return text.replace(
        "        - IpProtocol", f"        {comment}\n        - IpProtocol", 1
    )


# (file name, text with the comment above the first rule, first rule line)
ABOVE = [
    case(
        "iptables",
        "host.rules",
        ipt(f"# {DISABLE}"),
        IPTABLES_FIRST + 1,
        id="iptables-hash",
    ),
    case("nftables", "host.nft", nft_two(f"# {DISABLE}"), NFT_FIRST + 1, id="nft-hash"),
    case("pf", "pf.conf", pf_two(f"# {DISABLE}"), PF_FIRST + 1, id="pf-hash"),
    case("asa", "edge.asa", asa_two(f"! {DISABLE}"), ASA_FIRST + 1, id="asa-bang"),
    case("ios", "edge.ios", ios_two(f"! {DISABLE}"), IOS_FIRST + 1, id="ios-bang"),
    case("terraform", "main.tf", tf_two(f"# {DISABLE}"), 3, id="hcl-hash"),
    case("terraform", "main.tf", tf_two(f"// {DISABLE}"), 3, id="hcl-slashes"),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn_two(f"# {DISABLE}"),
        CFN_FIRST + 1,
        id="cfn-hash",
    ),
]
SECOND = {  # line of the second rule, relative to the first
    "host.rules": 1,
    "host.nft": 1,
    "pf.conf": 1,
    "edge.asa": 1,
    "edge.ios": 1,
    "main.tf": 6,
    "sg.cfn.yaml": 4,
}


@pytest.mark.parametrize(("name", "text", "line"), ABOVE)
def test_only_next_rule(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    assert sql_state(result) == [(line, "inSource"), (line + SECOND[name], "")]
    assert unused(result) == []


@pytest.mark.parametrize(("name", "text", "line"), ABOVE)
def test_reason_kept_in_sarif(tmp_path: Path, name: str, text: str, line: int) -> None:
    result = lint(tmp_path, {name: text})
    results = [
        r
        for r in sarif(result, tmp_path)["runs"][0]["results"]
        if r["ruleId"] == "SEG204"
    ]
    assert [r.get("suppressions") for r in results] == [
        [{"kind": "inSource", "justification": REASON}],
        None,
    ]


@pytest.mark.parametrize(("name", "text", "line"), ABOVE)
def test_still_fails_on_second(tmp_path: Path, name: str, text: str, line: int) -> None:
    assert lint(tmp_path, {name: text}).exit_code == 1


# --- comments that are too far away ----------------------------------------------


@needs("iptables")
def test_two_lines_above_unused(tmp_path: Path) -> None:
    text = ipt(f"# {DISABLE}\n")  # a blank line between comment and rule
    result = lint(tmp_path, {"host.rules": text})
    assert sql_state(result) == [(IPTABLES_FIRST + 2, ""), (IPTABLES_FIRST + 3, "")]
    assert unused(result) == [("host.rules", IPTABLES_FIRST)]


@needs("iptables")
def test_file_top_not_whole_file(tmp_path: Path) -> None:
    text = f"# {DISABLE}\n" + ipt("# rules")
    result = lint(tmp_path, {"host.rules": text})
    assert sql_state(result) == [(IPTABLES_FIRST + 2, ""), (IPTABLES_FIRST + 3, "")]
    assert unused(result) == [("host.rules", 1)]


@needs("terraform")
def test_resource_comment_not_block(tmp_path: Path) -> None:
    # Above the resource is not above its ingress blocks: no parent-block scope.
    text = f"# {DISABLE}\n" + tf_two("# sql from partners")
    result = lint(tmp_path, {"main.tf": text})
    assert sql_state(result) == [(4, ""), (10, "")]
    assert unused(result) == [("main.tf", 1)]


@needs("cloudformation")
def test_list_comment_not_items(tmp_path: Path) -> None:
    text = cfn_two("# sql from partners").replace(
        "      SecurityGroupIngress:", f"      # {DISABLE}\n      SecurityGroupIngress:"
    )
    result = lint(tmp_path, {"sg.cfn.yaml": text})
    assert sql_state(result) == [(CFN_FIRST + 2, ""), (CFN_FIRST + 6, "")]
    assert unused(result) == [("sg.cfn.yaml", CFN_FIRST - 1)]


@needs("asa")
def test_other_id_not_applied(tmp_path: Path) -> None:
    text = asa_two('! seglint: disable=SEG201 reason="netbios is closed upstream"')
    result = lint(tmp_path, {"edge.asa": text})
    assert sql_state(result) == [(ASA_FIRST + 1, ""), (ASA_FIRST + 2, "")]
    assert unused(result) == [("edge.asa", ASA_FIRST)]


@needs("iptables")
def test_list_of_ids(tmp_path: Path) -> None:
    # One comment for two ids: SEG204 is used, SEG203 is reported unused.
    text = ipt(f'# seglint: disable=SEG203,SEG204 reason="{REASON}"')
    result = lint(tmp_path, {"host.rules": text})
    assert sql_state(result) == [
        (IPTABLES_FIRST + 1, "inSource"),
        (IPTABLES_FIRST + 2, ""),
    ]
    assert [w.message for w in result.suppression_warnings] == [
        "unused suppression of SEG203"
    ]


@needs("iptables")
def test_unused_in_sarif(tmp_path: Path) -> None:
    text = ipt('# seglint: disable=SEG201 reason="netbios is closed upstream"')
    result = lint(tmp_path, {"host.rules": text})
    notes = sarif(result, tmp_path)["runs"][0]["invocations"][0][
        "toolExecutionNotifications"
    ]
    warnings = [n for n in notes if n["level"] == "warning"]
    assert [
        (
            n["message"]["text"],
            n["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for n in warnings
    ] == [("unused suppression of SEG201", IPTABLES_FIRST)]


@needs("iptables")
def test_all_suppressed_exit_zero(tmp_path: Path) -> None:
    text = iptables(f"# {DISABLE}", "-A INPUT -p tcp --dport 1433 -j ACCEPT")
    result = lint(tmp_path, {"host.rules": text})
    assert sql_state(result) == [(IPTABLES_FIRST + 1, "inSource")]
    assert result.exit_code == 0


@needs("iptables")
def test_inline_can_be_refused(tmp_path: Path) -> None:
    # --no-inline-suppressions: teams that forbid inline skips ignore them all.
    text = iptables(f"# {DISABLE}", "-A INPUT -p tcp --dport 1433 -j ACCEPT")
    result = lint(tmp_path, {"host.rules": text}, inline_suppressions=False)
    assert sql_state(result) == [(IPTABLES_FIRST + 1, "")]
    assert result.exit_code == 1


# --- the ignore file ------------------------------------------------------------


@needs("iptables")
def test_ignore_entry_one_finding(tmp_path: Path) -> None:
    # A fingerprint scopes an entry to one of two findings of the same rule id.
    files = {"hosts/node.rules": ipt("# rules")}
    plain = lint(tmp_path, files)
    second = one(plain, "SEG204", IPTABLES_FIRST + 2).fingerprint
    ignore = (
        f"- rule: SEG204\n  path: hosts/node.rules\n  fingerprint: {second}\n"
        f"  reason: {REASON}\n"
    )
    result = lint(
        tmp_path, {**files, ".seglintignore.yaml": ignore}, targets=["hosts/node.rules"]
    )
    assert sql_state(result) == [
        (IPTABLES_FIRST + 1, ""),
        (IPTABLES_FIRST + 2, "external"),
    ]


@needs("iptables")
def test_ignore_entry_one_file(tmp_path: Path) -> None:
    files = {
        "hosts/node.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
        "edge/fw.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT"),
        ".seglintignore.yaml": (
            f"- rule: SEG204\n  path: hosts/*.rules\n  reason: {REASON}\n"
        ),
    }
    result = lint(tmp_path, files, targets=["hosts", "edge"])
    assert [
        (f.span.path, f.suppression_kind)
        for f in result.findings
        if f.rule_id == "SEG204"
    ] == [("edge/fw.rules", ""), ("hosts/node.rules", "external")]


# --- comments that look like suppressions but are not read as one -------------------

MALFORMED = [
    pytest.param("# seglint: disable=SEG204 reason=reviewed", id="unquoted-reason"),
    pytest.param("# seglint: disable=SEG204 reason='reviewed'", id="single-quotes"),
    pytest.param(
        f'# seglint: disable=SEG204 reason="{REASON}" # ticket 12', id="trailing-text"
    ),
    pytest.param(f'# seglint: disabled=SEG204 reason="{REASON}"', id="misspelt-key"),
    pytest.param(f'# seglint: disable SEG204 reason="{REASON}"', id="no-equals"),
]


@needs("iptables")
@pytest.mark.parametrize("comment", MALFORMED)
def test_malformed_reported(tmp_path: Path, comment: str) -> None:
    text = iptables(comment, "-A INPUT -p tcp --dport 1433 -j ACCEPT")
    result = lint(tmp_path, {"host.rules": text})
    assert unused(result) == [("host.rules", IPTABLES_FIRST)]


@needs("terraform")
def test_hcl_block_comment(tmp_path: Path) -> None:
    result = lint(tmp_path, {"main.tf": tf_two(f"/* {DISABLE} */")})
    assert sql_state(result) == [(3, "inSource"), (9, "")]
