"""Building IR rules from evaluated Terraform blocks, shared by the cloud converters.

A rule's match is built from *services* (protocol conditions and port
conditions) and *peers* (address conditions, one term per kind of source
or destination). Each service and peer term becomes one IR rule with the
span of its block. In a first-match chain, consecutive rules with the same
action match the union of their matches. So a block with ``cidr_blocks``
and ``self = true`` accepts what either source allows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from seglint.formats._tf_module import Attr, Body
from seglint.formats._tf_values import (
    EvalError,
    UnknownValue,
    Value,
    to_integer,
    to_string,
)
from seglint.ir import (
    Action,
    Chain,
    Condition,
    Diagnostic,
    Match,
    ParseError,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import DPORT, ICMP, PROTO, IntervalSet, addresses

logger = logging.getLogger(__name__)

Term = tuple[Condition, ...]

PROTOCOL_NUMBERS = {
    "icmp": 1,
    "ipip": 4,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "sctp": 132,
}
ICMP_PROTOCOLS = (1, 58)
# The core's default loopback interface names, extended for platform traffic.
LOOPBACK = Ruleset("", "terraform", {}, {}).loopback
ACCEPT = Action("accept", stateful=True)
ACCEPT_STATELESS = Action("accept", stateful=False)
DROP = Action("drop")


@dataclass(frozen=True, slots=True)
class Service:
    """The protocol and port part of a rule's match."""

    proto: Term = ()
    ports: Term = ()


ANY_SERVICE = Service()


@dataclass(frozen=True, slots=True)
class Peer:
    """One kind of source or destination of a block (``cidr_blocks``, ``self``, ...)."""

    kind: str
    term: Term


class Collector:
    """Turns attribute values into conditions and keeps the SEG902 diagnostics."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple[str, int, int, str]] = set()

    def warn(self, message: str, span: Span) -> None:
        key = (span.path, span.line, span.column, message)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(Diagnostic("SEG902", message, span, "warning"))

    def note(self, message: str, span: Span) -> None:
        key = (span.path, span.line, span.column, message)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(Diagnostic("SEG902", message, span, "note"))

    def unknown(self, attr: Attr, role: str, value: UnknownValue) -> Unknown:
        """Return the condition for an unknown value of ``attr`` and warn once."""
        self.warn(
            f"{attr.name} is unknown ({value.text}: {value.reason}); "
            "checks that depend on it report may",
            attr.span,
        )
        return Unknown(
            f"{attr.name} = {value.text}", attr.span, f"terraform:{role}:{value.text}"
        )

    def opaque(self, attr: Attr, role: str, what: str) -> Unknown:
        """Return the condition for a value that names addresses seglint cannot see."""
        self.warn(
            f"{attr.name} refers to {what} ({attr.text}); checks that "
            "depend on it report may",
            attr.span,
        )
        return Unknown(
            f"{attr.name} = {attr.text}", attr.span, f"terraform:{role}:{attr.text}"
        )

    def existence(self, body: Body) -> Term:
        """Return the condition for a dynamic block whose ``for_each`` is unknown."""
        if body.exists is None:
            return ()
        unknown = body.exists
        self.warn(
            f"for_each of this block is unknown ({unknown.text}: {unknown.reason}); "
            "checks that depend on it report may",
            body.span,
        )
        return (
            Unknown(
                f"for_each = {unknown.text}",
                body.span,
                f"terraform:exists:{unknown.text}",
            ),
        )


def flat_items(value: Value) -> list[Value]:
    """Return a value's elements, flattening nested lists (Terraform 0.11 style)."""
    if value is None:
        return []
    if isinstance(value, list):
        items: list[Value] = []
        for item in value:
            items.extend(flat_items(item))
        return items
    return [value]


def address_terms(
    collector: Collector,
    attr: Attr | None,
    dim: str,
    role: str,
    any_words: Iterable[str] = (),
) -> list[Term]:
    """Return the address terms of a CIDR or CIDR-list attribute.

    ``null``, ``[]`` and a missing attribute give no term: no peer of that
    kind. Unknown elements give one Unknown term each, beside the known ones.
    """
    if attr is None:
        return []
    if isinstance(attr.value, UnknownValue):
        return [(collector.unknown(attr, role, attr.value),)]
    known: list[str] = []
    terms: list[Term] = []
    words = {word.lower() for word in any_words}
    for item in flat_items(attr.value):
        if isinstance(item, UnknownValue):
            terms.append((collector.unknown(attr, role, item),))
        elif isinstance(item, str) and item.strip().lower() in words:
            return [()]
        elif isinstance(item, str) and item.strip():
            known.append(item.strip())
        elif item not in ("", None):
            raise ParseError(
                f"{attr.name} must hold CIDR strings (got {item!r})", attr.span
            )
    if known:
        try:
            values = addresses(known)
        except ValueError as exc:
            raise ParseError(
                f"invalid address in {attr.name} ({exc})", attr.span
            ) from None
        terms.insert(0, (Match(dim, values),))
    return terms


