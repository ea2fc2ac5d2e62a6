"""A hook with no filter passes packets, and their replies meet the reply hook's filter."""

from __future__ import annotations

from pathlib import Path

from seglint.api import check

CONFIG = """\
seg:
  version: "10.2"
roles:
  array-manager: [10.0.0.10]
  sql-server: [10.0.0.20]
rulesets:
  - files: "*.nft"
    host: array-manager
"""
INPUT_DROP = """\
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
  }
}
"""


def findings(tmp_path: Path, rules: str) -> set[tuple[str, str, int]]:
    (tmp_path / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "am.nft").write_text(rules, encoding="utf-8")
    result = check([tmp_path], cwd=tmp_path)
    return {(f.rule_id, f.span.path, f.span.line) for f in result.findings}


def test_replies_dropped_by_input(tmp_path: Path) -> None:
    assert ("SEG109", "am.nft", 3) in findings(tmp_path, INPUT_DROP)


def test_replies_accepted_by_conntrack(tmp_path: Path) -> None:
    rules = INPUT_DROP.replace("policy drop;\n", "policy drop;\n    ct state established accept\n")
    assert not {f for f in findings(tmp_path, rules) if f[0] == "SEG109"}
