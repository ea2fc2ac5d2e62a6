"""HTML matrix report: table cells, detail panels, escaping, no external resources."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from seglint.report.matrix_html import CONTENT_SECURITY_POLICY, cell_id, render_html

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
     "source", "track", "wbr"}
)
# Elements that do not separate words, as in a browser's rendering. Every other
# tag boundary counts as a space in ``Element.text``.
INLINE_ELEMENTS = frozenset({"a", "abbr", "b", "code", "em", "span", "strong", "wbr"})

AM_RULE = {
    "path": "examples/hosts/array-manager.rules", "line": 5, "column": 1,
    "end_line": 5, "end_column": 22, "text": ":OUTPUT DROP [0:0]",
}
NODE_RULE = {
    "path": "examples/hosts/node-1.rules", "line": 9, "column": 1,
    "end_line": 9, "end_column": 45,
    "text": "-A INPUT -p tcp -m tcp --dport 25 -j ACCEPT",
}
SMTP_PACKET = {
    "protocol": "tcp", "src": "203.0.113.10", "sport": 40000, "dst": "198.51.100.10",
    "dport": 25, "iif": None, "oif": None, "state": "new",
    "text": "tcp 203.0.113.10:40000 -> 198.51.100.10:25",
}
SQL_PACKET = {
    "protocol": "tcp", "src": "10.0.0.10", "sport": 40000, "dst": "10.0.0.20",
    "dport": 1433, "iif": None, "oif": None, "state": "new",
    "text": "tcp 10.0.0.10:40000 -> 10.0.0.20:1433",
}
SMTP_ROW = (
    "| tcp/25 | Both | Mail Processing Nodes | All | All | MailMarshal SMTP must be "
    "able to send and receive data on port 25 for SMTP communications to the "
    "outside world. |"
)
SQL_ROW = (
    "| tcp/1433 | Outgoing | Array Manager | SQL Server | All | Outbound access to "
    "port 1433 on the SQL server is mandatory. |"
)
SAMPLE: dict[str, Any] = {
    "schema": "seglint-matrix/1",
    "tool": {"name": "seglint", "version": "0.1.0"},
    "seg_version": "10.2",
    "verdicts": {
        "allowed": "the required flow is accepted",
        "blocked": "the flow or port is dropped",
        "exposed": "the protected port is reachable from untrusted networks",
        "may": "the answer depends on a construct seglint cannot model",
        "n/a": "the row does not apply to this rule set (the reason says why)",
    },
    "rulesets": [
        {"id": "r1", "path": "examples/hosts/array-manager.rules", "name": "",
         "format": "iptables", "label": "hosts/array-manager.rules", "mode": "host",
         "role": "array-manager"},
        {"id": "r2", "path": "examples/hosts/node-1.rules", "name": "",
         "format": "iptables", "label": "hosts/node-1.rules", "mode": "host",
         "role": "processing-nodes"},
        {"id": "r3", "path": "examples/edge/asa.cfg", "name": "", "format": "asa",
         "label": "edge/asa.cfg", "mode": "network", "role": None},
    ],
    "requirements": [
        {"id": "SEG101", "name": "smtp-inbound-blocked", "kind": "required",
         "flow": "tcp/25", "source": "smtp-peers", "destination": "processing-nodes",
         "title": "Inbound SMTP to the processing nodes", "row": SMTP_ROW},
        {"id": "SEG109", "name": "sql-blocked", "kind": "required", "flow": "tcp/1433",
         "source": "array-manager", "destination": "sql-server",
         "title": "Array Manager to SQL Server", "row": SQL_ROW},
    ],
    "cells": [
        {"requirement": "SEG101", "ruleset": "r1", "verdict": "n/a",
         "reason": "not crossing this firewall: array-manager is neither source nor "
                   "destination",
         "summary": "not applicable", "rule": None, "witness": None, "checks": []},
        {"requirement": "SEG101", "ruleset": "r2", "verdict": "allowed", "reason": "",
         "summary": "tcp/25 from smtp-peers to processing-nodes is accepted",
         "rule": NODE_RULE, "witness": SMTP_PACKET,
         "checks": [
             {"hook": "input", "from": "smtp-peers (the internet)",
              "to": "processing-nodes", "verdict": "allowed", "reply": False,
              "rule": NODE_RULE, "witness": SMTP_PACKET,
              "message": "tcp/25 from smtp-peers (the internet) to processing-nodes "
                         "is accepted"},
             {"hook": "input", "from": "processing-nodes",
              "to": "smtp-peers (the internet)", "verdict": "allowed", "reply": True,
              "rule": None, "witness": None,
              "message": "replies of tcp/25 are accepted"},
         ]},
        {"requirement": "SEG101", "ruleset": "r3", "verdict": "may", "reason": "",
         "summary": "tcp/25 from smtp-peers to processing-nodes may be dropped",
         "rule": None, "witness": None, "checks": []},
        {"requirement": "SEG109", "ruleset": "r1", "verdict": "blocked", "reason": "",
         "summary": "tcp/1433 from array-manager to sql-server is dropped "
                    "(chain OUTPUT policy DROP)",
         "rule": AM_RULE, "witness": SQL_PACKET, "checks": []},
        {"requirement": "SEG109", "ruleset": "r2", "verdict": "exposed", "reason": "",
         "summary": "tcp/1433 on sql-server is reachable", "rule": None,
         "witness": None, "checks": []},
        {"requirement": "SEG109", "ruleset": "r3", "verdict": "n/a",
         "reason": "version: the row applies from SEG 11.1; the configuration "
                   "says 10.2",
         "summary": "not applicable", "rule": None, "witness": None, "checks": []},
    ],
}
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


class Document(HTMLParser):
    """The elements of a page in document order, with their text, and the
    nesting errors ``html.parser`` lets through."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.errors: list[str] = []
        self._open: list[Element] = []
        self.feed(page)
        self.close()
        if self._open:
            self.errors.append(f"unclosed ({[e.tag for e in self._open]})")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._separate(tag)
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        self._separate(tag)
        if not self._open or self._open[-1].tag != tag:
            self.errors.append(f"unexpected </{tag}>")
            return
        self._open.pop()

    def _separate(self, tag: str) -> None:
        if tag not in INLINE_ELEMENTS:
            self.handle_data(" ")

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.parts.append(data)

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            element
            for element in self.elements
            if element.tag == tag
            and all(element.attrs.get(name.rstrip("_").replace("_", "-")) == value
                    for name, value in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        (element,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return element

    def cell(self, requirement: str, ruleset: str) -> Element:
        (link,) = self.all("a", href=f"#{cell_id(requirement, ruleset)}")
        return link


def sample() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE)


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample())


