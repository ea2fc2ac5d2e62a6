"""Helpers of the peer bug-class tests: rule file builders, a check runner, SARIF.

Each builder returns the text of a small rule file whose first rule line is a
module constant, so a test can state the exact line it expects. The runner
writes the files into a temporary folder and calls ``seglint.api.check`` with
no configuration unless the test gives one (zero config: every exposure
check from the internet to any destination).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from seglint import __version__
from seglint.api import RunResult, check
from seglint.findings import Finding
from seglint.ignorefile import add_sarif_warnings
from seglint.plugins import load_plugins
from seglint.report import RunReport
from seglint.report.sarif import build_log
from seglint.report.sarif_model import to_json

FORMATS = frozenset(fmt.id for fmt in load_plugins().formats)


def needs(format_id: str) -> pytest.MarkDecorator:
    """Skip a test or a parameter when a format is not importable or registered."""
    return pytest.mark.skipif(
        format_id not in FORMATS,
        reason=f"format {format_id} is not available (not importable or not "
        "registered)",
    )


def case(format_id: str, *values: Any, id: str) -> Any:  # noqa: A002 - pytest's name
    """Return a pytest parameter that is skipped when ``format_id`` is missing."""
    return pytest.param(*values, marks=needs(format_id), id=id)


# --- running a check ----------------------------------------------------------------


def lint(
    tmp_path: Path,
    files: Mapping[str, str | bytes],
    config: str | None = None,
    targets: Sequence[str] | None = None,
    **options: Any,
) -> RunResult:
    """Write ``files`` below ``tmp_path`` and check ``targets`` (default: the first)."""
    for name, content in files.items():
        location = tmp_path / name
        location.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            location.write_bytes(content)
        else:
            location.write_text(content, encoding="utf-8")
    if config is not None:
        (tmp_path / "seglint.yaml").write_text(config, encoding="utf-8")
    names = list(targets) if targets is not None else [next(iter(files))]
    return check([tmp_path / name for name in names], cwd=tmp_path, **options)


def hits(result: RunResult, *rule_ids: str) -> list[tuple[str, str, int]]:
    """Return (rule id, path, line) of the findings of ``rule_ids``, in report order."""
    return [
        (f.rule_id, f.span.path, f.span.line)
        for f in result.findings
        if not rule_ids or f.rule_id in rule_ids
    ]


def exposures(result: RunResult) -> list[tuple[str, str, int]]:
    """Return (rule id, path, line) of every SEG2xx finding."""
    return [hit for hit in hits(result) if hit[0].startswith("SEG2")]


def one(result: RunResult, rule_id: str, line: int) -> Finding:
    """Return the only finding of ``rule_id`` at ``line``; fail if there is none."""
    found = [f for f in result.findings if f.rule_id == rule_id and f.span.line == line]
    assert len(found) == 1, f"expected one {rule_id} at line {line}, got {hits(result)}"
    return found[0]


def diagnostics(result: RunResult) -> list[tuple[str, str, int]]:
    """Return (rule id, path, line) of the SEG901 and SEG903 diagnostics."""
    return [(d.rule_id, d.span.path, d.span.line) for d in result.diagnostics]


def sarif(result: RunResult, root: Path) -> dict[str, Any]:
    """Return the SARIF log of ``result`` as ``seglint check --format sarif`` has it."""
    report = RunReport(
        findings=result.findings,
        diagnostics=result.diagnostics,
        rules=result.rules,
        root=root,
        files_checked=result.files_checked,
        notes=list(result.notes),
        tool_version=__version__,
        execution_successful=not result.diagnostics,
    )
    # SARIF URIs are relative to the current directory, as in the CLI.
    with contextlib.chdir(root):
        log = add_sarif_warnings(build_log(report), result.suppression_warnings, root)
        return to_json(log)  # type: ignore[no-any-return]


def sarif_results(result: RunResult, root: Path) -> list[dict[str, Any]]:
    return sarif(result, root)["runs"][0]["results"]  # type: ignore[no-any-return]


# --- iptables -----------------------------------------------------------------------

IPTABLES_HEAD = (
    "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
)
IPTABLES_FIRST = 5  # line of the first rule


def iptables(*rules: str) -> str:
    """Return an iptables-save filter table with INPUT policy DROP and ``rules``."""
    return IPTABLES_HEAD + "".join(f"{rule}\n" for rule in rules) + "COMMIT\n"


# --- nftables -----------------------------------------------------------------------

NFT_FIRST = 4  # line of the first rule without set definitions


def nft(*rules: str, family: str = "inet", sets: str = "", policy: str = "drop") -> str:
    """Return an nftables table with an input chain (policy drop) holding ``rules``.

    ``sets`` is inserted between the table line and the chain, so the first
    rule moves down by its line count.
    """
    return (
        f"table {family} filter {{\n"
        + sets
        + "  chain input {\n"
        + f"    type filter hook input priority 0; policy {policy};\n"
        + "".join(f"    {rule}\n" for rule in rules)
        + "  }\n}\n"
    )


# --- pf -----------------------------------------------------------------------------

PF_FIRST = 2  # line of the first rule after "block in all"


def pf(*rules: str) -> str:
    """Return a pf.conf that blocks inbound packets, then ``rules``."""
    return "block in all\n" + "".join(f"{rule}\n" for rule in rules)


# --- Cisco ASA ----------------------------------------------------------------------

ASA_HEAD = (
    "hostname edge\n"
    "interface GigabitEthernet0/0\n"
    " nameif outside\n"
    " security-level 0\n"
    " ip address 203.0.113.1 255.255.255.0\n"
    " ipv6 address 2001:db8:1::1/64\n"
    "!\n"
)
ASA_FIRST = 8  # line of the first line after the interface block


def asa(
    *lines: str, group: str = "access-group OUTSIDE_IN in interface outside"
) -> str:
    """Return an ASA config with an outside interface, ``lines``, and ``group``."""
    return ASA_HEAD + "".join(f"{line}\n" for line in lines) + f"{group}\n"


# --- Cisco IOS ----------------------------------------------------------------------

# The outbound ACLs drop everything leaving the interface and the inbound ACL
# of the other family drops everything, so the only findings are those of the
# inbound ACL a test fills (EDGE for IPv4, EDGE6 for IPv6).
IOS_HEAD = (
    "hostname r1\n"
    "ipv6 unicast-routing\n"
    "interface GigabitEthernet0/0\n"
    " ip address 203.0.113.1 255.255.255.0\n"
    " ipv6 address 2001:db8:1::1/64\n"
    " ip access-group EDGE in\n"
    " ip access-group EDGE_OUT out\n"
    " ipv6 traffic-filter EDGE6 in\n"
    " ipv6 traffic-filter EDGE6_OUT out\n"
    "!\n"
    "ip access-list extended EDGE_OUT\n"
    " deny ip any any\n"
    "ipv6 access-list EDGE6_OUT\n"
    " deny ipv6 any any\n"
    "!\n"
)
IOS_FIRST = 19  # line of the first entry of the ACL a test fills


def ios(*entries: str, v6: bool = False, before: str = "") -> str:
    """Return an IOS config whose inbound ACL of one family contains ``entries``.

    ``before`` (object-group definitions) goes right before that ACL, so the
    first entry moves down by its line count.
    """
    if v6:
        closed = "ip access-list extended EDGE\n deny ip any any\n"
        header = "ipv6 access-list EDGE6\n"
    else:
        closed = "ipv6 access-list EDGE6\n deny ipv6 any any\n"
        header = "ip access-list extended EDGE\n"
    body = "".join(f" {entry}\n" for entry in entries)
    return IOS_HEAD + closed + before + header + body + "!\n"


# --- Terraform ----------------------------------------------------------------------


def hcl_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def aws_sg(*ingress: str) -> str:
    """Return an aws_security_group whose ingress blocks have the given bodies.

    Each body is a string of attribute lines. The first ingress block starts
    at line 2, and each block takes its body's line count plus 2.
    """
    blocks = "".join(f"  ingress {{\n{body}  }}\n" for body in ingress)
    return f'resource "aws_security_group" "node" {{\n{blocks}}}\n'


def aws_ingress(
    protocol: str = '"tcp"',
    from_port: int = 1433,
    to_port: int = 1433,
    **attributes: str,
) -> str:
    """Return the body lines of an ingress block (6 lines with one extra attribute)."""
    lines = [
        f"    from_port   = {from_port}\n",
        f"    to_port     = {to_port}\n",
        f"    protocol    = {protocol}\n",
    ]
    lines += [f"    {key} = {value}\n" for key, value in attributes.items()]
    return "".join(lines)


def azure_rule(
    name: str,
    priority: int,
    access: str = "Allow",
    protocol: str = "Tcp",
    port: str = "1433",
    source: str = 'source_address_prefix      = "*"',
) -> str:
    """Return a security_rule block of 11 lines for an NSG."""
    return (
        "  security_rule {\n"
        f'    name                       = "{name}"\n'
        f"    priority                   = {priority}\n"
        '    direction                  = "Inbound"\n'
        f'    access                     = "{access}"\n'
        f'    protocol                   = "{protocol}"\n'
        '    source_port_range          = "*"\n'
        f'    destination_port_range     = "{port}"\n'
        f"    {source}\n"
        '    destination_address_prefix = "*"\n'
        "  }\n"
    )


AZURE_FIRST = 5  # line of the first security_rule of azure_nsg()
AZURE_RULE_LINES = 11


def azure_nsg(*rules: str) -> str:
    return (
        'resource "azurerm_network_security_group" "nsg" {\n'
        '  name                = "nsg"\n'
        '  location            = "westeurope"\n'
        '  resource_group_name = "rg"\n' + "".join(rules) + "}\n"
    )


def gcp_firewall(
    name: str,
    kind: str = "allow",
    protocol: str = "tcp",
    ports: Sequence[str] | None = ("1433",),
    sources: str = 'source_ranges = ["0.0.0.0/0"]',
    priority: int | None = None,
) -> str:
    """Return a google_compute_firewall resource; it starts at its own line 1."""
    port_line = f"    ports    = {hcl_list(ports)}\n" if ports is not None else ""
    priority_line = f"  priority = {priority}\n" if priority is not None else ""
    return (
        f'resource "google_compute_firewall" "{name}" {{\n'
        f'  name    = "{name}"\n'
        '  network = "default"\n'
        + priority_line
        + f"  {kind} {{\n"
        + f'    protocol = "{protocol}"\n'
        + port_line
        + "  }\n"
        + f"  {sources}\n"
        + "}\n"
    )


# --- CloudFormation -----------------------------------------------------------------

CFN_HEAD = (
    "Resources:\n"
    "  Sg:\n"
    "    Type: AWS::EC2::SecurityGroup\n"
    "    Properties:\n"
    "      GroupDescription: mail\n"
    "      SecurityGroupIngress:\n"
)
CFN_FIRST = 7  # line of the first ingress entry


def cfn(*entries: Mapping[str, str]) -> str:
    """Return a template with one security group and ``entries`` as its ingress list."""
    text = CFN_HEAD
    for entry in entries:
        prefix = "        - "
        for key, value in entry.items():
            text += f"{prefix}{key}: {value}\n"
            prefix = "          "
    return text


# --- Windows Firewall ---------------------------------------------------------------

CSV_HEADER = (
    '"Name","DisplayName","Enabled","Direction","Profile","Action","Protocol",'
    '"LocalPort","RemotePort","IcmpType","LocalAddress","RemoteAddress","Program",'
    '"Service"\n'
)
CSV_FIRST = 2  # line of the first row


def csv_row(
    name: str,
    action: str = "Allow",
    protocol: str = "TCP",
    local_port: str = "1433",
    remote: str = "Any",
    program: str = "Any",
) -> str:
    cells = [
        name,
        name,
        "True",
        "Inbound",
        "Any",
        action,
        protocol,
        local_port,
        "Any",
        "Any",
        "Any",
        remote,
        program,
        "Any",
    ]
    return ",".join(f'"{cell}"' for cell in cells) + "\n"


def windows_csv(*rows: str) -> str:
    return CSV_HEADER + "".join(rows)


NETSH_RULE_LINES = 13  # lines per block of netsh_rule(), blank line included


def netsh_rule(
    name: str,
    action: str = "Allow",
    protocol: str = "TCP",
    local_port: str | None = "1433",
    remote: str = "Any",
) -> str:
    """Return one rule block as netsh prints it; its "Rule Name:" is its 2nd line."""
    fields = [
        ("Enabled", "Yes"),
        ("Direction", "In"),
        ("Profiles", "Domain,Private,Public"),
        ("LocalIP", "Any"),
        ("RemoteIP", remote),
        ("Protocol", protocol),
        ("LocalPort", local_port),
        ("RemotePort", "Any" if local_port is not None else None),
        ("Edge traversal", "No"),
        ("Action", action),
    ]
    lines = ["", f"{'Rule Name:':<38}{name}", "-" * 70]
    lines += [f"{key + ':':<38}{value}" for key, value in fields if value is not None]
    return "\n".join(lines) + "\n"


def netsh(*blocks: str) -> str:
    return "".join(blocks) + "Ok.\n\n"
