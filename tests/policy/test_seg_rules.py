"""Each SEG1xx and SEG2xx rule on a failing and a passing iptables rule set.

Every case starts from a host firewall that meets the whole port table for
its role, changes one line, and asserts the exact (rule id, file, line) the
change produces, and that the unchanged rule set has no finding of that id.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.api import check

CONFIG = """\
seg:
  version: "11.1"
  features: [active-directory, pop3, rest-api]
trusted: [10.0.0.0/8]
roles:
  array-manager: [10.0.0.10]
  processing-nodes: [198.51.100.10]
  sql-server: [10.0.0.20]
  dns-servers: [10.0.0.53]
  ldap-servers: [10.0.0.30]
  admin-workstations: [10.0.50.0/24]
  web-components: [10.0.0.40]
  rest-clients: [10.0.60.0/24]
  pop3-clients: [10.0.0.0/8]
rulesets:
  - files: "node.rules"
    host: processing-nodes
  - files: "am.rules"
    host: array-manager
  - files: "sql.rules"
    host: sql-server
  - files: "ldap.rules"
    host: ldap-servers
"""

HEAD = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
"""
# Line numbers of the lines above, used in the expectations.
INPUT_POLICY, OUTPUT_POLICY, INPUT_ESTABLISHED, OUTPUT_ESTABLISHED = 2, 4, 6, 8
FIRST_RULE = 9  # the first line a case adds

NODE = [
    "-A INPUT -p tcp --dport 25 -j ACCEPT",
    "-A INPUT -s 10.0.0.0/8 -p tcp --dport 110 -j ACCEPT",
    "-A INPUT -s 10.0.0.10 -p tcp --dport 19001 -j ACCEPT",
    "-A OUTPUT -p tcp -m multiport --dports 25,80,443 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.53 -p udp --dport 53 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.53 -p tcp --dport 53 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.10 -p tcp --dport 19001 -j ACCEPT",
]
MANAGER = [
    "-A INPUT -s 10.0.50.0/24 -p tcp --dport 443 -j ACCEPT",
    "-A INPUT -s 198.51.100.10 -p tcp --dport 19001 -j ACCEPT",
    "-A INPUT -s 10.0.0.40 -p tcp --dport 19001 -j ACCEPT",
    "-A INPUT -s 10.0.60.0/24 -p tcp --dport 19006 -j ACCEPT",
    "-A OUTPUT -p tcp -m multiport --dports 80,443 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.53 -p udp --dport 53 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.53 -p tcp --dport 53 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.20 -p tcp --dport 1433 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.30 -p tcp --dport 389 -j ACCEPT",
    "-A OUTPUT -d 198.51.100.10 -p tcp --dport 19001 -j ACCEPT",
]
SQL = [
    "-A INPUT -s 10.0.0.10 -p tcp --dport 1433 -j ACCEPT",
    "-A OUTPUT -d 10.0.0.53 -p udp --dport 53 -j ACCEPT",
]
LDAP = [
    "-A INPUT -s 10.0.0.10 -p tcp --dport 389 -j ACCEPT",
]
BASES = {"node.rules": NODE, "am.rules": MANAGER, "sql.rules": SQL, "ldap.rules": LDAP}


def render(lines: list[str]) -> str:
    return HEAD + "\n".join(lines) + "\nCOMMIT\n"


def run(tmp_path: Path, name: str, lines: list[str],
        config: str = CONFIG) -> list[tuple[str, str, int]]:
    (tmp_path / "seglint.yaml").write_text(config)
    (tmp_path / name).write_text(render(lines))
    result = check([tmp_path / name], cwd=tmp_path)
    assert not result.diagnostics, result.diagnostics
    return [(f.rule_id, Path(f.span.path).name, f.span.line) for f in result.findings]


def without(lines: list[str], fragment: str) -> list[str]:
    kept = [line for line in lines if fragment not in line]
    assert len(kept) == len(lines) - 1, fragment
    return kept


def replaced(lines: list[str], old: str, new: str) -> list[str]:
    assert any(old in line for line in lines), old
    return [line.replace(old, new) for line in lines]


def of_rule(found: list[tuple[str, str, int]], rule_id: str) -> list[tuple[str, str, int]]:
    return [item for item in found if item[0] == rule_id]


