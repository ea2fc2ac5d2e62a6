"""The flow matrix as a terminal table: port table rows down, rule sets across.

Cells are words when the output is a file or a pipe, so the table reads
the same in a CI log. On a terminal (``--color``) they become one-letter
symbols coloured by what the verdict means for the row: green when the row
is met (a required flow allowed, a protected port blocked), red when it
fails, yellow for "may".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from seglint.matrix import ALLOWED, BLOCKED, EXPOSED, MAY, NOT_APPLICABLE, is_met
from seglint.report.base import printable

SYMBOLS = {ALLOWED: "✔", BLOCKED: "✘", EXPOSED: "!", MAY: "?", NOT_APPLICABLE: "·"}
_RESET = "\x1b[0m"
_GOOD, _BAD, _UNSURE, _DIM = "32", "31", "33", "2"


def render_text(data: dict[str, Any], stream: TextIO, *, color: bool = False) -> None:
    """Write the table, the legend, the failing cells and the reasons of "n/a" cells."""
    rulesets = data["rulesets"]
    rows = data["requirements"]
    cells = {(cell["requirement"], cell["ruleset"]): cell for cell in data["cells"]}
    width = 3 if color else 8

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if color else text

    version = f" (SEG {data['seg_version']})" if data.get("seg_version") else ""
    stream.write(f"SEG port table against {len(rulesets)} rule set"
                 f"{'s' if len(rulesets) != 1 else ''}{version}\n")
    _write_errors(data.get("errors", []), stream)
    if not rulesets:
        stream.write("\nNo rule set to show: no rule file was found or every one has "
                     "errors.\n")
        return
    stream.write("\n")
    number_width = len(str(len(rulesets)))
    for index, ruleset in enumerate(rulesets, 1):
        role = ruleset["role"] or ruleset["mode"]
        stream.write(f"  {index:>{number_width}}  {printable(ruleset['label'])}  "
                     f"[{ruleset['format']}, {role}]\n")
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
            text = f"{SYMBOLS[verdict] if color else verdict:>{width}}"
            if color:
                met = is_met(row["kind"], verdict)
                code = _DIM if verdict == NOT_APPLICABLE else _UNSURE if met is None \
                    else _GOOD if met else _BAD
                text = text[:-1] + paint(text[-1], code)
            line += text
        stream.write(f"{line}  {row['source']} -> {row['destination']}\n")

    stream.write("\n")
    for verdict, meaning in data["verdicts"].items():
        symbol = f"{SYMBOLS[verdict]} " if color else ""
        stream.write(f"  {symbol}{verdict:<8} {meaning}\n")
    if color:
        stream.write(f"  {paint('green', _GOOD)}: the row is met (a required flow allowed, "
                     f"a protected port blocked); {paint('red', _BAD)}: the row fails\n")

    _write_failures(data, cells, stream)
    _write_not_applicable(data, stream)


def _write_errors(errors: list[dict[str, Any]], stream: TextIO) -> None:
    if not errors:
        return
    stream.write("\nFiles with errors, left out of the matrix:\n")
    for error in errors:
        stream.write(f"  {printable(error['path'])}:{error['line']}:{error['column']}: "
                     f"{error['rule']}: {printable(error['message'])}\n")


def _failing(data: dict[str, Any], cells: dict[tuple[str, str], dict]
             ) -> Iterator[tuple[dict, int, dict, dict]]:
    """Yield (row, column number, rule set, check) for each check that fails its row."""
    for row in data["requirements"]:
        for index, ruleset in enumerate(data["rulesets"], 1):
            for check in cells[(row["id"], ruleset["id"])]["checks"]:
                if check["verdict"] == MAY or is_met(row["kind"], check["verdict"]) is False:
                    yield row, index, ruleset, check


def _write_failures(data: dict[str, Any], cells: dict[tuple[str, str], dict],
                    stream: TextIO) -> None:
    failing = list(_failing(data, cells))
    if not failing:
        return
    stream.write("\nChecks that fail their row or may fail it, with the deciding rule:\n")
    for row, index, ruleset, check in failing:
        rule = check["rule"]
        where = f"{printable(rule['path'])}:{rule['line']}" if rule else "no rule"
        stream.write(f"  {row['id']} in {index}: {check['verdict']} at {where}: "
                     f"{printable(check['message'])}\n")
        if check["witness"]:
            stream.write(f"    witness: {printable(check['witness']['text'])}\n")
        if check["verdict"] == MAY and ruleset["unknowns"]:
            lines = ", ".join(str(item["line"]) for item in ruleset["unknowns"])
            stream.write(f"    depends on constructs seglint cannot model at line"
                         f"{'s' if len(ruleset['unknowns']) > 1 else ''} {lines}\n")


def _write_not_applicable(data: dict[str, Any], stream: TextIO) -> None:
    """List each reason once, with the cells it applies to."""
    numbers = {ruleset["id"]: index for index, ruleset in enumerate(data["rulesets"], 1)}
    by_reason: dict[str, dict[str, list[int]]] = {}
    for cell in data["cells"]:
        if cell["verdict"] != NOT_APPLICABLE:
            continue
        index = numbers[cell["ruleset"]]
        places = by_reason.setdefault(cell["reason"], {})
        places.setdefault(cell["requirement"], []).append(index)
    if not by_reason:
        return
    stream.write("\nCells that do not apply (n/a), by reason:\n")
    every = list(range(1, len(data["rulesets"]) + 1))
    for reason, places in by_reason.items():
        stream.write(f"  {printable(reason)}:\n")
        parts = [row if columns == every else f"{row} in {_numbers(columns)}"
                 for row, columns in places.items()]
        stream.write(f"    {'; '.join(parts)}\n")


def _numbers(values: list[int]) -> str:
    """Write 1, 2, 3, 5 as 1-3,5."""
    parts = []
    start = previous = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ",".join(parts)


def _row_label(row: dict[str, Any]) -> str:
    return f"{row['id']:<9} {compact_flow(row['flow'])}"


def compact_flow(flow: str) -> str:
    """Write ``tcp/53 and udp/53`` as ``tcp,udp/53``."""
    parts = [part.split("/", 1) for part in flow.split(" and ")]
    if len(parts) > 1 and all(len(p) == 2 and p[1] == parts[0][1] for p in parts):
        return ",".join(p[0] for p in parts) + "/" + parts[0][1]
    return flow
