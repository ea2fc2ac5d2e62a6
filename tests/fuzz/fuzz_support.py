"""Mutations of rule files, and the checks every mutant run must pass.

A mutant is a seed file with one to four edits applied in order: byte
flips, truncation, duplicated or deleted lines, random unicode, CRLF line
ends, a byte order mark, NUL bytes, long lines, odd numbers and tokens
spliced from elsewhere in the file. Each mutant is checked through
``seglint.api.check`` beside an untouched valid file, then rendered as text,
JSON and SARIF, so a crash anywhere on the way to the user shows up.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from seglint import __version__
from seglint.api import RunResult, check
from seglint.report import FORMATTERS, RunReport

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
EXAMPLES = REPO / "examples"

# SEGLINT_FUZZ_SCALE=20 runs twenty times the examples, for a search by hand.
SCALE = max(1, int(os.environ.get("SEGLINT_FUZZ_SCALE", "1") or "1"))


def fuzz_settings(examples: int) -> settings:
    """A fixed budget: the same mutants on every run, no time limit per input."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )


@dataclass
class Totals:
    """Inputs tried per group, printed in the pytest terminal summary."""

    inputs: dict[str, int] = field(default_factory=dict)
    parse_errors: int = 0
    failures: int = 0  # inputs that raised or broke a check (hypothesis shrinks them)

    def add(self, group: str) -> None:
        self.inputs[group] = self.inputs.get(group, 0) + 1

    def lines(self) -> list[str]:
        total = sum(self.inputs.values())
        groups = ", ".join(f"{name} {count}" for name, count in sorted(self.inputs.items()))
        return [
            f"{total} mutated inputs checked ({groups}), scale {SCALE}",
            f"{self.parse_errors} reported a SEG901/SEG903 diagnostic; "
            f"{self.failures} raised or broke a check",
        ]


TOTALS = Totals()


# --- seeds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A file to mutate; ``folder`` is copied with it (a Terraform module)."""

    name: str  # test id
    path: Path
    folder: Path | None = None


def corpus_seeds() -> list[Seed]:
    if not CORPUS.is_dir():
        return []
    seeds = []
    for location in sorted(CORPUS.rglob("*")):
        if not location.is_file() or location.name == "SOURCES.tsv":
            continue
        relative = location.relative_to(CORPUS)
        # Files in a folder of their own belong to a module: copy the folder.
        folder = location.parent if len(relative.parts) > 2 else None
        seeds.append(Seed(relative.as_posix(), location, folder))
    return seeds


def example_seeds() -> list[Seed]:
    return [
        Seed(location.relative_to(EXAMPLES).as_posix(), location)
        for location in sorted(EXAMPLES.rglob("*"))
        if location.is_file() and location.parent != EXAMPLES
    ]


# --- mutations ------------------------------------------------------------------------

# Tokens that sit at the edges of what the grammars and value parsers accept.
ODD_TOKENS = (
    "{", "}", "(", ")", "[", "]", "<", ">", '"', "'", "!", "/", ":", "-", ",", ";", "\\",
    "#", "$", "${", "%{", "any", "all", "*", "-1", "0", "65536", "4294967296",
    "99999999999999999999999", "0.0.0.0/0", "::/0", "1.2.3.4/33", "256.1.1.1",
    "10.0.0.0/-1", "fe80::1%eth0", "::ffff:1.2.3.4", "1-", "-1-2", "2-1", "1:0",
    "65535:1", "0x1g", "1e9", "nan", "inf", "true", "null", "~", "!Ref", "!Sub",
    "!GetAtt", "!!python/object/apply:os.system", "&a", "*a", "<<: *a", "${var.x}",
    "local.x", "var.missing", "each.value", "count.index", "=", "==", "=>", "...",
)

NUMBERS = ("0", "-1", "1", "65535", "65536", "4294967295", "4294967296",
           "18446744073709551616", "99999999999999999999999", "1e400", "0x10", "017",
           "9" * 5000)

_position = st.integers(min_value=0, max_value=2**31)

MUTATION = st.one_of(
    st.tuples(st.just("flip"), _position, st.integers(1, 255)),
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("duplicate-line"), _position, st.integers(1, 40)),
    st.tuples(st.just("delete-line"), _position),
    st.tuples(st.just("swap-lines"), _position, _position),
    st.tuples(st.just("unicode"), _position, st.text(min_size=1, max_size=6)),
    st.tuples(st.just("crlf")),
    st.tuples(st.just("bom"), st.sampled_from(["utf-8", "utf-16-le", "utf-16-be"])),
    st.tuples(st.just("nul"), _position, st.integers(1, 3)),
    st.tuples(st.just("long-line"), _position, st.integers(1_000, 50_000)),
    st.tuples(st.just("number"), _position, st.sampled_from(NUMBERS)),
    st.tuples(st.just("token"), _position, st.sampled_from(ODD_TOKENS)),
    st.tuples(st.just("splice"), _position, _position),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)

_WORD = re.compile(rb"[^\s]+")
_DIGITS = re.compile(rb"\d+")


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def mutate(data: bytes, mutations: list[tuple]) -> bytes:  # type: ignore[type-arg]
    """Apply each mutation in turn; positions wrap around the current length."""
    for mutation in mutations:
        data = _apply(data, mutation)
    return data


