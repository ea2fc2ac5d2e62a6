"""Validation of a configuration :class:`Node` tree into a :class:`Config`.

Every check raises :class:`ConfigError` at the span of the key or value it
rejects, with a message naming the value and what is allowed instead.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

from seglint._config_model import (
    DEFAULT_FEATURES,
    DEFAULT_TRUSTED,
    DEFAULT_VERSION,
    INTERNET_ROLES,
    KNOWN_FEATURES,
    KNOWN_ROLES,
    LEVELS,
    PROFILES,
    Config,
    Networks,
    Role,
    RulesetConfig,
    RuleSetting,
    default_roles,
)
from seglint._config_tree import ConfigError, Item, Node, type_name
from seglint.ir import Span
from seglint.limits import DEFAULT_MAX_FILE_SIZE, HIGHEST_MAX_FILE_SIZE, SIZE_HINT, parse_size
from seglint.space import ADDR_ALL, EMPTY, IntervalSet, network_interval, parse_network

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

TOP_KEYS = ("seg", "trusted", "roles", "rulesets", "rules", "max-file-size")
SEG_KEYS = ("version", "features", "disabled-features")
RULESET_KEYS = ("files", "resources", "host", "interfaces", "zones", "profiles")
RULE_KEYS = ("level",)

# "10.2", "8" or "11.1", optionally followed by a build number ("10.2.0.1234").
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.\d+){0,2}")

_ADDRESS_HINT = "an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8 or 2001:db8::/32"


def build_config(
    node: Node | None, *, path: Path | None, root: Path, known_rules: set[str]
) -> Config:
    """Validate the configuration tree and fill in the defaults."""
    sections = _sections(node)

    version, version_text, features, disabled = _seg(sections.get("seg"))
    trusted_node = sections.get("trusted")
    trusted = DEFAULT_TRUSTED
    if trusted_node is not None:
        trusted, _ = _addresses(trusted_node, "trusted")
    roles = _roles(sections.get("roles"), trusted)
    rulesets = _rulesets(sections.get("rulesets"), roles, trusted)
    rules = _rules(sections.get("rules"), known_rules)
    size_node = sections.get("max-file-size")
    max_file_size = DEFAULT_MAX_FILE_SIZE if size_node is None else _size(size_node)

    return Config(
        path=path,
        root=root,
        version=version,
        version_text=version_text,
        features=features,
        disabled_features=disabled,
        trusted=trusted,
        trusted_configured=trusted_node is not None,
        roles=roles,
        rulesets=rulesets,
        rules=rules,
        max_file_size=max_file_size,
    )


def _sections(node: Node | None) -> dict[str, Node]:
    """Return the top-level sections. A section set to null counts as absent."""
    if node is None:
        return {}
    sections = {}
    for item in _mapping(node, "the configuration"):
        key = _known_key(item, TOP_KEYS, "key", "")
        if item.node.value is not None:
            sections[key] = item.node
    return sections


# --- seg ----------------------------------------------------------------------


def _seg(
    node: Node | None,
) -> tuple[tuple[int, int], str, frozenset[str], frozenset[str]]:
    version = DEFAULT_VERSION
    version_text = f"{version[0]}.{version[1]}"
    listed: dict[str, Node] = {}
    disabled: dict[str, Node] = {}
    for item in _mapping(node, "seg") if node is not None else ():
        key = _known_key(item, SEG_KEYS, "key", "seg")
        if key == "version":
            version, version_text = _version(item.node)
        elif key == "features":
            listed = _features(item.node, "seg.features")
        else:
            disabled = _features(item.node, "seg.disabled-features")

    for name, feature_node in disabled.items():
        if name in listed:
            raise ConfigError(
                f'feature "{name}" is listed in both seg.features and '
                "seg.disabled-features (remove it from one of them)",
                feature_node.span,
            )
    features = (frozenset(listed) | DEFAULT_FEATURES) - frozenset(disabled)
    return version, version_text, features, frozenset(disabled)


def _version(node: Node) -> tuple[tuple[int, int], str]:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _wrong_type(node, "seg.version", 'a version such as "10.2"')
    # A YAML or TOML number loses trailing zeros (10.10 reads as 10.1), so
    # the text as written is what counts.
    text = value.strip() if isinstance(value, str) else (node.raw or str(value))
    found = _VERSION.fullmatch(text)
    if found is None:
        raise ConfigError(
            f'invalid version "{text}" in seg.version '
            '(expected a SEG version number such as "10.2", "8" or "11.1")',
            node.span,
        )
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return (major, minor), text


def _features(node: Node, where: str) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for name, item in _strings(node, where, "a list of feature names"):
        if name not in KNOWN_FEATURES:
            raise ConfigError(
                _unknown("feature", name, where, KNOWN_FEATURES), item.span
            )
        found.setdefault(name, item)
    return found


def _size(node: Node) -> int:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _wrong_type(node, "max-file-size", SIZE_HINT)
    size = value if isinstance(value, int) else parse_size(value)
    if size is None:
        raise ConfigError(
            f'invalid size "{value}" in max-file-size (expected {SIZE_HINT})', node.span
        )
    if not 1 <= size <= HIGHEST_MAX_FILE_SIZE:
        raise ConfigError(
            f"max-file-size out of range ({size} bytes; expected 1 to "
            f"{HIGHEST_MAX_FILE_SIZE} bytes, 16MiB)",
            node.span,
        )
    return size


# --- addresses and roles ------------------------------------------------------


def _addresses(node: Node, where: str) -> tuple[IntervalSet, tuple[str, ...]]:
    """Parse a list of hosts and CIDRs (or one of them as a string)."""
    intervals = []
    entries = []
    for text, item in _strings(node, where, "a list of addresses or CIDRs"):
        intervals.append(network_interval(_network(text, item, where)))
        entries.append(text)
    return IntervalSet(intervals), tuple(entries)


def _network(text: str, node: Node, where: str) -> IPNetwork:
    try:
        return parse_network(text)
    except ValueError:
        raise ConfigError(
            f'invalid address "{text}" in {where} (expected {_ADDRESS_HINT})',
            node.span,
        ) from None


def _roles(node: Node | None, trusted: IntervalSet) -> dict[str, Role]:
    roles = default_roles(trusted)
    for item in _mapping(node, "roles") if node is not None else ():
        name = _known_key(item, KNOWN_ROLES, "role", "roles")
        where = f"roles.{name}"
        if item.node.value is None:
            raise ConfigError(
                f"missing addresses for role {name} (list its addresses, write [] "
                "if there is none, or remove the line to allow any address)",
                item.key_span,
            )
        values, entries = _addresses(item.node, where)
        roles[name] = Role(name, values, entries, configured=True, span=item.key_span)
    return roles


# --- rulesets -----------------------------------------------------------------


def _rulesets(
    node: Node | None, roles: dict[str, Role], trusted: IntervalSet
) -> tuple[RulesetConfig, ...]:
    if node is None:
        return ()
    if not isinstance(node.value, tuple) or node.is_mapping:
        raise _wrong_type(node, "rulesets", "a list of rule set entries")
    return tuple(
        _ruleset(entry, f"rulesets[{index}]", roles, trusted)
        for index, entry in enumerate(node.value)
    )


def _ruleset(
    node: Node, where: str, roles: dict[str, Role], trusted: IntervalSet
) -> RulesetConfig:
    globs: dict[str, str | None] = {"files": None, "resources": None}
    host: str | None = None
    networks: dict[str, dict[str, Networks]] = {"interfaces": {}, "zones": {}}
    profiles: tuple[str, ...] = PROFILES
    for item in _mapping(node, where):
        key = _known_key(item, RULESET_KEYS, "key", where)
        inner = f"{where}.{key}"
        if key in globs:
            globs[key] = _glob(item.node, inner)
        elif key == "host":
            host = _string(item.node, inner, "a role name")
            if host not in KNOWN_ROLES:
                raise ConfigError(
                    _unknown("role", host, inner, KNOWN_ROLES), item.node.span
                )
        elif key in networks:
            networks[key] = _interfaces(item.node, inner, roles, trusted)
        else:
            profiles = _profiles(item.node, inner)

    if globs["files"] is None and globs["resources"] is None:
        raise ConfigError(
            f"{where} has neither files nor resources (add a files glob such as "
            '"hosts/*.rules" or a resources glob such as "aws_security_group.*")',
            node.span,
        )
    return RulesetConfig(
        files=globs["files"],
        resources=globs["resources"],
        host=host,
        interfaces=networks["interfaces"],
        zones=networks["zones"],
        profiles=profiles,
        span=node.span,
    )


def _glob(node: Node, where: str) -> str:
    pattern = _string(node, where, "a glob pattern")
    if not pattern.strip():
        raise ConfigError(
            f"empty pattern in {where} (expected a glob such as *.rules)", node.span
        )
    return pattern


def _profiles(node: Node, where: str) -> tuple[str, ...]:
    found: list[str] = []
    for name, item in _strings(node, where, "a list of firewall profiles"):
        if name not in PROFILES:
            raise ConfigError(_unknown("profile", name, where, PROFILES), item.span)
        if name not in found:
            found.append(name)
    if not found:
        raise ConfigError(
            f"no profile in {where} (list one or more of {', '.join(PROFILES)})",
            node.span,
        )
    return tuple(found)


def _interfaces(
    node: Node, where: str, roles: dict[str, Role], trusted: IntervalSet
) -> dict[str, Networks]:
    result = {}
    for item in _mapping(node, where):
        name = item.key
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"invalid interface name {name!r} in {where} "
                "(expected a name such as eth0)",
                item.key_span,
            )
        result[name] = _networks(item.node, f"{where}.{name}", roles, trusted)
    return result


def _networks(
    node: Node, where: str, roles: dict[str, Role], trusted: IntervalSet
) -> Networks:
    """Resolve ``internet``, role names and CIDRs into one address set."""
    internet_values = ADDR_ALL.subtract(trusted)
    values = EMPTY
    internet = False
    entries = []
    expected = "internet, a role name or a list of addresses"
    for text, item in _strings(node, where, expected):
        entries.append(text)
        if text == "internet":
            internet = True
            values = values.union(internet_values)
        elif text in roles:
            role = roles[text]
            values = values.union(role.values)
            internet = internet or (not role.configured and text in INTERNET_ROLES)
        else:
            values = values.union(
                IntervalSet([network_interval(_zone_network(text, item, where))])
            )
    return Networks(values, internet, tuple(entries))


def _zone_network(text: str, node: Node, where: str) -> IPNetwork:
    try:
        return parse_network(text)
    except ValueError:
        pass
    hint = _closest(text, ("internet", *KNOWN_ROLES))
    raise ConfigError(
        f'invalid network "{text}" in {where} (expected internet, a role name '
        f"or {_ADDRESS_HINT}{hint})",
        node.span,
    )


# --- rules --------------------------------------------------------------------


def _rules(node: Node | None, known_rules: set[str]) -> dict[str, RuleSetting]:
    rules = {}
    for item in _mapping(node, "rules") if node is not None else ():
        rule_id = item.key
        if not isinstance(rule_id, str) or rule_id not in known_rules:
            raise ConfigError(
                _unknown("rule id", str(rule_id), "rules", sorted(known_rules)),
                item.key_span,
            )
        rules[rule_id] = _rule_setting(item, rule_id)
    return rules


def _rule_setting(item: Item, rule_id: str) -> RuleSetting:
    node = item.node
    where = f"rules.{rule_id}"
    if node.is_mapping:
        setting = RuleSetting(None, True, item.key_span)
        for inner in _mapping(node, where):
            _known_key(inner, RULE_KEYS, "key", where)
            setting = _level(inner.node, f"{where}.level", item.key_span)
        return setting
    return _level(node, where, item.key_span)


def _level(node: Node, where: str, span: Span) -> RuleSetting:
    """Read ``off``, ``on``, a level name or a boolean (YAML 1.1 reads off as false)."""
    value = node.value
    if isinstance(value, bool):
        return RuleSetting(None, value, span)
    if isinstance(value, str) and not node.is_mapping:
        if value == "off":
            return RuleSetting(None, False, span)
        if value == "on":
            return RuleSetting(None, True, span)
        if value in LEVELS:
            return RuleSetting(value, True, span)
        raise ConfigError(
            f'invalid level "{value}" for {where} '
            "(expected error, warning, note or off)",
            node.span,
        )
    raise _wrong_type(node, where, "error, warning, note, off or {level: ...}")


# --- shared helpers -----------------------------------------------------------


def _mapping(node: Node, where: str) -> tuple[Item, ...]:
    if not node.is_mapping:
        raise _wrong_type(node, where, "a mapping")
    return node.value  # type: ignore[return-value]


def _string(node: Node, where: str, expected: str) -> str:
    if not isinstance(node.value, str):
        raise _wrong_type(node, where, expected)
    return node.value


def _strings(node: Node, where: str, expected: str) -> list[tuple[str, Node]]:
    """Return the strings of a list, or of one string standing for a list of one."""
    if isinstance(node.value, str):
        return [(node.value.strip(), node)]
    if not isinstance(node.value, tuple) or node.is_mapping:
        raise _wrong_type(node, where, expected)
    found = []
    for index, child in enumerate(node.value):
        if not isinstance(child.value, str):
            raise _wrong_type(child, f"{where}[{index}]", "a string")
        found.append((child.value.strip(), child))
    return found


def _known_key(item: Item, allowed: Iterable[str], kind: str, where: str) -> str:
    allowed = tuple(allowed)
    if isinstance(item.key, str) and item.key in allowed:
        return item.key
    raise ConfigError(_unknown(kind, str(item.key), where, allowed), item.key_span)


def _unknown(kind: str, value: str, where: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    plural = "rules" if kind == "rule id" else f"{kind}s"
    place = f" in {where}" if where else ""
    hint = _closest(value, allowed)
    return (
        f'unknown {kind} "{value}"{place} (known {plural}: {", ".join(allowed)}{hint})'
    )


def _closest(value: str, allowed: tuple[str, ...]) -> str:
    """Return "; closest: NAME" for a likely misspelling or abbreviation, or ""."""
    found = difflib.get_close_matches(value, allowed, n=1)
    if not found and len(value) >= 3:
        found = [name for name in allowed if name.startswith(value)][:1]
    return f"; closest: {found[0]}" if found else ""


def _wrong_type(node: Node, where: str, expected: str) -> ConfigError:
    return ConfigError(
        f"wrong type for {where} (expected {expected}, got {type_name(node)})",
        node.span,
    )
