"""Windows Firewall rules and profile settings as IR rule sets, one per profile.

Windows evaluates a packet against authenticated-bypass rules first, then
block rules, then allow rules, then the profile's default action. The order
of rules inside each group does not matter. Each hook therefore gets two base
chains: ``block-*`` (block rules, implicit accept at its end) and ``allow-*``
(allow rules, the profile default as policy). Bypass rules sit at the top of
both with an unknown condition, because they apply only to connections that
IPsec authenticated, and such a connection skips the block rules.
"""

from __future__ import annotations

import itertools

from seglint.formats._winfw_model import PROFILES, FieldValue, ProfileSettings, RawRule
from seglint.formats._winfw_values import (
    Options,
    address_options,
    icmp_condition,
    icmp_values,
    is_any,
    port_options,
    port_protocol_condition,
    protocol_condition,
    protocol_number,
    unknown_warning,
)
from seglint.ir import (
    Action,
    Chain,
    Condition,
    Diagnostic,
    Rule,
    Ruleset,
    Span,
    Unknown,
)
from seglint.space import DPORT, DST, SPORT, SRC

FORMAT_ID = "windows-firewall"
ACCEPT = Action("accept", stateful=True)
DROP = Action("drop")
HOOKS = {"input": ("block-in", "allow-in"), "output": ("block-out", "allow-out")}

# Fields that restrict a rule to traffic of one program, service, interface
# type or IPsec state: facts about the host that no rule file states.
_RESTRICTIONS = (
    ("program", "program restriction"),
    ("service", "service restriction"),
    ("interfacetypes", "interface type restriction"),
    ("security", "IPsec requirement"),
)


class CompiledRule:
    """The IR rules of one Windows rule (one per combination of list options)."""

    def __init__(self, raw: RawRule, rules: list[Rule]) -> None:
        self.raw = raw
        self.rules = rules


def compile_rule(raw: RawRule) -> tuple[CompiledRule, list[Diagnostic]]:
    """Turn one enabled rule into IR rules and the SEG902 warnings it needs."""
    inbound = raw.direction == "in"
    remote, local = (SRC, DST) if inbound else (DST, SRC)
    local_port, remote_port = (DPORT, SPORT) if inbound else (SPORT, DPORT)
    diagnostics: list[Diagnostic] = []

    base, base_diagnostics = _protocol_conditions(raw)
    diagnostics.extend(base_diagnostics)
    base.extend(_restrictions(raw, diagnostics))
    if raw.action == "bypass":
        # Bypass rules match only connections that IPsec authenticated.
        base.append(
            Unknown("authenticated bypass (IPsec)", raw.span, "winfw:ipsec-bypass")
        )
        diagnostics.append(
            Diagnostic(
                "SEG902",
                f"authenticated bypass rule is not modelled ({raw.name}); checks "
                'that depend on it say "may"',
                raw.span,
                "warning",
            )
        )

    option_lists: list[Options] = []
    for options, found in (
        address_options(raw.fields.get("remoteip"), remote, "remote address"),
        address_options(raw.fields.get("localip"), local, "local address"),
        port_options(raw.fields.get("localport"), local_port, "local port"),
        port_options(raw.fields.get("remoteport"), remote_port, "remote port"),
    ):
        option_lists.append(options)
        diagnostics.extend(found)
    if _has_ports(raw) and protocol_number(_text(raw, "protocol")) == -1:
        base.append(port_protocol_condition())

    action = DROP if raw.action == "block" else ACCEPT
    text = rule_text(raw)
    label = f'rule "{raw.name}"'
    rules = [
        Rule(raw.span, tuple(base) + _flatten(combination), action, text, label=label)
        for combination in itertools.product(*option_lists)
    ]
    return CompiledRule(raw, rules), diagnostics


def _text(raw: RawRule, key: str) -> str:
    field = raw.fields.get(key)
    return field.text if field is not None else "Any"


def _has_ports(raw: RawRule) -> bool:
    return not (is_any(_text(raw, "localport")) and is_any(_text(raw, "remoteport")))


def _flatten(combination: tuple[tuple[Condition, ...], ...]) -> tuple[Condition, ...]:
    return tuple(condition for option in combination for condition in option)


def _protocol_conditions(raw: RawRule) -> tuple[list[Condition], list[Diagnostic]]:
    field = raw.fields.get("protocol")
    if field is None:
        return [], []
    number = protocol_number(field.text)
    if number is None:
        condition, diagnostic = unknown_warning(
            "protocol",
            field.text.strip(),
            field,
            f"winfw:protocol:{field.text.lower()}",
        )
        return [condition], [diagnostic]

    conditions = list(protocol_condition(number))
    if number not in (1, 58) or not raw.icmp:
        return conditions, []
    span = raw.icmp_span or field.span
    try:
        conditions.extend(icmp_condition(icmp_values(raw.icmp)))
    except ValueError:
        pairs = " ".join(f"{kind}:{code}" for kind, code in raw.icmp)
        condition, diagnostic = unknown_warning(
            "ICMP type", pairs, FieldValue(pairs, span), f"winfw:icmp:{pairs}"
        )
        return [*conditions, condition], [diagnostic]
    return conditions, []