@pytest.fixture(scope="module")
def document(page: str) -> Document:
    return Document(page)


def panel_text(document: Document, requirement: str, ruleset: str) -> str:
    return document.by_id(cell_id(requirement, ruleset)).text


@pytest.mark.parametrize(
    ("requirement", "ruleset", "text"),
    [
        ("SEG101", "r1", "\u2013 n/a"),
        ("SEG101", "r2", "\u2713 allowed"),
        ("SEG101", "r3", "? may"),
        ("SEG109", "r1", "\u2717 blocked"),
        ("SEG109", "r2", "\u26a0 exposed"),
        ("SEG109", "r3", "\u2013 n/a"),
    ],
)
def test_cell_text(
    document: Document, requirement: str, ruleset: str, text: str
) -> None:
    assert document.cell(requirement, ruleset).text == text


def test_cell_class(document: Document) -> None:
    classes = [
        td.attrs["class"] for td in document.all("td") if "class" in td.attrs
    ]
    assert classes == [
        "verdict v-na", "verdict v-allowed met", "verdict v-may",
        "verdict v-blocked failed", "verdict v-exposed failed", "verdict v-na",
    ]


def test_blocked_protected_port_is_met() -> None:
    data = sample()
    data["requirements"][1]["kind"] = "exposure"
    classes = [td.attrs["class"] for td in Document(render_html(data)).all("td")
               if "class" in td.attrs]
    assert classes[3] == "verdict v-blocked met"
    assert classes[4] == "verdict v-exposed failed"


