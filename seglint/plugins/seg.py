"""The built-in SEG policy: the port table's required flows and forbidden exposures.

It contains no parsing code. It reads the requirements from
``policies/seg.yaml``, builds the packet sets of each requirement for a
target and walks them through the engine.
"""

from __future__ import annotations

from collections.abc import Iterator

from seglint.analysis import Decided, accepted_packets, blocked_flow, shadowed_rules
from seglint.findings import Finding, Packet, RuleMeta, Step
from seglint.engine import Engine, Outcome
from seglint.hookspecs import hookimpl
from seglint.ir import Rule
from seglint.matrix import ALLOWED, BLOCKED, EXPOSED, MAY, NOT_APPLICABLE, FlowCheck
from seglint.policy import SEG_ROLES, Requirement, load_policy_data
from seglint.space import (
    ADDR_ALL,
    DPORT,
    DST,
    IIF,
    OIF,
    PROTO,
    SPORT,
    SRC,
    Box,
    IntervalSet,
    address_value,
    parse_network,
    subtract_all,
)
from seglint.target import ALL_PORTS, LOOPBACK_NETS, Party, Target, restrict

REPLY_HOOK = {"input": "output", "output": "input", "forward": "forward"}
STATELESS_FORMATS = frozenset({"ios"})
# Readable witnesses: documentation addresses when the set allows them.
SOURCE_EXAMPLES = tuple(address_value(parse_network(text).network_address)
                        for text in ("203.0.113.10", "192.0.2.10", "2001:db8:ffff::10"))
DESTINATION_EXAMPLES = tuple(address_value(parse_network(text).network_address)
                             for text in ("198.51.100.20", "2001:db8:ffff::20"))


def _role_examples(party: Party) -> list[int]:
    out = []
    for entry in party.entries:
        lo, hi = entry.bounds[0]
        out.append(lo + 1 if hi - lo >= 2 else lo)
    return out


def _port_text(values: IntervalSet, limit: int = 4) -> str:
    """Render ports: at most ``limit`` ranges for messages, or all of them when it is 0."""
    shown = values.bounds[:limit] if limit else values.bounds
    parts = [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in shown]
    if len(shown) < len(values.bounds):
        parts.append("...")
    return ",".join(parts)


