"""Findings carry specific, stable rule ids in every output.

A tool whose SARIF ``ruleId`` collapses to one generic id (``main/deny``)
cannot be filtered, suppressed or tracked per rule. seglint's ids come from
the rule catalogue; each output format shows the id of the rule that fired
and its kebab-case name.
"""

from __future__ import annotations

import io
import json
import re
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
    nft,
    pf,
    sarif,
    windows_csv,
)

from seglint import __version__  # noqa: E402
from seglint.api import RunResult, check  # noqa: E402
from seglint.report import FORMATTERS, RunReport  # noqa: E402

# The catalogue of the product contract; an id never changes meaning.
CATALOGUE = [
    ("SEG101", "smtp-inbound-blocked"),
    ("SEG102", "smtp-outbound-blocked"),
    ("SEG103", "dns-blocked"),
    ("SEG104", "update-download-blocked"),
    ("SEG105", "node-web-access-blocked"),
    ("SEG106", "console-unreachable"),
    ("SEG107", "pop3-blocked"),
    ("SEG108", "ldap-blocked"),
    ("SEG109", "sql-blocked"),
    ("SEG110", "controller-to-manager-blocked"),
    ("SEG111", "manager-to-controller-blocked"),
    ("SEG112", "rest-api-blocked"),
    ("SEG201", "netbios-exposed"),
    ("SEG202", "entra-rpc-exposed"),
    ("SEG203", "manager-port-exposed"),
    ("SEG204", "sql-exposed"),
    ("SEG205", "ldap-exposed"),
    ("SEG206", "console-exposed"),
    ("SEG207", "rest-api-exposed"),
    ("SEG208", "unneeded-port-exposed"),
    ("SEG301", "rule-shadowed"),
    ("SEG901", "parse-error"),
    ("SEG902", "unsupported-construct"),
    ("SEG903", "config-error"),
]
SPECIFIC_ID = re.compile(r"SEG[1-9]\d\d")

# One port per exposure rule, each on its own line, so each id fires once.
PORTS = [
    ("SEG201", "139"),
    ("SEG202", "19020"),
    ("SEG203", "19001"),
    ("SEG204", "1433"),
    ("SEG205", "389"),
    ("SEG206", "443"),
    ("SEG207", "19006"),
    ("SEG208", "22"),
]


def cfn_entry(port: str) -> dict[str, str]:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "CidrIp": "0.0.0.0/0",
    }


# (file name, text, line of the first rule, lines per rule)
FORMAT_CASES = [
    case(
        "iptables",
        "host.rules",
        iptables(*(f"-A INPUT -p tcp --dport {p} -j ACCEPT" for _, p in PORTS)),
        IPTABLES_FIRST,
        1,
        id="iptables",
    ),
    case(
        "nftables",
        "host.nft",
        nft(*(f"tcp dport {p} accept" for _, p in PORTS)),
        NFT_FIRST,
        1,
        id="nftables",
    ),
    case(
        "pf",
        "pf.conf",
        pf(*(f"pass in proto tcp to any port {p}" for _, p in PORTS)),
        PF_FIRST,
        1,
        id="pf",
    ),
    case(
        "asa",
        "edge.asa",
        asa(
            *(
                f"access-list OUTSIDE_IN extended permit tcp any any eq {p}"
                for _, p in PORTS
            )
        ),
        ASA_FIRST,
        1,
        id="asa",
    ),
    case(
        "ios",
        "edge.ios",
        ios(*(f"permit tcp any any eq {p}" for _, p in PORTS)),
        IOS_FIRST,
        1,
        id="ios",
    ),
    case(
        "terraform",
        "main.tf",
        aws_sg(
            *(
                aws_ingress(
                    from_port=int(p), to_port=int(p), cidr_blocks='["0.0.0.0/0"]'
                )
                for _, p in PORTS
            )
        ),
        2,
        6,
        id="terraform",
    ),
    case(
        "cloudformation",
        "sg.cfn.yaml",
        cfn(*(cfn_entry(p) for _, p in PORTS)),
        CFN_FIRST,
        4,
        id="cloudformation",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(*(csv_row(f"Open {p}", local_port=p) for _, p in PORTS)),
        CSV_FIRST,
        1,
        id="windows-csv",
    ),
]