def test_cell_accessible_name(document: Document) -> None:
    link = document.cell("SEG109", "r1")
    assert link.attrs["aria-label"] == (
        "blocked, details of SEG109 on hosts/array-manager.rules"
    )


def test_cell_symbol_hidden(document: Document) -> None:
    symbols = document.all("span", class_="sym")
    assert {span.attrs.get("aria-hidden") for span in symbols} == {"true"}


def test_cell_links_resolve(document: Document) -> None:
    ids = [e.attrs["id"] for e in document.elements if "id" in e.attrs]
    targets = [a.attrs["href"][1:] for a in document.all("a")]
    assert len(ids) == len(set(ids))
    assert [target for target in targets if target not in ids] == []


def test_cell_panel_ids(document: Document) -> None:
    panels = [
        section.attrs["id"] for section in document.all("section", class_="panel")
    ]
    assert panels == [
        "cell-SEG101-r1", "cell-SEG101-r2", "cell-SEG101-r3",
        "cell-SEG109-r1", "cell-SEG109-r2", "cell-SEG109-r3",
    ]


def test_back_link(document: Document) -> None:
    panel = document.by_id("cell-SEG109-r1")
    index = document.elements.index(panel)
    back = [a for a in document.elements[index:] if a.tag == "a"][0]
    assert back.attrs["href"] == "#at-cell-SEG109-r1"
    assert back.text == "Back to the table"
    assert document.by_id("at-cell-SEG109-r1").tag == "a"


def test_panel_blocked(document: Document) -> None:
    text = panel_text(document, "SEG109", "r1")
    assert text.startswith("SEG109 sql-blocked on hosts/array-manager.rules: blocked ")
    assert "Verdict \u2717 blocked the flow or port is dropped" in text
    assert (
        "Summary tcp/1433 from array-manager to sql-server is dropped "
        "(chain OUTPUT policy DROP)" in text
    )
    assert (
        "Witness packet tcp 10.0.0.10:40000 -> 10.0.0.20:1433 connection state new"
        in text
    )
    assert (
        "Deciding rule examples/hosts/array-manager.rules:5:1 :OUTPUT DROP [0:0]"
        in text
    )
    assert (
        "Requirement tcp/1433 from array-manager to sql-server must be accepted"
        in text
    )


def test_panel_rule_title(document: Document) -> None:
    text = panel_text(document, "SEG109", "r1")
    assert "Rule SEG109 sql-blocked (Array Manager to SQL Server)" in text


def test_panel_rule_code(document: Document) -> None:
    codes = [code.text for code in document.all("code")]
    assert "examples/hosts/array-manager.rules:5:1" in codes
    assert ":OUTPUT DROP [0:0]" in codes


def test_panel_port_table_row(document: Document) -> None:
    text = panel_text(document, "SEG109", "r1")
    assert (
        "Port table row Port tcp/1433 Direction Outgoing Source Array Manager "
        "Destination SQL Server Required for Versions All Explanation Outbound "
        "access to port 1433 on the SQL server is mandatory." in text
    )


def test_panel_not_applicable(document: Document) -> None:
    text = panel_text(document, "SEG109", "r3")
    assert (
        "Reason version: the row applies from SEG 11.1; the configuration says 10.2"
        in text
    )
    assert "Summary" not in text
    assert "Witness packet" not in text
    assert "Deciding rule" not in text
    assert "Checks" not in text


def test_panel_missing_rule(document: Document) -> None:
    text = panel_text(document, "SEG101", "r3")
    assert "Witness packet none Deciding rule none" in text


def test_panel_checks(document: Document) -> None:
    text = panel_text(document, "SEG101", "r2")
    assert (
        "Checks Hook Flow Verdict Message Deciding rule Witness packet "
        "input smtp-peers (the internet) \u2192 processing-nodes \u2713 allowed "
        "tcp/25 from smtp-peers (the internet) to processing-nodes is accepted "
        "examples/hosts/node-1.rules:9:1 -A INPUT -p tcp -m tcp --dport 25 -j ACCEPT "
        "tcp 203.0.113.10:40000 -> 198.51.100.10:25 "
        "input (the rule decided the replies of the flow) "
        "processing-nodes \u2192 smtp-peers (the internet) "
        "\u2713 allowed replies of tcp/25 are accepted none none" in text
    )


