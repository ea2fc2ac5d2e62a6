"""Google Cloud VPC firewall rules in Terraform, as IR rulesets.

The firewall of a VPC network is the set of all its ``google_compute_firewall``
resources. For each direction, rules apply in priority order (lowest number
first, default 1000), a deny before an allow of equal priority, first match
wins, accepts are stateful. The implied rules at priority 65535 deny all
ingress and allow all egress. Target tags and service accounts decide which
instances a rule applies to. So there is one ruleset per network and target:
one for the instances that no targeted rule names, and one per target tag or
service account. An instance with several tags is not modelled as such.
Source tags and service accounts are Unknown sources. An ingress rule with no source at
all gets 0.0.0.0/0, and an egress rule with no destination gets 0.0.0.0/0,
as the Compute Engine API fills them in.

Findings point at the firewall resource, the unit a GCP user reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from seglint.formats._tf_module import Attr, Body, Instance, TfModule
from seglint.formats._tf_rules import (
    ACCEPT,
    DROP,
    Collector,
    Draft,
    Peer,
    Service,
    Term,
    address_terms,
    make_rules,
    number_of,
    policy,
    port_list,
    proto_term,
)
from seglint.formats._tf_values import UnknownValue, to_string
from seglint.ir import Action, Chain, Diagnostic, Match, ParseError, Rule, Span, Unknown
from seglint.space import DPORT, DST, SRC, addresses

logger = logging.getLogger(__name__)

FIREWALL = "google_compute_firewall"
PROTOCOLS = {
    "tcp": 6,
    "udp": 17,
    "icmp": 1,
    "esp": 50,
    "ah": 51,
    "sctp": 132,
    "ipip": 4,
}
PORT_PROTOCOLS = (6, 17, 132)
DEFAULT_PRIORITY = 1000
ANYWHERE_V4 = addresses(["0.0.0.0/0"])

Target = tuple[str, str]  # ("tag", "web") or ("service account", "a@b")


@dataclass
class _Entry:
    """One firewall resource instance, converted."""

    instance: Instance
    network: str
    direction: str  # "ingress", "egress" or "both" when unknown
    priority: float
    rules: list[tuple[str, int, Rule]]  # (direction, 0 deny / 1 allow, rule)
    targets: set[Target] | None  # None: every instance of the network
    target_unknown: Unknown | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def order(self) -> tuple[str, int]:
        span = self.instance.resource.span
        return span.path, span.line


def _network_key(attr: Attr | None) -> str:
    if attr is None:
        return "default"
    value = attr.value
    if isinstance(value, UnknownValue):
        path = value.path
        if path and len(path) >= 3 and path[0] == "google_compute_network":
            return f"google_compute_network.{path[1]}"
        return value.text
    return to_string(value).rstrip("/").rsplit("/", 1)[-1]


def _service(collector: Collector, block: Body) -> Service:
    attr = block.attr("protocol")
    if attr is None:
        raise ParseError("the allow or deny block has no protocol", block.span)
    if isinstance(attr.value, UnknownValue):
        return Service((collector.unknown(attr, "proto", attr.value),), ())
    name = to_string(attr.value).strip().lower()
    if name == "all":
        return Service()
    if name in PROTOCOLS:
        number = PROTOCOLS[name]
    elif name.isdigit() and 0 <= int(name) <= 255:
        number = int(name)
    else:
        raise ParseError(f"unknown protocol in {attr.name} ({attr.value!r})", attr.span)
    ports = block.attr("ports")
    if ports is None or number not in PORT_PROTOCOLS:
        return Service(proto_term(number), ())
    term = port_list(collector, ports, DPORT, "port")
    return Service(proto_term(number), term or ())


def _opaque(
    collector: Collector, attr: Attr | None, role: str, what: str
) -> list[Term]:
    if attr is None or attr.value in (None, [], ""):
        return []
    if isinstance(attr.value, UnknownValue):
        return [(collector.unknown(attr, role, attr.value),)]
    return [(collector.opaque(attr, role, what),)]


def _has_ranges(attr: Attr | None) -> bool:
    if attr is None:
        return False
    if isinstance(attr.value, UnknownValue):
        return True
    items = attr.value if isinstance(attr.value, list) else [attr.value]
    return any(item not in (None, "") for item in items)


def _peers(
    collector: Collector, body: Body, direction: str
) -> tuple[list[Peer], list[Peer]]:
    """Return (sources, destinations) of a firewall for one direction."""
    sources: list[Peer] = []
    ranges = body.attr("source_ranges")
    if _has_ranges(ranges):
        sources += [
            Peer("source_ranges", t)
            for t in address_terms(collector, ranges, SRC, "src")
        ]
    for name, what in (
        ("source_tags", "instances by network tag"),
        ("source_service_accounts", "instances by service account"),
    ):
        sources += [
            Peer(name, t) for t in _opaque(collector, body.attr(name), "src", what)
        ]
    destinations: list[Peer] = []
    ranges = body.attr("destination_ranges")
    if _has_ranges(ranges):
        destinations += [
            Peer("destination_ranges", t)
            for t in address_terms(collector, ranges, DST, "dst")
        ]
    if direction == "ingress":
        if not sources:
            sources = [Peer("", (Match(SRC, ANYWHERE_V4),))]
        return sources, destinations or [Peer("", ())]
    if not destinations:
        destinations = [Peer("", (Match(DST, ANYWHERE_V4),))]
    return sources or [Peer("", ())], destinations


def _targets(
    collector: Collector, body: Body
) -> tuple[set[Target] | None, Unknown | None]:
    found: set[Target] = set()
    for name, kind in (
        ("target_tags", "tag"),
        ("target_service_accounts", "service account"),
    ):
        attr = body.attr(name)
        if attr is None or attr.value in (None, []):
            continue
        if isinstance(attr.value, UnknownValue):
            return None, collector.unknown(attr, "target", attr.value)
        items = attr.value if isinstance(attr.value, list) else [attr.value]
        for item in items:
            if isinstance(item, UnknownValue):
                return None, collector.unknown(attr, "target", item)
            found.add((kind, to_string(item)))
    return (found or None), None


def _direction(collector: Collector, body: Body) -> tuple[str, Term]:
    attr = body.attr("direction")
    if attr is None:
        return "ingress", ()
    if isinstance(attr.value, UnknownValue):
        return "both", (collector.unknown(attr, "direction", attr.value),)
    text = to_string(attr.value).strip().lower()
    if text not in ("ingress", "egress"):
        raise ParseError(
            f"direction must be INGRESS or EGRESS (got {attr.value!r})", attr.span
        )
    return text, ()


def _entry(instance: Instance) -> _Entry:
    body = instance.body
    collector = Collector()
    collector.diagnostics.extend(instance.diagnostics)
    disabled = body.attr("disabled")
    if disabled is not None and disabled.value is True:
        collector.note(
            f"{instance.address} is disabled (disabled = true) and not evaluated",
            disabled.span,
        )
        return _Entry(instance, "", "", 0, [], None, None, collector.diagnostics)
    if disabled is not None and isinstance(disabled.value, UnknownValue):
        collector.warn(
            f"disabled is unknown ({disabled.value.text}); the rule is checked "
            "as enabled",
            disabled.span,
        )
    direction, direction_term = _direction(collector, body)
    priority_attr = body.attr("priority")
    priority: float = DEFAULT_PRIORITY
    if priority_attr is not None:
        if isinstance(priority_attr.value, UnknownValue):
            collector.warn(
                f"priority is unknown ({priority_attr.value.text}); the rule is "
                f"checked at priority {DEFAULT_PRIORITY}",
                priority_attr.span,
            )
        else:
            priority = number_of(priority_attr, 0, 65535)
    targets, target_unknown = _targets(collector, body)
    rules: list[tuple[str, int, Rule]] = []
    for kind, action, rank in (("deny", DROP, 0), ("allow", ACCEPT, 1)):
        for number, block in enumerate(body.blocks(kind)):
            service = _service(collector, block)
            rules += [
                (side, rank, rule)
                for side, rule in _rules(
                    collector,
                    body,
                    block,
                    kind,
                    number,
                    action,
                    service,
                    direction,
                    direction_term,
                    instance.address,
                )
            ]
    network = _network_key(body.attr("network"))
    return _Entry(
        instance,
        network,
        direction,
        priority,
        rules,
        targets,
        target_unknown,
        collector.diagnostics,
    )


def _rules(
    collector: Collector,
    body: Body,
    block: Body,
    kind: str,
    number: int,
    action: Action,
    service: Service,
    direction: str,
    direction_term: Term,
    address: str,
) -> list[tuple[str, Rule]]:
    result = []
    for side in ["ingress", "egress"] if direction == "both" else [direction]:
        sources, destinations = _peers(collector, body, side)
        text = f"{body.text} [{kind} {number + 1}]"
        if direction == "both":
            text += f" [{side}]"
        extra = collector.existence(block) + direction_term
        label = f"{address} ({kind}, {side})"
        rules = make_rules(
            body, action, [service], sources, label, extra, destinations, text=text
        )
        result += [(side, rule) for rule in rules]
    return result


def _scopes(entries: list[_Entry]) -> list[Target | None]:
    targets: set[Target] = set()
    for entry in entries:
        targets |= entry.targets or set()
    scopes: list[Target | None] = []
    if any(entry.targets is None for entry in entries) or not targets:
        scopes.append(None)
    scopes.extend(sorted(targets))
    return scopes


def _applies(entry: _Entry, scope: Target | None) -> bool:
    if entry.targets is None:
        return True
    return scope is not None and scope in entry.targets


def _chain(entries: list[_Entry], side: str, name: str, default: Rule) -> Chain:
    ranked: list[tuple[float, int, tuple[str, int], Rule]] = []
    for entry in entries:
        for rule_side, rank, rule in entry.rules:
            if rule_side != side:
                continue
            if entry.target_unknown is not None:
                rule = Rule(
                    rule.span,
                    (*rule.conditions, entry.target_unknown),
                    rule.action,
                    rule.text,
                    label=rule.label,
                )
            ranked.append((entry.priority, rank, entry.order, rule))
    # Lower priority numbers first, a deny before an allow of the same priority.
    ranked.sort(key=lambda item: item[:3])
    return Chain(name, tuple(item[3] for item in ranked), default)


def convert(module: TfModule) -> list[Draft]:
    """Return one draft per VPC network and target of the module's firewall rules."""
    networks: dict[str, list[_Entry]] = {}
    disabled_notes: list[_Entry] = []
    for resource in module.resources_of(FIREWALL):
        for instance in module.instances(resource):
            try:
                entry = _entry(instance)
            except ParseError as exc:
                module.fail(exc)
                continue
            if not entry.network:
                disabled_notes.append(entry)
                continue
            networks.setdefault(entry.network, []).append(entry)

    drafts: list[Draft] = []
    reported: set[int] = set()
    for network, entries in networks.items():
        entries.sort(key=lambda e: e.order)
        for scope in _scopes(entries):
            applicable = [e for e in entries if _applies(e, scope)]
            if not applicable:
                continue
            drafts.append(_draft(network, scope, applicable, reported))
    for entry in disabled_notes:
        if drafts:
            drafts[0].diagnostics.extend(entry.diagnostics)
    return drafts