def report(result: RunResult, root: Path) -> RunReport:
    return RunReport(
        findings=result.findings,
        diagnostics=result.diagnostics,
        rules=result.rules,
        root=root,
        files_checked=result.files_checked,
        notes=[],
        tool_version=__version__,
        execution_successful=not result.diagnostics,
    )


def render(name: str, result: RunResult, root: Path) -> str:
    stream = io.StringIO()
    FORMATTERS[name]().render(report(result, root), stream, color=False, quiet=False)
    return stream.getvalue()


def test_catalogue_ids_stable(tmp_path: Path) -> None:
    # The catalogue a run reports (SARIF rules[]), here of an empty folder.
    result = check([tmp_path], cwd=tmp_path)
    assert [(meta.id, meta.name) for meta in result.rules] == CATALOGUE


@pytest.mark.parametrize(("name", "text", "first", "step"), FORMAT_CASES)
def test_each_port_own_id(
    tmp_path: Path, name: str, text: str, first: int, step: int
) -> None:
    result = lint(tmp_path, {name: text})
    exposed = [(f.rule_id, f.span.line) for f in result.findings if f.rule_id[3] == "2"]
    assert exposed == [
        (rule_id, first + i * step) for i, (rule_id, _) in enumerate(PORTS)
    ]


@pytest.mark.parametrize(("name", "text", "first", "step"), FORMAT_CASES)
def test_sarif_rule_ids(
    tmp_path: Path, name: str, text: str, first: int, step: int
) -> None:
    result = lint(tmp_path, {name: text})
    run = sarif(result, tmp_path)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for item, finding in zip(run["results"], result.findings, strict=True):
        assert SPECIFIC_ID.fullmatch(item["ruleId"])
        assert item["ruleId"] == finding.rule_id
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]


@needs("iptables")
def test_text_names_rule(tmp_path: Path) -> None:
    result = lint(
        tmp_path, {"host.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT")}
    )
    lines = render("text", result, tmp_path).splitlines()
    assert lines[0].startswith("host.rules:5:1: error SEG204 sql-exposed: tcp/1433 ")


@needs("iptables")
def test_json_names_rule(tmp_path: Path) -> None:
    result = lint(
        tmp_path, {"host.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT")}
    )
    items = json.loads(render("json", result, tmp_path))
    assert [(i["ruleId"], i["name"], i["path"], i["line"]) for i in items] == [
        ("SEG204", "sql-exposed", "host.rules", IPTABLES_FIRST)
    ]


@needs("iptables")
def test_github_names_rule(tmp_path: Path) -> None:
    result = lint(
        tmp_path, {"host.rules": iptables("-A INPUT -p tcp --dport 1433 -j ACCEPT")}
    )
    first = render("github", result, tmp_path).splitlines()[0]
    assert first.startswith("::error file=host.rules,line=5,")
    assert "title=SEG204 sql-exposed::" in first


@needs("iptables")
def test_unsupported_has_own_id(tmp_path: Path) -> None:
    text = iptables("-A INPUT -p tcp --dport 1433 -m limit --limit 5/min -j ACCEPT")
    result = lint(tmp_path, {"host.rules": text})
    run = sarif(result, tmp_path)["runs"][0]
    ids = [
        (
            item["ruleId"],
            item["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for item in run["results"]
    ]
    assert ids == [("SEG204", IPTABLES_FIRST), ("SEG902", IPTABLES_FIRST)]


@needs("pf")
def test_parse_error_has_own_id(tmp_path: Path) -> None:
    result = lint(tmp_path, {"pf.conf": "pass in frm any\n"})
    invocation = sarif(result, tmp_path)["runs"][0]["invocations"][0]
    ids = [
        n["descriptor"]["id"]
        for n in invocation["toolExecutionNotifications"]
        if "descriptor" in n
    ]
    assert ids == ["SEG901"]
