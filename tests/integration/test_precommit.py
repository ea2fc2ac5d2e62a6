"""The pre-commit hook, run by the real ``pre-commit try-repo`` on a temporary repo.

try-repo installs the hook from a git repository. It takes uncommitted
changes of tracked files into account but not untracked files, so the test
copies the files that make up the package (the hook file included) into a
fresh repository with one commit. For each run, try-repo builds seglint in
a new virtualenv of its own, downloading the dependencies from the package
index (about 15 seconds a run), so the tests keep the runs few.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
# What pip needs to build and install seglint, and the hook definition.
PACKAGE_FILES = (".pre-commit-hooks.yaml", "pyproject.toml", "README.md")
PACKAGE_FOLDERS = ("seglint", "grammars", "policies")
INSTALL_TIMEOUT_SECONDS = 900

HEADER = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
CLEAN = HEADER + "-A INPUT -p tcp --dport 25 -j ACCEPT\nCOMMIT\n"
FAILING = HEADER + "-A INPUT -p tcp --dport 1433 -j ACCEPT\nCOMMIT\n"  # SEG204, line 5
SSH = HEADER + "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"  # SEG208 note, line 5


def _hook() -> dict[str, object]:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert isinstance(hooks, list)
    hook: dict[str, object] = hooks[0]
    return hook


def test_hook_definition() -> None:
    hook = _hook()
    assert hook["id"] == "seglint"
    assert hook["language"] == "python"
    assert hook["entry"] == "seglint check"
    assert hook["pass_filenames"] is True


# Names of every supported format, and of the settings files.
HOOKED = [
    "hosts/node.rules",
    "rules.v4",
    "etc/iptables/rules.v6",
    "fw.ipt",
    "iptables",
    "iptables-save.txt",
    "ip6tables.conf",
    "edge.nft",
    "etc/nftables.conf",
    "am.nftables",
    "pf.conf",
    "lab.pf",
    "lab.pf.conf",
    "mail.anchor.conf",
    "asa.cfg",
    "router.conf",
    "main.tf",
    "prod.tfvars",
    "sg.yaml",
    "sg.yml",
    "sg.json",
    "sg.template",
    "netsh.txt",
    "export.csv",
    "seglint.yaml",
    ".seglintignore.yaml",
    "pyproject.toml",
]
NOT_HOOKED = ["build.sh", "rules.v4.bak", "Makefile", "seglint/cli.py", "logo.png"]


@pytest.mark.parametrize("name", HOOKED)
def test_files_pattern_matches(name: str) -> None:
    assert re.search(str(_hook()["files"]), name)


@pytest.mark.parametrize("name", NOT_HOOKED)
def test_files_pattern_leaves_out(name: str) -> None:
    assert re.search(str(_hook()["files"]), name) is None


def _pre_commit() -> list[str]:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install '.[test]')")
    return [found]


def _environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "seglint",
        "GIT_AUTHOR_EMAIL": "seglint@example.com",
        "GIT_COMMITTER_NAME": "seglint",
        "GIT_COMMITTER_EMAIL": "seglint@example.com",
        "NO_COLOR": "1",
    }


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Return the hook repository and an environment for git and pre-commit."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _pre_commit()
    base = tmp_path_factory.mktemp("precommit")
    env = _environment(base / "home")
    hook = base / "seglint"
    hook.mkdir()
    for name in PACKAGE_FILES:
        shutil.copy2(REPO / name, hook / name)
    for name in PACKAGE_FOLDERS:
        shutil.copytree(
            REPO / name,
            hook / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    _git(hook, env, "init", "-q")
    _git(hook, env, "add", "-A")
    _git(hook, env, "commit", "-q", "-m", "seglint under test")
    return hook, env


@pytest.fixture()
def target(tmp_path: Path, setup: tuple[Path, dict[str, str]]) -> Path:
    """Return a firewall repository with one clean commit."""
    _, env = setup
    repo = tmp_path / "firewall"
    repo.mkdir()
    _git(repo, env, "init", "-q")
    (repo / "hosts").mkdir()
    (repo / "hosts" / "node.rules").write_text(CLEAN, encoding="utf-8")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "clean rules")
    return repo


def try_repo(
    repo: Path, setup: tuple[Path, dict[str, str]], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the hook on the staged files of ``repo``, as a commit would."""
    hook, env = setup
    _git(repo, env, "add", "-A")
    return subprocess.run(
        [*_pre_commit(), "try-repo", str(hook), "seglint", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )


def hook_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("seglint..."))


def test_clean_commit_passes(target: Path, setup: tuple[Path, dict[str, str]]) -> None:
    (target / "hosts" / "edge.rules").write_text(CLEAN, encoding="utf-8")
    # Names the hook's pattern passes on, but no rule files: skipped quietly.
    (target / "nginx.conf").write_text("events {}\n", encoding="utf-8")
    (target / "README.txt").write_text("firewall rules\n", encoding="utf-8")
    (target / "package.json").write_text("{}\n", encoding="utf-8")
    completed = try_repo(target, setup)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert hook_line(completed.stdout).endswith("Passed")


def test_failing_commit_fails(target: Path, setup: tuple[Path, dict[str, str]]) -> None:
    (target / "hosts" / "edge.rules").write_text(FAILING, encoding="utf-8")
    completed = try_repo(target, setup)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert hook_line(completed.stdout).endswith("Failed")
    lines = completed.stdout.splitlines()
    assert "- exit code: 1" in lines
    assert any(
        line.startswith("hosts/edge.rules:5:1: error SEG204 sql-exposed: ")
        for line in lines
    )
    # Only the staged file is checked; the committed node.rules is not passed.
    assert "1 finding (1 error, 0 warnings, 0 notes) in 1 file" in lines


def test_unrelated_file_skipped(
    target: Path, setup: tuple[Path, dict[str, str]]
) -> None:
    (target / "build.sh").write_text("#!/bin/sh\necho build\n", encoding="utf-8")
    completed = try_repo(target, setup)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert hook_line(completed.stdout).endswith("(no files to check)Skipped")


def test_config_change_rechecks_files(
    target: Path, setup: tuple[Path, dict[str, str]]
) -> None:
    # The rule file has only a note, which passes by default.
    (target / "hosts" / "node.rules").write_text(SSH, encoding="utf-8")
    _git(target, setup[1], "commit", "-q", "-a", "-m", "ssh")

    # Only seglint.yaml is staged, and it makes the note an error.
    (target / "seglint.yaml").write_text(
        "rules:\n  SEG208: {level: error}\n", encoding="utf-8"
    )
    completed = try_repo(target, setup)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert any(
        line.startswith("hosts/node.rules:5:1: error SEG208 unneeded-port-exposed: ")
        for line in completed.stdout.splitlines()
    )
