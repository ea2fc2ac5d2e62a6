"""A port SEG needs from named hosts is still an exposure when everyone else reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglint.api import check

CONFIG = """\
seg:
  version: "10.2"
  features: [pop3]
trusted: [10.0.0.0/8]
roles:
  processing-nodes: [198.51.100.10]
  pop3-clients: [10.0.0.0/8]
rulesets:
  - files: "*.rules"
    host: processing-nodes
"""
RULES = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT {match}-p tcp --dport 110 -j ACCEPT
COMMIT
"""


def seg208(tmp_path: Path, match: str) -> list[tuple[str, int, str]]:
    (tmp_path / "seglint.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "node.rules").write_text(RULES.format(match=match), encoding="utf-8")
    result = check([tmp_path], cwd=tmp_path)
    return [(f.span.path, f.span.line, str(f.witness)) for f in result.findings
            if f.rule_id == "SEG208"]


def test_pop3_open_to_everyone(tmp_path: Path) -> None:
    found = seg208(tmp_path, "")
    assert found == [("node.rules", 6, "tcp 203.0.113.10:40000 -> 198.51.100.10:110")]


@pytest.mark.parametrize("match", ["-s 10.0.0.0/8 ", "-s 10.1.0.0/16 "])
def test_pop3_open_to_clients_only(tmp_path: Path, match: str) -> None:
    assert seg208(tmp_path, match) == []
