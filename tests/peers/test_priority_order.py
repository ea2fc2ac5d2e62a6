"""Each format's evaluation order decides, not the order of the text.

A checker that ignores NSG priorities reports an allow that a higher-priority
deny shadows (a false positive) or misses an allow that wins (a false
negative). Each case pairs an allow and a deny for tcp/1433 from the
internet; the expected exposure is at the rule that wins, or none.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peerlib import (  # noqa: E402
    ASA_FIRST,
    AZURE_FIRST,
    AZURE_RULE_LINES,
    CSV_FIRST,
    IOS_FIRST,
    IPTABLES_FIRST,
    NFT_FIRST,
    PF_FIRST,
    asa,
    azure_nsg,
    azure_rule,
    case,
    csv_row,
    exposures,
    gcp_firewall,
    ios,
    iptables,
    lint,
    needs,
    netsh,
    netsh_rule,
    nft,
    one,
    pf,
    windows_csv,
)

SECOND_AZURE = AZURE_FIRST + AZURE_RULE_LINES


def gcp_pair(first: str, second: str) -> tuple[str, int]:
    """Return two firewall resources and the line where the second starts."""
    return first + second, first.count("\n") + 1


def gcp(name: str, kind: str, priority: int | None) -> str:
    return gcp_firewall(name, kind=kind, priority=priority)


def nacl(*entries: tuple[int, str]) -> str:
    """Return an aws_network_acl with one 8-line ingress block per (rule_no, action)."""
    blocks = "".join(
        "  ingress {\n"
        f"    rule_no    = {number}\n"
        f'    action     = "{action}"\n'
        '    protocol   = "tcp"\n'
        "    from_port  = 1433\n"
        "    to_port    = 1433\n"
        '    cidr_block = "0.0.0.0/0"\n'
        "  }\n"
        for number, action in entries
    )
    return f'resource "aws_network_acl" "main" {{\n  vpc_id = "vpc-1"\n{blocks}}}\n'


def nacl_rule(name: str, number: int, action: str) -> str:
    """Return an aws_network_acl_rule resource of 10 lines and a blank line."""
    return (
        f'resource "aws_network_acl_rule" "{name}" {{\n'
        '  network_acl_id = "acl-1"\n'
        f"  rule_number    = {number}\n"
        "  egress         = false\n"
        '  protocol       = "tcp"\n'
        f'  rule_action    = "{action}"\n'
        '  cidr_block     = "0.0.0.0/0"\n'
        "  from_port      = 1433\n"
        "  to_port        = 1433\n"
        "}\n\n"
    )


def azure_standalone(name: str, priority: int, access: str) -> str:
    """Return an azurerm_network_security_rule resource of 13 lines and a blank line."""
    body = azure_rule(name, priority, access=access)
    body = body.replace("  security_rule {\n", "").rsplit("  }\n", 1)[0]
    return (
        f'resource "azurerm_network_security_rule" "{name}" {{\n'
        + body
        + '  resource_group_name         = "rg"\n'
        + '  network_security_group_name = "nsg"\n'
        + "}\n\n"
    )


GCP_DENY_WINS, _ = gcp_pair(gcp("allow", "allow", 200), gcp("deny", "deny", 100))
GCP_ALLOW_WINS, GCP_ALLOW_LINE = gcp_pair(
    gcp("deny", "deny", 200), gcp("allow", "allow", 100)
)
GCP_EQUAL, _ = gcp_pair(gcp("allow", "allow", 500), gcp("deny", "deny", 500))
GCP_DEFAULT_LOSES, _ = gcp_pair(gcp("allow", "allow", None), gcp("deny", "deny", 900))
GCP_DEFAULT_WINS, _ = gcp_pair(gcp("allow", "allow", None), gcp("deny", "deny", 1100))

ACL = "access-list OUTSIDE_IN extended"
SQL_IPT = "-A INPUT -p tcp --dport 1433 -j"

# (file name, text, lines where tcp/1433 is exposed)
ORDERS = [
    # Azure NSG: the lowest priority number wins, wherever it is written.
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("deny", 100, "Deny"), azure_rule("allow", 200)),
        [],
        id="azure-deny-100-allow-200",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("allow", 100), azure_rule("deny", 200, "Deny")),
        [AZURE_FIRST],
        id="azure-allow-100-deny-200",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("allow", 200), azure_rule("deny", 100, "Deny")),
        [],
        id="azure-text-order-ignored",
    ),
    case(
        "terraform",
        "main.tf",
        azure_nsg(azure_rule("deny", 200, "Deny"), azure_rule("allow", 100)),
        [SECOND_AZURE],
        id="azure-allow-written-last",
    ),
    case(
        "terraform",
        "main.tf",
        azure_standalone("allow", 200, "Allow") + azure_standalone("deny", 100, "Deny"),
        [],
        id="azure-rule-resources",
    ),
    case(
        "terraform",
        "main.tf",
        azure_standalone("deny", 200, "Deny") + azure_standalone("allow", 100, "Allow"),
        [15],
        id="azure-rule-resources-allow-wins",
    ),
    # GCP: the lowest priority number wins; at equal priority deny wins.
    case("terraform", "main.tf", GCP_DENY_WINS, [], id="gcp-deny-100"),
    case("terraform", "main.tf", GCP_ALLOW_WINS, [GCP_ALLOW_LINE], id="gcp-allow-100"),
    case("terraform", "main.tf", GCP_EQUAL, [], id="gcp-equal-deny-wins"),
    case("terraform", "main.tf", GCP_DEFAULT_LOSES, [], id="gcp-default-1000-vs-900"),
    case("terraform", "main.tf", GCP_DEFAULT_WINS, [1], id="gcp-default-1000-vs-1100"),
    # AWS network ACL: the lowest rule number wins.
    case(
        "terraform",
        "main.tf",
        nacl((200, "allow"), (100, "deny")),
        [],
        id="nacl-deny-100",
    ),
    case(
        "terraform",
        "main.tf",
        nacl((100, "allow"), (200, "deny")),
        [3],
        id="nacl-allow-100",
    ),
    case(
        "terraform",
        "main.tf",
        nacl_rule("allow", 200, "allow") + nacl_rule("deny", 100, "deny"),
        [],
        id="nacl-rule-resources",
    ),
    # Windows Firewall: a block rule wins over any allow rule.
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Allow"), csv_row("Block", action="Block")),
        [],
        id="windows-allow-then-block",
    ),
    case(
        "windows-firewall",
        "rules.csv",
        windows_csv(csv_row("Block", action="Block"), csv_row("Allow")),
        [],
        id="windows-block-then-allow",
    ),
    case(
        "windows-firewall",
        "rules.txt",
        netsh(netsh_rule("Allow"), netsh_rule("Block", action="Block")),
        [],
        id="windows-netsh-block-wins",
    ),
    # pf: the last matching rule wins unless a matching rule is quick.
    case(
        "pf",
        "pf.conf",
        "pass in quick proto tcp to any port 1433\nblock in all\n",
        [1],
        id="pf-quick-pass",
    ),
    case(
        "pf",
        "pf.conf",
        "pass in proto tcp to any port 1433\nblock in all\n",
        [],
        id="pf-last-block",
    ),
    case(
        "pf",
        "pf.conf",
        pf("pass in proto tcp to any port 1433"),
        [PF_FIRST],
        id="pf-last-pass",
    ),
    case(
        "pf",
        "pf.conf",
        "block in quick proto tcp to any port 1433\n"
        "pass in proto tcp to any port 1433\n",
        [],
        id="pf-quick-block",
    ),
    # iptables, nftables, ASA and IOS: the first matching rule wins.
    case(
        "iptables",
        "host.rules",
        iptables(f"{SQL_IPT} DROP", f"{SQL_IPT} ACCEPT"),
        [],
        id="iptables-drop-first",
    ),
    case(
        "iptables",
        "host.rules",
        iptables(f"{SQL_IPT} ACCEPT", f"{SQL_IPT} DROP"),
        [IPTABLES_FIRST],
        id="iptables-accept-first",
    ),
    case(
        "iptables",
        "host.rules",
        iptables(
            "-A INPUT -j SQL",
            "-A SQL -s 10.0.0.0/8 -j RETURN",
            f"-A SQL {SQL_IPT.removeprefix('-A INPUT ')} ACCEPT",
        ).replace(":OUTPUT ACCEPT [0:0]\n", ":OUTPUT ACCEPT [0:0]\n:SQL - [0:0]\n"),
        [IPTABLES_FIRST + 3],
        id="iptables-user-chain",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1433 drop", "tcp dport 1433 accept"),
        [],
        id="nft-drop-first",
    ),
    case(
        "nftables",
        "host.nft",
        nft("tcp dport 1433 accept", "tcp dport 1433 drop"),
        [NFT_FIRST],
        id="nft-accept-first",
    ),
    case(
        "asa",
        "edge.asa",
        asa(f"{ACL} deny tcp any any eq 1433", f"{ACL} permit tcp any any eq 1433"),
        [],
        id="asa-deny-first",
    ),
    case(
        "asa",
        "edge.asa",
        asa(f"{ACL} permit tcp any any eq 1433", f"{ACL} deny tcp any any eq 1433"),
        [ASA_FIRST],
        id="asa-permit-first",
    ),
    case(
        "ios",
        "edge.ios",
        ios("deny tcp any any eq 1433", "permit tcp any any eq 1433"),
        [],
        id="ios-deny-first",
    ),
    case(
        "ios",
        "edge.ios",
        ios("20 permit tcp any any eq 1433", "10 deny tcp any any eq 1433"),
        [],
        id="ios-sequence-numbers",
    ),
    case(
        "ios",
        "edge.ios",
        ios("20 deny tcp any any eq 1433", "10 permit tcp any any eq 1433"),
        [IOS_FIRST + 1],
        id="ios-sequence-permit-wins",
    ),
]


@pytest.mark.parametrize(("name", "text", "lines"), ORDERS)
def test_winning_rule(tmp_path: Path, name: str, text: str, lines: list[int]) -> None:
    result = lint(tmp_path, {name: text})
    assert result.diagnostics == []
    sql = [hit for hit in exposures(result) if hit[0] == "SEG204"]
    assert sql == [("SEG204", name, line) for line in lines]


@needs("terraform")
def test_azure_partial_deny(tmp_path: Path) -> None:
    # A deny at 100 for one network leaves the allow at 200 open to the rest.
    deny = azure_rule(
        "deny", 100, "Deny", source='source_address_prefix      = "203.0.113.0/24"'
    )
    result = lint(tmp_path, {"main.tf": azure_nsg(deny, azure_rule("allow", 200))})
    finding = one(result, "SEG204", SECOND_AZURE)
    assert finding.witness is not None
    assert not finding.witness.src.startswith("203.0.113.")


@needs("windows-firewall")
def test_windows_partial_block(tmp_path: Path) -> None:
    text = windows_csv(
        csv_row("Allow"), csv_row("Block", action="Block", remote="203.0.113.0/24")
    )
    finding = one(lint(tmp_path, {"rules.csv": text}), "SEG204", CSV_FIRST)
    assert finding.witness is not None
    assert not finding.witness.src.startswith("203.0.113.")


@needs("nftables")
def test_nft_drop_in_later_base_chain(tmp_path: Path) -> None:
    # An accept ends only its own base chain; a drop in a later one still drops.
    text = (
        "table inet filter {\n"
        "  chain early {\n"
        "    type filter hook input priority -10; policy accept;\n"
        "    tcp dport 1433 accept\n"
        "  }\n"
        "  chain late {\n"
        "    type filter hook input priority 10; policy accept;\n"
        "    tcp dport 1433 drop\n"
        "  }\n"
        "}\n"
    )
    result = lint(tmp_path, {"host.nft": text})
    assert [hit for hit in exposures(result) if hit[0] == "SEG204"] == []


AZURE_CHAIN = """\
resource "azurerm_subnet" "mail" {
  name                 = "mail"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.0.0/24"]
}

