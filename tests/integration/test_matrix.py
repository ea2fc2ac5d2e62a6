"""``seglint matrix``: every port table row against every rule set, from the same queries."""

from __future__ import annotations

import io
import subprocess
import sys
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from seglint.api import check
from seglint.cli import main
from seglint.matrix import build
from seglint.policy import load_policy_data
from seglint.report.matrix_text import compact_flow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HEADER = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
CONFIG = """\
seg:
  version: "10.2"
roles:
  array-manager: [10.0.0.10]
  sql-server: [10.0.0.20]
rulesets:
  - files: "*.rules"
    host: sql-server
"""


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def examples_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("matrix") / "matrix.json"
    code, _, err = run("matrix", str(EXAMPLES), "--format", "json", "-o", str(target))
    assert code == 0, err
    return json.loads(target.read_text(encoding="utf-8"))


def cell(data: dict, row: str, label: str) -> dict:
    ruleset = next(r["id"] for r in data["rulesets"] if r["label"].endswith(label))
    return next(c for c in data["cells"] if c["requirement"] == row and c["ruleset"] == ruleset)


# --- verdicts on the examples --------------------------------------------------------

@pytest.mark.parametrize(("row", "label", "verdict", "line"), [
    ("SEG109", "hosts/array-manager.rules", "blocked", 5),  # OUTPUT policy DROP
    ("SEG101", "hosts/node-1.rules", "allowed", 8),
    ("SEG201", "hosts/array-manager.rules", "exposed", 10),
    ("SEG204", "hosts/sql-server.pf.conf", "exposed", 13),
    ("SEG204", "edge/asa.cfg", "blocked", 34),  # deny ip any any log
    ("SEG103", "edge/asa.cfg", "blocked", 38),
    ("SEG203.2", "hosts/node-2.nft", "exposed", 17),
    ("SEG102", "node-1.csv (public)", "blocked", 8),
])
def test_example_cell(examples_json: dict, row: str, label: str, verdict: str,
                      line: int) -> None:
    found = cell(examples_json, row, label)
    assert found["verdict"] == verdict
    assert found["rule"]["line"] == line


def test_blocked_cell_names_rule_and_witness(examples_json: dict) -> None:
    found = cell(examples_json, "SEG109", "hosts/array-manager.rules")
    assert found["rule"]["path"] == "examples/hosts/array-manager.rules"
    assert found["rule"]["text"] == "chain OUTPUT policy DROP"
    assert found["witness"]["text"] == "tcp 10.0.0.10:40000 -> 10.0.0.20:1433"


def test_allowed_cell_names_accepting_rule(examples_json: dict) -> None:
    found = cell(examples_json, "SEG101", "hosts/node-1.rules")
    assert found["rule"]["text"] == "-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT"
    assert found["witness"]["text"] == "tcp 203.0.113.10:40000 -> 198.51.100.10:25"


@pytest.mark.parametrize(("row", "label", "reason"), [
    ("SEG107", "hosts/node-1.rules", "feature: pop3 is not listed in seg.features"),
    ("SEG202", "hosts/array-manager.rules",
     "version: the row applies to SEG 11.1 and above; the configuration says 10.2"),
    ("SEG110.2", "hosts/array-manager.rules",
     "version: the row applies to SEG 8.99 and below; the configuration says 10.2"),
    ("SEG109", "hosts/node-1.rules", "not crossing this firewall: its host "
     "(processing-nodes) is neither a source nor a destination of this row"),
    ("SEG106", "edge/asa.cfg", "not crossing this firewall: admin-workstations and "
     "array-manager are behind the same interface"),
    ("SEG204", "hosts/node-1.rules",
     "not a destination: the row protects sql-server, not processing-nodes"),
])
def test_not_applicable_reason(examples_json: dict, row: str, label: str,
                               reason: str) -> None:
    found = cell(examples_json, row, label)
    assert found["verdict"] == "n/a"
    assert found["reason"] == reason


def test_rows_follow_the_port_table(examples_json: dict) -> None:
    ids = [row["id"] for row in examples_json["requirements"]]
    assert ids[:3] == ["SEG101", "SEG102", "SEG103"]
    assert "SEG110.1" in ids
    assert "SEG110.2" in ids
    assert len(examples_json["cells"]) == len(ids) * len(examples_json["rulesets"])


def test_row_quotes_port_table(examples_json: dict) -> None:
    row = next(r for r in examples_json["requirements"] if r["id"] == "SEG109")
    assert row["row"].startswith("| tcp/1433 | Outgoing | Array Manager | SQL Server |")


# --- the same results as seglint check --------------------------------------------------

