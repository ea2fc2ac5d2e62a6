"""Terraform end to end by rule id and line: shared cases, corpus, inline modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from seglint.api import RunResult, check

CASES = ["c01", "c02", "c03", "c04", "c05", "c06", "c07", "c09", "c11", "c12"]


def reported(result: RunResult) -> list[str]:
    """Return ``RULE path:line`` of errors and warnings, as case files list them."""
    found = [
        f"{f.rule_id} {f.span.path}:{f.span.line}"
        for f in result.findings
        if f.level in ("error", "warning")
    ]
    found += [f"{d.rule_id} {d.span.path}:{d.span.line}" for d in result.diagnostics]
    return sorted(found)


def expected(folder: Path) -> list[str]:
    lines = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    return sorted(
        " ".join(line.split()[:2])
        for line in lines
        if line.strip() and not line.startswith("#")
    )


def case_folder(shared: Path, prefix: str) -> Path:
    (folder,) = sorted((shared / "cases").glob(f"{prefix}-*"))
    return folder


@pytest.mark.parametrize("prefix", CASES)
def test_shared_case(shared: Path, prefix: str) -> None:
    folder = case_folder(shared, prefix)
    assert reported(check([folder], cwd=folder)) == expected(folder)


def test_case_c05_parse_error_position(shared: Path) -> None:
    folder = case_folder(shared, "c05")
    result = check([folder], cwd=folder)
    (error,) = result.diagnostics
    assert (error.rule_id, error.span.path, error.span.line, error.span.column) == (
        "SEG901",
        "unclosed.tf",
        2,
        17,
    )
    assert result.exit_code == 2


# --- corpus ---------------------------------------------------------------------------


def corpus(shared: Path, name: str) -> RunResult:
    location = shared / "corpus" / "terraform" / name
    cwd = location if location.is_dir() else location.parent
    return check([location], cwd=cwd)


def test_corpus_has_no_internal_error(shared: Path) -> None:
    for location in sorted((shared / "corpus" / "terraform").iterdir()):
        if location.suffix == ".tsv":
            continue
        result = corpus(shared, location.name)
        assert result.diagnostics == [], location.name
        assert result.files_checked > 0, location.name


def test_corpus_azure_rules_from_tfvars(shared: Path) -> None:
    found = reported(corpus(shared, "azure-nsg-mailserver"))
    assert "SEG205 main.tf:15" in found
    assert "SEG206 main.tf:15" in found


def test_corpus_fatbelly_remote_state_is_unknown(shared: Path) -> None:
    result = corpus(shared, "fatbelly-aws-sg-module")
    smtp = [f for f in result.findings if f.span.path == "smtp.tf"]
    assert [(f.rule_id, f.span.line) for f in smtp] == [("SEG902", 15)]
    icmp = [
        (f.rule_id, f.span.line) for f in result.findings if f.span.path == "icmp.tf"
    ]
    assert icmp == [("SEG902", 72)]


def test_corpus_fatbelly_all_open(shared: Path) -> None:
    result = corpus(shared, "fatbelly-aws-sg-module")
    found = sorted(
        (f.rule_id, f.span.line, f.may)
        for f in result.findings
        if f.span.path == "all_open.tf" and f.level == "error"
    )
    assert found == [
        (rule, 13, False) for rule in ("SEG201", "SEG202", "SEG203", "SEG204", "SEG205")
    ]


def test_corpus_fatbelly_security_group_sources_say_may(shared: Path) -> None:
    result = corpus(shared, "fatbelly-aws-sg-module")
    found = [
        f
        for f in result.findings
        if f.span.path == "internal_servers_traffic.tf" and f.rule_id == "SEG204"
    ]
    assert [(f.span.line, f.may) for f in found] == [(13, True)]


def test_corpus_cloudgov_unknown_ingress(shared: Path) -> None:
    result = corpus(shared, "cloudgov-smtp-sg.tf")
    assert [(f.rule_id, f.span.line) for f in result.findings] == [("SEG902", 9)]


# --- inline modules -------------------------------------------------------------------


def run(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, int, bool]]:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    result = check([tmp_path], cwd=tmp_path)
    assert result.diagnostics == []
    return sorted(
        (f.rule_id, f.span.path, f.span.line, f.may)
        for f in result.findings
        if f.level in ("error", "warning")
    )


def test_dynamic_ingress_finding_line(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            variable "ports" {
              default = [25, 1433]
            }

            resource "aws_security_group" "db" {
              dynamic "ingress" {
                for_each = var.ports
                content {
                  from_port   = ingress.value
                  to_port     = ingress.value
                  protocol    = "tcp"
                  cidr_blocks = ["0.0.0.0/0"]
                }
              }
            }
            """,
    }
    assert run(tmp_path, files) == [("SEG204", "main.tf", 6, False)]