def test_panel_single_check() -> None:
    data = sample()
    blocked = data["cells"][3]
    blocked["checks"] = [
        {"hook": "output", "from": "array-manager", "to": "sql-server",
         "verdict": "blocked", "reply": False, "rule": AM_RULE,
         "witness": SQL_PACKET, "message": blocked["summary"]},
    ]
    text = panel_text(Document(render_html(data)), "SEG109", "r1")
    assert "Hook output Rule SEG109" in text
    assert "Checks" not in text


def test_panel_single_check_differs() -> None:
    data = sample()
    blocked = data["cells"][3]
    blocked["checks"] = [
        {"hook": "output", "from": "array-manager", "to": "sql-server",
         "verdict": "blocked", "reply": False, "rule": AM_RULE,
         "witness": SQL_PACKET, "message": "another message"},
    ]
    text = panel_text(Document(render_html(data)), "SEG109", "r1")
    assert "Checks Hook Flow" in text
    assert "\u2717 blocked another message" in text


def test_table_headers(document: Document) -> None:
    columns = [th.text for th in document.all("th", scope="col")][:4]
    rows = [th.text for th in document.all("th", scope="row")][:2]
    assert columns == [
        "Port table row",
        "hosts/array-manager.rules iptables, host firewall of array-manager",
        "hosts/node-1.rules iptables, host firewall of processing-nodes",
        "edge/asa.cfg asa, network firewall",
    ]
    assert rows == [
        "SEG101 tcp/25 smtp-peers \u2192 processing-nodes",
        "SEG109 tcp/1433 array-manager \u2192 sql-server",
    ]


def test_table_caption(document: Document) -> None:
    (caption,) = document.all("caption")
    assert caption.text.startswith("SEG port table rows (one per row) against")


def test_legend(document: Document) -> None:
    terms = [dt.text for dt in document.all("dt")][:5]
    meanings = [dd.text for dd in document.all("dd")][:2]
    assert terms == [
        "\u2713 allowed", "\u2717 blocked", "\u26a0 exposed", "? may", "\u2013 n/a",
    ]
    assert meanings == ["the required flow is accepted", "the flow or port is dropped"]


def test_header_summary(document: Document) -> None:
    (meta,) = document.all("p", class_="meta")
    assert meta.text == (
        "Generated by seglint 0.1.0. SEG version 10.2. 6 cells: 1 allowed, "
        "1 blocked, 1 exposed, 1 may, 2 n/a."
    )


def test_head(document: Document) -> None:
    (root,) = document.all("html")
    (title,) = document.all("title")
    assert root.attrs["lang"] == "en"
    assert document.all("meta", charset="utf-8") != []
    assert title.text == "seglint matrix: SEG port table against 3 rule sets"


def test_content_security_policy(document: Document) -> None:
    (meta,) = document.all("meta", http_equiv="Content-Security-Policy")
    assert meta.attrs["content"] == CONTENT_SECURITY_POLICY
    assert meta.attrs["content"].startswith(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )


def test_well_formed(document: Document) -> None:
    assert document.errors == []


def test_no_external_resources(page: str, document: Document) -> None:
    references = [
        value
        for element in document.elements
        for name, value in element.attrs.items()
        if name in {"href", "src", "srcset", "action", "data", "poster"}
    ]
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert [value for value in references if not value.startswith("#")] == []


def test_print_styles(page: str) -> None:
    print_css = page[page.index("@media print") :]
    assert ".panel, #details .panel { display: block;" in print_css
    assert "thead { display: table-header-group; }" in print_css