def test_failing_cells_match_check_findings() -> None:
    """Every cell where a row fails is a finding of ``check`` at the same place, and back."""
    result = check([EXAMPLES], matrix=True)
    policy = load_policy_data()
    matrix = build(policy.requirements, result.verdicts)
    from_matrix = set()
    for (_, row), found in matrix.cells.items():
        for flow in found.checks:
            if flow.verdict in ("blocked", "exposed", "may") and flow.rule is not None:
                kind = matrix.requirements[row].kind
                if kind == "exposure" and flow.verdict == "blocked":
                    continue  # a closed port is no finding
                from_matrix.add((matrix.requirements[row].rule_id, flow.rule.span.path,
                                 flow.rule.span.line))
    from_check = {(f.rule_id, f.span.path, f.span.line) for f in result.findings
                  if f.rule_id[3] in "12"}
    assert from_matrix == from_check


def test_check_without_matrix_records_nothing() -> None:
    result = check([EXAMPLES / "hosts" / "node-1.rules"])
    assert result.verdicts == []


# --- text output ------------------------------------------------------------------------

def test_text_table_words_without_terminal() -> None:
    code, out, _ = run("matrix", str(EXAMPLES))
    assert code == 0
    assert "\x1b[" not in out
    line = next(text for text in out.splitlines() if text.startswith("SEG109 "))
    cells = line.split()[2:15]
    assert cells[3] == "blocked"  # column 4: hosts/array-manager.rules


def test_text_lists_rule_sets_by_number() -> None:
    _, out, _ = run("matrix", str(EXAMPLES))
    assert "   4  examples/hosts/array-manager.rules  [iptables, array-manager]" in out


def test_text_names_deciding_rule_of_failing_cell() -> None:
    _, out, _ = run("matrix", str(EXAMPLES))
    assert ("  SEG109 in 4: blocked at examples/hosts/array-manager.rules:5: tcp/1433 "
            "from array-manager to sql-server is dropped (chain OUTPUT policy DROP)\n"
            "    witness: tcp 10.0.0.10:40000 -> 10.0.0.20:1433\n") in out


def test_text_explains_void_rows() -> None:
    _, out, _ = run("matrix", str(EXAMPLES))
    assert "  feature: pop3 is not listed in seg.features:\n    SEG107\n" in out


def test_text_symbols_and_colour_on_request() -> None:
    _, out, _ = run("matrix", str(EXAMPLES), "--color", "always")
    line = next(text for text in out.splitlines() if text.startswith("SEG109 "))
    symbols = re.findall(r"\x1b\[(\d+)m(.)\x1b\[0m", line)
    assert symbols[3] == ("31", "✘")  # a blocked required flow is red
    assert symbols[0] == ("32", "✔")


def test_text_exposure_blocked_is_green() -> None:
    _, out, _ = run("matrix", str(EXAMPLES), "--color", "always")
    line = next(text for text in out.splitlines() if text.startswith("SEG204 "))
    symbols = re.findall(r"\x1b\[(\d+)m(.)\x1b\[0m", line)
    assert symbols[2] == ("32", "✘")  # asa.cfg keeps SQL inside
    assert symbols[6] == ("31", "!")  # sql-server.pf.conf exposes it


@pytest.mark.parametrize(("flow", "short"), [
    ("tcp/53 and udp/53", "tcp,udp/53"),
    ("tcp/80,443", "tcp/80,443"),
    ("tcp/25 and udp/53", "tcp/25 and udp/53"),
])
def test_compact_flow(flow: str, short: str) -> None:
    assert compact_flow(flow) == short


# --- small inputs -------------------------------------------------------------------------

def write(tmp_path: Path, rules: str) -> Path:
    (tmp_path / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "db.rules").write_text(rules, encoding="utf-8")
    return tmp_path


