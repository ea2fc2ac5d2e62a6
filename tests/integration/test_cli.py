"""The ``seglint`` command as users run it: a separate process, from another folder.

The installed ``seglint`` script next to the running Python is used when it
exists; otherwise ``python -m seglint.cli`` with the repository on the path.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seglint import __version__
from seglint.cli import ProgressBar, expand_settings_paths
from seglint.policy import load_policy_data

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
HEADER = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
CLEAN = HEADER + "-A INPUT -p tcp --dport 25 -j ACCEPT\nCOMMIT\n"
WARNING = HEADER + "-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT\n"  # SEG206
NOTE = HEADER + "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"  # SEG208
ERROR = HEADER + "-A INPUT -p tcp --dport 1433 -j ACCEPT\nCOMMIT\n"  # SEG204
TERRAFORM = """\
variable "admin_port" {
  type    = number
  default = 25
}

resource "aws_security_group" "node" {
  ingress {
    from_port   = var.admin_port
    to_port     = var.admin_port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""
ZERO_CONFIG_NOTE = (
    "note: required flows (SEG101-SEG112) skipped: no roles are configured; "
    "add roles and rulesets to seglint.yaml to check them"
)


def command() -> list[str]:
    script = Path(sys.executable).parent / "seglint"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "seglint.cli"]


def run(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    completed = subprocess.run(
        [*command(), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # No failure, whatever the input, may show a Python traceback.
    assert "Traceback" not in completed.stdout + completed.stderr
    return completed


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- exit codes -----------------------------------------------------------------------


def test_examples_exit_one(folder: Path) -> None:
    completed = run(folder, "check", str(EXAMPLES))
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert any(
        line.startswith(f"{EXAMPLES.as_posix()}/hosts/array-manager.rules:")
        and " SEG201 netbios-exposed: " in line
        for line in lines
    )
    assert re.fullmatch(r"\d+ findings \(\d+ errors, .*\) in \d+ files", lines[-1])


def test_examples_from_relative_path(folder: Path) -> None:
    completed = run(EXAMPLES.parent, "check", "examples", "--quiet")
    assert completed.returncode == 1
    assert completed.stdout.splitlines()[0].startswith("examples/")


def test_clean_file_exit_zero(folder: Path) -> None:
    write(folder, "node.rules", CLEAN)
    completed = run(folder, "check", "node.rules")
    assert completed.returncode == 0
    assert completed.stdout.splitlines() == [ZERO_CONFIG_NOTE, "no findings in 1 file"]


@pytest.mark.parametrize(
    ("text", "fail_on", "code"),
    [
        (WARNING, None, 1),
        (WARNING, "error", 0),
        (WARNING, "warning", 1),
        (NOTE, None, 0),
        (NOTE, "note", 1),
        (ERROR, "error", 1),
        (ERROR, "never", 0),
    ],
)
def test_fail_on(folder: Path, text: str, fail_on: str | None, code: int) -> None:
    write(folder, "node.rules", text)
    args = ["check", "node.rules"] + (["--fail-on", fail_on] if fail_on else [])
    assert run(folder, *args).returncode == code


def test_bad_config_exit_two(folder: Path) -> None:
    write(folder, "seglint.yaml", "roles:\n  sql-servers: [10.0.0.20]\n")
    write(folder, "node.rules", CLEAN)
    completed = run(folder, "check", "node.rules")
    assert completed.returncode == 2
    assert completed.stdout.startswith("seglint.yaml:2:3: error SEG903 config-error: ")


def test_config_that_is_no_yaml(folder: Path) -> None:
    write(folder, "seglint.yaml", "roles: [unclosed\n")
    write(folder, "node.rules", CLEAN)
    completed = run(folder, "check", "node.rules")
    assert completed.returncode == 2
    assert "SEG903 config-error: invalid YAML" in completed.stdout


def test_usage_error_exit_two(folder: Path) -> None:
    completed = run(folder, "check", "--fail-on", "sometimes")
    assert completed.returncode == 2
    assert "invalid choice: 'sometimes'" in completed.stderr


def test_no_command_exit_two(folder: Path) -> None:
    completed = run(folder)
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: seglint")


# --- inputs that are no rule files ----------------------------------------------------


def test_missing_file(folder: Path) -> None:
    completed = run(folder, "check", "missing.rules")
    assert completed.returncode == 2
    assert completed.stdout.startswith(
        "missing.rules:1:1: error SEG901 parse-error: file or directory not found "
        "(missing.rules)"
    )


def test_binary_file_by_name(folder: Path) -> None:
    (folder / "rules.v4").write_bytes(bytes(range(256)) * 16)
    completed = run(folder, "check", "rules.v4")
    assert completed.returncode == 2
    assert completed.stdout.startswith(
        "rules.v4:1:1: error SEG901 parse-error: file is binary (contains NUL bytes), "
        "not a rule file"
    )


def test_binary_file_named_is_error(folder: Path) -> None:
    (folder / "capture.rules").write_bytes(b"\x00\x01\x02" * 100)
    completed = run(folder, "check", "capture.rules")
    assert completed.returncode == 2
    assert ("capture.rules:1:1: error SEG901 parse-error: file is binary (contains NUL "
            "bytes), not a rule file") in completed.stdout.splitlines()


def test_huge_file(folder: Path) -> None:
    with (folder / "rules.v4").open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    completed = run(folder, "check", "rules.v4")
    assert completed.returncode == 2
    assert completed.stdout.startswith(
        "rules.v4:1:1: error SEG901 parse-error: file is too large (17825792 bytes > "
    )


def test_invalid_rule_file(folder: Path) -> None:
    write(folder, "node.rules", HEADER + "-A INPUT -p tcp --dport 25 -j\nCOMMIT\n")
    completed = run(folder, "check", "node.rules")
    assert completed.returncode == 2
    assert completed.stdout.startswith("node.rules:5:")
    assert " error SEG901 parse-error: " in completed.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("nginx.conf", "events {}\nhttp {\n  server { listen 80; }\n}\n"),
        ("README.txt", "Firewall rules of the mail servers\n"),
        ("app.cfg", "[section]\nkey = value\n"),
        ("package.json", '{"name": "x", "version": "1.0.0"}\n'),
        ("ci.yml", "on: [push]\njobs:\n  a:\n    runs-on: ubuntu-latest\n"),
        ("data.csv", "host,port\nmx1,25\n"),
        ("prod.tfvars", 'region = "eu-west-1"\n'),
    ],
)
def test_other_files_skipped_quietly(folder: Path, name: str, text: str) -> None:
    # pre-commit passes every file whose name a format could have.
    write(folder, name, text)
    completed = run(folder, "check", name)
    assert completed.returncode == 0
    assert f"note: skipped {name}: not a rule file of a known format" in (
        completed.stdout.splitlines()
    )


# --- options --------------------------------------------------------------------------


def test_quiet(folder: Path) -> None:
    write(folder, "node.rules", ERROR)
    completed = run(folder, "check", "node.rules", "--quiet")
    assert completed.returncode == 1
    assert len(completed.stdout.splitlines()) == 1
    assert completed.stdout.startswith("node.rules:5:1: error SEG204 sql-exposed: ")


def test_output_file(folder: Path) -> None:
    write(folder, "node.rules", ERROR)
    completed = run(folder, "check", "node.rules", "--format", "json", "-o", "out.json")
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert '"ruleId": "SEG204"' in (folder / "out.json").read_text(encoding="utf-8")


def test_output_file_in_missing_folder(folder: Path) -> None:
    write(folder, "node.rules", ERROR)
    completed = run(folder, "check", "node.rules", "-o", "no/such/out.txt")
    assert completed.returncode == 2
    assert completed.stderr.startswith(
        "seglint: failed to write the report (no/such/out.txt"
    )


def test_no_colour_in_pipe(folder: Path) -> None:
    write(folder, "node.rules", ERROR)
    assert "\x1b[" not in run(folder, "check", "node.rules").stdout


def test_colour_always(folder: Path) -> None:
    write(folder, "node.rules", ERROR)
    assert (
        "\x1b[31merror\x1b[0m"
        in run(folder, "check", "node.rules", "--color", "always").stdout
    )


def test_config_file_as_path_checks_folder(folder: Path) -> None:
    write(folder, "seglint.yaml", "trusted: [10.0.0.0/8]\n")
    write(folder, "hosts/node.rules", ERROR)
    completed = run(folder, "check", "seglint.yaml", "--quiet")
    assert completed.returncode == 1
    assert completed.stdout.startswith("hosts/node.rules:5:1: error SEG204 ")


def test_variable_file_checks_module(folder: Path) -> None:
    write(folder, "infra/main.tf", TERRAFORM)
    write(folder, "infra/terraform.tfvars", "admin_port = 1433\n")
    completed = run(folder, "check", "infra/terraform.tfvars", "--quiet")
    assert completed.returncode == 1
    assert completed.stdout.splitlines() == [
        "infra/main.tf:7:3: error SEG204 sql-exposed: tcp/1433 on this host is "
        "reachable from untrusted networks (ingress of aws_security_group.node)"
    ]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["hosts/a.rules"], ["hosts/a.rules"]),
        (["hosts/a.rules", "seglint.yaml"], ["."]),
        (
            ["hosts/.seglintignore.yaml", "hosts/a.rules", "edge/b.cfg"],
            ["hosts", "edge/b.cfg"],
        ),
        (["infra/terraform.tfvars"], ["infra/main.tf", "infra/vars.tf"]),
        (
            ["infra/prod.auto.tfvars", "infra/main.tf"],
            ["infra/vars.tf", "infra/main.tf"],
        ),
        (["infra/other.tfvars"], ["infra/other.tfvars"]),
        (["infra/terraform.tfvars", "seglint.yaml"], ["."]),
        (["tool/pyproject.toml", "hosts/a.rules"], ["tool", "hosts/a.rules"]),
        (["app/pyproject.toml"], ["app/pyproject.toml"]),
    ],
)
def test_expand_settings_paths(
    folder: Path, monkeypatch: pytest.MonkeyPatch, paths: list[str], expected: list[str]
) -> None:
    for name in (
        "seglint.yaml",
        "hosts/.seglintignore.yaml",
        "hosts/a.rules",
        "edge/b.cfg",
        "infra/main.tf",
        "infra/vars.tf",
        "infra/terraform.tfvars",
        "infra/prod.auto.tfvars",
        "infra/other.tfvars",
        "app/pyproject.toml",
    ):
        write(folder, name, "")
    write(folder, "tool/pyproject.toml", "[tool.seglint]\ntrusted = ['10.0.0.0/8']\n")
    monkeypatch.chdir(folder)
    assert expand_settings_paths(paths) == expected