def test_for_each_rule_finding_line(tmp_path: Path) -> None:
    files = {
        "groups.tf": 'resource "aws_security_group" "am" {\n}\n',
        "rules.tf": """\
            locals {
              open = {console = 443, manager = 19001}
            }

            resource "aws_security_group_rule" "open" {
              for_each          = local.open
              type              = "ingress"
              from_port         = each.value
              to_port           = each.value
              protocol          = "tcp"
              cidr_blocks       = ["0.0.0.0/0"]
              security_group_id = aws_security_group.am.id
            }
            """,
    }
    assert run(tmp_path, files) == [
        ("SEG203", "rules.tf", 5, False),
        ("SEG206", "rules.tf", 5, False),
    ]


def test_unknown_source_says_may(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            variable "admins" {}

            resource "aws_security_group" "sql" {
              ingress {
                from_port   = 1433
                to_port     = 1433
                protocol    = "tcp"
                cidr_blocks = var.admins
              }
            }
            """,
    }
    assert run(tmp_path, files) == [
        ("SEG204", "main.tf", 4, True),
        ("SEG902", "main.tf", 8, False),
    ]


def test_tfvars_value_decides(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            variable "admins" {}

            resource "aws_security_group" "sql" {
              ingress {
                from_port   = 1433
                to_port     = 1433
                protocol    = "tcp"
                cidr_blocks = var.admins
              }
            }
            """,
        "terraform.tfvars": 'admins = ["10.0.50.0/24"]\n',
    }
    assert run(tmp_path, files) == []


def test_gcp_deny_before_allow(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            resource "google_compute_firewall" "deny_sql" {
              name    = "deny-sql"
              network = "default"
              deny {
                protocol = "tcp"
                ports    = ["1433"]
              }
            }

            resource "google_compute_firewall" "allow_all" {
              name    = "allow-all"
              network = "default"
              allow {
                protocol = "tcp"
                ports    = ["1000-2000"]
              }
            }
            """,
    }
    assert run(tmp_path, files) == []


def test_azure_priority_deny_wins(tmp_path: Path) -> None:
    files = {
        "main.tf": """\
            resource "azurerm_network_security_group" "am" {
              name = "am"
              security_rule {
                name                       = "allow-all"
                priority                   = 200
                direction                  = "Inbound"
                access                     = "Allow"
                protocol                   = "*"
                source_port_range          = "*"
                destination_port_range     = "*"
                source_address_prefix      = "Internet"
                destination_address_prefix = "*"
              }
              security_rule {
                name                       = "deny-netbios"
                priority                   = 100
                direction                  = "Inbound"
                access                     = "Deny"
                protocol                   = "*"
                source_port_range          = "*"
                destination_port_ranges    = ["135-139", "1433", "389", "19001",
                                              "19006", "443", "19020"]
                source_address_prefix      = "*"
                destination_address_prefix = "*"
              }
            }
            """,
    }
    found = run(tmp_path, files)
    assert [item for item in found if item[0] != "SEG202"] == []


def test_changed_rule_file_alone_is_checked(tmp_path: Path) -> None:
    (tmp_path / "groups.tf").write_text('resource "aws_security_group" "db" {\n}\n')
    (tmp_path / "rules.tf").write_text(
        textwrap.dedent("""\
            resource "aws_security_group_rule" "sql" {
              type              = "ingress"
              from_port         = 1433
              to_port           = 1433
              protocol          = "tcp"
              cidr_blocks       = ["0.0.0.0/0"]
              security_group_id = aws_security_group.db.id
            }
            """)
    )
    result = check([tmp_path / "rules.tf"], cwd=tmp_path)
    assert reported(result) == ["SEG204 rules.tf:1"]


def test_module_call_reported_as_unsupported(tmp_path: Path) -> None:
    from seglint.api import check

    (tmp_path / "main.tf").write_text(
        'module "sql" {\n  source = "./modules/sql"\n  port   = 1433\n}\n'
    )
    result = check([tmp_path / "main.tf"], cwd=tmp_path)
    assert [(f.rule_id, f.span.path, f.span.line) for f in result.findings] == [
        ("SEG902", "main.tf", 1)
    ]
    assert "module 'sql' is not followed" in result.findings[0].message
