"""CloudFormation templates (YAML or JSON): EC2 security groups.

Each ``AWS::EC2::SecurityGroup`` becomes a rule set named after its logical
ID, with its inline ``SecurityGroupIngress``/``SecurityGroupEgress`` items
and the ``AWS::EC2::SecurityGroupIngress``/``Egress`` resources attached to
it by ``GroupId: !Ref X``, ``!GetAtt X.GroupId`` or ``GroupName: !Ref X``.
A rule resource attached to a group outside the template gets a rule set of
its own.

Semantics are those of AWS security groups. A group accepts the union of its
allows, each stateful, and denies other inbound traffic. Outbound traffic to
every IPv4 and IPv6 address is allowed unless the group has a
``SecurityGroupEgress`` property with at least one item, because AWS adds
its allow-all egress rules only to groups created without egress rules.
Rule resources added later leave those rules in place.

Values are resolved from parameter defaults and mappings where possible
(:mod:`seglint.formats._cfn_intrinsics`); anything else is an unknown
condition with a SEG902 warning at its line. Not modelled: security groups
and prefix lists as peers (their members are known only to AWS), network
ACLs, and which instances a group is attached to. A ``# seglint: key=value``
comment directly above a resource goes to that rule set's directives.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from seglint.formats._cfn_intrinsics import (
    NO_VALUE,
    Resolver,
    Unresolved,
    as_intrinsic,
    render,
)
from seglint.formats._cfn_rules import ACCEPT, EntryContext, entry_rules
from seglint.formats._cfn_yaml import (
    item_position,
    key_position,
    last_line,
    load_template,
)
from seglint.formats.base import FileAccess, SourceFile
from seglint.hookspecs import hookimpl
from seglint.ir import (
    Action,
    Chain,
    Condition,
    Diagnostic,
    ParseError,
    ParseResult,
    Rule,
    Ruleset,
    Span,
    Unknown,
)

logger = logging.getLogger(__name__)

FORMAT_ID = "cloudformation"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
RULE_TYPES = {
    "AWS::EC2::SecurityGroupIngress": "ingress",
    "AWS::EC2::SecurityGroupEgress": "egress",
}
LIST_PROPERTY = {"ingress": "SecurityGroupIngress", "egress": "SecurityGroupEgress"}
NOT_MODELLED_TYPES = ("AWS::EC2::NetworkAcl", "AWS::EC2::NetworkAclEntry")
HOOK = {"ingress": "input", "egress": "output"}

_DIRECTIVE = re.compile(r"^\s*#\s*seglint:\s*(.*)$")
_DIRECTIVE_PAIR = re.compile(r"""([A-Za-z][\w-]*)=("[^"]*"|'[^']*'|\S+)""")
_RESOURCES_KEY = re.compile(r'^\s*Resources\s*:|"Resources"\s*:', re.MULTILINE)
_AWS_TYPE = re.compile(r"AWS::\w+::\w+")


@dataclass
class Group:
    """A security group of the template and the rules found for it."""

    logical_id: str
    span: Span  # the logical ID line
    rules: dict[str, list[Rule]] = field(
        default_factory=lambda: {"ingress": [], "egress": []}
    )
    egress_listed: bool = False  # SecurityGroupEgress has items: no default egress
    directives: dict[str, str] = field(default_factory=dict)


class CloudFormationFormat:
    """The ``cloudformation`` format."""

    id = FORMAT_ID
    # Templates are usually plain .yaml/.json; detect() decides for those.
    patterns: tuple[str, ...] = ("*.cfn.yaml", "*.cfn.yml", "*.cfn.json")

    def detect(self, path: str, head: str) -> int:
        if "AWSTemplateFormatVersion" in head:
            return 2
        if _RESOURCES_KEY.search(head) and _AWS_TYPE.search(head):
            return 2
        return 0

    def parse(self, source: SourceFile, files: FileAccess) -> ParseResult:
        return TemplateReader(source).read()


