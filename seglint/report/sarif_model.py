"""Typed SARIF 2.1.0 objects, the subset seglint writes, and their JSON form.

Field names are the SARIF property names in snake case. :func:`to_json`
turns them into camel case and leaves out fields that are None. Dictionaries
(property bags, fingerprints, URI base ids) keep their keys as they are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
    "sarif-schema-2.1.0.json"
)


@dataclass(frozen=True)
class Message:
    text: str
    markdown: str | None = None


@dataclass(frozen=True)
class ArtifactLocation:
    uri: str
    uri_base_id: str | None = None


@dataclass(frozen=True)
class Region:
    """Lines and columns start at 1; ``end_column`` is exclusive."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class PhysicalLocation:
    artifact_location: ArtifactLocation
    region: Region | None = None


@dataclass(frozen=True)
class Location:
    physical_location: PhysicalLocation
    id: int | None = None
    message: Message | None = None


@dataclass(frozen=True)
class ThreadFlowLocation:
    location: Location
    execution_order: int | None = None


@dataclass(frozen=True)
class ThreadFlow:
    locations: tuple[ThreadFlowLocation, ...]


@dataclass(frozen=True)
class CodeFlow:
    thread_flows: tuple[ThreadFlow, ...]
    message: Message | None = None


@dataclass(frozen=True)
class Suppression:
    kind: str  # "inSource" or "external"
    justification: str | None = None


@dataclass(frozen=True)
class Result:
    rule_id: str
    rule_index: int
    level: str
    message: Message
    locations: tuple[Location, ...]
    partial_fingerprints: dict[str, str]
    related_locations: tuple[Location, ...] | None = None
    code_flows: tuple[CodeFlow, ...] | None = None
    suppressions: tuple[Suppression, ...] | None = None
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReportingConfiguration:
    level: str


@dataclass(frozen=True)
class ReportingDescriptor:
    """A rule of the catalogue, as ``tool.driver.rules[]`` lists it."""

    id: str
    name: str | None = None
    short_description: Message | None = None
    full_description: Message | None = None
    help: Message | None = None
    default_configuration: ReportingConfiguration | None = None
    properties: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReportingDescriptorReference:
    id: str


@dataclass(frozen=True)
class ToolComponent:
    name: str
    version: str
    semantic_version: str
    information_uri: str
    rules: tuple[ReportingDescriptor, ...]


@dataclass(frozen=True)
class Tool:
    driver: ToolComponent


@dataclass(frozen=True)
class Notification:
    message: Message
    level: str
    descriptor: ReportingDescriptorReference | None = None
    locations: tuple[Location, ...] | None = None


@dataclass(frozen=True)
class Invocation:
    execution_successful: bool
    tool_execution_notifications: tuple[Notification, ...]


@dataclass(frozen=True)
class RunAutomationDetails:
    id: str


@dataclass(frozen=True)
class Run:
    tool: Tool
    results: tuple[Result, ...]
    invocations: tuple[Invocation, ...]
    original_uri_base_ids: dict[str, ArtifactLocation]
    automation_details: RunAutomationDetails
    column_kind: str = "unicodeCodePoints"
    properties: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class SarifLog:
    schema: str = field(default=SCHEMA_URI, metadata={"json": "$schema"})
    version: str = "2.1.0"
    runs: tuple[Run, ...]


def to_json(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {}
        for item in dataclasses.fields(value):
            member = getattr(value, item.name)
            if member is None:
                continue
            key = item.metadata.get("json", _camel(item.name))
            data[key] = to_json(member)
        return data
    if isinstance(value, dict):
        return {key: to_json(member) for key, member in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(member) for member in value]
    return value


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