# --- other commands -------------------------------------------------------------------


def test_version(folder: Path) -> None:
    completed = run(folder, "--version")
    assert completed.returncode == 0
    assert completed.stdout == f"seglint {__version__}\n"


def test_rules(folder: Path) -> None:
    completed = run(folder, "rules")
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        r.id for r in load_policy_data().rules
    ]
    assert lines[0].split()[:3] == ["SEG101", "error", "smtp-inbound-blocked"]


def test_explain(folder: Path) -> None:
    completed = run(folder, "explain", "SEG109")
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    assert lines[0] == "SEG109 sql-blocked (error)"
    for heading in ("SEG port table row:", "How to fix:", "FAIL:", "PASS:"):
        assert heading in lines


def test_explain_by_name(folder: Path) -> None:
    completed = run(folder, "explain", "sql-blocked")
    assert completed.stdout.splitlines()[0] == "SEG109 sql-blocked (error)"


def test_explain_unknown(folder: Path) -> None:
    completed = run(folder, "explain", "SEG999")
    assert completed.returncode == 2
    assert completed.stderr.startswith(
        "seglint: unknown rule 'SEG999' (known rules: SEG101"
    )


def test_docs_to_stdout(folder: Path) -> None:
    completed = run(folder, "docs")
    assert completed.returncode == 0
    assert completed.stdout == (REPO / "docs" / "rules.md").read_text(encoding="utf-8")


