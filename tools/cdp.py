"""A minimal Chrome DevTools Protocol client that drives headless Chromium over a pipe.

Chromium started with ``--remote-debugging-pipe`` reads protocol messages from
file descriptor 3 and writes its messages to file descriptor 4. Each message is
one JSON object followed by a NUL byte. The pipe opens no TCP port, so no other
process on the machine can reach the browser. Only the standard library is used.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium package

# Switches that keep a test run quiet and offline: no GPU, no first-run pages,
# and none of the background fetches (component updates, sync) that Chromium
# otherwise starts on its own. Chromium does not start as root without
# --no-sandbox, and CI runs the tests as root.
# NOTE: Debian's /usr/bin/chromium wrapper adds its own switches from
# /etc/chromium.d before these, e.g. --enable-remote-extensions.
CHROMIUM_SWITCHES = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)

DEFAULT_TIMEOUT = 30.0  # seconds, for one command or event
CLOSE_TIMEOUT = 10.0  # seconds for Chromium to exit after Browser.close

# The browser reads fd 3 and writes fd 4, but in this process those numbers
# may be in use (by pytest's output capture, for one), so the pipe ends get
# other numbers. A small Python program in the child moves them to 3 and 4 and
# then executes Chromium. A /bin/sh redirection cannot do it on Debian, because
# dash accepts only fds 0 to 9 there and the pipe ends are at 10 or above.
_TRAMPOLINE = (
    "import os, sys; "
    "os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.close(int(sys.argv[1])); os.close(int(sys.argv[2])); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)
_FIRST_SAFE_FD = 10  # pipe ends are moved to fds >= 10, away from 3 and 4


class CDPError(RuntimeError):
    """An error reply from the browser, or a browser that exited or timed out."""


class Browser:
    """A headless Chromium process and its DevTools pipe.

    Use it as a context manager, so the process and its profile folder are
    removed even when a test fails. ``send`` runs one command and returns its
    result. Events that arrive meanwhile are kept in ``events`` in arrival order.
    """

    def __init__(
        self,
        binary: Path = CHROMIUM,
        extra_switches: tuple[str, ...] = (),
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.binary = binary
        self.extra_switches = extra_switches
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: str | None = None
        self._log_path: Path | None = None
        self._to_browser = -1
        self._from_browser = -1

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start Chromium with a fresh profile and connect to its pipe."""
        self._profile = tempfile.mkdtemp(prefix="seglint-chromium-")
        self._log_path = Path(self._profile) / "chromium.log"
        command_read, command_write = _high_pipe()
        reply_read, reply_write = _high_pipe()

        args = [
            str(self.binary),
            *CHROMIUM_SWITCHES,
            f"--user-data-dir={self._profile}",
            *self.extra_switches,
            "about:blank",
        ]
        logger.debug("starting chromium (%s)", " ".join(args))

        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _TRAMPOLINE,
                    str(command_read),
                    str(reply_write),
                    *args,
                ],
                pass_fds=(command_read, reply_write),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

        # Close our copies of the child's ends, so a browser exit shows up as
        # end of file on the reply pipe instead of a hang.
        os.close(command_read)
        os.close(reply_write)
        self._to_browser = command_write
        self._from_browser = reply_read

    def close(self) -> None:
        """Ask the browser to exit, kill it if it does not, and remove its profile."""
        process = self._process
        if process is not None and process.poll() is None:
            try:
                self._write({"id": self._take_id(), "method": "Browser.close"})
            except OSError as error:
                logger.debug("browser pipe already closed (%s)", error)
            try:
                process.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "chromium (pid %d) did not exit, killing it", process.pid
                )
                process.kill()
                process.wait()
        for fd in (self._to_browser, self._from_browser):
            if fd >= 0:
                os.close(fd)
        self._to_browser = self._from_browser = -1
        self._process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one command, wait for its reply and return the reply's ``result``."""
        message: dict[str, Any] = {"id": self._take_id(), "method": method}
        if params:
            message["params"] = params
        if session_id is not None:
            message["sessionId"] = session_id
        self._write(message)

        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline, f"the reply to {method}")
            if reply.get("id") != message["id"]:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise CDPError(f"{method} failed ({reply['error']})")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def wait_event(self, method: str, session_id: str | None = None) -> dict[str, Any]:
        """Return the first stored or arriving ``method`` event and remove it from
        ``events``."""
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method and (
                    session_id is None or event.get("sessionId") == session_id
                ):
                    del self.events[index]
                    return event
            self.events.append(self._read(deadline, f"the event {method}"))

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines Chromium wrote to stdout and stderr."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self._to_browser, data)
            data = data[written:]

    def _read(self, deadline: float, awaited: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(
                    f"timed out after {self.timeout:g} s waiting for {awaited}"
                )
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                code = self._process.poll() if self._process else None
                raise CDPError(
                    f"chromium closed its pipe (exit status {code}) "
                    f"while waiting for {awaited}; its last output:\n{self.log_tail()}"
                )
            self._buffer += chunk
        data, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(data)
        return message


class Page:
    """One browser tab attached in flat mode, so commands carry its session id."""

    def __init__(self, browser: Browser, width: int = 1400, height: int = 900) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})
        self.target_id: str = target["targetId"]
        attached = browser.send(
            "Target.attachToTarget", {"targetId": self.target_id, "flatten": True}
        )
        self.session_id: str = attached["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.set_viewport(width, height)

    def close(self) -> None:
        """Close the tab and forget its stored events."""
        self.browser.send("Target.closeTarget", {"targetId": self.target_id})
        self.browser.events = [
            event
            for event in self.browser.events
            if event.get("sessionId") != self.session_id
        ]

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a command to this tab and return its result."""
        return self.browser.send(method, params, self.session_id)

    def events(self, method: str) -> list[dict[str, Any]]:
        """Return the ``params`` of every stored ``method`` event of this tab."""
        return [
            event.get("params", {})
            for event in self.browser.events
            if event.get("method") == method
            and event.get("sessionId") == self.session_id
        ]

    def set_viewport(self, width: int, height: int) -> None:
        """Set the CSS pixel size of the viewport, at a device scale factor of 1."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def navigate(self, url: str) -> None:
        """Load ``url`` and wait for its load event."""
        self.browser.events = [
            event
            for event in self.browser.events
            if not (
                event.get("method") == "Page.loadEventFired"
                and event.get("sessionId") == self.session_id
            )
        ]
        reply = self.send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise CDPError(f"navigation to {url} failed ({reply['errorText']})")
        self.browser.wait_event("Page.loadEventFired", self.session_id)

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its value as JSON."""
        reply = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get(
                "text"
            )
            raise CDPError(f"javascript evaluation failed ({text}): {expression}")
        return reply["result"].get("value")

    def fit_to_content(self, width: int) -> int:
        """Resize the viewport to ``width`` and the page's full height, and return
        that height in CSS pixels."""
        # The content size is never less than the viewport, so measure with a
        # low viewport to get the page's own height.
        self.set_viewport(width, 100)
        metrics = self.send("Page.getLayoutMetrics")
        height = int(metrics["cssContentSize"]["height"] + 0.5)
        self.set_viewport(width, max(height, 1))
        return height

    def screenshot(self) -> bytes:
        """Return a PNG of the viewport."""
        reply = self.send("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(reply["data"])


def _high_pipe() -> tuple[int, int]:
    """Return the read and write ends of a new pipe, both at fds >= 10 and
    close-on-exec (``pass_fds`` makes the child's ends inheritable)."""
    read_end, write_end = os.pipe()
    moved = (
        fcntl.fcntl(read_end, fcntl.F_DUPFD_CLOEXEC, _FIRST_SAFE_FD),
        fcntl.fcntl(write_end, fcntl.F_DUPFD_CLOEXEC, _FIRST_SAFE_FD),
    )
    os.close(read_end)
    os.close(write_end)
    return moved