def test_hostile_text_escaped() -> None:
    data = sample()
    data["rulesets"][0]["label"] = HOSTILE
    data["requirements"][1]["id"] = HOSTILE
    data["requirements"][1]["row"] = HOSTILE
    for cell in data["cells"]:
        if cell["requirement"] == "SEG109":
            cell["requirement"] = HOSTILE
    blocked = data["cells"][3]
    blocked["rule"] = dict(AM_RULE, text=HOSTILE, path=HOSTILE)
    blocked["witness"] = dict(SQL_PACKET, text=HOSTILE)
    blocked["summary"] = HOSTILE

    page = render_html(data)
    document = Document(page)
    panel = document.by_id(cell_id(HOSTILE, "r1"))
    codes = [code.text for code in document.all("code")]

    assert document.errors == []
    assert document.all("script") == []
    assert document.all("img") == []
    assert "onerror=alert(2)>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in codes
    assert f"{HOSTILE}:5:1" in codes
    assert f"Summary {HOSTILE}" in panel.text
    assert document.cell(HOSTILE, "r1").text == "\u2717 blocked"


def test_hostile_ids_distinct() -> None:
    assert cell_id("a-b", "c") != cell_id("a", "b-c")
    assert cell_id("SEG103.1", "r1") == "cell-SEG103.1-r1"
    assert cell_id('"><x', "r1") == "cell-_22__3e__3c_x-r1"


def test_unknown_verdict() -> None:
    data = sample()
    data["cells"][0]["verdict"] = "<odd>"
    document = Document(render_html(data))
    (td,) = [td for td in document.all("td") if "v-other" in td.attrs.get("class", "")]
    assert td.text == "\u2022 <odd>"


def test_missing_cell() -> None:
    data = sample()
    del data["cells"][0]
    document = Document(render_html(data))
    (td,) = document.all("td", class_="verdict v-missing")
    assert td.text == "missing"
    assert document.all("a", href="#cell-SEG101-r1") == []
    assert document.all("section", id="cell-SEG101-r1") == []


def test_port_table_row_unsplit() -> None:
    data = sample()
    data["requirements"][1]["row"] = "| tcp/1433 | Outgoing |"
    document = Document(render_html(data))
    assert "Port table row | tcp/1433 | Outgoing |" in panel_text(
        document, "SEG109", "r1"
    )


def test_ruleset_name_in_label() -> None:
    data = sample()
    data["rulesets"][2]["label"] = "edge/asa.cfg (OUTSIDE_IN)"
    document = Document(render_html(data))
    (header,) = document.all("th", id="col-r3")
    assert header.text == "edge/asa.cfg (OUTSIDE_IN) asa, network firewall"


def test_common_directory_removed() -> None:
    data = sample()
    for ruleset in data["rulesets"]:
        ruleset["label"] = "examples/" + ruleset["label"]
    document = Document(render_html(data))
    (header,) = document.all("th", id="col-r1")
    (caption,) = document.all("caption")
    assert header.text == (
        "hosts/array-manager.rules iptables, host firewall of array-manager"
    )
    assert caption.text.endswith(" Rule set paths are relative to examples/.")
    assert panel_text(document, "SEG109", "r1").startswith(
        "SEG109 sql-blocked on examples/hosts/array-manager.rules: blocked "
    )


def test_label_break_points() -> None:
    data = sample()
    data["rulesets"][0]["label"] = "cfn/array-manager.yaml (ArrayManagerGroup)"
    page = render_html(data)
    assert (
        "cfn/<wbr>array-<wbr>manager.<wbr>yaml <wbr>(Array<wbr>Manager<wbr>Group)"
        in page
    )


def test_empty_matrix() -> None:
    document = Document(render_html({"rulesets": [], "requirements": [], "cells": []}))
    assert document.errors == []
    assert [th.text for th in document.all("th")] == ["Port table row"]


def test_errors_section_lists_files() -> None:
    data = sample()
    data["errors"] = [{"rule": "SEG901", "path": "hosts/bad<1>.rules", "line": 5,
                       "column": 34, "message": "invalid prefix length (10.1.0.10/33)"}]
    document = Document(render_html(data))
    assert document.by_id("errors-title").text == (
        "Files with errors, left out of the matrix")
    items = [item.text for item in document.all("li")]
    assert "hosts/bad<1>.rules:5:34 SEG901: invalid prefix length (10.1.0.10/33)" in items


def test_bidi_override_escaped() -> None:
    data = sample()
    data["cells"][3]["rule"] = {**AM_RULE, "text": "-j ACCEPT \u202e# PORD"}
    page = render_html(data)
    assert "\u202e" not in page
    assert "\\u202e" in page