def number_of(attr: Attr, low: int, high: int) -> int:
    """Return an integer attribute, raising ParseError outside ``low``-``high``."""
    try:
        number = to_integer(attr.value)
    except EvalError as exc:
        raise ParseError(f"invalid {attr.name} ({exc.message})", attr.span) from None
    if not low <= number <= high:
        raise ParseError(
            f"{attr.name} is out of range ({number}; expected {low} to {high})",
            attr.span,
        )
    return number


def port_range_text(text: str, attr: Attr) -> tuple[int, int] | None:
    """Parse ``"80"`` or ``"1000-2000"``; ``"*"`` gives None (every port).

    A bound above 65535 is a ParseError: a range is kept as an interval and
    never expanded, but an impossible bound is a mistake in the file.
    """
    value = text.strip()
    if value in ("*", "any", "Any"):
        return None
    low_text, dash, high_text = value.partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if dash else low
    except ValueError:
        raise ParseError(
            f"invalid port or port range in {attr.name} ({text!r})", attr.span
        ) from None
    if not 0 <= low <= 65535 or not 0 <= high <= 65535:
        raise ParseError(
            f"port out of range in {attr.name} ({text!r}; ports are 0 to 65535)",
            attr.span,
        )
    if high < low:
        raise ParseError(f"port range is reversed in {attr.name} ({text!r})", attr.span)
    return low, high


def port_list(collector: Collector, attr: Attr, dim: str, role: str) -> Term | None:
    """Return the port condition of a port or port-list attribute; None = every port."""
    if isinstance(attr.value, UnknownValue):
        return (collector.unknown(attr, role, attr.value),)
    intervals: list[tuple[int, int]] = []
    unknowns: list[Condition] = []
    for item in flat_items(attr.value):
        if isinstance(item, UnknownValue):
            unknowns.append(collector.unknown(attr, role, item))
            continue
        bounds = port_range_text(to_string(item), attr)
        if bounds is None:
            return ()
        intervals.append(bounds)
    if unknowns:
        # Some of the ports are unknown, so the rule may match any port.
        return tuple(unknowns[:1])
    if not intervals:
        return None
    return (Match(dim, IntervalSet(intervals)),)


def protocol_number(
    text: str, attr: Attr, names: dict[str, int] = PROTOCOL_NUMBERS
) -> int:
    name = text.strip().lower()
    if name in names:
        return names[name]
    if name.isdigit() and 0 <= int(name) <= 255:
        return int(name)
    raise ParseError(f"unknown protocol in {attr.name} ({text!r})", attr.span)


def icmp_term(icmp_type: int, icmp_code: int) -> Term:
    """Return the ICMP condition for a type and code, where -1 means all."""
    if icmp_type < 0:
        return ()
    if icmp_code < 0:
        return (
            Match(ICMP, IntervalSet.single(icmp_type * 256, icmp_type * 256 + 255)),
        )
    return (Match(ICMP, IntervalSet.single(icmp_type * 256 + icmp_code)),)


def proto_term(number: int | Iterable[int]) -> Term:
    numbers = [number] if isinstance(number, int) else list(number)
    return (Match(PROTO, IntervalSet((n, n) for n in numbers)),)


def port_term(low: int, high: int) -> Term:
    return (Match(DPORT, IntervalSet.single(low, high)),)


def make_rules(
    body: Body,
    action: Action,
    services: list[Service],
    peers: list[Peer],
    label: str,
    extra: Term = (),
    destinations: list[Peer] | None = None,
    text: str | None = None,
) -> list[Rule]:
    """Return one rule per service, peer and destination, all with the block's span.

    ``text`` replaces the block's text, for rules whose span is a larger
    block than the one they come from (a GCP ``allow`` block).
    """
    targets = destinations if destinations is not None else [Peer("", ())]
    combos = [
        (service, peer, target)
        for service in services
        for peer in peers
        for target in targets
    ]
    if text is None:
        text = body.text + (f" ({body.instance})" if body.instance else "")
    rules = []
    for service, peer, target in combos:
        suffix = " ".join(part for part in (peer.kind, target.kind) if part)
        rule_text = f"{text} [{suffix}]" if len(combos) > 1 and suffix else text
        conditions = service.proto + peer.term + target.term + service.ports + extra
        rules.append(Rule(body.span, conditions, action, rule_text, label=label))
    return _unique_texts(rules)


