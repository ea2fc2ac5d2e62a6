"""The flow matrix: every row of the SEG port table against every rule set.

When a run requests it, the SEG policy records a :class:`FlowCheck` for
each source, destination and hook it checks. The matrix therefore comes
from the same engine queries as the findings.
This module turns those records into cells and a plain JSON document,
which the text, JSON and HTML renderers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seglint import __version__

if TYPE_CHECKING:
    from seglint.findings import Packet
    from seglint.ir import Diagnostic, Rule
    from seglint.policy import Requirement

SCHEMA = "seglint-matrix/1"
ALLOWED, BLOCKED, EXPOSED, MAY, NOT_APPLICABLE = "allowed", "blocked", "exposed", "may", "n/a"
VERDICTS = {
    ALLOWED: "the required flow is accepted",
    BLOCKED: "the flow, or the protected port, is dropped",
    EXPOSED: "the protected port is reachable from untrusted networks",
    MAY: "the answer depends on a construct seglint cannot model",
    NOT_APPLICABLE: "the row does not apply to this rule set; the reason says why",
}
# A cell shows the worst of its checks; a blocked required flow or an
# exposed port outweighs the parts that work.
_RANK = {NOT_APPLICABLE: 0, ALLOWED: 1, MAY: 2, BLOCKED: 3, EXPOSED: 3}


def is_met(kind: str, verdict: str) -> bool | None:
    """Return whether a verdict meets its row; None for "may" and "n/a".

    A required flow is met when it is allowed, a protected port when it is blocked.
    """
    if verdict in (MAY, NOT_APPLICABLE):
        return None
    if kind == "required":
        return verdict == ALLOWED
    return verdict == BLOCKED


@dataclass(frozen=True)
class FlowCheck:
    """One query behind a cell: a source, a destination and the hook that decides."""

    verdict: str
    message: str
    hook: str | None = None
    source: str = ""
    destination: str = ""
    rule: Rule | None = None
    witness: Packet | None = None
    reply: bool = False  # the rule decided the replies of the flow


@dataclass(frozen=True)
class Column:
    """A rule set, as the matrix names it."""

    path: str
    name: str
    format: str
    mode: str
    role: str | None
    # Constructs the engine cannot model (SEG902): the causes of "may" verdicts.
    unknowns: tuple[Diagnostic, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.path} ({self.name})" if self.name else self.path


@dataclass
class Cell:
    requirement: str
    verdict: str
    summary: str
    rule: Rule | None
    witness: Packet | None
    checks: tuple[FlowCheck, ...]
    reason: str = ""


@dataclass
class Matrix:
    requirements: list[Requirement]
    columns: list[Column]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (column, row)
    version: str = ""
    errors: list[Diagnostic] = field(default_factory=list)  # files left out of the matrix

    def cell(self, column: int, row: int) -> Cell:
        return self.cells[(column, row)]

    def row_keys(self) -> list[str]:
        """Name each row by its rule id, numbered where a rule has several rows."""
        counts: dict[str, int] = {}
        for req in self.requirements:
            counts[req.rule_id] = counts.get(req.rule_id, 0) + 1
        seen: dict[str, int] = {}
        keys = []
        for req in self.requirements:
            if counts[req.rule_id] == 1:
                keys.append(req.rule_id)
                continue
            seen[req.rule_id] = seen.get(req.rule_id, 0) + 1
            keys.append(f"{req.rule_id}.{seen[req.rule_id]}")
        return keys

    def to_dict(self, titles: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
        """Return the JSON document; ``titles`` maps a rule id to its name and title."""
        titles = titles or {}
        ids = {index: f"r{index + 1}" for index in range(len(self.columns))}
        rulesets = [{
            "id": ids[index],
            "path": column.path,
            "name": column.name,
            "format": column.format,
            "label": column.label,
            "mode": column.mode,
            "role": column.role,
            "unknowns": [_diagnostic_dict(item) for item in column.unknowns],
        } for index, column in enumerate(self.columns)]
        keys = self.row_keys()
        requirements = []
        for key, req in zip(keys, self.requirements):
            name, title = titles.get(req.rule_id, ("", ""))
            requirements.append({
                "id": key,
                "rule": req.rule_id,
                "name": name,
                "kind": req.kind,
                "flow": req.flow_text(),
                "source": ", ".join(req.sources) if req.kind == "required"
                else "untrusted networks",
                "destination": ", ".join(req.destinations),
                "title": title,
                "row": req.row,
            })
        cells = []
        for row, key in enumerate(keys):
            for index in range(len(self.columns)):
                cell = self.cells[(index, row)]
                cells.append({
                    "requirement": key,
                    "ruleset": ids[index],
                    "verdict": cell.verdict,
                    "met": is_met(self.requirements[row].kind, cell.verdict),
                    "reason": cell.reason,
                    "summary": cell.summary,
                    "rule": _rule_dict(cell.rule),
                    "witness": _packet_dict(cell.witness),
                    "checks": [_check_dict(check) for check in cell.checks],
                })
        return {
            "schema": SCHEMA,
            "tool": {"name": "seglint", "version": __version__},
            "seg_version": self.version,
            "verdicts": dict(VERDICTS),
            "rulesets": rulesets,
            "requirements": requirements,
            "cells": cells,
            "errors": [_diagnostic_dict(item) for item in self.errors],
        }


def build(requirements: Sequence[Requirement],
          recorded: Sequence[tuple[Column, list[tuple[Requirement, FlowCheck]]]],
          version: str = "", errors: Sequence[Diagnostic] = ()) -> Matrix:
    """Make one cell per port table entry and rule set from the recorded checks."""
    matrix = Matrix(list(requirements), [column for column, _ in recorded], version=version,
                    errors=list(errors))
    for index, (_, checks) in enumerate(recorded):
        by_entry: dict[int, list[FlowCheck]] = {}
        for req, check in checks:
            by_entry.setdefault(id(req), []).append(check)
        for row, req in enumerate(requirements):
            matrix.cells[(index, row)] = _cell(req.rule_id, by_entry.get(id(req), []))
    return matrix


def _cell(rule_id: str, checks: list[FlowCheck]) -> Cell:
    if not checks:
        return Cell(rule_id, NOT_APPLICABLE, "not checked", None, None, (),
                    "not checked: no policy checked this row for this rule set")
    worst = max(checks, key=lambda check: _RANK[check.verdict])
    if worst.verdict == NOT_APPLICABLE:
        reasons = list(dict.fromkeys(check.message for check in checks))
        # A pair of roles that does not cross this firewall is irrelevant when
        # another pair crosses it and has a reason of its own.
        crossing = [reason for reason in reasons if not reason.startswith("not crossing")]
        reasons = crossing or reasons
        return Cell(rule_id, NOT_APPLICABLE, "not applicable", None, None, tuple(checks),
                    "; ".join(reasons))
    return Cell(rule_id, worst.verdict, worst.message, worst.rule, worst.witness,
                tuple(checks))


def _diagnostic_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {"rule": diagnostic.rule_id, "path": span.path, "line": span.line,
            "column": span.column, "message": diagnostic.message}


def _rule_dict(rule: Rule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    span = rule.span
    return {
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line or span.line,
        "end_column": span.end_column or span.column,
        # A policy or an implicit default reads better by its label.
        "text": rule.label if rule.label and (not rule.conditions or rule.implicit)
        else rule.text or rule.label,
    }


def _packet_dict(packet: Packet | None) -> dict[str, Any] | None:
    if packet is None:
        return None
    return {
        "protocol": packet.as_dict()["protocol"],
        "src": packet.src,
        "sport": packet.sport,
        "dst": packet.dst,
        "dport": packet.dport,
        "icmp_type": packet.icmp_type,
        "icmp_code": packet.icmp_code,
        "iif": packet.iif,
        "oif": packet.oif,
        "state": packet.state,
        "text": str(packet),
    }


def _check_dict(check: FlowCheck) -> dict[str, Any]:
    return {
        "hook": check.hook,
        "from": check.source,
        "to": check.destination,
        "verdict": check.verdict,
        "reply": check.reply,
        "message": check.message,
        "rule": _rule_dict(check.rule),
        "witness": _packet_dict(check.witness),
    }