def json_of(tmp_path: Path) -> dict:
    code, out, err = run("matrix", str(tmp_path), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_unknown_module_gives_may(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "-A INPUT -p tcp --dport 1433 -m recent --rcheck -j ACCEPT\n"
          "COMMIT\n")
    found = cell(json_of(tmp_path), "SEG204", "db.rules")
    assert found["verdict"] == "may"
    assert found["rule"]["line"] == 5


def test_exposure_blocked_by_rule(tmp_path: Path) -> None:
    write(tmp_path, HEADER.replace(":INPUT DROP", ":INPUT ACCEPT")
          + "-A INPUT -p tcp --dport 1433 -j DROP\nCOMMIT\n")
    found = cell(json_of(tmp_path), "SEG204", "db.rules")
    assert found["verdict"] == "blocked"
    assert found["rule"]["line"] == 5
    assert found["witness"]["dport"] == 1433


INPUT_ONLY = """\
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established accept
  }
}
"""


def test_no_output_chain_passes_flow(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(
        CONFIG.replace('"*.rules"\n    host: sql-server', '"*.nft"\n    host: array-manager'),
        encoding="utf-8")
    (tmp_path / "am.nft").write_text(INPUT_ONLY, encoding="utf-8")
    found = cell(json_of(tmp_path), "SEG109", "am.nft")
    assert found["verdict"] == "allowed"
    assert found["checks"][0]["message"] == (
        "tcp/1433 from array-manager to sql-server passes: the rule set has no output filter")


def test_no_output_chain_replies_dropped(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(
        CONFIG.replace('"*.rules"\n    host: sql-server', '"*.nft"\n    host: array-manager'),
        encoding="utf-8")
    (tmp_path / "am.nft").write_text(INPUT_ONLY.replace("    ct state established accept\n",
                                                        ""), encoding="utf-8")
    found = cell(json_of(tmp_path), "SEG109", "am.nft")
    assert found["verdict"] == "blocked"
    assert found["rule"]["line"] == 3
    assert found["checks"][0]["reply"] is True


def test_zero_config_required_rows_have_no_role(tmp_path: Path) -> None:
    (tmp_path / "db.rules").write_text(HEADER + "COMMIT\n", encoding="utf-8")
    found = cell(json_of(tmp_path), "SEG109", "db.rules")
    assert found["reason"] == "no role: no roles are configured"


def test_parse_error_exits_2_and_keeps_other_files(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "COMMIT\n")
    (tmp_path / "broken.rules").write_text("*filter\n-A INPUT -p tcp --dport\n",
                                           encoding="utf-8")
    code, out, err = run("matrix", str(tmp_path), "--format", "json")
    assert code == 2
    assert re.search(r"broken\.rules:2:\d+: error SEG901: ", err)
    labels = [r["label"] for r in json.loads(out)["rulesets"]]
    assert len(labels) == 1
    assert labels[0].endswith("/db.rules")


def test_parse_error_listed_in_json(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "COMMIT\n")
    (tmp_path / "broken.rules").write_text("*filter\n-A INPUT -p tcp --dport\n",
                                           encoding="utf-8")
    _, out, _ = run("matrix", str(tmp_path), "--format", "json")
    errors = json.loads(out)["errors"]
    assert [(e["rule"], Path(e["path"]).name, e["line"]) for e in errors] == [
        ("SEG901", "broken.rules", 2)]


def test_parse_error_listed_in_text(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "COMMIT\n")
    (tmp_path / "broken.rules").write_text("*filter\n-A INPUT -p tcp --dport\n",
                                           encoding="utf-8")
    _, out, _ = run("matrix", str(tmp_path))
    assert "\nFiles with errors, left out of the matrix:\n" in out
    assert re.search(r"\n  \S*broken\.rules:2:\d+: SEG901: ", out)


def test_may_names_unmodelled_line(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "-A INPUT -p tcp --dport 1433 -m recent --rcheck -j ACCEPT\n"
          "COMMIT\n")
    _, out, _ = run("matrix", str(tmp_path))
    assert "    depends on constructs seglint cannot model at line 5\n" in out


def test_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
    code, out, err = run("matrix", str(tmp_path))
    assert code == 0
    assert "No rule set to show" in out
    assert err == f"seglint: no rule set to show in {tmp_path}\n"


def test_output_dash_is_stdout(tmp_path: Path) -> None:
    write(tmp_path, HEADER + "COMMIT\n")
    code, out, _ = run("matrix", str(tmp_path), "--format", "json", "-o", "-")
    assert code == 0
    assert json.loads(out)["schema"] == "seglint-matrix/1"
    assert not Path("-").exists()


def test_control_characters_escaped(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(CONFIG.replace('"*.rules"', '"*"'),
                                           encoding="utf-8")
    (tmp_path / "db\x1b[2J.rules").write_text(HEADER + "COMMIT\n", encoding="utf-8")
    _, out, _ = run("matrix", str(tmp_path))
    assert "\x1b" not in out
    assert "db\\x1b[2J.rules" in out


def test_family_reason_not_hidden_by_crossing(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(
        'seg:\n  version: "10.2"\nroles:\n  processing-nodes: [198.51.100.10]\n'
        '  dns-servers: [10.0.0.53]\nrulesets:\n  - files: "*.v6"\n'
        "    host: processing-nodes\n", encoding="utf-8")
    (tmp_path / "node.v6").write_text(
        "# Generated by ip6tables-save v1.8.9\n" + HEADER + "COMMIT\n", encoding="utf-8")
    found = cell(json_of(tmp_path), "SEG103", "node.v6")
    assert found["verdict"] == "n/a"
    assert found["reason"].startswith("family: the rule set decides IPv6 only")


def test_broken_pipe_keeps_exit_code() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "seglint", "matrix", str(EXAMPLES), "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert process.stdout is not None
    process.stdout.read(100)  # far less than the document, which fills the pipe
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert process.stderr is not None
    assert process.stderr.read() == b""