resource "azurerm_network_interface" "node" {
  name                = "node"
  location            = "westeurope"
  resource_group_name = "rg"
  ip_configuration {
    name                          = "primary"
    subnet_id                     = azurerm_subnet.mail.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "azurerm_network_security_group" "subnet" {
  name                = "subnet"
  location            = "westeurope"
  resource_group_name = "rg"
DENY}

resource "azurerm_network_security_group" "nic" {
  name                = "nic"
  location            = "westeurope"
  resource_group_name = "rg"
ALLOW}

resource "azurerm_subnet_network_security_group_association" "mail" {
  subnet_id                 = azurerm_subnet.mail.id
  network_security_group_id = azurerm_network_security_group.subnet.id
}

resource "azurerm_network_interface_security_group_association" "node" {
  network_interface_id      = azurerm_network_interface.node.id
  network_security_group_id = azurerm_network_security_group.nic.id
}
""".replace("DENY", azure_rule("deny-sql", 100, "Deny")).replace(
    "ALLOW", azure_rule("allow-sql", 100)
)


@needs("terraform")
@pytest.mark.xfail(
    strict=True,
    reason="an NSG on the subnet and an NSG on the NIC are checked as two separate "
    "firewalls: inbound traffic must pass the subnet NSG first, so a deny there "
    "shadows the NIC NSG's allow, but the allow is reported",
)
def test_azure_subnet_then_nic(tmp_path: Path) -> None:
    result = lint(tmp_path, {"main.tf": AZURE_CHAIN})
    assert [hit for hit in exposures(result) if hit[0] == "SEG204"] == []


@needs("terraform")
def test_azure_nic_alone_exposed(tmp_path: Path) -> None:
    # Without the subnet association the NIC NSG alone decides: the allow counts.
    text = AZURE_CHAIN.split('resource "azurerm_subnet_network_security_group')[0]
    nic = text + (
        'resource "azurerm_network_interface_security_group_association" "node" {\n'
        "  network_interface_id      = azurerm_network_interface.node.id\n"
        "  network_security_group_id = azurerm_network_security_group.nic.id\n"
        "}\n"
    )
    result = lint(tmp_path, {"main.tf": nic})
    assert [hit for hit in exposures(result) if hit[0] == "SEG204"] == [
        ("SEG204", "main.tf", 40)
    ]