class TemplateReader:
    """Reads one template into rule sets."""

    def __init__(self, source: SourceFile) -> None:
        self.path = source.path
        self.lines = source.text.split("\n")
        self.template = load_template(source.text, source.path)
        self.resolver = Resolver(self.template)
        self.diagnostics: list[Diagnostic] = []

    def read(self) -> ParseResult:
        resources = self.template.get("Resources")
        if not isinstance(resources, dict):
            position = key_position(self.template, "Resources") or (1, 1)
            raise ParseError(
                "template has no Resources mapping", Span(self.path, *position)
            )

        groups: dict[str, Group] = {}
        rule_resources: list[tuple[str, dict[str, Any], Span]] = []
        for logical_id, resource in resources.items():
            if not isinstance(resource, dict):
                continue
            kind = resource.get("Type")
            span = self._resource_span(resources, logical_id, resource)
            if kind == SECURITY_GROUP and self._created(logical_id, resource, span):
                groups[str(logical_id)] = Group(str(logical_id), self._line_span(span))
                self._read_group(groups[str(logical_id)], resource, span)
            elif kind in RULE_TYPES and self._created(logical_id, resource, span):
                rule_resources.append((str(logical_id), resource, span))
            elif kind in NOT_MODELLED_TYPES:
                message = (
                    f"resource type not modelled ({kind}); its rules are not checked"
                )
                self.diagnostics.append(Diagnostic("SEG902", message, span, "note"))

        orphans = [self._read_rule_resource(groups, *item) for item in rule_resources]
        rulesets = [self._group_ruleset(group) for group in groups.values()]
        rulesets.extend(orphan for orphan in orphans if orphan is not None)
        logger.debug("%s: %d security groups", self.path, len(groups))
        return ParseResult(tuple(rulesets), tuple(self.diagnostics))

    # --- resources ------------------------------------------------------------

    def _resource_span(self, resources: Any, logical_id: Any, resource: Any) -> Span:
        line, column = key_position(resources, logical_id) or (1, 1)
        end = min(last_line(resource, line), len(self.lines))
        return Span(self.path, line, column, end, max(len(self.lines[end - 1]), 1))

    def _line_span(self, span: Span) -> Span:
        end_column = max(len(self.lines[span.line - 1].rstrip()), span.column)
        return Span(self.path, span.line, span.column, span.line, end_column)

    def _created(self, logical_id: Any, resource: dict[str, Any], span: Span) -> bool:
        """Return False for a resource whose Condition is false (it is not created)."""
        name = resource.get("Condition")
        if name is None:
            return True
        outcome = self.resolver.condition(name)
        if outcome is False:
            message = (
                f"resource {logical_id} is not created (condition {name} is false)"
            )
            self.diagnostics.append(Diagnostic("SEG902", message, span, "note"))
            return False
        if outcome is None:
            message = (
                f"resource {logical_id} exists only when condition {name} is true, "
                "which depends on values not in the template; it is checked as created"
            )
            self.diagnostics.append(Diagnostic("SEG902", message, span, "warning"))
        return True

    def _read_group(self, group: Group, resource: dict[str, Any], span: Span) -> None:
        group.directives = self._directives(span.line)
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            return
        for direction, key in LIST_PROPERTY.items():
            if key not in properties:
                continue
            position = key_position(properties, key) or (span.line, span.column)
            key_span = self._line_span(Span(self.path, *position))
            rules, listed = self._read_list(
                group.logical_id, direction, properties[key], key_span, ()
            )
            group.rules[direction].extend(rules)
            if direction == "egress":
                group.egress_listed = listed

    def _read_list(
        self,
        group: str,
        direction: str,
        value: Any,
        span: Span,
        extra: tuple[Condition, ...],
    ) -> tuple[list[Rule], bool]:
        """Return the rules of an inline list and whether it has at least one item."""
        function = as_intrinsic(value, span.line, span.column)
        if function is not None and function.name == "Fn::If":
            return self._read_if_list(group, direction, function, span, extra)
        if function is not None or not isinstance(value, list):
            resolved = self.resolver.resolve(value, span.line, span.column)
            if resolved is NO_VALUE:
                return [], False
            if not isinstance(resolved, list) or any(
                isinstance(item, Unresolved) for item in resolved
            ):
                return [self._unknown_list(group, direction, value, span, extra)], True
            value = resolved

        rules: list[Rule] = []
        listed = False
        for index, item in enumerate(value):
            item_span = self._item_span(value, index, item, span)
            for entry, conditions in self._branches(item, item_span, extra):
                listed = True
                context = self._context(group, direction, item_span, conditions)
                rules.extend(entry_rules(entry, context))
        return rules, listed

    def _read_if_list(
        self,
        group: str,
        direction: str,
        function: Any,
        span: Span,
        extra: tuple[Condition, ...],
    ) -> tuple[list[Rule], bool]:
        args = function.value
        if not (isinstance(args, list) and len(args) == 3):
            return [self._unknown_list(group, direction, function, span, extra)], True
        outcome = self.resolver.condition(args[0])
        if outcome is not None:
            chosen = args[1] if outcome else args[2]
            return self._read_list(group, direction, chosen, span, extra)
        if direction == "egress":
            # Whether AWS keeps its default egress rules depends on the branch.
            return [self._unknown_list(group, direction, function, span, extra)], True
        rules: list[Rule] = []
        for branch, negated in ((args[1], False), (args[2], True)):
            condition = self._condition_unknown(args[0], function.line, negated)
            found, _ = self._read_list(
                group, direction, branch, span, (*extra, condition)
            )
            rules.extend(found)
        return rules, True

    def _branches(
        self, item: Any, span: Span, extra: tuple[Condition, ...]
    ) -> list[tuple[Any, tuple[Condition, ...]]]:
        """Return the entries an item stands for, expanding an Fn::If item."""
        function = as_intrinsic(item, span.line, span.column)
        if function is None or function.name != "Fn::If":
            resolved = (
                self.resolver.resolve(item, span.line, span.column)
                if function
                else item
            )
            if resolved is NO_VALUE:
                return []
            return [(resolved if function else item, extra)]
        args = function.value
        if not (isinstance(args, list) and len(args) == 3):
            return [(item, extra)]
        outcome = self.resolver.condition(args[0])
        choices = ((args[1], False), (args[2], True))
        result: list[tuple[Any, tuple[Condition, ...]]] = []
        for branch, negated in choices:
            if outcome is not None and outcome == negated:
                continue
            if self.resolver.resolve(branch) is NO_VALUE:
                continue
            conditions = extra
            if outcome is None:
                unknown = self._condition_unknown(args[0], function.line, negated)
                conditions = (*extra, unknown)
            result.extend(self._branches(branch, span, conditions))
        return result

    def _condition_unknown(self, name: Any, line: int, negated: bool) -> Unknown:
        span = Span(self.path, line, 1, line, max(len(self.lines[line - 1]), 1))
        text = f"condition {render(name)}"
        if not negated:
            message = (
                f"condition is not known ({render(name)}); rules that depend on it "
                'say "may"'
            )
            self.diagnostics.append(Diagnostic("SEG902", message, span, "warning"))
        return Unknown(text, span, f"cfn:condition:{render(name)}", negated=negated)

    def _unknown_list(
        self,
        group: str,
        direction: str,
        value: Any,
        span: Span,
        extra: tuple[Condition, ...],
    ) -> Rule:
        key = LIST_PROPERTY[direction]
        text = f"{key} {render(value)}"
        message = (
            f"{key} is not resolved ({render(value)}); "
            'checks that depend on it say "may"'
        )
        self.diagnostics.append(Diagnostic("SEG902", message, span, "warning"))
        condition = Unknown(text, span, f"cfn:{text}")
        return Rule(span, (*extra, condition), ACCEPT, f"{group} {text}")

    def _item_span(self, sequence: Any, index: int, item: Any, fallback: Span) -> Span:
        """Return the span of a list item, from its ``- `` to its last line."""
        position = item_position(sequence, index)
        if position is None:
            return fallback
        line, column = position
        text = self.lines[line - 1]
        dash = text.rfind("-", 0, column - 1)
        if dash >= 0 and not text[dash + 1 : column - 1].strip():
            column = dash + 1
        end = min(last_line(item, line), len(self.lines))
        return Span(self.path, line, column, end, max(len(self.lines[end - 1]), 1))

    def _context(
        self, group: str, direction: str, span: Span, extra: tuple[Condition, ...]
    ) -> EntryContext:
        context = EntryContext(self.path, group, direction, span, self.resolver, extra)
        context.diagnostics = self.diagnostics
        context.lines = self.lines
        return context

    def _read_rule_resource(
        self,
        groups: dict[str, Group],
        logical_id: str,
        resource: dict[str, Any],
        span: Span,
    ) -> Ruleset | None:
        """Attach a rule resource to its group; return a rule set if none is here."""
        direction = RULE_TYPES[resource["Type"]]
        properties = resource.get("Properties")
        entry = properties if isinstance(properties, dict) else {}
        extra: tuple[Condition, ...] = ()
        name = resource.get("Condition")
        if name is not None and self.resolver.condition(name) is None:
            extra = (self._condition_unknown(name, span.line, False),)

        target = self._target_group(entry, groups)
        if target is not None:
            context = self._context(target.logical_id, direction, span, extra)
            target.rules[direction].extend(entry_rules(entry, context))
            return None

        context = self._context(logical_id, direction, span, extra)
        rules = entry_rules(entry, context)
        reference = render(entry.get("GroupId", entry.get("GroupName")))
        message = (
            f"{logical_id} adds a rule to a security group outside this template "
            f"({reference}); it is checked as a group with only this rule"
        )
        self.diagnostics.append(Diagnostic("SEG902", message, span, "note"))
        line_span = self._line_span(span)
        chain = Chain(
            direction, tuple(rules), self._deny_policy(logical_id, direction, line_span)
        )
        return Ruleset(
            path=self.path,
            format=FORMAT_ID,
            chains={direction: chain},
            hooks={HOOK[direction]: (direction,)},
            families=frozenset({4, 6}),
            kind="host",
            directives=self._directives(span.line),
            name=logical_id,
        )

    def _target_group(
        self, entry: dict[str, Any], groups: dict[str, Group]
    ) -> Group | None:
        for key in ("GroupId", "GroupName"):
            function = as_intrinsic(entry.get(key))
            if function is None:
                continue
            target: Any = None
            if function.name == "Ref":
                target = function.value
            elif function.name == "Fn::GetAtt" and key == "GroupId":
                value = function.value
                if isinstance(value, str):
                    value = value.split(".", 1)
                if (
                    isinstance(value, list)
                    and len(value) == 2
                    and value[1] == "GroupId"
                ):
                    target = value[0]
            if isinstance(target, str) and target in groups:
                return groups[target]
        return None

    # --- rule sets ------------------------------------------------------------

    def _deny_policy(self, logical_id: str, direction: str, span: Span) -> Rule:
        word = "inbound" if direction == "ingress" else "outbound"
        text = f"security group {logical_id} default deny {word}"
        return Rule(span, (), Action("drop"), text, implicit=True, label=text)

    def _group_ruleset(self, group: Group) -> Ruleset:
        ingress = Chain(
            "ingress",
            tuple(group.rules["ingress"]),
            self._deny_policy(group.logical_id, "ingress", group.span),
        )
        if group.egress_listed:
            egress_policy = self._deny_policy(group.logical_id, "egress", group.span)
        else:
            text = f"security group {group.logical_id} default egress rule (allow all)"
            egress_policy = Rule(
                group.span, (), ACCEPT, text, implicit=True, label=text
            )
        egress = Chain("egress", tuple(group.rules["egress"]), egress_policy)
        return Ruleset(
            path=self.path,
            format=FORMAT_ID,
            chains={"ingress": ingress, "egress": egress},
            hooks={"input": ("ingress",), "output": ("egress",)},
            families=frozenset({4, 6}),
            kind="host",
            directives=group.directives,
            name=group.logical_id,
        )

    def _directives(self, line: int) -> dict[str, str]:
        """Return the ``# seglint: key=value`` pairs in the comments above a line."""
        found: dict[str, str] = {}
        index = line - 2
        while index >= 0 and self.lines[index].lstrip().startswith("#"):
            match = _DIRECTIVE.match(self.lines[index])
            if match:
                for key, value in _DIRECTIVE_PAIR.findall(match.group(1)):
                    if key != "disable" and key != "reason":
                        found.setdefault(key, value.strip("\"'"))
            index -= 1
        return found


@hookimpl
def seglint_formats() -> list[CloudFormationFormat]:
    return [CloudFormationFormat()]
