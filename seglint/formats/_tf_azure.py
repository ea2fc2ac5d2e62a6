"""Azure network security groups in Terraform, as IR rulesets.

An NSG evaluates its rules by priority, lowest number first, first match
wins; accepts are stateful. Every NSG also has Azure's default rules
(Azure "Network security groups" overview, "Default security rules"):

* inbound: 65000 AllowVnetInBound (VirtualNetwork to VirtualNetwork),
  65001 AllowAzureLoadBalancerInBound, 65500 DenyAllInBound;
* outbound: 65000 AllowVnetOutBound, 65001 AllowInternetOutBound,
  65500 DenyAllOutBound.

Service tags: ``*``/``Any`` is every address. ``VirtualNetwork`` is the
VNet's address space plus peered and connected networks, which the
configuration does not show. It is an Unknown condition limited to the
private ranges (RFC 1918 and fc00::/7), unless a ``# seglint:
virtual-network=CIDR,...`` directive above the NSG gives its ranges.
``Internet`` is the complement of ``VirtualNetwork``.

``AzureLoadBalancer`` is 168.63.129.16, the platform address that Azure's
health probes come from. Azure delivers that traffic from the VM's own host
and no other machine can send it. So it is modelled as arriving on a
loopback-like ``azure-platform`` interface, and it is neither an exposure
nor a flow that SEG needs. Every other tag is an Unknown condition.
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
    flat_items,
    make_rules,
    number_of,
    policy,
    port_list,
    proto_term,
)
from seglint.formats._tf_values import UnknownValue, to_string
from seglint.ir import (
    Action,
    Chain,
    InterfaceMatch,
    Match,
    ParseError,
    Rule,
    Span,
    Unknown,
)
from seglint.space import DPORT, DST, SPORT, SRC, IntervalSet, addresses

logger = logging.getLogger(__name__)

NSG = "azurerm_network_security_group"
NSG_RULE = "azurerm_network_security_rule"
PROTOCOLS: dict[str, tuple[int, ...] | None] = {
    "tcp": (6,),
    "udp": (17,),
    "icmp": (1, 58),
    "esp": (50,),
    "ah": (51,),
    "*": None,
    "any": None,
}
# With protocol "*", Azure applies port ranges to TCP and UDP.
PORT_PROTOCOLS = (6, 17)
PLATFORM = "azure-platform"
PRIVATE = addresses(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])
LOAD_BALANCER = addresses(["168.63.129.16/32"])
ANY_WORDS = ("*", "any", "0.0.0.0/0")
MODELLED_TAGS = ("virtualnetwork", "internet", "azureloadbalancer")


@dataclass
class _Nsg:
    address: str
    span: Span
    home: str
    order: tuple[str, int]
    directives: dict[str, str]
    created: bool
    name: object = None
    inbound: list[tuple[float, Rule]] = field(default_factory=list)
    outbound: list[tuple[float, Rule]] = field(default_factory=list)
    collector: Collector = field(default_factory=Collector)

    def vnet(self) -> IntervalSet | None:
        text = self.directives.get("virtual-network")
        if not text:
            return None
        try:
            return addresses(part for part in text.split(",") if part.strip())
        except ValueError as exc:
            raise ParseError(
                f"invalid virtual-network directive ({exc})", self.span
            ) from None


# --- addresses and service tags -------------------------------------------------------


def _tag_terms(nsg: _Nsg, tag: str, dim: str, span: Span) -> list[Term]:
    """Return the terms of one address prefix or service tag."""
    name = tag.strip()
    lower = name.lower()
    vnet = nsg.vnet()
    if lower == "virtualnetwork":
        if vnet is not None:
            return [(Match(dim, vnet),)]
        return [(Match(dim, PRIVATE), _vnet_unknown(dim, span))]
    if lower == "internet":
        if vnet is not None:
            return [(Match(dim, vnet, negated=True),)]
        outside = Unknown(
            "VirtualNetwork", span, f"azure:{dim}:VirtualNetwork", negated=True
        )
        return [(Match(dim, PRIVATE, negated=True),), (Match(dim, PRIVATE), outside)]
    if lower == "azureloadbalancer":
        interface = InterfaceMatch("iif" if dim == SRC else "oif", (PLATFORM,))
        return [(interface, Match(dim, LOAD_BALANCER))]
    return [(Unknown(f"service tag {name}", span, f"azure:{dim}:{name}"),)]


def _vnet_unknown(dim: str, span: Span) -> Unknown:
    return Unknown("VirtualNetwork", span, f"azure:{dim}:VirtualNetwork")


def _prefix_peers(
    nsg: _Nsg, body: Body, prefix: str, dim: str, role: str
) -> list[Peer]:
    """Return the peers of ``<prefix>_address_prefix(es)`` and application groups."""
    collector = nsg.collector
    peers: list[Peer] = []
    known: list[str] = []
    attrs = [
        body.attr(f"{prefix}_address_prefix"),
        body.attr(f"{prefix}_address_prefixes"),
    ]
    present = [attr for attr in attrs if attr is not None]
    for attr in present:
        if isinstance(attr.value, UnknownValue):
            peers.append(Peer(attr.name, (collector.unknown(attr, role, attr.value),)))
            continue
        for item in flat_items(attr.value):
            if isinstance(item, UnknownValue):
                peers.append(Peer(attr.name, (collector.unknown(attr, role, item),)))
                continue
            text = to_string(item).strip()
            if not text:
                continue
            if text.lower() in ANY_WORDS:
                return [Peer(attr.name, ())]
            try:
                addresses([text])
            except ValueError:
                if text.lower() not in MODELLED_TAGS:
                    collector.warn(
                        f"{attr.name} uses service tag {text}, whose addresses "
                        "are not modelled; checks that depend on it report may",
                        attr.span,
                    )
                peers += [
                    Peer(f"{attr.name} {text}", t)
                    for t in _tag_terms(nsg, text, dim, attr.span)
                ]
                continue
            known.append(text)
    if known:
        peers.insert(
            0, Peer(f"{prefix}_address_prefix", (Match(dim, addresses(known)),))
        )
    groups = body.attr(f"{prefix}_application_security_group_ids")
    if groups is not None and groups.value not in (None, []):
        if isinstance(groups.value, UnknownValue):
            peers.append(
                Peer(groups.name, (collector.unknown(groups, role, groups.value),))
            )
        else:
            peers.append(
                Peer(
                    groups.name,
                    (collector.opaque(groups, role, "application security groups"),),
                )
            )
    if not present and groups is None:
        missing = Attr(f"{prefix}_address_prefix", None, body.span, "")
        peers.append(
            Peer(
                missing.name,
                (
                    collector.unknown(
                        missing,
                        role,
                        UnknownValue("missing", f"{prefix}_address_prefix is missing"),
                    ),
                ),
            )
        )
    return peers


# --- services -------------------------------------------------------------------------


def _ports(nsg: _Nsg, body: Body, prefix: str, dim: str) -> Term | None:
    """Return the port condition of ``<prefix>_port_range(s)``; None = every port."""
    attrs = [body.attr(f"{prefix}_port_range"), body.attr(f"{prefix}_port_ranges")]
    present = [
        attr for attr in attrs if attr is not None and attr.value not in (None, [])
    ]
    if not present:
        missing = Attr(f"{prefix}_port_range", None, body.span, "")
        return (
            nsg.collector.unknown(
                missing,
                "port",
                UnknownValue("missing", f"{prefix}_port_range is missing"),
            ),
        )
    values = IntervalSet()
    for attr in present:
        term = port_list(nsg.collector, attr, dim, "port")
        if term is None or term == ():
            return None
        match = term[0]
        if not isinstance(match, Match):
            return term
        values = values.union(match.values)
    return (Match(dim, values),)


def _service(nsg: _Nsg, body: Body) -> Service:
    attr = body.attr("protocol")
    if attr is None:
        raise ParseError("the security rule has no protocol", body.span)
    if isinstance(attr.value, UnknownValue):
        return Service((nsg.collector.unknown(attr, "proto", attr.value),), ())
    name = to_string(attr.value).strip().lower()
    if name not in PROTOCOLS:
        raise ParseError(
            f"unknown protocol in {attr.name} ({attr.value!r}; expected Tcp, "
            "Udp, Icmp, Esp, Ah or *)",
            attr.span,
        )
    numbers = PROTOCOLS[name]
    if numbers is not None and not set(numbers) & set(PORT_PROTOCOLS):
        return Service(proto_term(numbers), ())
    sport = _ports(nsg, body, "source", SPORT)
    dport = _ports(nsg, body, "destination", DPORT)
    ports = (sport or ()) + (dport or ())
    if numbers is None and ports and any(isinstance(c, Match) for c in ports):
        numbers = PORT_PROTOCOLS
    return Service(proto_term(numbers) if numbers is not None else (), ports)


# --- rules ----------------------------------------------------------------------------


def _text_value(
    collector: Collector, attr: Attr | None, body: Body, name: str
) -> str | None:
    if attr is None:
        raise ParseError(f"the security rule has no {name}", body.span)
    if isinstance(attr.value, UnknownValue):
        collector.warn(
            f"{name} is unknown ({attr.value.text}: {attr.value.reason}); "
            "the rule is not checked",
            attr.span,
        )
        return None
    return to_string(attr.value).strip().lower()


def _add_rule(nsg: _Nsg, body: Body, owner: str) -> None:
    collector = nsg.collector
    access = _text_value(collector, body.attr("access"), body, "access")
    direction_attr = body.attr("direction")
    if direction_attr is not None and isinstance(direction_attr.value, UnknownValue):
        directions = ["inbound", "outbound"]
        extra_direction: tuple[Unknown, ...] = (
            collector.unknown(direction_attr, "direction", direction_attr.value),
        )
    else:
        direction = _text_value(collector, direction_attr, body, "direction")
        directions = [] if direction is None else [direction]
        extra_direction = ()
    if access is None or not directions:
        return
    if access not in ("allow", "deny"):
        raise ParseError(f"access must be Allow or Deny (got {access!r})", body.span)
    action: Action = ACCEPT if access == "allow" else DROP
    priority_attr = body.attr("priority")
    if priority_attr is None:
        raise ParseError("the security rule has no priority", body.span)
    if isinstance(priority_attr.value, UnknownValue):
        collector.warn(
            f"priority is unknown ({priority_attr.value.text}); the rule is "
            "checked after the known priorities",
            priority_attr.span,
        )
        priority: float = 4097
    else:
        priority = number_of(priority_attr, 100, 4096)
    name = body.value("name")
    shown = to_string(name) if isinstance(name, (str, int)) else "?"
    service = _service(nsg, body)
    sources = _prefix_peers(nsg, body, "source", SRC, "src")
    targets = _prefix_peers(nsg, body, "destination", DST, "dst")
    extra = collector.existence(body) + extra_direction
    label = f"security_rule {shown} (priority {priority:g}) of {owner}"
    rules = make_rules(body, action, [service], sources, label, extra, targets)
    for direction in directions:
        if direction not in ("inbound", "outbound"):
            raise ParseError(
                f"direction must be Inbound or Outbound (got {direction!r})", body.span
            )
        getattr(nsg, direction).extend((priority, rule) for rule in rules)


def _defaults(nsg: _Nsg, direction: str) -> list[Rule]:
    span = nsg.span
    if direction == "inbound":
        vnet = (
            _tag_terms(nsg, "VirtualNetwork", SRC, span)[0]
            + _tag_terms(nsg, "VirtualNetwork", DST, span)[0]
        )
        balancer = _tag_terms(nsg, "AzureLoadBalancer", SRC, span)[0]
        named = [
            ("AllowVnetInBound", 65000, vnet),
            ("AllowAzureLoadBalancerInBound", 65001, balancer),
        ]
        rules = [_default_rule(nsg, name, number, term) for name, number, term in named]
        return rules
    vnet = (
        _tag_terms(nsg, "VirtualNetwork", SRC, span)[0]
        + _tag_terms(nsg, "VirtualNetwork", DST, span)[0]
    )
    rules = [_default_rule(nsg, "AllowVnetOutBound", 65000, vnet)]
    for term in _tag_terms(nsg, "Internet", DST, span):
        rules.append(_default_rule(nsg, "AllowInternetOutBound", 65001, term))
    return rules


def _default_rule(nsg: _Nsg, name: str, priority: int, term: Term) -> Rule:
    label = f"{name} (priority {priority}) of {nsg.address}"
    return Rule(
        nsg.span,
        term,
        ACCEPT,
        f"{nsg.address} default rule {name}",
        implicit=True,
        label=label,
    )


# --- NSGs -----------------------------------------------------------------------------


def _new(instance: Instance, created: bool) -> _Nsg:
    resource = instance.resource
    nsg = _Nsg(
        instance.address,
        resource.span,
        resource.file.path,
        (resource.file.path, resource.span.line),
        dict(resource.directives),
        created,
    )
    nsg.collector.diagnostics.extend(instance.diagnostics)
    return nsg


def _find_nsg(nsgs: list[tuple[Instance, _Nsg]], attr: Attr | None) -> list[_Nsg]:
    if attr is None:
        return []
    value = attr.value
    if isinstance(value, UnknownValue):
        path = value.path
        if path and len(path) >= 3 and path[0] == NSG and path[-1] == "name":
            address = f"{NSG}.{path[1]}"
            key = path[2] if len(path) == 4 else None
            return [
                nsg
                for instance, nsg in nsgs
                if nsg.address.split("[")[0] == address
                and (
                    key is None or isinstance(key, UnknownValue) or instance.key == key
                )
            ]
        return []
    return [nsg for _, nsg in nsgs if nsg.name == value]


def _draft(nsg: _Nsg) -> Draft:
    draft = Draft(
        home=nsg.home,
        order=nsg.order,
        name=nsg.address,
        cloud="azure",
        layer="instance",
        directives=nsg.directives,
        diagnostics=nsg.collector.diagnostics,
        platform=(PLATFORM,),
    )
    for direction, entries in (("inbound", nsg.inbound), ("outbound", nsg.outbound)):
        if not nsg.created and not entries:
            continue
        ordered = [rule for _, rule in sorted(entries, key=lambda item: item[0])]
        ordered += _defaults(nsg, direction)
        suffix = "InBound" if direction == "inbound" else "OutBound"
        deny = policy(
            nsg.span, DROP, f"DenyAll{suffix} (priority 65500) of {nsg.address}"
        )
        chain = Chain(f"{nsg.address} {direction}", tuple(ordered), deny)
        (draft.inbound if direction == "inbound" else draft.outbound).append(chain)
    return draft


def convert(module: TfModule) -> list[Draft]:
    """Return the drafts of every Azure NSG of the module."""
    nsgs: list[tuple[Instance, _Nsg]] = []
    ordered: list[_Nsg] = []
    for resource in module.resources_of(NSG):
        for instance in module.instances(resource):
            nsg = _new(instance, created=True)
            nsg.name = instance.body.value("name")
            try:
                for body in instance.body.blocks("security_rule"):
                    _add_rule(nsg, body, instance.address)
                nsg.vnet()
            except ParseError as exc:
                module.fail(exc)
                continue
            nsgs.append((instance, nsg))
            ordered.append(nsg)

    standalone: dict[str, _Nsg] = {}
    for resource in module.resources_of(NSG_RULE):
        for instance in module.instances(resource):
            attr = instance.body.attr("network_security_group_name")
            targets = _find_nsg(nsgs, attr)
            if not targets:
                key = (
                    instance.address
                    if attr is None
                    else (
                        attr.value.text
                        if isinstance(attr.value, UnknownValue)
                        else to_string(attr.value)
                    )
                )
                if key not in standalone:
                    standalone[key] = _new(instance, created=False)
                    ordered.append(standalone[key])
                targets = [standalone[key]]
            for nsg in targets:
                try:
                    _add_rule(nsg, instance.body, instance.address)
                except ParseError as exc:
                    module.fail(exc)
                    break
    return [_draft(nsg) for nsg in ordered]