@pytest.mark.parametrize("name", sorted(BASES))
def test_base_rule_sets_are_clean(tmp_path: Path, name: str) -> None:
    found = run(tmp_path, name, BASES[name])
    assert [item for item in found if item[0] != "SEG208"] == []


# (rule id, file, change to the base lines, expected line)
REQUIRED_CASES = [
    ("SEG101", "node.rules", lambda b: without(b, "--dport 25 -j"), INPUT_POLICY),
    ("SEG102", "node.rules", lambda b: replaced(b, "25,80,443", "80,443"), OUTPUT_POLICY),
    ("SEG103", "node.rules", lambda b: without(b, "-p tcp --dport 53"), OUTPUT_POLICY),
    ("SEG103", "am.rules", lambda b: without(b, "-p udp --dport 53"), OUTPUT_POLICY),
    ("SEG104", "am.rules", lambda b: without(b, "--dports 80,443"), OUTPUT_POLICY),
    ("SEG105", "node.rules", lambda b: replaced(b, "25,80,443", "25,443"), OUTPUT_POLICY),
    ("SEG106", "am.rules", lambda b: without(b, "--dport 443"), INPUT_POLICY),
    ("SEG107", "node.rules", lambda b: without(b, "--dport 110"), INPUT_POLICY),
    ("SEG108", "am.rules", lambda b: without(b, "--dport 389"), OUTPUT_POLICY),
    ("SEG109", "am.rules", lambda b: replaced(b, "--dport 1433", "--dport 1443"),
     OUTPUT_POLICY),
    ("SEG109", "sql.rules", lambda b: without(b, "--dport 1433"), INPUT_POLICY),
    ("SEG110", "am.rules", lambda b: without(b, "-s 198.51.100.10"), INPUT_POLICY),
    ("SEG110", "am.rules", lambda b: without(b, "-s 10.0.0.40"), INPUT_POLICY),
    ("SEG110", "node.rules", lambda b: without(b, "-d 10.0.0.10"), OUTPUT_POLICY),
    ("SEG111", "am.rules", lambda b: without(b, "-d 198.51.100.10"), OUTPUT_POLICY),
    ("SEG111", "node.rules", lambda b: without(b, "-s 10.0.0.10"), INPUT_POLICY),
    ("SEG112", "am.rules", lambda b: without(b, "--dport 19006"), INPUT_POLICY),
]


@pytest.mark.parametrize(("rule_id", "name", "change", "line"), REQUIRED_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in REQUIRED_CASES])
def test_required_flow_blocked(tmp_path: Path, rule_id: str, name: str, change,
                               line: int) -> None:
    found = run(tmp_path, name, change(BASES[name]))
    assert of_rule(found, rule_id) == [(rule_id, name, line)]


def test_required_flow_dropped_by_rule_points_at_rule(tmp_path: Path) -> None:
    lines = ["-A OUTPUT -d 10.0.0.20 -p tcp --dport 1433 -j REJECT", *MANAGER]
    found = run(tmp_path, "am.rules", lines)
    assert of_rule(found, "SEG109") == [("SEG109", "am.rules", FIRST_RULE)]


def test_replies_blocked_without_established(tmp_path: Path) -> None:
    text = render(NODE).replace(
        "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n", "")
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    (tmp_path / "node.rules").write_text(text)
    result = check([tmp_path / "node.rules"], cwd=tmp_path)
    smtp = [f for f in result.findings if f.rule_id == "SEG101"]
    assert [(f.span.line, f.properties["reply"]) for f in smtp] == [(OUTPUT_POLICY, True)]
    assert smtp[0].message.startswith("replies of tcp/25 from smtp-peers")
    assert smtp[0].witness is not None
    assert smtp[0].witness.sport == 25


