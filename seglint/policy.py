"""The SEG port table as loaded from ``policies/seg.yaml``.

The data file is the single source of the requirements (ports, protocols,
parties, versions, features) and of each rule's user-facing text.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from seglint.findings import RuleMeta
from seglint.resources import policy_path
from seglint.space import IntervalSet

logger = logging.getLogger(__name__)

PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17}
POLICY_FILE = "seg.yaml"
# The same data as JSON with the hash of the YAML text it came from. Loading
# it takes under 1 ms, and ruamel.yaml takes about 40 ms (2-core Xeon).
FAST_FILE = "seg.json"

# Roles whose default, when the configuration leaves them out, is the
# internet rather than any address.
INTERNET_ROLES = frozenset({"update-servers", "smtp-peers"})
SEG_ROLES = ("array-manager", "processing-nodes", "web-components")
DEFAULT_VERSION = (11, 1)


def parse_version(text: str) -> tuple[int, int]:
    """Parse "10.2", "8" or "8.x" into (major, minor); raise ValueError otherwise."""
    parts = str(text).strip().lower().split(".")
    if not parts or len(parts) > 3 or not parts[0].isdigit():
        raise ValueError(f"invalid SEG version {text!r} (expected major.minor such as 10.2)")
    major = int(parts[0])
    if len(parts) == 1 or parts[1] == "x":
        return (major, 0)
    if not parts[1].isdigit():
        raise ValueError(f"invalid SEG version {text!r} (expected major.minor such as 10.2)")
    return (major, int(parts[1]))


def parse_ports(text: str) -> IntervalSet:
    intervals = []
    for item in str(text).split(","):
        lo, _, hi = item.strip().partition("-")
        intervals.append((int(lo), int(hi or lo)))
    return IntervalSet(intervals)


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Requirement:
    """One entry of the port table: a required flow or a forbidden exposure."""

    rule_id: str
    kind: str  # "required" or "exposure"
    protocols: tuple[int, ...]
    ports: IntervalSet
    ports_text: str
    sources: tuple[str, ...]
    destinations: tuple[str, ...]
    min_version: tuple[int, int] | None
    max_version: tuple[int, int] | None
    feature: str | None
    exempt: tuple[str, ...]
    from_other_hosts: bool
    except_rules: tuple[str, ...]
    except_required: bool
    row: str

    def applies_to_version(self, version: tuple[int, int]) -> bool:
        if self.min_version is not None and version < self.min_version:
            return False
        return self.max_version is None or version <= self.max_version

    def flow_text(self) -> str:
        names = [name for name, number in PROTOCOL_NUMBERS.items() if number in self.protocols]
        return " and ".join(f"{name}/{self.ports_text}" for name in names)


@dataclass(frozen=True)
class PolicyData:
    requirements: tuple[Requirement, ...]
    rules: tuple[RuleMeta, ...]


def read_yaml(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(text)


def fast_form(text: str) -> dict[str, Any]:
    """Return the content of ``seg.json`` for the YAML text ``text``."""
    return {"yaml_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "data": read_yaml(text)}


def raw_policy() -> Any:
    """Return ``seg.yaml`` as plain data, from ``seg.json`` when that matches it.

    The YAML file stays the source of truth. The JSON copy is used only
    when it records the hash of the current YAML text. After an edit, the
    YAML is read with ruamel.yaml until ``python -m seglint.policy`` writes
    the copy again.
    """
    text = policy_path(POLICY_FILE).read_text(encoding="utf-8")
    try:
        fast = json.loads(policy_path(FAST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fast = None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if isinstance(fast, dict) and fast.get("yaml_sha256") == digest:
        return fast["data"]
    logger.debug("%s is missing or out of date; reading %s", FAST_FILE, POLICY_FILE)
    return read_yaml(text)


def write_fast_form() -> None:
    """Write ``policies/seg.json`` from ``policies/seg.yaml``."""
    text = policy_path(POLICY_FILE).read_text(encoding="utf-8")
    policy_path(FAST_FILE).write_text(
        json.dumps(fast_form(text), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@cache
def load_policy_data() -> PolicyData:
    """Load and validate ``policies/seg.yaml`` once per process."""
    data = raw_policy()
    rows: dict[str, str] = data["rows"]
    requirements = []
    for entry in data["requirements"]:
        versions = entry.get("versions") or [None, None]
        requirements.append(Requirement(
            rule_id=entry["rule"],
            kind=entry["kind"],
            protocols=tuple(PROTOCOL_NUMBERS[p] for p in entry["protocols"]),
            ports=parse_ports(entry["ports"]),
            ports_text=str(entry["ports"]),
            sources=_as_tuple(entry.get("source")),
            destinations=_as_tuple(entry.get("destination")),
            min_version=parse_version(versions[0]) if versions[0] else None,
            max_version=parse_version(versions[1]) if versions[1] else None,
            feature=entry.get("feature"),
            exempt=_as_tuple(entry.get("exempt")),
            from_other_hosts=entry.get("from") == "other-hosts",
            except_rules=_as_tuple(entry.get("except-rules")),
            except_required=bool(entry.get("except-required")),
            row=rows[entry["row"]],
        ))
    row_of = {req.rule_id: req.row for req in requirements if req.row}
    rules = []
    for rule_id, meta in sorted(data["rules"].items()):
        rules.append(RuleMeta(
            id=rule_id,
            name=meta["name"],
            level=meta["level"],
            short=meta["short"],
            full=meta["full"],
            fix=meta.get("fix", ""),
            fail_example=meta.get("fail", ""),
            pass_example=meta.get("pass", ""),
            row=row_of.get(rule_id, ""),
            tags=("security", "firewall", "seg"),
            security_severity=str(meta["severity"]),
        ))
    return PolicyData(tuple(requirements), tuple(rules))


def rule_catalogue() -> dict[str, RuleMeta]:
    return {rule.id: rule for rule in load_policy_data().rules}


if __name__ == "__main__":
    write_fast_form()
