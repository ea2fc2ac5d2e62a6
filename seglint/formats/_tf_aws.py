"""AWS security groups and network ACLs in Terraform, as IR rulesets.

Security groups are a union of allows: each rule is a stateful accept and a
packet that no rule accepts is dropped (an implicit policy shown at the
resource). AWS gives a new VPC security group an allow-all egress rule, but
Terraform deletes it when it creates the group (``aws_security_group``
documentation, "Usage with VPC"), so a Terraform group without egress rules
denies all egress.

Network ACLs are stateless and ordered: rules by ``rule_number``, first
match wins, ``allow`` or ``deny``, and an implicit deny-all (AWS's ``*``
rule) at the end.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from seglint.formats._tf_module import Attr, Body, Instance, Resource, TfModule
from seglint.formats._tf_rules import (
    ACCEPT,
    ACCEPT_STATELESS,
    ANY_SERVICE,
    DROP,
    ICMP_PROTOCOLS,
    Collector,
    Draft,
    Peer,
    Service,
    Term,
    address_terms,
    icmp_term,
    make_rules,
    number_of,
    policy,
    port_term,
    proto_term,
    protocol_number,
)
from seglint.formats._tf_values import UnknownValue, Value, to_string
from seglint.ir import Action, Chain, ParseError, Rule, Span
from seglint.space import DST, SRC

logger = logging.getLogger(__name__)

SG_TYPES = ("aws_security_group", "aws_default_security_group")
SG_RULE = "aws_security_group_rule"
VPC_RULES = {
    "aws_vpc_security_group_ingress_rule": "ingress",
    "aws_vpc_security_group_egress_rule": "egress",
}
NACL_TYPES = ("aws_network_acl", "aws_default_network_acl")
NACL_RULE = "aws_network_acl_rule"
# AWS security group and NACL port ranges apply to these protocols. Any other
# protocol number matches all of its traffic, whatever the port attributes hold.
PORT_PROTOCOLS = (6, 17)


@dataclass
class _Group:
    """The rules collected for one security group or network ACL."""

    address: str
    span: Span
    home: str
    order: tuple[str, int]
    directives: dict[str, str]
    created: bool  # a resource of this module, as opposed to an id it only names
    ingress: list[tuple[float, Rule]] = field(default_factory=list)
    egress: list[tuple[float, Rule]] = field(default_factory=list)
    collector: Collector = field(default_factory=Collector)


def _direction_peer(direction: str) -> tuple[str, str]:
    return (SRC, "src") if direction == "ingress" else (DST, "dst")


# --- services -------------------------------------------------------------------------


def _protocol(collector: Collector, attr: Attr | None, body: Body) -> int | None | Term:
    """Return a protocol number, None for every protocol, or an Unknown term."""
    if attr is None:
        raise ParseError("the rule has no protocol", body.span)
    if isinstance(attr.value, UnknownValue):
        return (collector.unknown(attr, "proto", attr.value),)
    text = to_string(attr.value).strip().lower()
    if text in ("-1", "all"):
        return None
    return protocol_number(text, attr)


def _bound(
    collector: Collector, attr: Attr | None, low: int, high: int
) -> int | Term | None:
    if attr is None:
        return None
    if isinstance(attr.value, UnknownValue):
        return (collector.unknown(attr, "port", attr.value),)
    return number_of(attr, low, high)


def sg_service(
    collector: Collector,
    body: Body,
    protocol_name: str = "protocol",
    from_name: str = "from_port",
    to_name: str = "to_port",
    icmp_names: tuple[str, str] | None = None,
) -> Service:
    """Return the service of an AWS rule (security group or network ACL entry).

    Protocol ``-1``/``all`` is every protocol and every port, whatever the
    port attributes hold. For ICMP the type and code come from ``from_port``
    and ``to_port`` (security groups) or ``icmp_type``/``icmp_code`` (ACLs),
    -1 meaning all.
    """
    proto = _protocol(collector, body.attr(protocol_name), body)
    if proto is None:
        return ANY_SERVICE
    if isinstance(proto, tuple):
        return Service(proto, ())
    if proto in PORT_PROTOCOLS:
        first = _bound(collector, body.attr(from_name), -1, 65535)
        last = _bound(collector, body.attr(to_name), -1, 65535)
        if isinstance(first, tuple):
            return Service(proto_term(proto), first)
        if isinstance(last, tuple):
            return Service(proto_term(proto), last)
        if first is None or last is None:
            missing = from_name if first is None else to_name
            raise ParseError(f"{missing} is missing for protocol {proto}", body.span)
        if first == -1 and last == -1:
            return Service(proto_term(proto), ())
        if first < 0 or last < 0:
            raise ParseError(
                f"port -1 needs both {from_name} and {to_name} at -1", body.span
            )
        if last < first:
            raise ParseError(f"port range is reversed ({first} > {last})", body.span)
        return Service(proto_term(proto), port_term(first, last))
    if proto in ICMP_PROTOCOLS:
        type_name, code_name = icmp_names or (from_name, to_name)
        icmp_type = _bound(collector, body.attr(type_name), -1, 255)
        icmp_code = _bound(collector, body.attr(code_name), -1, 255)
        if isinstance(icmp_type, tuple) or isinstance(icmp_code, tuple):
            unknown = icmp_type if isinstance(icmp_type, tuple) else icmp_code
            return Service(proto_term(proto), unknown)  # type: ignore[arg-type]
        icmp_type = -1 if icmp_type is None else icmp_type
        icmp_code = -1 if icmp_code is None else icmp_code
        return Service(proto_term(proto), icmp_term(icmp_type, icmp_code))
    return Service(proto_term(proto), ())


# --- peers ----------------------------------------------------------------------------


def _flag(collector: Collector, attr: Attr | None, role: str, what: str) -> list[Term]:
    if attr is None or attr.value is None or attr.value is False:
        return []
    if isinstance(attr.value, UnknownValue):
        return [(collector.unknown(attr, role, attr.value),)]
    if attr.value is True or attr.value == "true":
        return [(collector.opaque(attr, role, what),)]
    return []


def _opaque_list(
    collector: Collector, attr: Attr | None, role: str, what: str
) -> list[Term]:
    if attr is None or attr.value is None or attr.value == [] or attr.value == "":
        return []
    if isinstance(attr.value, UnknownValue):
        return [(collector.unknown(attr, role, attr.value),)]
    return [(collector.opaque(attr, role, what),)]


def sg_peers(collector: Collector, body: Body, direction: str) -> list[Peer]:
    """Return every peer kind of an inline block or ``aws_security_group_rule``."""
    dim, role = _direction_peer(direction)
    peers: list[Peer] = []
    for name in ("cidr_blocks", "ipv6_cidr_blocks"):
        peers += [
            Peer(name, t) for t in address_terms(collector, body.attr(name), dim, role)
        ]
    opaque = (
        ("prefix_list_ids", "managed prefix lists", _opaque_list),
        ("security_groups", "security groups", _opaque_list),
        ("source_security_group_id", "a security group", _opaque_list),
        ("self", "members of this security group", _flag),
    )
    for name, what, reader in opaque:
        peers += [Peer(name, t) for t in reader(collector, body.attr(name), role, what)]
    return peers


def vpc_rule_peers(collector: Collector, body: Body, direction: str) -> list[Peer]:
    dim, role = _direction_peer(direction)
    peers: list[Peer] = []
    for name in ("cidr_ipv4", "cidr_ipv6"):
        peers += [
            Peer(name, t) for t in address_terms(collector, body.attr(name), dim, role)
        ]
    for name, what in (
        ("prefix_list_id", "a managed prefix list"),
        ("referenced_security_group_id", "a security group"),
    ):
        peers += [
            Peer(name, t) for t in _opaque_list(collector, body.attr(name), role, what)
        ]
    return peers


# --- resolution of group references ---------------------------------------------------


def _reference(value: Value, types: tuple[str, ...]) -> tuple[str, Value] | None:
    """Return (resource address, instance key or None) of ``X.name[key].id``."""
    if not isinstance(value, UnknownValue) or value.path is None:
        return None
    path = value.path
    if len(path) < 3 or path[0] not in types or path[-1] != "id":
        return None
    if len(path) == 3:
        return f"{path[0]}.{path[1]}", None
    if len(path) == 4:
        return f"{path[0]}.{path[1]}", path[2]
    return None


def _targets(
    groups: dict[str, list[tuple[Instance, _Group]]],
    attr: Attr | None,
    types: tuple[str, ...],
) -> list[_Group] | None:
    if attr is None:
        return None
    reference = _reference(attr.value, types)
    if reference is None:
        return None
    address, key = reference
    candidates = groups.get(address)
    if not candidates:
        return None
    if key is None or isinstance(key, UnknownValue):
        return [group for _, group in candidates]
    return [group for instance, group in candidates if instance.key == key]


def _standalone_key(attr: Attr | None, instance: Instance) -> str:
    if attr is None:
        return f"{instance.address} (no group)"
    if isinstance(attr.value, UnknownValue):
        return attr.value.text
    return to_string(attr.value)


def _new_group(instance: Instance, created: bool) -> _Group:
    resource = instance.resource
    group = _Group(
        address=instance.address,
        span=resource.span,
        home=resource.file.path,
        order=(resource.file.path, resource.span.line),
        directives=dict(resource.directives),
        created=created,
    )
    group.collector.diagnostics.extend(instance.diagnostics)
    return group


# --- security groups ------------------------------------------------------------------


def _block_rules(
    collector: Collector, body: Body, label: str, peers: list[Peer]
) -> list[Rule]:
    service = sg_service(collector, body)
    extra = collector.existence(body)
    return make_rules(body, ACCEPT, [service], peers, label, extra)


def _security_groups(module: TfModule) -> list[Draft]:
    groups: dict[str, list[tuple[Instance, _Group]]] = {}
    ordered: list[_Group] = []
    for resource in module.resources_of(*SG_TYPES):
        for instance in module.instances(resource):
            group = _new_group(instance, created=True)
            try:
                for direction in ("ingress", "egress"):
                    for body in instance.body.blocks(direction):
                        peers = sg_peers(group.collector, body, direction)
                        label = f"{direction} of {instance.address}"
                        rules = _block_rules(group.collector, body, label, peers)
                        getattr(group, direction).extend((0, rule) for rule in rules)
            except ParseError as exc:
                module.fail(exc)
                continue
            groups.setdefault(resource.address, []).append((instance, group))
            ordered.append(group)

    standalone: dict[str, _Group] = {}
    rule_resources = module.resources_of(SG_RULE, *VPC_RULES)
    for resource in sorted(rule_resources, key=lambda r: (r.file.path, r.span.line)):
        for instance in module.instances(resource):
            body = instance.body
            target_attr = body.attr("security_group_id")
            targets = _targets(groups, target_attr, SG_TYPES)
            if not targets:
                key = _standalone_key(target_attr, instance)
                if key not in standalone:
                    standalone[key] = _new_group(instance, created=False)
                    ordered.append(standalone[key])
                elif instance.diagnostics:
                    standalone[key].collector.diagnostics.extend(instance.diagnostics)
                targets = [standalone[key]]
            for group in targets:
                try:
                    kind, rules = _rule_resource(group.collector, resource, instance)
                except ParseError as exc:
                    module.fail(exc)
                    break
                if kind is not None:
                    getattr(group, kind).extend((0, rule) for rule in rules)
    return [_sg_draft(group) for group in ordered]


def _rule_resource(
    collector: Collector, resource: Resource, instance: Instance
) -> tuple[str | None, list[Rule]]:
    body = instance.body
    if resource.type in VPC_RULES:
        direction = VPC_RULES[resource.type]
        service = sg_service(collector, body, "ip_protocol")
        peers = vpc_rule_peers(collector, body, direction)
    else:
        kind = body.attr("type")
        if kind is None or isinstance(kind.value, UnknownValue):
            if kind is not None:
                collector.warn(
                    f"type of {instance.address} is unknown ({kind.text}); "
                    "the rule is not checked",
                    kind.span,
                )
            return None, []
        direction = to_string(kind.value).strip().lower()
        if direction not in ("ingress", "egress"):
            raise ParseError(
                f"type must be ingress or egress (got {direction!r})", kind.span
            )
        service = sg_service(collector, body)
        peers = sg_peers(collector, body, direction)
    label = f"{direction} rule {instance.address}"
    return direction, make_rules(body, ACCEPT, [service], peers, label)


def _sg_draft(group: _Group) -> Draft:
    ingress = Chain(
        f"{group.address} ingress",
        tuple(rule for _, rule in group.ingress),
        policy(group.span, DROP, f"implicit deny of {group.address} ingress"),
    )
    if group.egress or not group.created:
        egress_policy = policy(
            group.span, DROP, f"implicit deny of {group.address} egress"
        )
    else:
        egress_policy = policy(
            group.span,
            DROP,
            f"{group.address} has no egress rules (Terraform removes the default "
            "allow-all egress rule)",
        )
    egress = Chain(
        f"{group.address} egress",
        tuple(rule for _, rule in group.egress),
        egress_policy,
    )
    draft = Draft(
        home=group.home,
        order=group.order,
        name=group.address,
        cloud="aws",
        layer="instance",
        directives=group.directives,
        diagnostics=group.collector.diagnostics,
        union=True,
    )
    # A group this module only names by id may have other rules elsewhere, so
    # only the directions that have rules here are decided.
    if group.created or group.ingress:
        draft.inbound.append(ingress)
    if group.created or group.egress:
        draft.outbound.append(egress)
    return draft


# --- network ACLs ---------------------------------------------------------------------


def _nacl_action(collector: Collector, attr: Attr | None, body: Body) -> Action | None:
    if attr is None:
        raise ParseError("the network ACL rule has no action", body.span)
    if isinstance(attr.value, UnknownValue):
        collector.warn(
            f"{attr.name} is unknown ({attr.value.text}); the rule is not checked",
            attr.span,
        )
        return None
    text = to_string(attr.value).strip().lower()
    if text == "allow":
        return ACCEPT_STATELESS
    if text == "deny":
        return DROP
    raise ParseError(f"{attr.name} must be allow or deny (got {text!r})", attr.span)


def _nacl_order(collector: Collector, attr: Attr | None, body: Body) -> float:
    if attr is None:
        raise ParseError("the network ACL rule has no rule number", body.span)
    if isinstance(attr.value, UnknownValue):
        collector.warn(
            f"{attr.name} is unknown ({attr.value.text}); the rule is checked "
            "after the known rule numbers",
            attr.span,
        )
        return float("inf")
    return number_of(attr, 1, 32767)


def _nacl_rules(
    collector: Collector, body: Body, label: str, names: dict[str, str], direction: str
) -> tuple[float, list[Rule]]:
    number = _nacl_order(collector, body.attr(names["number"]), body)
    action = _nacl_action(collector, body.attr(names["action"]), body)
    if action is None:
        return number, []
    service = sg_service(collector, body, icmp_names=("icmp_type", "icmp_code"))
    dim, role = _direction_peer(direction)
    peers = [
        Peer(name, term)
        for name in ("cidr_block", "ipv6_cidr_block")
        for term in address_terms(collector, body.attr(name), dim, role)
    ]
    extra = collector.existence(body)
    return number, make_rules(
        body, action, [service], peers, f"{label} rule {number}", extra
    )


def _network_acls(module: TfModule) -> list[Draft]:
    acls: dict[str, list[tuple[Instance, _Group]]] = {}
    ordered: list[_Group] = []
    inline = {"number": "rule_no", "action": "action"}
    for resource in module.resources_of(*NACL_TYPES):
        for instance in module.instances(resource):
            group = _new_group(instance, created=True)
            try:
                for direction in ("ingress", "egress"):
                    for body in instance.body.blocks(direction):
                        label = f"{direction} of {instance.address}"
                        number, rules = _nacl_rules(
                            group.collector, body, label, inline, direction
                        )
                        getattr(group, direction).extend(
                            (number, rule) for rule in rules
                        )
            except ParseError as exc:
                module.fail(exc)
                continue
            acls.setdefault(resource.address, []).append((instance, group))
            ordered.append(group)

    standalone: dict[str, _Group] = {}
    separate = {"number": "rule_number", "action": "rule_action"}
    for resource in module.resources_of(NACL_RULE):
        for instance in module.instances(resource):
            target_attr = instance.body.attr("network_acl_id")
            targets = _targets(acls, target_attr, NACL_TYPES)
            if not targets:
                key = _standalone_key(target_attr, instance)
                if key not in standalone:
                    standalone[key] = _new_group(instance, created=False)
                    ordered.append(standalone[key])
                targets = [standalone[key]]
            egress = instance.body.value("egress", False)
            direction = "egress" if egress is True or egress == "true" else "ingress"
            for group in targets:
                if isinstance(egress, UnknownValue):
                    group.collector.warn(
                        f"egress of {instance.address} is unknown ({egress.text}); "
                        "the rule is not checked",
                        instance.body.span,
                    )
                    continue
                label = f"{direction} rule {instance.address}"
                try:
                    number, rules = _nacl_rules(
                        group.collector, instance.body, label, separate, direction
                    )
                except ParseError as exc:
                    module.fail(exc)
                    break
                getattr(group, direction).extend((number, rule) for rule in rules)
    return [_nacl_draft(group) for group in ordered]


def _nacl_draft(group: _Group) -> Draft:
    def chain(direction: str, entries: list[tuple[float, Rule]]) -> Chain:
        # sorted() is stable, so rules of one entry keep their order.
        rules = tuple(rule for _, rule in sorted(entries, key=lambda item: item[0]))
        text = f"{group.address} {direction} rule * (deny all)"
        return Chain(
            f"{group.address} {direction}", rules, policy(group.span, DROP, text)
        )

    draft = Draft(
        home=group.home,
        order=group.order,
        name=group.address,
        cloud="aws",
        layer="subnet",
        directives=group.directives,
        diagnostics=group.collector.diagnostics,
    )
    if group.created or group.ingress:
        draft.inbound.append(chain("ingress", group.ingress))
    if group.created or group.egress:
        draft.outbound.append(chain("egress", group.egress))
    return draft


def convert(module: TfModule) -> list[Draft]:
    """Return the drafts of every AWS security group and network ACL of the module."""
    return _security_groups(module) + _network_acls(module)