def _apply(data: bytes, mutation: tuple) -> bytes:  # type: ignore[type-arg]
    kind, *args = mutation
    size = max(len(data), 1)
    if kind == "flip":
        if not data:
            return data
        at = args[0] % len(data)
        return data[:at] + bytes([data[at] ^ args[1]]) + data[at + 1:]
    if kind == "truncate":
        return data[: args[0] % size]
    if kind in ("duplicate-line", "delete-line", "swap-lines"):
        lines = _lines(data)
        at = args[0] % len(lines)
        if kind == "duplicate-line":
            lines[at:at + 1] = [lines[at]] * (args[1] + 1)
        elif kind == "delete-line":
            del lines[at]
        else:
            other = args[1] % len(lines)
            lines[at], lines[other] = lines[other], lines[at]
        return b"".join(lines)
    if kind == "unicode":
        at = args[0] % size
        return data[:at] + args[1].encode("utf-8", "surrogatepass") + data[at:]
    if kind == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "bom":
        text = data.decode("utf-8", errors="replace")
        if args[0] == "utf-8":
            return b"\xef\xbb\xbf" + data
        bom = b"\xff\xfe" if args[0] == "utf-16-le" else b"\xfe\xff"
        return bom + text.encode(args[0])
    if kind == "nul":
        at = args[0] % size
        return data[:at] + b"\x00" * args[1] + data[at:]
    if kind == "long-line":
        # One word of the line, repeated: a long line, not thousands of rules
        # (a statement separator in it would make each copy a rule).
        lines = _lines(data)
        at = args[0] % len(lines)
        words = _WORD.findall(lines[at].translate(None, b";{}")) or [b"x"]
        word = words[args[1] % len(words)]
        long = (word + b" ") * (args[1] // (len(word) + 1) + 1)
        return b"".join(lines[:at] + [long[: args[1]] + b"\n"] + lines[at:])
    if kind == "number":
        found = list(_DIGITS.finditer(data))
        if not found:
            return data
        match = found[args[0] % len(found)]
        return data[: match.start()] + args[1].encode() + data[match.end():]
    if kind == "token":
        words = list(_WORD.finditer(data))
        if not words:
            return args[1].encode()
        match = words[args[0] % len(words)]
        return data[: match.start()] + args[1].encode() + data[match.end():]
    if kind == "splice":
        words = list(_WORD.finditer(data))
        if len(words) < 2:
            return data
        source = words[args[0] % len(words)]
        target = words[args[1] % len(words)]
        return data[: target.start()] + source.group() + data[target.end():]
    raise ValueError(f"unknown mutation ({kind})")


# --- running a mutant -----------------------------------------------------------------

VALID_NAME = "valid.rules.v4"
VALID_TEXT = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""
# The finding the valid file always has: SEG208 for tcp/22 at line 5.
VALID_FINDING = ("SEG208", "valid/valid.rules.v4", 5, 1)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="seglint-fuzz-") as name:
        root = Path(name)
        (root / "valid").mkdir()
        (root / "valid" / VALID_NAME).write_text(VALID_TEXT)
        # An empty configuration, so none above the temporary folder is used.
        (root / "seglint.yaml").write_text("{}\n")
        yield root


def place(root: Path, seed: Seed, name: str) -> Path:
    """Copy the seed (and its module folder) under ``root/mutant``; return the file."""
    target = root / "mutant"
    if seed.folder is not None:
        shutil.copytree(seed.folder, target)
        return target / seed.path.relative_to(seed.folder)
    target.mkdir()
    return target / name


def run_mutant(group: str, root: Path, location: Path, data: bytes) -> RunResult:
    """Write the mutant, check the folder, and assert what every run must satisfy."""
    location.write_bytes(data)
    TOTALS.add(group)
    try:
        result = check([root], cwd=root)
        assert_sound(result, root)
    except BaseException:
        TOTALS.failures += 1
        raise
    if result.diagnostics:
        TOTALS.parse_errors += 1
    return result


def assert_sound(result: RunResult, root: Path) -> None:
    for diagnostic in result.diagnostics:
        where = f"{diagnostic.span} {diagnostic.rule_id} {diagnostic.message}"
        assert diagnostic.rule_id in ("SEG901", "SEG903"), where
        assert diagnostic.span.line >= 1, where
        assert diagnostic.span.column >= 1, where
        assert diagnostic.span.path, where
        assert "internal error" not in diagnostic.message, where
    for finding in result.findings:
        where = f"{finding.span} {finding.rule_id} {finding.message}"
        assert finding.span.line >= 1, where
        assert finding.span.column >= 1, where
    for note in result.notes:
        assert "internal error" not in note, note
    expected = 2 if result.diagnostics else result.exit_code
    assert result.exit_code == expected
    assert result.exit_code in (0, 1, 2)
    valid = {(f.rule_id, f.span.path, f.span.line, f.span.column) for f in result.findings}
    assert VALID_FINDING in valid, sorted(valid)
    _render_all(result, root)


def _render_all(result: RunResult, root: Path) -> None:
    report = RunReport(
        findings=result.findings, diagnostics=result.diagnostics, rules=result.rules,
        root=root, files_checked=result.files_checked, notes=result.notes,
        tool_version=__version__, execution_successful=not result.diagnostics,
    )
    for name in ("text", "json", "sarif", "github"):
        stream = io.StringIO()
        FORMATTERS[name]().render(report, stream)
        if name in ("json", "sarif"):
            json.loads(stream.getvalue())
