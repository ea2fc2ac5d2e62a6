"""HTML output of ``seglint matrix``: one self-contained page with the flow matrix.

The page has the port table rows as table rows and the rule sets as columns.
Each cell links to a detail panel with the witness packet, the deciding rule
and the port table row. The page loads nothing: the CSS is inline, there is no
script, and a Content-Security-Policy meta element blocks every script, frame
and remote resource even if some text got through unescaped. Panels are hidden
on screen until their cell's link makes them the ``:target``, and all of them
are shown when printing.

Every string in the matrix document is untrusted, because rule text and file
names come from the checked files, so all of it goes through ``html.escape``.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from seglint.matrix import is_met
from seglint.report.base import printable
from seglint.report.sarif_rules import PORT_TABLE_COLUMNS

logger = logging.getLogger(__name__)

# Only data: images may load (there are none today). base-uri and form-action
# are not covered by default-src, so they are closed separately.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

# Symbol and CSS class per verdict. The word is always printed next to the
# symbol, so neither colour nor symbol carries the meaning alone.
VERDICT_STYLES: dict[str, tuple[str, str]] = {
    "allowed": ("\u2713", "v-allowed"),  # check mark
    "blocked": ("\u2717", "v-blocked"),  # ballot x
    "exposed": ("\u26a0", "v-exposed"),  # warning sign
    "may": ("?", "v-may"),
    "n/a": ("\u2013", "v-na"),  # en dash
}
OTHER_VERDICT_STYLE = ("\u2022", "v-other")  # bullet, for a verdict added later

STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
  color: #1b1f24; background: #fff; margin: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: .9em; }
pre { margin: .25rem 0; padding: .4rem .6rem; background: #f4f5f7;
  border: 1px solid #d0d5dc; white-space: pre-wrap; overflow-wrap: anywhere; }
a { color: #0b4ea2; }
a:focus-visible { outline: 3px solid #0b4ea2; outline-offset: 1px; }
.meta { color: #4a5260; margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .93em; }
caption { text-align: left; font-weight: bold; padding: .5rem 0; }
th, td { border: 1px solid #b8c0cc; padding: .3rem .4rem; vertical-align: top;
  text-align: left; }
#matrix thead th { background: #eef1f5; font-weight: normal; min-width: 5.5em; }
#matrix thead th .label { font-weight: bold; display: block;
  overflow-wrap: break-word; }
th .small, .small { display: block; font-size: .82em; color: #4a5260; }
#matrix tbody th { background: #f7f8fa; font-weight: normal; min-width: 13em; }
/* The row headers stay in view while a wide table scrolls sideways. */
#matrix thead th:first-child, #matrix tbody th { position: sticky; left: 0;
  z-index: 1; }
#matrix tbody th .req-id { font-weight: bold; }
td.verdict { padding: 0; white-space: nowrap; }
td.verdict a { display: block; padding: .3rem .4rem; color: inherit;
  text-decoration: none; }
td.verdict a:hover { text-decoration: underline; }
td.verdict a:target { outline: 3px solid #0b4ea2; outline-offset: -3px; }
.sym { display: inline-block; width: 1em; text-align: center; }
.v-allowed { background: #e2f3e5; color: #14532d; }
.v-blocked { background: #fde2e0; color: #7f1d1d; font-weight: bold; }
.v-exposed { background: #ffe5c7; color: #7c2d12; font-weight: bold; }
.v-may { background: #fff4c2; color: #6b3f0a; }
.v-na { background: #f1f3f5; color: #4a5260; }
.v-other, .v-missing { background: #fff; color: #1b1f24; }
/* A cell's colour says whether its row is met: a blocked flow fails, a
   blocked protected port is met. The symbol and the word name the verdict. */
td.met, .badge.met { background: #e2f3e5; color: #14532d; font-weight: normal; }
.errors { border: 2px solid #7f1d1d; padding: .2rem 1rem; margin: 1rem 0; max-width: 70rem; }
td.failed, .badge.failed { background: #fde2e0; color: #7f1d1d; font-weight: bold; }
.badge { padding: .1rem .4rem; border: 1px solid currentColor; white-space: nowrap; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dl.legend dt { padding: .1rem .4rem; }
dl.legend dd { margin: 0; align-self: center; }
.panel { display: none; border: 2px solid #0b4ea2; padding: .8rem 1rem;
  margin: 1rem 0; max-width: 70rem; }
.panel:target, #details:target .panel { display: block; }
.panel dl { display: grid; grid-template-columns: 11rem 1fr; gap: .4rem 1rem;
  margin: 0; }
.panel dt { font-weight: bold; }
.panel dd { margin: 0; min-width: 0; }
.panel table { margin: .25rem 0; width: 100%; }
.panel td code { overflow-wrap: anywhere; }
.panel table th { background: #f7f8fa; }
.panel .back { margin: .8rem 0 0; }
@media print {
  @page { size: landscape; margin: 12mm; }
  body { font-size: 9pt; margin: 0; }
  /* Equal columns that fit the page width: 13 rule sets fit on landscape A4. */
  #matrix { font-size: 7.5pt; table-layout: fixed; width: 100%; }
  #matrix thead th:first-child { width: 10em; }
  #matrix thead th { min-width: 0; }
  #matrix thead th .label { overflow-wrap: anywhere; }
  th, td, td.verdict a { padding: .15rem .25rem; }
  a { color: inherit; text-decoration: none; }
  .scroll { overflow: visible; }
  #matrix thead th:first-child, #matrix tbody th { position: static; }
  thead { display: table-header-group; }
  tr, .panel, pre { break-inside: avoid; }
  h2, h3, caption { break-after: avoid; }
  /* Met and failed cells keep their colour on paper: it is what tells a
     blocked NetBIOS port (met) from a blocked SQL flow (failed). */
  td.met, td.failed, .badge.met, .badge.failed { print-color-adjust: exact;
    -webkit-print-color-adjust: exact; }
  .v-allowed, .v-blocked, .v-exposed, .v-may, .v-na, .v-other, th,
  #matrix thead th, #matrix tbody th, pre { background: none; color: #000; }
  .panel, #details .panel { display: block; border: 1px solid #000;
    max-width: none; padding: .3rem .5rem; margin: .4rem 0; }
  h1 { font-size: 14pt; }
  h2 { font-size: 12pt; margin: 1rem 0 .3rem; }
  h3 { font-size: 10pt; margin: 0 0 .2rem; }
  .panel dl { grid-template-columns: 9em 1fr; gap: .1rem .8rem; }
  pre { margin: .1rem 0; padding: .1rem .3rem; }
  .screen-only, .panel .back { display: none; }
  /* The port table row as one paragraph: "Port: tcp/25; Direction: Both; ..." */
  .port-row, .port-row tbody, .port-row tr, .port-row th, .port-row td {
    display: inline; border: 0; padding: 0; }
  .port-row th::after { content: ": "; }
  .port-row tr:not(:last-child) td::after { content: "; "; }
}
"""