# (rule id, file, extra line, passing variant of it)
EXPOSURE_CASES = [
    ("SEG201", "am.rules", "-A INPUT -p tcp --dport 135:139 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -p tcp --dport 135:139 -j ACCEPT"),
    ("SEG201", "node.rules", "-A INPUT -p udp --dport 137 -j ACCEPT",
     "-A INPUT -s 10.1.0.0/16 -p udp --dport 137 -j ACCEPT"),
    ("SEG202", "am.rules", "-A INPUT -s 10.0.0.0/8 -p tcp --dport 19020 -j ACCEPT",
     "-A INPUT -s 127.0.0.1 -p tcp --dport 19020 -j ACCEPT"),
    ("SEG203", "am.rules", "-A INPUT -p tcp --dport 19001 -j ACCEPT",
     "-A INPUT -s 198.51.100.10 -p tcp --dport 19001 -j ACCEPT"),
    ("SEG203", "node.rules", "-A INPUT -s 198.51.100.0/24 -p tcp --dport 19001 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -p tcp --dport 19001 -j ACCEPT"),
    ("SEG204", "sql.rules", "-A INPUT -p tcp --dport 1433 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/24 -p tcp --dport 1433 -j ACCEPT"),
    ("SEG205", "ldap.rules", "-A INPUT -p tcp -m multiport --dports 389,636 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -p tcp -m multiport --dports 389,636 -j ACCEPT"),
    ("SEG206", "am.rules", "-A INPUT -p tcp --dport 443 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -p tcp --dport 443 -j ACCEPT"),
    ("SEG207", "am.rules", "-A INPUT -p tcp --dport 19000:19010 -j ACCEPT",
     "-A INPUT -s 10.0.60.0/24 -p tcp --dport 19000:19010 -j ACCEPT"),
    ("SEG208", "node.rules", "-A INPUT -p tcp --dport 22 -j ACCEPT",
     "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT"),
]


@pytest.mark.parametrize(("rule_id", "name", "bad", "good"), EXPOSURE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in EXPOSURE_CASES])
def test_exposure_reported_at_accepting_rule(tmp_path: Path, rule_id: str, name: str,
                                             bad: str, good: str) -> None:
    found = run(tmp_path, name, [bad, *BASES[name]])
    assert of_rule(found, rule_id) == [(rule_id, name, FIRST_RULE)]


@pytest.mark.parametrize(("rule_id", "name", "bad", "good"), EXPOSURE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in EXPOSURE_CASES])
def test_exposure_passing_variant(tmp_path: Path, rule_id: str, name: str, bad: str,
                                  good: str) -> None:
    found = run(tmp_path, name, [good, *BASES[name]])
    assert of_rule(found, rule_id) == []


def test_exposure_not_checked_on_other_roles(tmp_path: Path) -> None:
    # tcp/1433 on a node is no SQL exposure (SEG204 is about the SQL server) but SEG208.
    found = run(tmp_path, "node.rules", ["-A INPUT -p tcp --dport 1433 -j ACCEPT", *NODE])
    assert of_rule(found, "SEG204") == []
    assert of_rule(found, "SEG208") == [("SEG208", "node.rules", FIRST_RULE)]


def test_exposure_from_policy_accept(tmp_path: Path) -> None:
    text = render(SQL).replace(":INPUT DROP", ":INPUT ACCEPT")
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    (tmp_path / "sql.rules").write_text(text)
    result = check([tmp_path / "sql.rules"], cwd=tmp_path)
    ids = {(f.rule_id, f.span.line) for f in result.findings if f.rule_id.startswith("SEG2")}
    assert ("SEG204", INPUT_POLICY) in ids
    assert ("SEG201", INPUT_POLICY) in ids


def test_version_gates_exposure(tmp_path: Path) -> None:
    config = CONFIG.replace('version: "11.1"', 'version: "11.0"')
    found = run(tmp_path, "am.rules", ["-A INPUT -s 10.0.0.0/8 -p tcp --dport 19020 -j ACCEPT",
                                       *MANAGER], config)
    assert of_rule(found, "SEG202") == []


def test_version_gates_required_flow(tmp_path: Path) -> None:
    config = CONFIG.replace('version: "11.1"', 'version: "9.0"')
    found = run(tmp_path, "am.rules", without(MANAGER, "--dport 443"), config)
    assert of_rule(found, "SEG106") == []


def test_feature_gates_required_flow(tmp_path: Path) -> None:
    config = CONFIG.replace("features: [active-directory, pop3, rest-api]",
                            "features: [active-directory, rest-api]")
    found = run(tmp_path, "node.rules", without(NODE, "--dport 110"), config)
    assert of_rule(found, "SEG107") == []