class SegPolicy:
    """Checks one target against every applicable row of the SEG port table."""

    name = "seg"

    def __init__(self) -> None:
        data = load_policy_data()
        self.requirements = data.requirements
        self.rules: tuple[RuleMeta, ...] = data.rules
        self._meta = {rule.id: rule for rule in self.rules}

    # --- entry point -----------------------------------------------------------------

    def check(self, target: Target) -> Iterator[Finding]:
        config = target.config
        version = config.version
        checks_required = target.mode == "network" or target.host_role is not None
        if config.zero_config:
            checks_required = False
        for requirement in self.requirements:
            if not requirement.applies_to_version(version):
                self._skip(target, requirement, _version_reason(requirement, config))
                continue
            if requirement.kind == "required":
                if not checks_required:
                    self._skip(target, requirement, "no role: " + (
                        "no roles are configured" if config.zero_config else
                        "seglint.yaml gives this rule set no host role or zones"))
                elif not self._feature_on(requirement, target):
                    self._skip(target, requirement, _feature_reason(requirement))
                else:
                    yield from self._check_required(requirement, target)
            else:
                yield from self._check_exposure(requirement, target)
        yield from self._check_shadowed(target)

    @staticmethod
    def _skip(target: Target, requirement: Requirement, reason: str) -> None:
        target.record(requirement, FlowCheck(NOT_APPLICABLE, reason))

    def _feature_on(self, requirement: Requirement, target: Target) -> bool:
        feature = requirement.feature
        if feature is None:
            return True
        if feature == "auto-update":
            return "auto-update" not in target.config.disabled_features
        return feature in target.config.features

    # --- required flows ----------------------------------------------------------------

    def _check_required(self, req: Requirement, target: Target) -> Iterator[Finding]:
        for source_role in req.sources:
            for destination_role in req.destinations:
                yield from self._check_flow(req, target, source_role, destination_role)

    def _flow_paths(self, target: Target, source_role: str,
                    destination_role: str) -> list[tuple[str, Party, Party]]:
        if target.mode == "host":
            paths = []
            if destination_role == target.host_role:
                paths.append(("input", target.party(source_role), target.host_party()))
            if source_role == target.host_role:
                paths.append(("output", target.host_party(), target.party(destination_role)))
            return paths
        # Through a network firewall, "any address" (the nodes' web access)
        # means the internet. Another role left out may be on either side, so
        # whether its flow crosses this firewall is unknown.
        src, dst = (target.party("internet") if role == "any" else target.party(role)
                    for role in (source_role, destination_role))
        for party in (src, dst):
            if not party.configured and not party.internet:
                return []
        return [("forward", src, dst)]

    def _check_flow(self, req: Requirement, target: Target, source_role: str,
                    destination_role: str) -> Iterator[Finding]:
        engine = target.engine
        paths = self._flow_paths(target, source_role, destination_role)
        if not paths:
            self._skip(target, req, _not_crossing(target, source_role, destination_role))
        for hook, src, dst in paths:
            if not engine.decides(hook) and not engine.decides(REPLY_HOOK[hook]):
                target.record(req, FlowCheck(
                    ALLOWED, f"{req.flow_text()} from {src.label} to {dst.label} passes: "
                    f"the rule set has no {hook} filter", hook, src.label, dst.label))
                continue
            empty = [party.label for party in (src, dst) if party.configured and not party.values]
            if empty:
                self._skip(target, req, f"no addresses: the role {empty[0]} is empty")
                continue
            accepts: list[Outcome] = [] if target.verdicts is not None else None
            queried = False
            # Each protocol and port is a flow of its own: one that works
            # through some interface must not be blamed for another that does not.
            parts = [(protocol, IntervalSet.single(lo, hi))
                     for protocol in req.protocols for lo, hi in req.ports.bounds]
            merged: dict[tuple[int, bool], tuple[Decided, bool]] = {}
            for family, (protocol, ports) in (
                    (f, part) for f in target.families(src, dst) for part in parts):
                for dst_entry in self._universal_entries(dst, family):
                    for src_entry in self._universal_entries(src, family):
                        query, free = target.flow_boxes(
                            hook, (protocol,), ports, src_entry, dst_entry)
                        if not query:
                            continue
                        queried = True
                        exist: set[str] = set()
                        if not src.configured:
                            exist.add(SRC)
                        if not dst.configured:
                            exist.add(DST)
                        if free:
                            exist.update({"input": [IIF], "output": [OIF],
                                          "forward": [IIF, OIF]}[hook])
                        decided, may = blocked_flow(
                            engine, hook, REPLY_HOOK[hook], query, frozenset(exist), accepts)
                        for item in decided:
                            key = (id(item.rule), item.reply)
                            if key in merged:
                                old_item, old_may = merged[key]
                                item = Decided(item.rule, old_item.boxes + item.boxes,
                                               old_item.definite + item.definite,
                                               old_item.trace, item.reply)
                                may = may and old_may
                            merged[key] = (item, may)
            for item, may in merged.values():
                finding = self._required_finding(req, target, item, may, src, dst, hook)
                target.record(req, FlowCheck(
                    MAY if may else BLOCKED, finding.message, hook, src.label, dst.label,
                    item.rule, finding.witness, item.reply))
                yield finding
            if target.verdicts is not None and not merged:
                self._record_flow_holds(req, target, hook, src, dst, queried, accepts)

    def _record_flow_holds(self, req: Requirement, target: Target, hook: str, src: Party,
                           dst: Party, queried: bool, accepts: list[Outcome] | None) -> None:
        """Record, for the matrix, the rule that lets a working flow through."""
        if not queried:
            if target.families(src, dst):
                # Both sides sit behind one interface of a network firewall.
                self._skip(target, req, f"not crossing this firewall: {src.label} and "
                           f"{dst.label} are behind the same interface")
            else:
                families = "/".join(f"IPv{f}" for f in sorted(target.ruleset.families))
                self._skip(target, req, f"family: the rule set decides {families} only "
                           f"and {src.label} to {dst.label} has no address of it")
            return
        if not accepts:
            target.record(req, FlowCheck(
                ALLOWED, f"{req.flow_text()} from {src.label} to {dst.label} passes: "
                f"the rule set has no {hook} filter", hook, src.label, dst.label))
            return
        outcome = accepts[0]
        witness = self._witness(target, outcome.boxes[0], src, dst)
        message = (f"{req.flow_text()} from {src.label} to {dst.label} is accepted "
                   f"({_describe(outcome.rule)})")
        target.record(req, FlowCheck(ALLOWED, message, hook, src.label, dst.label,
                                             outcome.rule, witness))

    @staticmethod
    def _universal_entries(party: Party, family: int) -> list[IntervalSet]:
        """Split a side into entries: a configured side entry by entry, any other as a whole."""
        if party.configured and party.entries:
            parts = [restrict(entry, family) for entry in party.entries]
            return [part for part in parts if part]
        whole = restrict(party.values, family)
        return [whole] if whole else []

    def _required_finding(self, req: Requirement, target: Target, item: Decided, may: bool,
                          src: Party, dst: Party, hook: str) -> Finding:
        verb = "may be dropped" if may else "is dropped"
        box = (item.definite or item.boxes)[0]
        witness = self._witness(target, box, src, dst)
        flow = f"{_decided_flow(item, witness)} from {src.label} to {dst.label}"
        if item.reply:
            verb = "may be dropped" if may else "are dropped"
            message = f"replies of {flow} {verb} ({_describe(item.rule)})"
            if target.ruleset.format in STATELESS_FORMATS:
                message += "; the access list is stateless, so replies need their own permit"
            witness = _reverse(witness)
        else:
            message = f"{flow} {verb} ({_describe(item.rule)})"
        if witness.iif or witness.oif:
            message += self._interface_note(witness, hook)
        message += _profile_note(target)
        return self._finding(req.rule_id, message, item, witness, may,
                             (hook, req.flow_text(), src.label, dst.label,
                              "reply" if item.reply else "new"))

    # --- exposures -----------------------------------------------------------------------

    def _exposure_destinations(self, req: Requirement, target: Target) -> Party | None:
        if target.mode == "host":
            role = target.host_role
            if role is not None and "any-host" not in req.destinations \
                    and role not in req.destinations:
                return None
            return target.host_party()
        if target.mode == "unmapped":
            return target.host_party()
        roles = [r for r in req.destinations if r != "any-host"]
        parties = [target.party(role) for role in roles]
        configured = [p for p in parties if p.configured]
        if not configured:
            return Party("hosts behind this firewall", ADDR_ALL, False)
        values = IntervalSet()
        for party in configured:
            values = values.union(party.values)
        return Party("/".join(p.label for p in configured), values, True)

    def _exposure_sources(self, req: Requirement, target: Target, dst: Party) -> IntervalSet:
        # In zero config every exposure is checked from the internet, SEG202 too.
        if req.from_other_hosts and not target.config.zero_config:
            values = ADDR_ALL.subtract(LOOPBACK_NETS)
            if dst.configured:
                values = values.subtract(dst.values)
            return values
        values = target.untrusted
        for role in req.exempt:
            party = target.party(role)
            if party.configured:
                values = values.subtract(party.values)
        return values

    def _check_exposure(self, req: Requirement, target: Target) -> Iterator[Finding]:
        dst = self._exposure_destinations(req, target)
        if dst is None or not dst.values:
            self._skip(target, req, f"not a destination: the row protects "
                       f"{', '.join(req.destinations)}, not {target.host_role}"
                       if dst is None else "no addresses: the protected role is empty")
            return
        src_values = self._exposure_sources(req, target, dst)
        hooks = ["input"] if target.mode == "host" else ["forward"]
        if target.mode == "unmapped":
            hooks = ["input", "forward"]
        for hook in hooks:
            if not target.engine.decides(hook):
                self._skip(target, req, f"no {hook} filter: the rule set does not decide "
                           f"{hook} packets")
                continue
            label = dst.label if hook == "input" or dst.configured else "hosts behind this firewall"
            query = []
            # Query only the families the file decides, because its other packets are no finding of it.
            for family in sorted(target.ruleset.families):
                family_src = restrict(src_values, family)
                family_dst = restrict(dst.values, family)
                if family_src and family_dst:
                    query += target.flow_boxes(hook, req.protocols, req.ports, family_src,
                                               family_dst, ALL_PORTS)[0]
            if req.except_rules or req.except_required:
                query = subtract_all(query, self._excepted(req, target), target.engine.universe)
            src = Party("untrusted networks", src_values, False)
            found = False
            for item in accepted_packets(target.engine, hook, query):
                finding = self._exposure_finding(req, target, item, src, dst, label, hook)
                target.record(req, FlowCheck(
                    MAY if finding.may else EXPOSED, finding.message, hook, src.label,
                    label, item.rule, finding.witness))
                found = True
                yield finding
            if target.verdicts is not None and not found:
                self._record_closed(req, target, hook, query, src, dst, label)

    def _record_closed(self, req: Requirement, target: Target, hook: str, query: list[Box],
                       src: Party, dst: Party, label: str) -> None:
        """Record, for the matrix, a rule that drops the protected port.

        One packet of the query is walked, so the matrix can name the rule
        that decides it without walking every dropped packet.
        """
        if not query:
            self._skip(target, req, "no packets: the rule set's families or the rows "
                       "that take over these ports leave nothing to check")
            return
        engine = target.engine
        point = _narrow(query[0], engine, self._witness(target, query[0], src, dst))
        outcomes = engine.walk(hook, [point])
        if not outcomes:
            return
        outcome = outcomes[0]
        witness = self._witness(target, outcome.boxes[0], src, dst)
        apart = ", apart from the ports other rows check," if (
            req.except_rules or req.except_required) else ""
        message = (f"{req.flow_text()} on {label}{apart} is not reachable from "
                   f"{src.label} ({_describe(outcome.rule)})")
        target.record(req, FlowCheck(BLOCKED, message, hook, src.label, label,
                                             outcome.rule, witness))

    def _excepted(self, req: Requirement, target: Target) -> list[Box]:
        """Return the packets SEG208 leaves to other rules or that SEG needs."""
        boxes = []
        role = target.host_role
        for other in self.requirements:
            if not other.applies_to_version(target.config.version):
                continue
            destination = None
            if other.kind == "exposure" and other.rule_id in req.except_rules:
                party = self._exposure_destinations(other, target)
                if party is None:
                    continue
                # Only where the other rule checks it: 443 on the Array
                # Manager is SEG206's, 443 on a node stays SEG208's.
                destination = party.values
            elif other.kind == "required" and req.except_required:
                inbound_here = role in other.destinations if role else \
                    any(r in SEG_ROLES for r in other.destinations)
                if not inbound_here or not self._feature_on(other, target):
                    continue
            else:
                continue
            protocols = IntervalSet((p, p) for p in other.protocols)
            dims = {PROTO: protocols, DPORT: other.ports}
            if destination is not None:
                dims[DST] = destination
            if other.kind == "required":
                # A port SEG needs from named hosts (POP3 clients, say) stays
                # a finding when it is open to everyone else.
                sources = [target.party(source) for source in other.sources]
                if sources and all(party.configured for party in sources):
                    values = IntervalSet()
                    for party in sources:
                        values = values.union(party.values)
                    dims[SRC] = values
            boxes.append(Box.of(dims))
        return boxes

    def _exposure_finding(self, req: Requirement, target: Target, item: Decided, src: Party,
                          dst: Party, label: str, hook: str) -> Finding:
        may = not item.definite
        box = (item.definite or item.boxes)[0]
        witness = self._witness(target, box, src, dst)
        verb = "may be reachable" if may else "is reachable"
        origin = "untrusted networks"
        if req.from_other_hosts and not target.config.zero_config:
            origin = "other hosts"
        flow = req.flow_text()
        flow = _decided_flow(item, witness)
        message = f"{flow} on {label} {verb} from {origin} ({_describe(item.rule)})"
        if witness.iif or witness.oif:
            message += self._interface_note(witness, hook)
        message += _profile_note(target)
        finding = self._finding(req.rule_id, message, item, witness, may, (hook, flow, label))
        finding.properties["ports"] = _decided_flow(item, witness, limit=0)
        return finding

    # --- shadowed rules ------------------------------------------------------------------

    def _check_shadowed(self, target: Target) -> Iterator[Finding]:
        meta = self._meta["SEG301"]
        for shadow in shadowed_rules(target.engine):
            rule = shadow.rule
            if shadow.never_matches:
                message = ("rule can never match: its conditions exclude each other "
                           f"({_describe(rule)})")
            else:
                first = shadow.covering[0]
                differs = any(c.action.kind != rule.action.kind for c in shadow.covering)
                message = (f"rule never decides a packet: other rules decide every packet "
                           f"it matches "
                           f"({_describe(first)} at line {first.span.line}"
                           f"{' and others' if len(shadow.covering) > 1 else ''})")
                if differs:
                    message += "; the covering rules have a different action"
            related = tuple(Step(c.span, f"covering rule: {c.describe()}")
                            for c in shadow.covering)
            yield Finding(meta.id, meta.name, meta.level, message, rule.span,
                          related=related, identity=("shadowed", rule.text))

    # --- helpers -------------------------------------------------------------------------

    def _witness(self, target: Target, box: Box, src: Party, dst: Party) -> Packet:
        # A documentation address that is one of the user's own hosts would
        # make a confusing "internet" witness, so those are left out.
        taken = target.configured_addresses
        sources = [v for v in SOURCE_EXAMPLES if v not in taken]
        destinations = [v for v in DESTINATION_EXAMPLES if v not in taken]
        prefer = {
            SRC: _role_examples(src) + sources,
            DST: _role_examples(dst) + destinations,
        }
        return target.engine.witness(box, prefer)

    @staticmethod
    def _interface_note(witness: Packet, hook: str) -> str:
        if hook == "input" and witness.iif:
            return f" for packets arriving on {witness.iif}"
        if hook == "output" and witness.oif:
            return f" for packets leaving on {witness.oif}"
        parts = []
        if witness.iif:
            parts.append(f"arriving on {witness.iif}")
        if witness.oif:
            parts.append(f"leaving on {witness.oif}")
        return " for packets " + " and ".join(parts) if parts else ""

    def _finding(self, rule_id: str, message: str, item: Decided, witness: Packet, may: bool,
                 identity: tuple[str, ...]) -> Finding:
        meta = self._meta[rule_id]
        # A trace of one rule repeats the location, so keep it only when it adds steps.
        steps = item.trace if len(item.trace) > 1 else ()
        trace = tuple(Step(rule.span, _step_text(rule)) for rule in steps)
        return Finding(
            rule_id=rule_id,
            name=meta.name,
            level=meta.level,
            message=message,
            span=item.rule.span,
            witness=witness,
            may=may,
            trace=trace,
            related=tuple(step for step in trace if step.span != item.rule.span),
            identity=(*identity, item.rule.text),
            properties={"witness": witness.as_dict(), "may": may,
                        "reply": item.reply, "hook": identity[0]},
        )


