"""The HTML matrix report of the examples, rendered by real headless Chromium.

The report is written by the ``seglint matrix`` command, loaded from a
``file://`` URL and inspected through the Chrome DevTools Protocol. The
assertions read what the browser renders (``innerText``, visibility, computed
style), not the HTML source. Skipped when Debian's ``chromium`` package is not
installed.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seglint.report.matrix_html import cell_id, render_html
from tools.cdp import CHROMIUM, Browser, Page

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"headless Chromium not found ({CHROMIUM}); "
    "install Debian's chromium package",
)

SQL_ROW = "SEG109"
NETBIOS_ROW = "SEG201"
ARRAY_MANAGER = "hosts/array-manager.rules"
SQL_WITNESS = "tcp 10.0.0.10:40000 -> 10.0.0.20:1433"
# Port 9 (discard) is on Chromium's list of unsafe ports, so even a page
# without a Content-Security-Policy fails this request before connecting.
PROBE_URL = "http://127.0.0.1:9/probe.png"

# A function expression that returns the <td> of one requirement row and the
# one rule set column whose label ends with the given text, or null.
FIND_CELL = """
(function (requirement, label) {
  const table = document.getElementById("matrix");
  const columns = [...table.tHead.rows[0].cells]
    .map((th, index) => [index, th.querySelector(".label")])
    .filter(([, span]) => span !== null && span.innerText.endsWith(label))
    .map(([index]) => index);
  const rows = [...table.tBodies[0].rows]
    .filter((tr) => tr.cells[0].querySelector(".req-id").innerText === requirement);
  if (columns.length !== 1 || rows.length !== 1) { return null; }
  return rows[0].cells[columns[0]];
})
"""


def cell(requirement: str, label: str) -> str:
    """Return a JavaScript expression for a matrix cell."""
    return f"({FIND_CELL})({json.dumps(requirement)}, {json.dumps(label)})"


def panel(requirement: str, label: str) -> str:
    """Return a JavaScript expression for the detail panel a cell links to."""
    link = f"{cell(requirement, label)}.querySelector('a')"
    return f"document.getElementById({link}.getAttribute('href').slice(1))"


# The number of cells the table shows, from the table's own rows and columns.
CELL_COUNT = """
(() => {
  const table = document.getElementById("matrix");
  return table.tBodies[0].rows.length * (table.tHead.rows[0].cells.length - 1);
})()
"""
VISIBLE_PANELS = (
    "[...document.querySelectorAll('.panel')].filter((p) => p.checkVisibility()).length"
)


def run_matrix(output: Path, output_format: str) -> None:
    """Write the examples' matrix with the real command line."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from seglint.cli import main; main()",
            "matrix",
            "examples",
            "--format",
            output_format,
            "-o",
            str(output),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert output.is_file(), completed.stderr


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("matrix") / "report.html"
    run_matrix(output, "html")
    return output


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same matrix as JSON, to compare the rendered panels with."""
    output = tmp_path_factory.mktemp("matrix") / "report.json"
    run_matrix(output, "json")
    data: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, report: Path) -> Iterator[Page]:
    page = open_page(browser, report)
    yield page
    page.close()


def open_page(browser: Browser, path: Path) -> Page:
    page = Page(browser, width=1400, height=900)
    page.send("Network.enable")
    page.navigate(path.as_uri())
    return page


def requested_urls(page: Page) -> list[str]:
    return [
        event["request"]["url"] for event in page.events("Network.requestWillBeSent")
    ]


def png_summary(data: bytes) -> tuple[int, int, int]:
    """Return the width, height and number of distinct decoded bytes of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = height = 0
    compressed = b""
    position = 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    return width, height, len(set(zlib.decompress(compressed)))


def test_sql_cell_blocked(page: Page) -> None:
    text = page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.innerText")
    assert text == "\u2717 blocked"


def test_netbios_cell_exposed(page: Page) -> None:
    text = page.evaluate(f"{cell(NETBIOS_ROW, ARRAY_MANAGER)}.innerText")
    assert text == "\u26a0 exposed"


def test_cell_colour(page: Page) -> None:
    colour = page.evaluate(
        f"getComputedStyle({cell(SQL_ROW, ARRAY_MANAGER)}).backgroundColor"
    )
    assert colour == "rgb(253, 226, 224)"


def test_body_text(page: Page) -> None:
    text = page.evaluate("document.body.innerText")
    assert "seglint matrix: SEG port table against " in text
    assert "SEG109 tcp/1433" in text
    assert "Legend" in text
    # Panels are hidden until a cell's link targets them.
    assert "Back to the table" not in text
    assert SQL_WITNESS not in text


