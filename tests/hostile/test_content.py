"""Files seglint will not parse, and text encodings it must read like plain text.

Binary and oversize files are not parsed (see README, Usage); every other
file is still checked. Encodings and line ends (BOM, UTF-16, CRLF) give
the same findings at the same places as the plain file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support import HEADER, VALID, VALID_FINDING, Outcome, write

Cli = Callable[..., Outcome]


def test_binary_named(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "valid.rules.v4", VALID)
    write(tmp_path / "rules.v4", b"\x00\x01\x02" * 100)
    outcome = cli("rules.v4", "valid.rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "rules.v4:1:1: error SEG901 parse-error: file is binary (contains NUL bytes), "
        "not a rule file")
    assert VALID_FINDING in outcome.lines


def test_binary_in_folder(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    write(tmp_path / "tree" / "pf.conf.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
    outcome = cli("tree")
    assert outcome.code == 0
    assert ("note: skipped tree/pf.conf.gz: file is binary (contains NUL bytes), "
            "not a rule file") in outcome.lines
    assert "tree/" + VALID_FINDING in outcome.lines


def test_not_text_named(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "rules.v4", VALID.encode() + b"\xff\x01\x02")
    outcome = cli("rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "rules.v4:1:1: error SEG901 parse-error: file is not text (invalid start byte)")


@pytest.mark.parametrize("where", ["named", "folder"])
def test_over_configured_limit(tmp_path: Path, cli: Cli, where: str) -> None:
    write(tmp_path / "seglint.yaml", "max-file-size: 1KB\n")
    write(tmp_path / "tree" / "valid.rules.v4", VALID)
    big = write(tmp_path / "tree" / "big.rules.v4",
                HEADER + "# padding\n" * 200 + "COMMIT\n")
    size = big.stat().st_size
    outcome = cli(*(["tree/big.rules.v4", "tree/valid.rules.v4"] if where == "named"
                    else ["tree"]))
    assert outcome.code == 2
    assert outcome.lines[0] == (
        f"tree/big.rules.v4:1:1: error SEG901 parse-error: file is too large ({size} "
        "bytes > max-file-size 1000 bytes); raise max-file-size or split the file")
    assert "tree/" + VALID_FINDING in outcome.lines


def test_option_overrides_configured_limit(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "seglint.yaml", "max-file-size: 1KB\n")
    write(tmp_path / "big.rules.v4", VALID.replace("COMMIT", "# padding\n" * 200 + "COMMIT"))
    outcome = cli("--max-file-size", "1MiB", "big.rules.v4")
    assert outcome.code == 0
    assert outcome.starting("big.rules.v4:5:1: note SEG208 ") != []


def test_default_limit(tmp_path: Path, cli: Cli) -> None:
    with (tmp_path / "rules.v4").open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)
    outcome = cli("rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "rules.v4:1:1: error SEG901 parse-error: file is too large (10485761 bytes > "
        "max-file-size 10485760 bytes); raise max-file-size or split the file")


def test_included_file_over_limit(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "seglint.yaml", "max-file-size: 2000\n")
    write(tmp_path / "defs.nft", "define ports = { 22 }\n" + "# padding\n" * 300)
    write(tmp_path / "fw.nft",
          'include "defs.nft"\n'
          "table inet f {\n"
          "  chain input { type filter hook input priority 0; policy drop;\n"
          "    tcp dport $ports accept }\n"
          "}\n")
    outcome = cli("fw.nft")
    assert outcome.code == 2
    assert outcome.lines[0].startswith(
        "fw.nft:1:1: error SEG901 parse-error: file is too large (3022 bytes > "
        "max-file-size 2000 bytes)")


@pytest.mark.parametrize(
    ("value", "column", "message"),
    [
        ("5 parsecs", 16, 'invalid size "5 parsecs" in max-file-size (expected a size '
                          "such as 5MB or 512KiB, or a number of bytes)"),
        ("1GB", 16, "max-file-size out of range (1000000000 bytes; expected 1 to "
                    "16777216 bytes, 16MiB)"),
        ("0", 16, "max-file-size out of range (0 bytes; expected 1 to 16777216 bytes, "
                  "16MiB)"),
        ("[1, 2]", 16, "wrong type for max-file-size (expected a size such as 5MB or "
                       "512KiB, or a number of bytes, got a list)"),
    ],
)
def test_invalid_limit_in_config(tmp_path: Path, cli: Cli, value: str, column: int,
                                 message: str) -> None:
    write(tmp_path / "seglint.yaml", f"max-file-size: {value}\n")
    write(tmp_path / "valid.rules.v4", VALID)
    outcome = cli("valid.rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == f"seglint.yaml:1:{column}: error SEG903 config-error: {message}"


def test_invalid_limit_option(tmp_path: Path, cli: Cli) -> None:
    with pytest.raises(SystemExit) as caught:
        cli("--max-file-size", "lots", ".")
    assert caught.value.code == 2


def test_ten_megabyte_line(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "valid.rules.v4", VALID)
    write(tmp_path / "long.rules.v4",
          HEADER + "-A INPUT -p tcp --dport 22 -m comment --comment "
          + "x" * 10_000_000 + " -j ACCEPT\nCOMMIT\n")
    started = time.monotonic()
    outcome = cli(".")
    assert time.monotonic() - started < 120
    assert outcome.code == 0
    assert outcome.starting("long.rules.v4:5:1: note SEG208 ") != []
    assert VALID_FINDING in outcome.lines


def test_ten_megabyte_token(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "valid.rules.v4", VALID)
    write(tmp_path / "long.rules.v4",
          HEADER + "-A INPUT -p tcp --dport " + "9" * 10_000_000 + " -j ACCEPT\nCOMMIT\n")
    outcome = cli(".")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "long.rules.v4:5:25: error SEG901 parse-error: number too long (10000000 digits; "
        "seglint reads numbers of up to 4300 digits)")
    assert VALID_FINDING in outcome.lines


def test_long_token_message_clipped(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "pf.conf", "block all\npass in proto tcp to port " + "x" * 100_000 + "\n")
    outcome = cli("pf.conf")
    assert outcome.code == 2
    assert outcome.lines[0].startswith(
        "pf.conf:2:27: error SEG901 parse-error: unknown port name (xxx")
    assert re.search(r"x\.\.\. \(\d+ characters left out\) \.\.\.x", outcome.lines[0])
    message = outcome.lines[0].split(" parse-error: ", 1)[1]
    assert len(message) <= 2000


def test_nul_after_first_block(tmp_path: Path, cli: Cli) -> None:
    # The binary check looks at the first 8 KiB; a later NUL reaches the parser.
    body = "".join(f"-A INPUT -s 10.0.{i // 250}.{i % 250 + 1} -p tcp --dport 22 -j ACCEPT\n"
                   for i in range(300))
    write(tmp_path / "late.rules.v4", HEADER + body + "-A INPUT -p tcp --dport 2\x005 -j "
          "ACCEPT\nCOMMIT\n")
    outcome = cli("late.rules.v4")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "late.rules.v4:305:25: error SEG901 parse-error: invalid port (2\\x005)")


def test_escape_sequences_not_printed(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path / "pf.conf", "block all\npass in proto tcp to port \x1b[2J\u202ex\n")
    outcome = cli("pf.conf")
    assert outcome.code == 2
    assert outcome.lines[0] == (
        "pf.conf:2:27: error SEG901 parse-error: unknown port name (\\x1b[2J\\u202ex); "
        "use a number or a name from /etc/services")
    assert not [line for line in outcome.lines if "\x1b" in line or "\u202e" in line]


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(b"\xef\xbb\xbf" + VALID.encode(), id="utf-8-bom"),
        pytest.param(b"\xff\xfe" + VALID.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(b"\xfe\xff" + VALID.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(VALID.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode(),
                     id="bom-and-crlf"),
    ],
)
def test_encodings_read_as_text(tmp_path: Path, cli: Cli, encoded: bytes) -> None:
    write(tmp_path / "valid.rules.v4", encoded)
    outcome = cli("valid.rules.v4")
    assert outcome.code == 0
    assert VALID_FINDING in outcome.lines