def _unique_texts(rules: list[Rule]) -> list[Rule]:
    seen: dict[str, int] = {}
    result = []
    for rule in rules:
        count = seen.get(rule.text, 0)
        seen[rule.text] = count + 1
        if count:
            rule = Rule(
                rule.span,
                rule.conditions,
                rule.action,
                f"{rule.text} #{count + 1}",
                rule.implicit,
                rule.label,
            )
        result.append(rule)
    return result


def policy(span: Span, action: Action, text: str) -> Rule:
    """Return an implicit chain policy shown at ``span`` (the resource)."""
    return Rule(span, (), action, text, implicit=True, label=text)


# --- rulesets -------------------------------------------------------------------------


@dataclass
class Draft:
    """A ruleset before directive ties are applied.

    ``layer`` orders base chains on a path: ``subnet`` filters (AWS network
    ACLs) see inbound packets before ``instance`` filters (security groups)
    and outbound packets after them.
    """

    home: str
    order: tuple[str, int]
    name: str
    cloud: str
    layer: str
    inbound: list[Chain] = field(default_factory=list)
    outbound: list[Chain] = field(default_factory=list)
    directives: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    union: bool = False  # chains of this layer are a union of allows and can merge
    # Interfaces that carry only traffic from the host platform (Azure's
    # 168.63.129.16), added to the ruleset's loopback interfaces.
    platform: tuple[str, ...] = ()

    def files(self) -> set[str]:
        """Return the files that contribute rules, the resource's own file first."""
        paths = {self.home}
        for chain in (*self.inbound, *self.outbound):
            paths.update(rule.span.path for rule in chain.rules)
        return paths

    def ruleset(self) -> Ruleset:
        chains = {chain.name: chain for chain in (*self.inbound, *self.outbound)}
        hooks = {}
        if self.inbound:
            hooks["input"] = tuple(chain.name for chain in self.inbound)
        if self.outbound:
            hooks["output"] = tuple(chain.name for chain in self.outbound)
        return Ruleset(
            path=self.home,
            format="terraform",
            chains=chains,
            hooks=hooks,
            families=frozenset({4, 6}),
            kind="host",
            diagnostics=tuple(self.diagnostics),
            directives=dict(self.directives),
            loopback=(*LOOPBACK, *self.platform),
            name=self.name,
        )


def _merge_union(chains: list[Chain]) -> list[Chain]:
    if len(chains) <= 1:
        return chains
    rules = tuple(rule for chain in chains for rule in chain.rules)
    return [Chain(chains[0].name, rules, chains[0].policy, chains[0].families)]


def tie_by_directive(drafts: list[Draft]) -> list[Draft]:
    """Merge drafts whose resources carry the same ``host`` directive (per cloud).

    The security groups of one host become one chain, because they are a
    union of allows. Each network ACL or NSG of the host adds a base chain.
    """
    groups: dict[tuple[str, str], list[Draft]] = {}
    result: list[Draft] = []
    for draft in sorted(drafts, key=lambda d: d.order):
        host = draft.directives.get("host")
        # A GCP ruleset is already the whole firewall of its network and target.
        if host is None or draft.cloud == "gcp":
            result.append(draft)
        else:
            groups.setdefault((draft.cloud, host), []).append(draft)
    for members in groups.values():
        if len(members) == 1:
            result.append(members[0])
            continue
        subnet = [d for d in members if d.layer == "subnet"]
        instance = [d for d in members if d.layer != "subnet"]
        unions = [d for d in instance if d.union]
        others = [d for d in instance if not d.union]
        inbound_instance = _merge_union([c for d in unions for c in d.inbound])
        outbound_instance = _merge_union([c for d in unions for c in d.outbound])
        inbound_instance += [c for d in others for c in d.inbound]
        outbound_instance += [c for d in others for c in d.outbound]
        first = members[0]
        merged = Draft(
            home=first.home,
            order=first.order,
            name=" + ".join(d.name for d in members),
            cloud=first.cloud,
            layer="tied",
            inbound=[c for d in subnet for c in d.inbound] + inbound_instance,
            outbound=outbound_instance + [c for d in subnet for c in d.outbound],
            directives={
                k: v for d in reversed(members) for k, v in d.directives.items()
            },
            diagnostics=[diag for d in members for diag in d.diagnostics],
            platform=tuple(sorted({name for d in members for name in d.platform})),
        )
        result.append(merged)
    return sorted(result, key=lambda d: d.order)
