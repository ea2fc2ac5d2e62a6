"""Inputs the fuzzer found that broke a run, each checked through the CLI.

Before the fixes, a number of more than 4300 digits reached users as an
internal error (Python's int() raises ValueError past that length), a NUL
in a CloudFormation template gave a message without a line, 1e400 as an
Fn::Select index raised OverflowError, and a chain of thousands of
iptables jumps raised RecursionError in the loop check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_seeds import SEEDS

from seglint.cli import main

LONG = "9" * 5000
TOO_LONG = ("error SEG901 parse-error: number too long (5000 digits; seglint reads "
            "numbers of up to 4300 digits)")

# Seed file and the number in it that becomes 5000 digits long.
LONG_NUMBERS = [
    ("iptables.rules.v4", "19010"),
    ("nftables.nft", "19010"),
    ("seed.pf.conf", "65535"),
    ("seed.asa", "19010"),
    ("seed.ios", "19010"),
    ("seed.tf", "19010"),
    ("seed.cfn.yaml", "1433"),
    ("seed.cfn.json", "53"),
    ("windows-netsh.txt", "139"),
    ("windows-rules.csv", "19005"),
]


def _run(folder: Path, capsys: pytest.CaptureFixture[str],
         *args: str) -> tuple[int, list[str]]:
    (folder / "seglint.yaml").write_text("{}\n")
    capsys.readouterr()
    code = main(["check", *[str(folder / arg) for arg in args]])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("name", "number"), LONG_NUMBERS)
def test_long_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                     number: str) -> None:
    text = SEEDS[name]
    start = text.index(number)
    (tmp_path / name).write_text(text[:start] + LONG + text[start + len(number):])
    line = text.count("\n", 0, start) + 1
    column = start - text.rfind("\n", 0, start)
    code, lines = _run(tmp_path, capsys, name)
    assert code == 2
    assert lines[0] == f"{tmp_path}/{name}:{line}:{column}: {TOO_LONG}"


def test_nul_in_yaml_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Past the first 8 KiB, where the binary check does not look.
    text = "# " + "x" * 9000 + "\n" + SEEDS["seed.cfn.yaml"].replace(
        "GroupId: !GetAtt", "GroupId: \x00!GetAtt")
    (tmp_path / "sg.cfn.yaml").write_text(text)
    code, lines = _run(tmp_path, capsys, "sg.cfn.yaml")
    assert code == 2
    assert lines[0] == (
        f"{tmp_path}/sg.cfn.yaml:28:16: error SEG901 parse-error: invalid template "
        "(character U+0000 is not allowed in YAML)")


def test_long_iptables_jump_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                 ) -> None:
    depth = 1500
    text = ("*filter\n:INPUT DROP [0:0]\n"
            + "".join(f":c{level} - [0:0]\n" for level in range(depth))
            + "".join(f"-A c{level} -j c{level + 1}\n" for level in range(depth - 1))
            + "-A c1499 -j c0\nCOMMIT\n")
    (tmp_path / "rules.v4").write_text(text)
    code, lines = _run(tmp_path, capsys, "rules.v4")
    assert code == 2
    assert lines[0].startswith(
        f"{tmp_path}/rules.v4:{2 + depth + depth}:13: error SEG901 parse-error: chain loop "
        "(c0 -> c1 -> c2")


def test_select_index_infinity(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                               ) -> None:
    # YAML reads 1e400 as a float infinity, which int() cannot convert.
    text = SEEDS["seed.cfn.yaml"].replace("!Select [0,", "!Select [1e400,")
    (tmp_path / "sg.cfn.yaml").write_text(text)
    code, lines = _run(tmp_path, capsys, "sg.cfn.yaml")
    assert code == 1
    assert (
        f"{tmp_path}/sg.cfn.yaml:31:15: warning SEG902 unsupported-construct: CidrIp is "
        "not modelled (!Select [inf, [0.0.0.0/0, 10.0.0.0/8]]: invalid Fn::Select index "
        '(inf)); checks that depend on it say "may"') in lines