def test_panel_hidden_first(page: Page) -> None:
    assert page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.checkVisibility()") is False


def test_link_shows_panel(page: Page) -> None:
    href = page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a').hash")
    page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a').click()")
    text = page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.innerText")

    assert page.evaluate("location.hash") == href
    assert page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.checkVisibility()") is True
    top = page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.getBoundingClientRect().top")
    assert page.evaluate("window.scrollY") > 0
    assert 0 <= top < 900  # scrolled into the viewport
    assert f"{ARRAY_MANAGER}: blocked" in text
    assert "array-manager.rules:5:1" in text
    assert SQL_WITNESS in text
    assert "| tcp/1433 |" not in text  # the row is shown as a table, not Markdown
    assert "Port\ttcp/1433" in text
    assert "Destination\tSQL Server" in text


def test_link_by_hash(page: Page) -> None:
    href = page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a').hash")
    page.evaluate(f"location.hash = {json.dumps(href)}")
    assert page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.checkVisibility()") is True


def test_back_link(page: Page) -> None:
    page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a').click()")
    page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.querySelector('.back a').click()")
    link_id = page.evaluate(f"{cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a').id")

    assert page.evaluate("location.hash") == f"#{link_id}"
    assert page.evaluate(f"{panel(SQL_ROW, ARRAY_MANAGER)}.checkVisibility()") is False
    assert page.evaluate(
        f"getComputedStyle({cell(SQL_ROW, ARRAY_MANAGER)}.querySelector('a'))"
        ".outlineStyle"
    ) == "solid"


def test_show_all_details(page: Page) -> None:
    cells = page.evaluate(CELL_COUNT)
    links = page.evaluate("document.querySelectorAll('#matrix td a').length")
    page.evaluate("document.querySelector('a[href=\"#details\"]').click()")
    visible = page.evaluate(VISIBLE_PANELS)

    assert cells > 0
    assert links == cells
    assert visible == cells


def test_print_shows_panels(page: Page) -> None:
    page.send("Emulation.setEmulatedMedia", {"media": "print"})
    cells = page.evaluate(CELL_COUNT)
    visible = page.evaluate(VISIBLE_PANELS)
    background = page.evaluate(
        f"getComputedStyle({cell(SQL_ROW, ARRAY_MANAGER)}).backgroundColor"
    )
    text = page.evaluate("document.body.innerText")
    page.send("Emulation.setEmulatedMedia", {"media": ""})

    assert visible == cells
    assert background == "rgb(253, 226, 224)"  # a failed cell stays red on paper
    assert SQL_WITNESS in text
    assert "Back to the table" not in text


def test_print_fits_page(page: Page) -> None:
    # Landscape A4 less the report's 12 mm margins is 273 mm by 186 mm, which
    # is 1032 by 703 CSS pixels at 96 pixels per inch.
    page.set_viewport(1032, 703)
    page.send("Emulation.setEmulatedMedia", {"media": "print"})
    table_width = page.evaluate("document.getElementById('matrix').scrollWidth")
    page_width = page.evaluate("document.documentElement.clientWidth")
    overflowing = page.evaluate(
        "[...document.querySelectorAll('#matrix td a')]"
        ".filter((a) => a.scrollWidth > a.clientWidth).length"
    )
    pdf = page.send("Page.printToPDF", {"preferCSSPageSize": True})
    page.send("Emulation.setEmulatedMedia", {"media": ""})

    assert page_width == 1032
    assert table_width <= page_width
    assert overflowing == 0
    assert base64.b64decode(pdf["data"])[:5] == b"%PDF-"


def test_panels_match_json(page: Page, document: dict[str, Any]) -> None:
    page.evaluate("document.querySelector('a[href=\"#details\"]').click()")
    texts: dict[str, str] = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.panel')]"
        ".map((p) => [p.id, p.innerText]))"
    )
    missing = []
    for item in document["cells"]:
        text = texts.get(cell_id(item["requirement"], item["ruleset"]), "")
        expected = [f": {item['verdict']}\n", item["reason"]]
        # An n/a panel with a reason leaves out the summary, which only
        # repeats the verdict.
        if item["verdict"] != "n/a" or not item["reason"]:
            expected.append(item["summary"])
        if item["rule"]:
            rule = item["rule"]
            expected.append(f"{rule['path']}:{rule['line']}:{rule['column']}")
            expected.append(rule["text"])
        if item["witness"]:
            expected.append(item["witness"]["text"])
        missing += [
            (item["requirement"], item["ruleset"], part)
            for part in expected
            if part not in text
        ]

    assert len(texts) == len(document["cells"])
    assert missing == []