def _narrow(box: Box, engine: Engine, packet: Packet) -> Box:
    """Cut ``box`` down to the witness's protocol, addresses and ports."""
    dims = box.as_dict()
    dims[PROTO] = IntervalSet.single(packet.proto)
    dims[SRC] = IntervalSet.single(address_value(parse_network(packet.src).network_address))
    dims[DST] = IntervalSet.single(address_value(parse_network(packet.dst).network_address))
    if packet.sport is not None and packet.dport is not None:
        dims[SPORT] = IntervalSet.single(packet.sport)
        dims[DPORT] = IntervalSet.single(packet.dport)
    return Box.of(dims)


def _version_reason(req: Requirement, config: object) -> str:
    def text(bound: tuple[int, int]) -> str:
        return f"{bound[0]}.{bound[1]}"
    if req.min_version and req.max_version:
        span = f"SEG {text(req.min_version)} to {text(req.max_version)}"
    elif req.min_version:
        span = f"SEG {text(req.min_version)} and above"
    else:
        span = f"SEG {text(req.max_version)} and below" if req.max_version else "every version"
    version = getattr(config, "version", None)
    configured = f"; the configuration says {text(version)}" if version else ""
    return f"version: the row applies to {span}{configured}"


def _feature_reason(req: Requirement) -> str:
    if req.feature == "auto-update":
        return "feature: auto-update is turned off in seg.disabled-features"
    return f"feature: {req.feature} is not listed in seg.features"