def _restrictions(raw: RawRule, diagnostics: list[Diagnostic]) -> list[Condition]:
    conditions: list[Condition] = []
    for key, what in _RESTRICTIONS:
        field = raw.fields.get(key)
        if field is None or is_any(field.text):
            continue
        if key == "security" and field.text.strip().lower() == "notrequired":
            continue
        value = field.text.strip()
        condition, diagnostic = unknown_warning(
            what, value, field, f"winfw:{key}:{value.lower()}"
        )
        conditions.append(condition)
        diagnostics.append(diagnostic)
    for name, field in raw.extra:
        value = field.text.strip()
        if is_any(value) or value.lower() in ("n/a", "none"):
            continue
        condition, diagnostic = unknown_warning(
            f"field {name}", value, field, f"winfw:{name.lower()}:{value.lower()}"
        )
        conditions.append(condition)
        diagnostics.append(diagnostic)
    return conditions


def rule_text(raw: RawRule) -> str:
    """Return the rule as one normalised line (no line numbers: it is fingerprinted)."""
    profiles = ",".join(name for name in PROFILES if name in raw.profiles)
    parts = [
        f'rule "{raw.name}"',
        f"dir={raw.direction}",
        f"action={raw.action}",
        f"profiles={profiles}",
    ]
    for key in sorted(raw.fields):
        parts.append(f"{key}={' '.join(raw.fields[key].text.split())}")
    if raw.icmp:
        parts.append("icmp=" + ",".join(f"{kind}:{code}" for kind, code in raw.icmp))
    for name, field in raw.extra:
        parts.append(f"{name.replace(' ', '').lower()}={' '.join(field.text.split())}")
    return " ".join(parts)


def build_rulesets(
    path: str, compiled: list[CompiledRule], profiles: dict[str, ProfileSettings]
) -> tuple[Ruleset, ...]:
    """Return one rule set per profile (domain, private, public)."""
    return tuple(
        _profile_ruleset(path, name, compiled, profiles.get(name)) for name in PROFILES
    )


def _profile_ruleset(
    path: str,
    profile: str,
    compiled: list[CompiledRule],
    settings: ProfileSettings | None,
) -> Ruleset:
    if settings is not None and settings.enabled is False:
        return _firewall_off(path, profile, settings)

    chains: dict[str, Chain] = {}
    for hook, direction in (("input", "in"), ("output", "out")):
        mine = [
            item
            for item in compiled
            if item.raw.direction == direction and profile in item.raw.profiles
        ]
        bypass = [
            rule for item in mine if item.raw.action == "bypass" for rule in item.rules
        ]
        blocks = [
            rule for item in mine if item.raw.action == "block" for rule in item.rules
        ]
        allows = [
            rule for item in mine if item.raw.action == "allow" for rule in item.rules
        ]
        block_name, allow_name = HOOKS[hook]
        block_policy, allow_policy = _policies(path, profile, direction, settings)
        chains[block_name] = Chain(block_name, tuple(bypass + blocks), block_policy)
        chains[allow_name] = Chain(allow_name, tuple(bypass + allows), allow_policy)

    return Ruleset(
        path=path,
        format=FORMAT_ID,
        chains=chains,
        hooks=dict(HOOKS),
        families=frozenset({4, 6}),
        kind="host",
        name=profile,
    )


def _firewall_off(path: str, profile: str, settings: ProfileSettings) -> Ruleset:
    """Return a rule set that accepts everything: the profile's firewall is off."""
    span = settings.state_span or Span(path, 1)
    text = f"{profile} profile State OFF"
    policy = Rule(span, (), ACCEPT, text, label=text)
    chains = {
        "off-in": Chain("off-in", (), policy),
        "off-out": Chain("off-out", (), policy),
    }
    return Ruleset(
        path=path,
        format=FORMAT_ID,
        chains=chains,
        hooks={"input": ("off-in",), "output": ("off-out",)},
        families=frozenset({4, 6}),
        kind="host",
        name=profile,
    )


def _policies(
    path: str, profile: str, direction: str, settings: ProfileSettings | None
) -> tuple[Rule, Rule]:
    """Return the policies of the block chain and the allow chain of one direction."""
    stated = settings is not None and settings.policy_span is not None
    span = settings.policy_span if settings and settings.policy_span else Span(path, 1)

    if direction == "in":
        setting = settings.inbound if settings else None
        default = setting or "block"
        word = {"block": "BlockInbound", "allow": "AllowInbound"}.get(
            default, "BlockInboundAlways"
        )
    else:
        setting = settings.outbound if settings else None
        default = setting or "allow"
        word = "BlockOutbound" if default == "block" else "AllowOutbound"

    explicit = stated and setting is not None
    if explicit and settings is not None:
        text = f"{profile} profile Firewall Policy {settings.policy_text}"
        label = f"{profile} profile policy {word}"
    else:
        text = f"{profile} profile default {word} (Windows default)"
        label = text

    allow_action = ACCEPT if default == "allow" else DROP
    allow_policy = Rule(
        span, (), allow_action, text, implicit=not explicit, label=label
    )
    if default == "blockalways":
        # Block all connections: allow rules are ignored, only bypass rules pass.
        return allow_policy, allow_policy
    end_text = f"{profile} profile end of block rules"
    block_policy = Rule(span, (), ACCEPT, end_text, implicit=True, label=end_text)
    return block_policy, allow_policy