def test_screenshot(page: Page, tmp_path: Path) -> None:
    height = page.fit_to_content(1400)
    png = page.screenshot()
    (tmp_path / "matrix.png").write_bytes(png)
    width, png_height, distinct = png_summary(png)

    assert width == 1400
    assert png_height == height
    assert height > 1500
    assert len(png) > 100_000
    assert distinct > 100  # a blank or single-colour page has a handful


def test_no_network_requests(page: Page) -> None:
    urls = requested_urls(page)
    assert urls != []  # the report itself is requested, so events were recorded
    assert [url for url in urls if not url.startswith(("file:", "data:"))] == []


def test_network_check_detects(browser: Browser, tmp_path: Path) -> None:
    # Shows that test_no_network_requests can fail: a page without the
    # Content-Security-Policy requests a remote image, and only Chromium's
    # unsafe port check stops it.
    probe = tmp_path / "probe.html"
    probe.write_text(f'<!DOCTYPE html><p>probe</p><img src="{PROBE_URL}" alt="">')
    page = open_page(browser, probe)
    urls = requested_urls(page)
    failure = probe_failure(page)
    page.close()

    assert PROBE_URL in urls
    assert "blockedReason" not in failure
    assert failure["errorText"] == "net::ERR_UNSAFE_PORT"


def test_policy_blocks_remote(browser: Browser, report: Path, tmp_path: Path) -> None:
    # The report's Content-Security-Policy stops a remote image that got into
    # the page before any connection is made. Chromium still reports the
    # request, then its failure with the reason "csp".
    injected = tmp_path / "injected.html"
    text = report.read_text(encoding="utf-8")
    injected.write_text(
        text.replace("<body>", f'<body><img src="{PROBE_URL}" alt="">', 1),
        encoding="utf-8",
    )
    page = open_page(browser, injected)
    images = page.evaluate("document.images.length")
    failure = probe_failure(page)
    page.close()

    assert images == 1
    assert failure.get("blockedReason") == "csp"


def probe_failure(page: Page) -> dict[str, Any]:
    """Wait for the probe image's request to fail and return the failure event."""
    (request,) = [
        event
        for event in page.events("Network.requestWillBeSent")
        if event["request"]["url"] == PROBE_URL
    ]
    for stored in page.events("Network.loadingFailed"):
        if stored["requestId"] == request["requestId"]:
            return stored
    while True:
        event = page.browser.wait_event("Network.loadingFailed", page.session_id)
        failure: dict[str, Any] = event["params"]
        if failure["requestId"] == request["requestId"]:
            return failure


def hostile_matrix(text: str) -> dict[str, Any]:
    rule = {"path": "hosts/evil.rules", "line": 3, "column": 1, "end_line": 3,
            "end_column": 9, "text": text}
    witness = {"protocol": "tcp", "src": "10.0.0.10", "sport": 40000,
               "dst": "10.0.0.20", "dport": 1433, "iif": None, "oif": None,
               "state": "new", "text": text}
    return {
        "schema": "seglint-matrix/1",
        "tool": {"name": "seglint", "version": "0.1.0"},
        "verdicts": {"blocked": "the flow or port is dropped"},
        "rulesets": [{"id": "r1", "path": "hosts/evil.rules", "name": "",
                      "format": "iptables", "label": text, "mode": "host",
                      "role": "array-manager"}],
        "requirements": [{"id": "SEG109", "name": "sql-blocked", "kind": "required",
                          "flow": "tcp/1433", "source": "array-manager",
                          "destination": "sql-server", "title": text, "row": text}],
        "cells": [{"requirement": "SEG109", "ruleset": "r1", "verdict": "blocked",
                   "reason": "", "summary": text, "rule": rule,
                   "witness": copy.deepcopy(witness), "checks": []}],
    }


def test_hostile_text_inert(browser: Browser, tmp_path: Path) -> None:
    hostile = (
        '</code></pre></script><script>window.seglintInjected = 1</script>'
        '<img src="x" onerror="window.seglintInjected = 2">'
    )
    path = tmp_path / "hostile.html"
    path.write_text(render_html(hostile_matrix(hostile)), encoding="utf-8")
    page = open_page(browser, path)
    page.evaluate("document.querySelector('#matrix td a').click()")
    text = page.evaluate("document.querySelector('.panel').innerText")
    scripts = page.evaluate("document.scripts.length")
    images = page.evaluate("document.images.length")
    injected = page.evaluate("typeof window.seglintInjected")
    page.close()

    assert scripts == 0
    assert images == 0
    assert injected == "undefined"
    assert f"Deciding rule\nhosts/evil.rules:3:1\n{hostile}\n" in text
    assert f"Witness packet\n{hostile}\n" in text