def test_disabled_auto_update(tmp_path: Path) -> None:
    config = CONFIG.replace("features: [active-directory, pop3, rest-api]",
                            "features: [active-directory, pop3, rest-api]\n"
                            "  disabled-features: [auto-update]")
    found = run(tmp_path, "am.rules", without(MANAGER, "--dports 80,443"), config)
    assert of_rule(found, "SEG104") == []


def test_zero_config_skips_required_flows(tmp_path: Path) -> None:
    (tmp_path / "node.rules").write_text(render(["-A INPUT -p tcp --dport 139 -j ACCEPT"]))
    result = check([tmp_path / "node.rules"], cwd=tmp_path)
    ids = sorted({f.rule_id for f in result.findings})
    assert ids == ["SEG201"]
    assert [f.span.line for f in result.findings] == [FIRST_RULE]
    assert any("required flows" in note for note in result.notes)


def test_rule_level_override_and_off(tmp_path: Path) -> None:
    config = CONFIG + "rules:\n  SEG208: {level: error}\n  SEG206: off\n"
    (tmp_path / "seglint.yaml").write_text(config)
    (tmp_path / "am.rules").write_text(render([
        "-A INPUT -p tcp --dport 443 -j ACCEPT", "-A INPUT -p tcp --dport 22 -j ACCEPT",
        *MANAGER]))
    result = check([tmp_path / "am.rules"], cwd=tmp_path)
    levels = {(f.rule_id, f.level) for f in result.findings}
    assert ("SEG208", "error") in levels
    assert not any(rule_id == "SEG206" for rule_id, _ in levels)
    assert result.exit_code == 1


def test_unknown_module_makes_may_finding(tmp_path: Path) -> None:
    lines = ["-A INPUT -p tcp --dport 139 -m limit --limit 5/min -j ACCEPT", *NODE]
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    (tmp_path / "node.rules").write_text(render(lines))
    result = check([tmp_path / "node.rules"], cwd=tmp_path)
    netbios = [f for f in result.findings if f.rule_id == "SEG201"]
    assert [(f.span.line, f.may) for f in netbios] == [(FIRST_RULE, True)]
    assert "may be reachable" in netbios[0].message
    unsupported = [f for f in result.findings if f.rule_id == "SEG902"]
    assert [f.span.line for f in unsupported] == [FIRST_RULE]


def test_parse_error_is_exit_2_and_other_files_checked(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    (tmp_path / "node.rules").write_text(render(["-A INPUT -p tcp --dport 139 -j ACCEPT",
                                                 *NODE]))
    (tmp_path / "am.rules").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n")
    result = check([tmp_path], cwd=tmp_path)
    assert result.exit_code == 2
    assert [(d.rule_id, d.span.path, d.span.line) for d in result.diagnostics] == [
        ("SEG901", "am.rules", 3)]
    assert ("SEG201", FIRST_RULE) in {(f.rule_id, f.span.line) for f in result.findings}


def test_config_error_is_exit_2_with_position(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text("roles:\n  sql: [10.0.0.20]\n")
    (tmp_path / "node.rules").write_text(render(NODE))
    result = check([tmp_path], cwd=tmp_path)
    assert result.exit_code == 2
    assert [(d.rule_id, d.span.path, d.span.line, d.span.column)
            for d in result.diagnostics] == [("SEG903", "seglint.yaml", 2, 3)]


def test_directive_comment_sets_host(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    text = "# seglint: host=array-manager\n" + render(without(MANAGER, "--dport 1433"))
    (tmp_path / "fw.rules").write_text(text)
    result = check([tmp_path / "fw.rules"], cwd=tmp_path)
    assert [(f.rule_id, f.span.line) for f in result.findings if f.rule_id == "SEG109"] == [
        ("SEG109", OUTPUT_POLICY + 1)]


def test_inline_suppression(tmp_path: Path) -> None:
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    lines = ['# seglint: disable=SEG201 reason="lab host"',
             "-A INPUT -p tcp --dport 139 -j ACCEPT", *NODE]
    (tmp_path / "node.rules").write_text(render(lines))
    result = check([tmp_path / "node.rules"], cwd=tmp_path)
    netbios = [f for f in result.findings if f.rule_id == "SEG201"]
    assert [(f.span.line, f.suppression) for f in netbios] == [(FIRST_RULE + 1, "lab host")]
    assert result.exit_code == 0