def render_html(data: Mapping[str, Any]) -> str:
    """Render a ``seglint matrix`` JSON document as one self-contained HTML page."""
    rulesets: list[Mapping[str, Any]] = list(data.get("rulesets") or [])
    requirements: list[Mapping[str, Any]] = list(data.get("requirements") or [])
    verdicts: Mapping[str, str] = data.get("verdicts") or {}
    cells = _index_cells(data.get("cells") or [])

    tool = data.get("tool") or {}
    title = (
        f"seglint matrix: SEG port table against {_count(len(rulesets), 'rule set')}"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{_escape(CONTENT_SECURITY_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{_escape(_tool_text(tool))}">',
        f"<title>{_escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_escape(title)}</h1>",
        _header_meta(data, cells.values()),
        "</header>",
        "<main>",
        _errors(data.get("errors") or []),
        _matrix_table(requirements, rulesets, cells),
        _legend(verdicts),
        _details(requirements, rulesets, cells, verdicts),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def cell_id(requirement: str, ruleset: str) -> str:
    """Return the HTML id of a cell's detail panel, e.g. ``cell-SEG109-r1``."""
    return f"cell-{_token(requirement)}-{_token(ruleset)}"


def _index_cells(
    cells: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str], Mapping[str, Any]]:
    index: dict[tuple[str, str], Mapping[str, Any]] = {}
    for cell in cells:
        key = (str(cell.get("requirement", "")), str(cell.get("ruleset", "")))
        if key in index:
            logger.debug("duplicate matrix cell (%s, %s), the first one is shown", *key)
            continue
        index[key] = cell
    return index


def _errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """List the files that could not be checked, so a saved report shows what it lacks."""
    items = [
        f"<li><code>{_escape(error.get('path', ''))}:{_escape(error.get('line', ''))}:"
        f"{_escape(error.get('column', ''))}</code> {_escape(error.get('rule', ''))}: "
        f"{_escape(error.get('message', ''))}</li>"
        for error in errors
    ]
    if not items:
        return ""
    return "\n".join([
        '<section class="errors" aria-labelledby="errors-title">',
        '<h2 id="errors-title">Files with errors, left out of the matrix</h2>',
        "<ul>", *items, "</ul>", "</section>",
    ])


def _header_meta(data: Mapping[str, Any], cells: Iterable[Mapping[str, Any]]) -> str:
    lines = [f"Generated by {_escape(_tool_text(data.get('tool') or {}))}."]
    seg_version = data.get("seg_version")
    if seg_version:
        lines.append(f"SEG version {_escape(seg_version)}.")
    counts = Counter(str(cell.get("verdict", "")) for cell in cells)
    if counts:
        ordered = sorted(counts.items(), key=lambda item: _verdict_order(item[0]))
        summary = ", ".join(f"{count} {_escape(verdict)}" for verdict, count in ordered)
        lines.append(f"{_count(sum(counts.values()), 'cell')}: {summary}.")
    met = Counter(cell.get("met") for cell in cells if "met" in cell)
    if met[True] or met[False]:
        lines.append(f"{met[True]} meet their row, {met[False]} fail it.")
    return f'<p class="meta">{" ".join(lines)}</p>'


def _matrix_table(
    requirements: list[Mapping[str, Any]],
    rulesets: list[Mapping[str, Any]],
    cells: Mapping[tuple[str, str], Mapping[str, Any]],
) -> str:
    prefix = _common_directory([_ruleset_label(ruleset) for ruleset in rulesets])
    caption = (
        "SEG port table rows (one per row) against the rule sets (one per "
        "column). Each cell links to its details: the witness packet, the "
        "deciding rule and the port table row."
    )
    if prefix:
        caption += f" Rule set paths are relative to {_escape(prefix)}."
    parts = [
        '<div class="scroll" role="region" aria-labelledby="matrix-caption" '
        'tabindex="0">',
        '<table id="matrix">',
        f'<caption id="matrix-caption">{caption}</caption>',
        "<thead>",
        "<tr>",
        '<th scope="col">Port table row</th>',
    ]
    for ruleset in rulesets:
        parts.append(_column_header(ruleset, prefix))
    parts += ["</tr>", "</thead>", "<tbody>"]

    for requirement in requirements:
        requirement_id = str(requirement.get("id", ""))
        parts.append("<tr>")
        parts.append(_row_header(requirement))
        for ruleset in rulesets:
            ruleset_id = str(ruleset.get("id", ""))
            cell = cells.get((requirement_id, ruleset_id))
            parts.append(_cell(requirement, ruleset, cell))
        parts.append("</tr>")

    parts += ["</tbody>", "</table>", "</div>"]
    return "\n".join(parts)


def _column_header(ruleset: Mapping[str, Any], prefix: str) -> str:
    label = _breakable_label(_ruleset_label(ruleset)[len(prefix) :])
    details = [str(ruleset.get("format") or "")]
    mode = str(ruleset.get("mode") or "")
    role = str(ruleset.get("role") or "")
    if mode and role:
        details.append(f"{mode} firewall of {role}")
    elif mode:
        details.append(f"{mode} firewall")
    detail_text = ", ".join(_escape(item) for item in details if item)
    return (
        f'<th scope="col" id="col-{_token(ruleset.get("id", ""))}">'
        f'<span class="label">{label}</span> '
        f'<span class="small">{detail_text}</span></th>'
    )


def _row_header(requirement: Mapping[str, Any]) -> str:
    requirement_id = _escape(requirement.get("id", ""))
    # The rule name describes the failure ("sql-blocked"), which misreads
    # beside a cell that passes, so the row shows its flow instead.
    flow = requirement.get("flow")
    flow_html = f' <span class="req-flow">{_escape(flow)}</span>' if flow else ""
    lines = [f'<span class="req-id">{requirement_id}</span>{flow_html}']
    source = requirement.get("source")
    destination = requirement.get("destination")
    if source and destination:
        parties = f"{_escape(source)} \u2192 {_escape(destination)}"
        lines.append(f'<span class="small">{parties}</span>')
    return (
        f'<th scope="row" id="row-{_token(requirement.get("id", ""))}">'
        f"{' '.join(lines)}</th>"
    )


def _cell(
    requirement: Mapping[str, Any],
    ruleset: Mapping[str, Any],
    cell: Mapping[str, Any] | None,
) -> str:
    if cell is None:
        return '<td class="verdict v-missing"><span class="missing">missing</span></td>'

    verdict = str(cell.get("verdict", ""))
    symbol, css_class = VERDICT_STYLES.get(verdict, OTHER_VERDICT_STYLE)
    met = cell.get("met")
    if met is None and "met" not in cell:
        met = is_met(str(requirement.get("kind", "")), verdict)
    if met is not None:
        css_class += " met" if met else " failed"
    panel = cell_id(str(requirement.get("id", "")), str(ruleset.get("id", "")))
    label = (
        f"{verdict}, details of {requirement.get('id', '')} "
        f"on {_ruleset_label(ruleset)}"
    )
    return (
        f'<td class="verdict {css_class}">'
        f'<a id="at-{panel}" href="#{panel}" aria-label="{_escape(label)}">'
        f'<span class="sym" aria-hidden="true">{symbol}</span> '
        f"{_escape(verdict)}</a></td>"
    )


def _legend(verdicts: Mapping[str, str]) -> str:
    parts = [
        '<section aria-labelledby="legend-title">',
        '<h2 id="legend-title">Legend</h2>',
    ]
    parts.append('<dl class="legend">')
    for verdict, meaning in sorted(
        verdicts.items(), key=lambda item: _verdict_order(item[0])
    ):
        parts.append(f"<dt>{_badge(verdict)}</dt><dd>{_escape(meaning)}</dd>")
    parts.append('<dt><span class="badge met">met</span></dt><dd>green cells meet their '
                 "row: a required flow allowed or a protected port blocked</dd>")
    parts.append('<dt><span class="badge failed">failed</span></dt><dd>red cells fail '
                 "their row: a required flow blocked or a protected port exposed</dd>")
    parts += ["</dl>", "</section>"]
    return "\n".join(parts)


def _details(
    requirements: list[Mapping[str, Any]],
    rulesets: list[Mapping[str, Any]],
    cells: Mapping[tuple[str, str], Mapping[str, Any]],
    verdicts: Mapping[str, str],
) -> str:
    parts = [
        '<section id="details" aria-labelledby="details-title">',
        '<h2 id="details-title">Details</h2>',
        '<p class="screen-only">Select a cell of the table to show its details '
        'here, or <a href="#details">show the details of every cell</a>.</p>',
    ]
    for requirement in requirements:
        for ruleset in rulesets:
            key = (str(requirement.get("id", "")), str(ruleset.get("id", "")))
            cell = cells.get(key)
            if cell is not None:
                parts.append(_panel(requirement, ruleset, cell, verdicts))
    parts.append("</section>")
    return "\n".join(parts)


def _panel(
    requirement: Mapping[str, Any],
    ruleset: Mapping[str, Any],
    cell: Mapping[str, Any],
    verdicts: Mapping[str, str],
) -> str:
    panel = cell_id(str(requirement.get("id", "")), str(ruleset.get("id", "")))
    verdict = str(cell.get("verdict", ""))
    heading = " ".join(
        str(part) for part in (requirement.get("id"), requirement.get("name")) if part
    )
    meaning = verdicts.get(verdict)
    verdict_html = _badge(verdict)
    if meaning:
        verdict_html += f" {_escape(meaning)}"

    # An n/a cell's reason is all it has: its summary only repeats the
    # verdict, and its packet, rule and checks are empty or repeat the reason.
    # Leaving those rows out keeps the printed report short.
    applies = verdict != "n/a" or not cell.get("reason")
    rows = [("Verdict", verdict_html)]
    if cell.get("summary") and applies:
        rows.append(("Summary", _escape(cell["summary"])))
    if cell.get("reason"):
        rows.append(("Reason", _escape(cell["reason"])))
    if cell.get("witness") or applies:
        rows.append(("Witness packet", _witness(cell.get("witness"))))
    if cell.get("rule") or applies:
        rows.append(("Deciding rule", _rule(cell.get("rule"))))
    checks = list(cell.get("checks") or [])
    if len(checks) == 1 and _repeats_cell(checks[0], cell):
        if checks[0].get("hook"):
            rows.append(("Hook", _hook(checks[0])))
    elif checks and applies:
        rows.append(("Checks", _checks_table(checks)))
    rows.append(("Rule", _rule_title(requirement)))
    rows.append(("Requirement", _requirement_text(requirement)))
    rows.append(("Port table row", _port_table_row(requirement.get("row"))))

    items = "\n".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        f'<section class="panel" id="{panel}" aria-labelledby="{panel}-title">\n'
        f'<h3 id="{panel}-title">{_escape(heading)} on '
        f"{_escape(_ruleset_label(ruleset))}: {_escape(verdict)}</h3>\n"
        f"<dl>\n{items}\n</dl>\n"
        f'<p class="back"><a href="#at-{panel}">Back to the table</a></p>\n'
        "</section>"
    )


def _witness(witness: Mapping[str, Any] | None) -> str:
    if not witness:
        return "none"
    text = f"<code>{_escape(witness.get('text', ''))}</code>"
    state = witness.get("state")
    if state:
        text += f' <span class="small">connection state {_escape(state)}</span>'
    return text


def _rule(rule: Mapping[str, Any] | None) -> str:
    if not rule:
        return "none"
    return (
        f"<code>{_escape(_location(rule))}</code>"
        f"<pre><code>{_escape(rule.get('text', ''))}</code></pre>"
    )


def _repeats_cell(check: Mapping[str, Any], cell: Mapping[str, Any]) -> bool:
    """Return whether a check shows nothing beyond its cell but the hook."""
    return (
        check.get("message") == cell.get("summary")
        and check.get("rule") == cell.get("rule")
        and check.get("witness") == cell.get("witness")
        and check.get("verdict") == cell.get("verdict")
    )


def _hook(check: Mapping[str, Any]) -> str:
    text = _escape(check.get("hook") or "")
    if check.get("reply"):
        text += ' <span class="small">(the rule decided the replies of the flow)</span>'
    return text


def _checks_table(checks: Iterable[Mapping[str, Any]]) -> str:
    parts = [
        "<table>",
        '<thead><tr><th scope="col">Hook</th><th scope="col">Flow</th>'
        '<th scope="col">Verdict</th>'
        '<th scope="col">Message</th><th scope="col">Deciding rule</th>'
        '<th scope="col">Witness packet</th></tr></thead>',
        "<tbody>",
    ]
    for check in checks:
        hook = _hook(check)
        flow = ""
        if check.get("from") or check.get("to"):
            source = _escape(check.get("from", ""))
            destination = _escape(check.get("to", ""))
            flow = f"{source} \u2192 {destination}"
        rule = check.get("rule")
        rule_html = (
            f"<code>{_escape(_location(rule))}</code>"
            f"<pre><code>{_escape(rule.get('text', ''))}</code></pre>"
            if rule
            else "none"
        )
        witness = check.get("witness")
        witness_html = (
            f"<code>{_escape(witness.get('text', ''))}</code>" if witness else "none"
        )
        parts.append(
            f"<tr><td>{hook}</td><td>{flow}</td>"
            f"<td>{_badge(str(check.get('verdict', '')))}</td>"
            f"<td>{_escape(check.get('message', ''))}</td>"
            f"<td>{rule_html}</td><td>{witness_html}</td></tr>"
        )
    parts += ["</tbody>", "</table>"]
    return "\n".join(parts)


def _rule_title(requirement: Mapping[str, Any]) -> str:
    rule_id = requirement.get("rule") or requirement.get("id", "")
    text = " ".join(
        _escape(part) for part in (rule_id, requirement.get("name")) if part
    )
    title = requirement.get("title")
    if title:
        text += f" ({_escape(title)})"
    return text


def _requirement_text(requirement: Mapping[str, Any]) -> str:
    kind = requirement.get("kind")
    flow = _escape(requirement.get("flow", ""))
    source = _escape(requirement.get("source", ""))
    destination = _escape(requirement.get("destination", ""))
    if kind == "exposure":
        return f"{flow} on {destination} must not be reachable from {source}"
    return f"{flow} from {source} to {destination} must be accepted"


def _port_table_row(row: object) -> str:
    """Show a Markdown row of the port table as a two-column table, or as
    text when it does not have one cell per column."""
    text = str(row or "").strip()
    if not text:
        return "none"
    values = [value.strip() for value in text.strip("|").split("|")]
    if len(values) != len(PORT_TABLE_COLUMNS):
        return f"<code>{_escape(text)}</code>"
    lines = [
        f'<tr><th scope="row">{_escape(name)}</th><td>{_escape(value)}</td></tr>'
        for name, value in zip(PORT_TABLE_COLUMNS, values, strict=True)
    ]
    return (
        '<table class="port-row">\n<tbody>\n'
        + "\n".join(lines)
        + "\n</tbody>\n</table>"
    )


def _badge(verdict: str) -> str:
    symbol, css_class = VERDICT_STYLES.get(verdict, OTHER_VERDICT_STYLE)
    return (
        f'<span class="badge {css_class}"><span class="sym" aria-hidden="true">'
        f"{symbol}</span> {_escape(verdict)}</span>"
    )


def _location(rule: Mapping[str, Any]) -> str:
    return f"{rule.get('path', '')}:{rule.get('line', '')}:{rule.get('column', '')}"


def _ruleset_label(ruleset: Mapping[str, Any]) -> str:
    return str(ruleset.get("label") or ruleset.get("path") or ruleset.get("id", ""))


def _common_directory(labels: list[str]) -> str:
    """Return the leading directories that every label shares, with a
    trailing slash (``examples/``), or an empty string."""
    if not labels:
        return ""
    directories = [label.split("/")[:-1] for label in labels]
    common: list[str] = []
    # Labels differ in depth, and the prefix can be no deeper than the shallowest.
    for parts in zip(*directories, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/".join(common) + "/" if common else ""


def _breakable_label(label: str) -> str:
    """Escape a rule set label and allow line breaks inside it, so that file
    names and CamelCase resource names do not widen their column.

    A break may follow ``/``, ``-``, ``_`` or ``.``, and may come before ``(``
    or before a capital letter that follows a lowercase one.
    """
    parts: list[str] = []
    previous = ""
    for char in label:
        if char == "(" or (char.isupper() and previous.islower()):
            parts.append("<wbr>")
        parts.append(_escape(char))
        if char in "/-_.":
            parts.append("<wbr>")
        previous = char
    return "".join(parts)


def _tool_text(tool: Mapping[str, Any]) -> str:
    return " ".join(str(tool[key]) for key in ("name", "version") if tool.get(key))


def _verdict_order(verdict: str) -> tuple[int, str]:
    order = list(VERDICT_STYLES)
    return (order.index(verdict) if verdict in order else len(order), verdict)


def _token(value: object) -> str:
    """Encode a value for use inside an HTML id and a URL fragment.

    ASCII letters, digits and dots are kept. Every other character becomes
    its code point in hex between underscores, so distinct values get
    distinct tokens and ``-`` stays free to separate the parts of an id.
    """
    return "".join(
        char
        if char.isascii() and (char.isalnum() or char == ".")
        else f"_{ord(char):x}_"
        for char in str(value)
    )


def _escape(value: object) -> str:
    return html.escape(printable(str(value)), quote=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
