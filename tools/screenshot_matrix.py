"""Write a PNG screenshot of a ``seglint matrix`` HTML report, for the examples README.

From the repository root::

    python -c 'from seglint.cli import main; main()' matrix examples \\
        --format html -o /tmp/matrix.html
    python tools/screenshot_matrix.py /tmp/matrix.html -o examples/matrix.png

The page is rendered by headless Chromium (Debian's ``chromium`` package) at the
given width, widened when the matrix table needs more, and captured at its full
height.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Running this file as a script puts tools/ first on the path, not the
# repository root that the ``tools`` package lives in.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.cdp import CHROMIUM, Browser, CDPError, Page  # noqa: E402

# CSS pixels. The examples' 13 columns need more, so capture() widens the
# viewport until the table fits.
DEFAULT_WIDTH = 1400

# Width the page needs to show the whole matrix without its scroll bar: the
# table's own width plus the page margin on both sides.
_NEEDED_WIDTH = """
(() => {
  const table = document.getElementById("matrix");
  if (!table) { return 0; }
  const left = table.parentElement.getBoundingClientRect().left;
  return Math.ceil(table.scrollWidth + 2 * left);
})()
"""


def capture(report: Path, width: int = DEFAULT_WIDTH) -> bytes:
    """Render ``report`` and return a PNG of the full page."""
    with Browser() as browser:
        page = Page(browser, width=width)
        page.navigate(report.resolve().as_uri())
        needed = int(page.evaluate(_NEEDED_WIDTH) or 0)
        page.fit_to_content(max(width, needed))
        return page.screenshot()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="write a PNG screenshot of a seglint matrix HTML report"
    )
    parser.add_argument("report", type=Path, help="HTML file written by seglint matrix")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("examples/matrix.png"),
        help="PNG file to write (default: examples/matrix.png)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=DEFAULT_WIDTH,
        help=f"minimum viewport width in CSS pixels (default: {DEFAULT_WIDTH})",
    )
    args = parser.parse_args(argv)

    if not CHROMIUM.exists():
        print(
            f"screenshot_matrix: chromium not found ({CHROMIUM}); "
            "install Debian's chromium package",
            file=sys.stderr,
        )
        return 2
    if not args.report.is_file():
        print(f"screenshot_matrix: report not found ({args.report})", file=sys.stderr)
        return 2
    try:
        png = capture(args.report, args.width)
    except CDPError as error:
        print(f"screenshot_matrix: rendering failed ({error})", file=sys.stderr)
        return 1
    args.output.write_bytes(png)
    print(f"wrote {args.output} ({len(png)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