# --- progress bar ---------------------------------------------------------------------


def test_progress_bar_on_terminal(folder: Path) -> None:
    for number in range(ProgressBar.MIN_FILES + 5):
        write(folder, f"hosts/node-{number}.rules", CLEAN)
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "100"}
    process = subprocess.Popen(
        [*command(), "check", "hosts"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    output, _ = process.communicate(timeout=300)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end is closed
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    assert process.returncode == 0
    assert b"checking" in terminal
    assert b"checking" not in output


def test_no_progress_bar_in_pipe(folder: Path) -> None:
    for number in range(ProgressBar.MIN_FILES + 5):
        write(folder, f"hosts/node-{number}.rules", CLEAN)
    completed = run(folder, "check", "hosts")
    assert completed.returncode == 0
    assert completed.stderr == ""


def test_progress_bar_waits_for_long_runs() -> None:
    bar = ProgressBar(io.StringIO())
    bar(1, ProgressBar.MIN_FILES)
    assert bar.bar is None
    bar.started -= ProgressBar.MIN_SECONDS
    bar(2, ProgressBar.MIN_FILES)
    assert bar.bar is not None
    bar.close()


def test_progress_bar_for_many_files() -> None:
    bar = ProgressBar(io.StringIO())
    bar(1, ProgressBar.MIN_FILES + 1)
    assert bar.bar is not None
    bar.close()


def test_unreadable_file_is_error(capsys: pytest.CaptureFixture[str]) -> None:
    from seglint.cli import main

    # Reading /proc/self/mem at offset 0 fails with EIO, even as root.
    code = main(["check", "/proc/self/mem"])
    out = capsys.readouterr().out
    assert code == 2
    assert re.search(r"/proc/\d+/mem:1:1: error SEG901 parse-error: cannot read the file "
                     r"\(Input/output error\); check its permissions", out)
