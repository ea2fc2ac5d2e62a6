"""Symlinks and includes that point outside the checked tree are refused, with a message.

The checked tree is the folder given on the command line (or the folder
of a file given). Nothing outside it is read: the tests put a file with a
marker outside and assert that the marker appears in no output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hostile_support import VALID, VALID_FINDING, Outcome, write

Cli = Callable[..., Outcome]
SECRET = "10.99.99.0/24"  # in files outside the tree; must never show up


def _outside(tmp_path: Path) -> Path:
    """A folder beside the checked tree with a rule file that would be exposed."""
    outside = tmp_path / "outside"
    write(outside / "secret.rules.v4",
          VALID.replace("-p tcp", f"-s {SECRET} -p tcp --dport 1433 -j ACCEPT\n-A INPUT -p tcp"))
    write(outside / "secret.txt", f"{SECRET}\n")
    write(outside / "outside.conf", "pass in quick proto tcp to port 1433\n")
    write(outside / "defs.nft", "define ports = { 1433 }\n")
    return outside


def _no_secret(outcome: Outcome) -> None:
    assert not [line for line in outcome.lines if SECRET in line or "1433" in line]


def test_symlinked_file_in_folder(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    (tmp_path / "tree" / "link.rules.v4").symlink_to(outside / "secret.rules.v4")
    outcome = cli("tree")
    assert outcome.code == 0
    assert (f"note: skipped tree/link.rules.v4: symlink to {outside}/secret.rules.v4 is "
            f"outside the checked tree ({tmp_path}/tree); name the target to check it"
            ) in outcome.lines
    assert outcome.starting("tree/valid.rules.v4:5:1: note SEG208 ") != []
    _no_secret(outcome)


def test_symlinked_folder_in_folder(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    (tmp_path / "tree" / "hosts").symlink_to(outside)
    outcome = cli("tree")
    assert outcome.code == 0
    assert (f"note: skipped tree/hosts: symlink to {outside} is outside the checked "
            f"tree ({tmp_path}/tree); name the target to check it") in outcome.lines
    assert outcome.starting("tree/valid.rules.v4:5:1: note SEG208 ") != []
    _no_secret(outcome)


def test_symlinked_folder_named(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    (tmp_path / "tree" / "hosts").symlink_to(outside)
    outcome = cli("tree/hosts", "tree/valid.rules.v4")
    assert outcome.code == 2
    assert outcome.starting("tree/hosts:1:1: error SEG901 parse-error: refusing to "
                            f"follow symlink tree/hosts to {outside} (outside the "
                            "checked tree); name the target instead") != []
    assert outcome.starting("tree/valid.rules.v4:5:1: note SEG208 ") != []
    _no_secret(outcome)


def test_symlinked_file_named(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    (tmp_path / "tree" / "link.rules.v4").symlink_to(outside / "secret.rules.v4")
    outcome = cli("tree/link.rules.v4", "tree/valid.rules.v4")
    assert outcome.code == 2
    assert outcome.starting(
        "tree/link.rules.v4:1:1: error SEG901 parse-error: refusing to follow symlink "
        f"tree/link.rules.v4 to {outside}/secret.rules.v4 (outside the checked tree)"
    ) != []
    _no_secret(outcome)


def test_symlink_inside_tree_is_checked(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "tree" / "real" / "valid.rules.v4", VALID)
    (tmp_path / "tree" / "valid.rules.v4").symlink_to(
        tmp_path / "tree" / "real" / "valid.rules.v4")
    outcome = cli("tree/valid.rules.v4")
    assert outcome.code == 0
    assert "tree/real/" + VALID_FINDING in outcome.lines


def test_nftables_include_outside(tmp_path: Path, cli: Cli) -> None:
    _outside(tmp_path)
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    write(tmp_path / "tree" / "fw.nft",
          'include "../outside/defs.nft"\n'
          "table inet f {\n"
          "  chain input { type filter hook input priority 0; policy drop;\n"
          "    tcp dport $ports accept }\n"
          "}\n")
    outcome = cli("tree")
    assert outcome.code == 2
    assert outcome.starting(
        "tree/fw.nft:1:1: error SEG901 parse-error: include outside the checked tree "
        "is not read (../outside/defs.nft)") != []
    assert outcome.starting("tree/valid.rules.v4:5:1: note SEG208 ") != []
    _no_secret(outcome)


def test_nftables_include_absolute(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "tree" / "fw.nft",
          'table inet f {\n  include "/etc/passwd"\n}\n')
    outcome = cli("tree/fw.nft")
    assert outcome.code == 2
    assert outcome.starting(
        "tree/fw.nft:2:3: error SEG901 parse-error: include outside the checked tree "
        "is not read (/etc/passwd)") != []
    assert not [line for line in outcome.lines if "root:" in line]


def test_nftables_include_symlink_leaving(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "defs.nft").symlink_to(outside / "defs.nft")
    write(tmp_path / "tree" / "fw.nft",
          'include "defs.nft"\n'
          "table inet f {\n"
          "  chain input { type filter hook input priority 0; policy drop;\n"
          "    tcp dport $ports accept }\n"
          "}\n")
    outcome = cli("tree/fw.nft")
    assert outcome.code == 2
    assert outcome.starting("tree/fw.nft:1:1: error SEG901 parse-error: ") != []
    assert "outside the checked tree" in outcome.lines[0]
    _no_secret(outcome)


def test_pf_include_outside(tmp_path: Path, cli: Cli) -> None:
    _outside(tmp_path)
    write(tmp_path / "tree" / "pf.conf",
          'block all\ninclude "../outside/outside.conf"\n')
    outcome = cli("tree/pf.conf")
    assert outcome.code == 2
    assert outcome.starting(
        "tree/pf.conf:2:9: error SEG901 parse-error: included file is outside the "
        "checked tree (../outside/outside.conf); seglint reads only files below "
        f"{tmp_path}/tree") != []
    _no_secret(outcome)


def test_pf_load_anchor_outside(tmp_path: Path, cli: Cli) -> None:
    # pf.conf files name anchors by absolute path (/etc/pf.anchors/mail), so
    # the anchor is looked for beside the file; its rules count as unknown.
    write(tmp_path / "tree" / "pf.conf",
          'block all\nanchor "mail"\nload anchor "mail" from "/etc/passwd"\n')
    outcome = cli("tree/pf.conf")
    assert outcome.code == 1
    assert (
        "tree/pf.conf:3:25: warning SEG902 unsupported-construct: anchor file "
        "/etc/passwd is outside the checked tree and no copy of it is beside "
        "tree/pf.conf; its content is unknown") in outcome.lines
    assert not [line for line in outcome.lines if "root:" in line]


def test_pf_table_file_outside(tmp_path: Path, cli: Cli) -> None:
    _outside(tmp_path)
    write(tmp_path / "tree" / "pf.conf",
          'table <admins> file "../outside/secret.txt"\n'
          "block all\npass in quick proto tcp from <admins> to port 22\n")
    outcome = cli("tree/pf.conf")
    assert outcome.code == 2
    assert outcome.starting("tree/pf.conf:1:") != []
    assert "table file is outside the checked tree (../outside/secret.txt)" in (
        outcome.lines[0])
    _no_secret(outcome)


def test_terraform_file_function(tmp_path: Path, cli: Cli) -> None:
    _outside(tmp_path)
    write(tmp_path / "tree" / "main.tf", """\
