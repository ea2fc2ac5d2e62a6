"""seglint makes no network request and starts no process.

Two views. Checking the examples inside a fresh network namespace with no
interface up (needs root and unshare) gives the same output as a normal
run. An audit hook records every socket, DNS and process event while the
examples are checked in-process, which runs everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seglint.api import check

REPO = Path(__file__).resolve().parents[2]
RUN = "import sys; from seglint.cli import main; sys.exit(main(sys.argv[1:]))"
# Inside the namespace, prove first that even loopback is unreachable.
PROBE = """\
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
except OSError:
    pass
else:
    sys.exit("network is up in the namespace")
"""

NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                  "socket.gethostbyaddr", "socket.bind", "socket.sendto",
                  "urllib.Request", "http.client.connect")
PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                  "os.spawn", "os.fork")


def _unshare_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "network namespaces exist only on Linux"
    if os.geteuid() != 0:
        return "unshare -n needs root"
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    return None


def _seglint(*prefix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(
        [*prefix, sys.executable, "-c", RUN, "check", "examples/"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_examples_without_network() -> None:
    reason = _unshare_reason()
    if reason is not None:
        pytest.skip(reason)
    probe = subprocess.run(["unshare", "-n", sys.executable, "-c", PROBE],
                           capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0 and "network is up" not in probe.stderr:
        pytest.skip(f"unshare -n failed ({probe.stderr.strip()})")
    assert probe.returncode == 0, probe.stderr
    normal = _seglint()
    isolated = _seglint("unshare", "-n")
    assert isolated.stderr == ""
    assert isolated.stdout == normal.stdout
    assert isolated.returncode == normal.returncode
    assert isolated.returncode == 1


class _Recorder:
    """An audit hook that records events while armed; hooks cannot be removed."""

    def __init__(self) -> None:
        self.armed = False
        self.events: list[str] = []

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if self.armed and event.startswith(NETWORK_EVENTS + PROCESS_EVENTS):
            self.events.append(f"{event} {args!r}"[:200])


RECORDER = _Recorder()
sys.addaudithook(RECORDER)


def test_examples_open_no_socket_or_process() -> None:
    RECORDER.events.clear()
    RECORDER.armed = True
    try:
        result = check([REPO / "examples"], cwd=REPO)
    finally:
        RECORDER.armed = False
    assert result.files_checked == 10
    assert RECORDER.events == []


def test_recorder_sees_a_connection() -> None:
    # The hook is live: a resolution attempt while armed is recorded.
    RECORDER.events.clear()
    RECORDER.armed = True
    try:
        import socket

        try:
            socket.getaddrinfo("localhost", 9)
        except OSError:
            pass
    finally:
        RECORDER.armed = False
    assert [event for event in RECORDER.events if event.startswith("socket.getaddrinfo")]