def _draft(
    network: str, scope: Target | None, entries: list[_Entry], reported: set[int]
) -> Draft:
    first = entries[0]
    resource = first.instance.resource
    addresses_in = {entry.instance.address for entry in entries}
    if len(addresses_in) == 1:
        name = first.instance.address
    else:
        name = f"network {network}"
        name += f" ({scope[0]} {scope[1]})" if scope else " (every instance)"
    span: Span = resource.span
    where = f"network {network}" + (f" {scope[0]} {scope[1]}" if scope else "")
    ingress = _chain(
        entries,
        "ingress",
        f"{where} ingress",
        policy(span, DROP, f"implied deny ingress (priority 65535) of {where}"),
    )
    egress = _chain(
        entries,
        "egress",
        f"{where} egress",
        policy(span, ACCEPT, f"implied allow egress (priority 65535) of {where}"),
    )
    directives: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    for entry in entries:
        targeted = entry.targets is not None and scope in entry.targets
        if targeted or (scope is None and entry.targets is None):
            for key, value in entry.instance.resource.directives.items():
                directives.setdefault(key, value)
        if id(entry) not in reported:
            reported.add(id(entry))
            diagnostics.extend(entry.diagnostics)
    return Draft(
        home=resource.file.path,
        order=(span.path, span.line),
        name=name,
        cloud="gcp",
        layer="instance",
        inbound=[ingress],
        outbound=[egress],
        directives=directives,
        diagnostics=diagnostics,
    )