def _not_crossing(target: Target, source_role: str, destination_role: str) -> str:
    if target.mode == "host":
        return (f"not crossing this firewall: its host ({target.host_role}) is neither a "
                "source nor a destination of this row")
    missing = [role for role in (source_role, destination_role)
               if not target.party(role).configured and not target.party(role).internet
               and role != "any"]
    named = " and ".join(missing) or f"{source_role} to {destination_role}"
    return (f"not crossing this firewall: {named} has no addresses in the configuration, "
            "so the flow may not cross it")


def _decided_flow(item: Decided, witness: Packet, limit: int = 4) -> str:
    """Name the protocols and ports the rule decided, not the whole row.

    The witness's protocol comes first; tcp and udp are named when the
    rule decided both.
    """
    names = {6: "tcp", 17: "udp"}
    protocols = [witness.proto] + [p for p in names if p != witness.proto]
    parts = []
    for protocol in protocols:
        ports = IntervalSet()
        for piece in item.boxes:
            proto_values = piece.get(PROTO)
            if proto_values is None or protocol in proto_values:
                ports = ports.union(piece.get(DPORT) or ALL_PORTS)
        if ports:
            parts.append(f"{names.get(protocol, str(protocol))}/{_port_text(ports, limit)}")
    return " and ".join(parts)


def _profile_note(target: Target) -> str:
    """Name the Windows Firewall profile a finding belongs to."""
    if target.ruleset.format == "windows-firewall" and target.ruleset.name:
        return f" in the {target.ruleset.name} profile"
    return ""


def _describe(rule: Rule) -> str:
    """Name a rule in a message: policies by their label, rules by their text."""
    if rule.label and (not rule.conditions or rule.implicit or len(rule.text) > 80):
        return rule.label
    return rule.text or rule.label


def _step_text(rule: Rule) -> str:
    return f"{_describe(rule)} ({rule.action.kind})"


def _reverse(packet: Packet) -> Packet:
    return Packet(packet.proto, packet.dst, packet.src, packet.dport, packet.sport,
                  packet.icmp_type, packet.icmp_code, packet.oif, packet.iif, "established")


@hookimpl
def seglint_policies() -> list[SegPolicy]:
    return [SegPolicy()]
