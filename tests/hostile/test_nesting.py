"""Deeply nested input is a SEG901 with a location, never a RecursionError or a hang.

Each case nests 2,000 to 3,000 levels, far past what any parser recursion
or Python's recursion limit (1,000) allows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support import HEADER, VALID, VALID_FINDING, Outcome, write

Cli = Callable[..., Outcome]
DEPTH = 2000


def _asa_groups(depth: int) -> str:
    lines = [": Saved", "ASA Version 9.8(1)", "interface GigabitEthernet0/0",
             " nameif outside", " security-level 0",
             " ip address 198.51.100.1 255.255.255.0",
             "object-group network g0", " network-object host 10.0.0.1"]
    for level in range(1, depth):
        lines += [f"object-group network g{level}", f" group-object g{level - 1}"]
    lines += [f"access-list out extended permit tcp any object-group g{depth - 1} eq 22",
              "access-group out in interface outside"]
    return "\n".join(lines) + "\n"


def test_asa_object_groups(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "edge.asa", _asa_groups(DEPTH))
    outcome = cli("edge.asa")
    assert outcome.code == 0
    line = 2 * DEPTH + 7
    assert outcome.starting(f"edge.asa:{line}:1: note SEG208 unneeded-port-exposed: "
                            "tcp/22 on hosts behind this firewall is reachable") != []


def test_nftables_includes(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "fw.nft", 'include "inc0.nft"\n')
    for level in range(DEPTH):
        write(tmp_path / f"inc{level}.nft", f'include "inc{level + 1}.nft"\n')
    write(tmp_path / f"inc{DEPTH}.nft", "table inet f { }\n")
    write(tmp_path / "valid.rules.v4", VALID)
    outcome = cli("fw.nft", "valid.rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "inc15.nft:1:1: error SEG901 parse-error: includes nested too deep (more than 16)")
    assert VALID_FINDING in outcome.lines


def test_nftables_jumps(tmp_path: Path, cli: Cli) -> None:
    chains = "".join(f"  chain c{level} {{ jump c{level + 1}; }}\n" for level in range(DEPTH))
    write(tmp_path / "fw.nft",
          "table inet f {\n"
          "  chain input { type filter hook input priority 0; policy drop; jump c0; }\n"
          + chains + f"  chain c{DEPTH} {{ tcp dport 22 accept; }}\n}}\n")
    outcome = cli("fw.nft")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "fw.nft:1:1: error SEG901 parse-error: chain nesting deeper than 128 at inet f/c127")


def test_iptables_jumps(tmp_path: Path, cli: Cli) -> None:
    declared = "".join(f":c{level} - [0:0]\n" for level in range(DEPTH + 1))
    jumps = "".join(f"-A c{level} -j c{level + 1}\n" for level in range(DEPTH))
    write(tmp_path / "rules.v4", HEADER + declared + "-A INPUT -j c0\n" + jumps
          + f"-A c{DEPTH} -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    outcome = cli("rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "rules.v4:1:1: error SEG901 parse-error: chain nesting deeper than 128 at "
        "filter/c127")


def test_iptables_jump_loop_far_down(tmp_path: Path, cli: Cli) -> None:
    # The loop check walks thousands of chains without recursion.
    declared = "".join(f":c{level} - [0:0]\n" for level in range(DEPTH + 1))
    jumps = "".join(f"-A c{level} -j c{level + 1}\n" for level in range(DEPTH))
    write(tmp_path / "rules.v4", HEADER + declared + "-A INPUT -j c0\n" + jumps
          + f"-A c{DEPTH} -j c0\nCOMMIT\n")
    outcome = cli("rules.v4")
    assert outcome.code == 2
    line = 4 + DEPTH + 1 + 1 + DEPTH + 1
    assert outcome.lines[0].startswith(
        f"rules.v4:{line}:"
        f"{len(f'-A c{DEPTH} -j ') + 1}: error SEG901 parse-error: chain loop (c0 -> c1 ->")


@pytest.mark.parametrize(("depth", "line"), [(33, 34), (DEPTH, 34)])
def test_pf_inline_anchors(tmp_path: Path, cli: Cli, depth: int, line: int) -> None:
    write(tmp_path / "pf.conf",
          "block all\n" + "".join(f'anchor "a{level}" {{\n' for level in range(depth))
          + "pass in quick proto tcp to port 22\n" + "}\n" * depth)
    outcome = cli("pf.conf")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        f"pf.conf:{line}:14: error SEG901 parse-error: anchors are nested too deeply "
        "(more than 32)")


def test_pf_inline_anchors_allowed(tmp_path: Path, cli: Cli) -> None:
    depth = 32
    write(tmp_path / "pf.conf",
          "block all\n" + "".join(f'anchor "a{level}" {{\n' for level in range(depth))
          + "pass in quick proto tcp to port 22\n" + "}\n" * depth)
    outcome = cli("pf.conf")
    assert outcome.code == 0
    assert outcome.starting(f"pf.conf:{depth + 2}:1: note SEG208 ") != []


def test_pf_macros(tmp_path: Path, cli: Cli) -> None:
    macros = "".join(f'm{level} = "$m{level + 1}"\n' for level in range(DEPTH))
    write(tmp_path / "pf.conf",
          macros + f'm{DEPTH} = "22"\npass in quick proto tcp to port $m0\n')
    outcome = cli("pf.conf")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        f"pf.conf:{DEPTH + 2}:33: error SEG901 parse-error: macros nested too deeply "
        "(more than 32: m0 -> m1 -> m2 -> ... -> m32)")


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        ("deep.cfn.yaml", 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  X: '
         + "[" * 3000 + "]" * 3000 + "\n", "3:206",
         "template is nested too deeply (more than 200 levels of brackets)"),
        ("deep.cfn.json", '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"X": '
         + "[" * 3000 + "]" * 3000 + "}}\n", "1:261",
         "template is nested too deeply (more than 200 levels of brackets)"),
        ("deep.tf", "locals {\n  x = " + "(" * 3000 + "1" + ")" * 3000 + "\n}\n", "1:1",
         "expressions are nested too deeply to parse"),
        ("list.tf", "locals {\n  x = " + "[" * 3000 + "]" * 3000 + "\n}\n", "1:1",
         "expressions are nested too deeply to parse"),
    ],
)
def test_nested_values(tmp_path: Path, cli: Cli, name: str, text: str, where: str,
                       message: str) -> None:
    write(tmp_path / name, text)
    write(tmp_path / "valid.rules.v4", VALID)
    outcome = cli(name, "valid.rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == f"{name}:{where}: error SEG901 parse-error: {message}"
    assert VALID_FINDING in outcome.lines


def test_yaml_brackets_in_strings(tmp_path: Path, cli: Cli) -> None:
    # Brackets in quoted strings and comments do not count as nesting.
    write(tmp_path / "sg.cfn.yaml", """\
AWSTemplateFormatVersion: "2010-09-09"
Description: "%s"
# %s
Resources:
  SG:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: '%s'
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}]
""" % ("[" * 500, "{" * 500, "[" * 500))
    outcome = cli("sg.cfn.yaml")
    assert outcome.code == 0
    assert outcome.starting("sg.cfn.yaml:9:30: note SEG208 ") != []


def test_yaml_alias_bomb(tmp_path: Path, cli: Cli) -> None:
    # Ten levels of nine aliases: 3.5 billion values if expanded.
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Mappings:", "  Bomb:",
             '    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"    {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines += ["Resources:", "  SG:", "    Type: AWS::EC2::SecurityGroup",
              "    Properties:", "      GroupDescription: x",
              "      SecurityGroupIngress:", "        - IpProtocol: tcp",
              "          FromPort: 22", "          ToPort: 22", "          CidrIp: *j"]
    write(tmp_path / "bomb.cfn.yaml", "\n".join(lines) + "\n")
    outcome = cli("bomb.cfn.yaml")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "bomb.cfn.yaml:10:8: error SEG901 parse-error: YAML aliases expand to too many "
        "values (more than 1000000)")