resource "aws_security_group" "sg" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [file("../outside/secret.txt")]
  }
  ingress {
    from_port   = 25
    to_port     = 25
    protocol    = "tcp"
    cidr_blocks = [templatefile("../../etc/passwd", {})]
  }
}
""")
    outcome = cli("tree/main.tf")
    assert outcome.code == 1
    assert (
        "tree/main.tf:6:5: warning SEG902 unsupported-construct: cidr_blocks is unknown "
        '(file("../outside/secret.txt"): function file is not modelled); checks that '
        "depend on it report may") in outcome.lines
    assert (
        "tree/main.tf:12:5: warning SEG902 unsupported-construct: cidr_blocks is "
        'unknown (templatefile("../../etc/passwd", {}): function templatefile is not '
        "modelled); checks that depend on it report may") in outcome.lines
    _no_secret(outcome)


def test_terraform_tfvars_symlink_leaving(tmp_path: Path, cli: Cli) -> None:
    outside = _outside(tmp_path)
    write(outside / "terraform.tfvars", f'admins = ["{SECRET}"]\n')
    write(tmp_path / "tree" / "main.tf", """\
variable "admins" {
  type    = list(string)
  default = ["10.0.0.0/8"]
}

resource "aws_security_group" "sg" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.admins
  }
}
""")
    (tmp_path / "tree" / "terraform.tfvars").symlink_to(outside / "terraform.tfvars")
    outcome = cli("tree")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "tree/terraform.tfvars:1:1: error SEG901 parse-error: variable file is a symlink "
        f"to {outside}/terraform.tfvars, outside the checked tree, so its values are not "
        "read")
    assert (f"note: skipped tree/terraform.tfvars: symlink to {outside}/terraform.tfvars "
            f"is outside the checked tree ({tmp_path}/tree); name the target to check it"
            ) in outcome.lines
    _no_secret(outcome)
    named = cli("tree/main.tf")
    assert named.code == 2
    assert named.lines[0] == outcome.lines[0]


def test_terraform_tfvars_binary(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "main.tf", 'variable "admins" {\n  default = ["10.0.0.0/8"]\n}\n')
    write(tmp_path / "terraform.tfvars", b"\x00\x01" * 100)
    outcome = cli("main.tf")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "terraform.tfvars:1:1: error SEG901 parse-error: file is binary (contains NUL "
        "bytes), not a rule file")
