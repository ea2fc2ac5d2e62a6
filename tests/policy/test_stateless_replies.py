"""IOS access lists are stateless: a required flow needs a permit for its replies too."""

from __future__ import annotations

from pathlib import Path

from seglint.api import check

CONFIG = """\
seg:
  version: "10.2"
trusted: [10.0.0.0/8]
roles:
  processing-nodes: [198.51.100.10]
rulesets:
  - files: "edge.cfg"
    zones:
      GigabitEthernet0/0: internet
      GigabitEthernet0/1: [198.51.100.0/28]
"""

ROUTER = """\
hostname edge
interface GigabitEthernet0/0
 ip address 203.0.113.1 255.255.255.0
 ip access-group OUTSIDE_IN in
!
interface GigabitEthernet0/1
 ip address 198.51.100.1 255.255.255.240
 ip access-group DMZ_IN in
!
ip access-list extended OUTSIDE_IN
 permit tcp any host 198.51.100.10 eq smtp
 permit tcp any host 198.51.100.10 established
ip access-list extended DMZ_IN
 permit tcp host 198.51.100.10 any eq smtp
{reply}
!
end
"""


def smtp_inbound(tmp_path: Path, reply: str) -> list:
    (tmp_path / "seglint.yaml").write_text(CONFIG)
    (tmp_path / "edge.cfg").write_text(ROUTER.format(reply=reply))
    result = check([tmp_path / "edge.cfg"], cwd=tmp_path)
    assert result.diagnostics == []
    return [f for f in result.findings if f.rule_id == "SEG101"]


def test_reply_blocked_by_stateless_acl(tmp_path: Path) -> None:
    findings = smtp_inbound(tmp_path, " remark no permit for the replies")
    assert [(f.span.path, f.span.line) for f in findings] == [("edge.cfg", 15)]
    assert findings[0].properties["reply"] is True
    assert findings[0].message.startswith("replies of tcp/25 from smtp-peers")
    assert "stateless" in findings[0].message
    assert findings[0].witness is not None
    assert findings[0].witness.sport == 25


def test_established_permit_lets_replies_through(tmp_path: Path) -> None:
    findings = smtp_inbound(tmp_path, " permit tcp host 198.51.100.10 eq smtp any established")
    assert findings == []
