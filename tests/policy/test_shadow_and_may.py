"""SEG301 shadowed rules with their covering rules, "may" verdicts and witness traces."""

from __future__ import annotations

import io
import json
from pathlib import Path

from seglint import __version__
from seglint.api import check
from seglint.report import FORMATTERS, RunReport


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sarif_of(tmp_path: Path, path: Path) -> dict:
    result = check([path], cwd=tmp_path)
    report = RunReport(findings=result.findings, diagnostics=result.diagnostics,
                       rules=result.rules, root=tmp_path, files_checked=result.files_checked,
                       notes=result.notes, tool_version=__version__,
                       execution_successful=not result.diagnostics)
    stream = io.StringIO()
    FORMATTERS["sarif"]().render(report, stream)
    return json.loads(stream.getvalue())


IPTABLES_SHADOW = """\
*filter
:INPUT DROP [0:0]
-A INPUT -s 10.0.0.0/8 -p tcp -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -s 10.1.0.0/16 -p tcp --dport 23 -j DROP
-A INPUT -p tcp --dport 22:23 -j ACCEPT
COMMIT
"""


def test_shadowed_rule_names_covering_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "fw.rules", IPTABLES_SHADOW)
    result = check([path], cwd=tmp_path)
    shadowed = [f for f in result.findings if f.rule_id == "SEG301"]
    assert [f.span.line for f in shadowed] == [5]
    assert [step.span.line for step in shadowed[0].related] == [3]
    assert "different action" in shadowed[0].message


def test_partly_covered_rule_is_not_shadowed(tmp_path: Path) -> None:
    path = write(tmp_path, "fw.rules", IPTABLES_SHADOW)
    result = check([path], cwd=tmp_path)
    assert 6 not in [f.span.line for f in result.findings if f.rule_id == "SEG301"]


def test_shadowed_related_locations_in_sarif(tmp_path: Path) -> None:
    path = write(tmp_path, "fw.rules", IPTABLES_SHADOW)
    log = sarif_of(tmp_path, path)
    results = [r for r in log["runs"][0]["results"] if r["ruleId"] == "SEG301"]
    assert len(results) == 1
    related = results[0]["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [3]


def test_contradictory_rule_never_matches(tmp_path: Path) -> None:
    text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.0.0.1 ! -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n"
    path = write(tmp_path, "fw.rules", text)
    result = check([path], cwd=tmp_path)
    shadowed = [f for f in result.findings if f.rule_id == "SEG301"]
    assert [(f.span.line, f.related) for f in shadowed] == [(3, ())]


def test_unknown_rule_before_does_not_shadow(tmp_path: Path) -> None:
    text = ("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m limit --limit 1/s -j DROP\n"
            "-A INPUT -p tcp --dport 25 -j ACCEPT\nCOMMIT\n")
    path = write(tmp_path, "fw.rules", text)
    result = check([path], cwd=tmp_path)
    assert [f for f in result.findings if f.rule_id == "SEG301"] == []


def test_may_finding_in_sarif_properties(tmp_path: Path) -> None:
    text = ("*filter\n:INPUT DROP [0:0]\n"
            "-A INPUT -p tcp --dport 1433 -m recent --rcheck -j ACCEPT\nCOMMIT\n")
    path = write(tmp_path, "fw.rules", text)
    log = sarif_of(tmp_path, path)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["SEG204"]["properties"]["may"] is True
    assert "may be reachable" in results["SEG204"]["message"]["text"]
    assert results["SEG204"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert results["SEG902"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_definite_despite_unknown_elsewhere(tmp_path: Path) -> None:
    # The packet is accepted either way; the rule that takes it when the
    # unknown match does not is the definite one, the unknown rule only "may".
    text = ("*filter\n:INPUT DROP [0:0]\n"
            "-A INPUT -p tcp --dport 1433 -m recent --rcheck -j ACCEPT\n"
            "-A INPUT -p tcp --dport 1433 -j ACCEPT\nCOMMIT\n")
    path = write(tmp_path, "fw.rules", text)
    result = check([path], cwd=tmp_path)
    sql = sorted((f.span.line, f.may) for f in result.findings if f.rule_id == "SEG204")
    assert sql == [(3, True), (4, False)]


def test_witness_trace_through_jump(tmp_path: Path) -> None:
    text = ("*filter\n:INPUT DROP [0:0]\n:SERVICES - [0:0]\n"
            "-A INPUT -p tcp -j SERVICES\n"
            "-A SERVICES -p tcp --dport 139 -j ACCEPT\nCOMMIT\n")
    path = write(tmp_path, "fw.rules", text)
    result = check([path], cwd=tmp_path)
    netbios = [f for f in result.findings if f.rule_id == "SEG201"]
    assert [f.span.line for f in netbios] == [5]
    assert [step.span.line for step in netbios[0].trace] == [4, 5]
    assert netbios[0].witness is not None
    assert netbios[0].witness.dport == 139
    log = sarif_of(tmp_path, path)
    result_201 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "SEG201")
    flow = result_201["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = [step["location"]["physicalLocation"]["region"]["startLine"] for step in flow]
    assert lines == [4, 5]


def test_witness_is_lowest_port_and_readable_source(tmp_path: Path) -> None:
    text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 137:139 -j ACCEPT\nCOMMIT\n"
    path = write(tmp_path, "fw.rules", text)
    result = check([path], cwd=tmp_path)
    witness = next(f.witness for f in result.findings if f.rule_id == "SEG201")
    assert witness is not None
    assert (witness.proto, witness.dport, witness.src) == (6, 137, "203.0.113.10")
