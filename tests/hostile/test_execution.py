"""YAML tags, HCL functions, data sources and provisioners never run anything.

Each file contains a construct that would create a marker file. The tests
assert that the marker does not exist after the run and that the construct
is reported at its line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hostile_support import Outcome, write

Cli = Callable[..., Outcome]

CFN_HEADER = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
"""
INGRESS = """\
  SG:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: mail
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
"""


def test_yaml_python_tags(tmp_path: Path, cli: Cli) -> None:
    marker = tmp_path / "marker"
    write(tmp_path / "sg.cfn.yaml", CFN_HEADER
          + f'  X: !!python/object/apply:os.system ["touch {marker}-x"]\n'
          + f'  Y: !!python/object/new:subprocess.Popen [["touch", "{marker}-y"]]\n'
          + "  Z: !!python/name:os.system\n"
          + INGRESS
          + f'          CidrIp: !!python/object/apply:os.system ["touch {marker}"]\n')
    outcome = cli("sg.cfn.yaml")
    assert list(tmp_path.glob("marker*")) == []
    assert outcome.code == 1
    assert (
        "sg.cfn.yaml:14:19: warning SEG902 unsupported-construct: CidrIp is not modelled "
        f'(!!python/object/apply:os.system ["touch {marker}"]: unknown tag '
        '!!python/object/apply:os.system); checks that depend on it say "may"'
    ) in outcome.lines


def test_yaml_tag_in_unused_place(tmp_path: Path, cli: Cli) -> None:
    marker = tmp_path / "marker"
    write(tmp_path / "sg.cfn.yaml", CFN_HEADER
          + f'  X: !!python/object/apply:os.system ["touch {marker}"]\n'
          + INGRESS + "          CidrIp: 10.0.0.0/8\n")
    outcome = cli("sg.cfn.yaml")
    assert not marker.exists()
    assert outcome.code == 0


def test_hcl_functions_and_data_sources(tmp_path: Path, cli: Cli) -> None:
    marker = tmp_path / "marker"
    write(tmp_path / "main.tf", f"""\
data "external" "cidr" {{
  program = ["sh", "-c", "touch {marker}-external"]
}}

resource "null_resource" "hook" {{
  provisioner "local-exec" {{
    command = "touch {marker}-local-exec"
  }}
}}

resource "aws_security_group" "sg" {{
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [data.external.cidr.result.cidr]
  }}
  ingress {{
    from_port   = 25
    to_port     = 25
    protocol    = "tcp"
    cidr_blocks = [file("{marker}-file")]
  }}
}}
""")
    outcome = cli("main.tf")
    assert list(tmp_path.glob("marker*")) == []
    assert outcome.code == 1
    assert (
        "main.tf:16:5: warning SEG902 unsupported-construct: cidr_blocks is unknown "
        "(data.external.cidr.result.cidr: data sources are not evaluated); checks that "
        "depend on it report may") in outcome.lines
    assert (
        "main.tf:22:5: warning SEG902 unsupported-construct: cidr_blocks is unknown "
        f'(file("{marker}-file"): function file is not modelled); checks that depend '
        "on it report may") in outcome.lines


def test_pf_shell_like_text(tmp_path: Path, cli: Cli) -> None:
    # pfctl runs no commands; backquotes and $() are text to pf and to seglint.
    marker = tmp_path / "marker"
    write(tmp_path / "pf.conf",
          f'cmd = "`touch {marker}`"\nblock all\npass in proto tcp to port $(touch {marker})\n')
    outcome = cli("pf.conf")
    assert not marker.exists()
    assert outcome.code == 2
    assert outcome.starting("pf.conf:3:") != []
