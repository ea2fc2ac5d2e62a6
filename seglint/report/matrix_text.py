"""The flow matrix as a terminal table: port table rows down, rule sets across.

Cells are words when the output is a file or a pipe, so the table reads
the same in a CI log; on a terminal (``--color``) they become one-letter
symbols coloured by what the verdict means for the row: green when the row
is met (a required flow allowed, a protected port blocked), red when it does
not, yellow for "may".
"""

from __future__ import annotations

from typing import Any, TextIO

from seglint.matrix import ALLOWED, BLOCKED, EXPOSED, MAY, NOT_APPLICABLE, is_met

SYMBOLS = {ALLOWED: "✔", BLOCKED: "✘", EXPOSED: "!", MAY: "?", NOT_APPLICABLE: "·"}
_RESET = "\x1b[0m"
_GOOD, _BAD, _UNSURE, _DIM = "32", "31", "33", "2"


def render_text(data: dict[str, Any], stream: TextIO, *, color: bool = False) -> None:
    rulesets = data["rulesets"]
    rows = data["requirements"]
    cells = {(cell["requirement"], cell["ruleset"]): cell for cell in data["cells"]}
    width = 3 if color else 8

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if color else text

    version = f" (SEG {data['seg_version']})" if data.get("seg_version") else ""
    stream.write(f"SEG port table against {len(rulesets)} rule set"
                 f"{'s' if len(rulesets) != 1 else ''}{version}\n\n")
    number_width = len(str(len(rulesets)))
    for index, ruleset in enumerate(rulesets, 1):
        role = ruleset["role"] or ruleset["mode"]
        stream.write(f"  {index:>{number_width}}  {ruleset['label']}  [{ruleset['format']}, "
                     f"{role}]\n")
    stream.write("\n")

    labels = [_row_label(row) for row in rows]
    label_width = max([len(label) for label in labels] + [len("row")])
    header = "row".ljust(label_width) + "".join(
        f"{index:>{width}}" for index in range(1, len(rulesets) + 1))
    stream.write(header.rstrip() + "\n")
    for row, label in zip(rows, labels):
        line = label.ljust(label_width)
        for ruleset in rulesets:
            verdict = cells[(row["id"], ruleset["id"])]["verdict"]
            shown = SYMBOLS[verdict] if color else verdict
            text = f"{shown:>{width}}"
            if color:
                good = is_met(row["kind"], verdict)
                code = _DIM if verdict == NOT_APPLICABLE else _UNSURE if good is None \
                    else _GOOD if good else _BAD
                text = text[:-1] + paint(text[-1], code)
            line += text
        stream.write(f"{line}  {row['source']} -> {row['destination']}\n")

    stream.write("\n")
    for verdict, meaning in data["verdicts"].items():
        symbol = f"{SYMBOLS[verdict]} " if color else ""
        stream.write(f"  {symbol}{verdict:<8} {meaning}\n")

    problems = [(row, index, cells[(row["id"], ruleset["id"])])
                for row in rows for index, ruleset in enumerate(rulesets, 1)
                if is_met(row["kind"], cells[(row["id"], ruleset["id"])]["verdict"]) is False
                or cells[(row["id"], ruleset["id"])]["verdict"] == MAY]
    if problems:
        stream.write("\nCells that fail their row, with the deciding rule:\n")
        for row, index, cell in problems:
            rule = cell["rule"]
            where = f"{rule['path']}:{rule['line']}" if rule else "no rule"
            stream.write(f"  {row['id']} in {index}: {cell['verdict']} at {where}: "
                         f"{cell['summary']}\n")
    void = [row for row in rows
            if all(cells[(row["id"], r["id"])]["verdict"] == NOT_APPLICABLE for r in rulesets)]
    if void:
        stream.write("\nRows that apply to no rule set:\n")
        for row in void:
            reasons = dict.fromkeys(cells[(row["id"], r["id"])]["reason"] for r in rulesets)
            stream.write(f"  {row['id']}: {'; '.join(reasons)}\n")


def _row_label(row: dict[str, Any]) -> str:
    return f"{row['id']:<9} {compact_flow(row['flow'])}"


def compact_flow(flow: str) -> str:
    """Write ``tcp/53 and udp/53`` as ``tcp,udp/53``."""
    parts = [part.split("/", 1) for part in flow.split(" and ")]
    if len(parts) > 1 and all(len(p) == 2 and p[1] == parts[0][1] for p in parts):
        return ",".join(p[0] for p in parts) + "/" + parts[0][1]
    return flow
