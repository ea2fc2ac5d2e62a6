"""SARIF rule descriptors (``tool.driver.rules[]``) built from the rule catalogue."""

from __future__ import annotations

import logging

from seglint.findings import RuleMeta
from seglint.report.sarif_model import (
    Message,
    ReportingConfiguration,
    ReportingDescriptor,
)

logger = logging.getLogger(__name__)

# Column names of the SEG port table, for showing a rule's row as a Markdown table.
PORT_TABLE_COLUMNS = (
    "Port",
    "Direction",
    "Source",
    "Destination",
    "Required for Versions",
    "Explanation",
)

# GitHub code scanning sorts alerts by precision (very-high, high, medium, low).
# The engine's results are exact except for "may" findings, so rules are "high"
# unless their metadata sets a precision.
DEFAULT_PRECISION = "high"


def rule_descriptor(meta: RuleMeta) -> ReportingDescriptor:
    return ReportingDescriptor(
        id=meta.id,
        name=meta.name or None,
        short_description=Message(meta.short) if meta.short else None,
        full_description=Message(meta.full) if meta.full else None,
        help=rule_help(meta),
        default_configuration=ReportingConfiguration(level=meta.level),
        properties=_rule_properties(meta),
    )


def rule_help(meta: RuleMeta) -> Message:
    """Build the help text and Markdown: port table row, fix, FAIL and PASS examples."""
    text: list[str] = [meta.full or meta.short]
    markdown: list[str] = [meta.full or meta.short]

    if meta.row:
        text.append(f"Port table row: {_one_line(meta.row)}")
        markdown.append("**Port table row**\n\n" + _row_markdown(meta.row))
    if meta.fix:
        text.append(f"How to fix: {meta.fix}")
        markdown.append(f"**How to fix:** {meta.fix}")
    if meta.fail_example:
        text.append("FAIL example:\n" + _indented(meta.fail_example))
        markdown.append("**FAIL**\n\n" + _code_block(meta.fail_example))
    if meta.pass_example:
        text.append("PASS example:\n" + _indented(meta.pass_example))
        markdown.append("**PASS**\n\n" + _code_block(meta.pass_example))

    return Message(text="\n\n".join(text), markdown="\n\n".join(markdown))


def _rule_properties(meta: RuleMeta) -> dict[str, object]:
    properties: dict[str, object] = {
        "tags": list(meta.tags),
        "precision": getattr(meta, "precision", DEFAULT_PRECISION),
    }
    try:
        # GitHub reads the score as a string holding a number from 0.0 to 10.0,
        # and only for rules tagged "security".
        properties["security-severity"] = f"{float(meta.security_severity):.1f}"
    except ValueError:
        logger.debug(
            "invalid security severity (%r) of rule %s, left out",
            meta.security_severity,
            meta.id,
        )
    return properties


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _row_markdown(row: str) -> str:
    """Show the row as a table when it has the port table's columns, else as a quote."""
    cells = [_one_line(cell) for cell in row.strip().strip("|").split("|")]
    if len(cells) != len(PORT_TABLE_COLUMNS):
        return f"> {_one_line(row)}"
    lines = [
        "| " + " | ".join(PORT_TABLE_COLUMNS) + " |",
        "|" + "---|" * len(PORT_TABLE_COLUMNS),
        "| " + " | ".join(cells) + " |",
    ]
    return "\n".join(lines)


def _indented(example: str) -> str:
    return "\n".join(f"    {line}" for line in example.strip("\n").splitlines())


def _code_block(example: str) -> str:
    # A fence longer than any run of backticks in the example cannot end early.
    fence = "```"
    while fence in example:
        fence += "`"
    return f"{fence}text\n{example.strip(chr(10))}\n{fence}"
