"""Tests of finding, reading and validating the seglint configuration."""

from __future__ import annotations

import ipaddress
import textwrap
from pathlib import Path

import pytest

from seglint.config import (
    KNOWN_ROLES,
    Config,
    ConfigError,
    find_config,
    load_config,
)
from seglint.space import ADDR_ALL, address_value, family_of

RULE_IDS = {
    *(f"SEG1{n:02d}" for n in range(1, 13)),
    *(f"SEG20{n}" for n in range(1, 9)),
    "SEG301",
    "SEG901",
    "SEG902",
    "SEG903",
}


def ip(text: str) -> int:
    return address_value(ipaddress.ip_address(text))


def write(folder: Path, text: str, name: str = "seglint.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(folder: Path, text: str, name: str = "seglint.yaml") -> Config:
    path = write(folder, text, name)
    return load_config(path, known_rules=RULE_IDS, cwd=folder)


def load_error(folder: Path, text: str, name: str = "seglint.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(folder, text, name)
    return caught.value


# --- errors, with the exact position of the offending key or value ------------

YAML_ERRORS = [
    (
        "unknown top-level key",
        "seg:\n  version: '10.2'\nsg: {}\n",
        3,
        1,
        'unknown key "sg" (known keys: seg, trusted, roles, rulesets, rules, '
        "max-file-size; closest: seg)",
    ),
    (
        "unknown role",
        "roles:\n  sql: [10.0.0.1]\n",
        2,
        3,
        'unknown role "sql" in roles (known roles: array-manager, processing-nodes, '
        "sql-server, dns-servers, ldap-servers, admin-workstations, web-components, "
        "rest-clients, pop3-clients, legacy-consoles, update-servers, smtp-peers; "
        "closest: sql-server)",
    ),
    (
        "bad address in flow list",
        "roles:\n  sql-server: [10.0.0.1, 10.0.0.300]\n",
        2,
        26,
        'invalid address "10.0.0.300" in roles.sql-server (expected an IPv4 or IPv6 '
        "address or CIDR, such as 10.0.0.0/8 or 2001:db8::/32)",
    ),
    (
        "bad cidr in block list",
        "trusted:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n",
        3,
        5,
        'invalid address "10.0.0.0/33" in trusted (expected an IPv4 or IPv6 '
        "address or CIDR, such as 10.0.0.0/8 or 2001:db8::/32)",
    ),
    (
        "bad ipv6 cidr",
        "roles:\n  processing-nodes: ['2001:db8::/129']\n",
        2,
        22,
        'invalid address "2001:db8::/129" in roles.processing-nodes (expected an IPv4 '
        "or IPv6 address or CIDR, such as 10.0.0.0/8 or 2001:db8::/32)",
    ),
    (
        "unknown rule id",
        "rules:\n  SEG206: error\n  SEG999: off\n",
        3,
        3,
        'unknown rule id "SEG999" in rules (known rules: ',
    ),
    (
        "bad level in mapping",
        "rules:\n  SEG206: {level: fatal}\n",
        2,
        19,
        'invalid level "fatal" for rules.SEG206.level '
        "(expected error, warning, note or off)",
    ),
    (
        "bad level scalar",
        "rules:\n  SEG206: loud\n",
        2,
        11,
        'invalid level "loud" for rules.SEG206 (expected error, warning, note or off)',
    ),
    (
        "unknown rule setting key",
        "rules:\n  SEG206: {severity: error}\n",
        2,
        12,
        'unknown key "severity" in rules.SEG206 (known keys: level)',
    ),
    (
        "unknown feature",
        "seg:\n  features: [pop3, pop4]\n",
        2,
        20,
        'unknown feature "pop4" in seg.features (known features: active-directory, '
        "pop3, rest-api, entra, auto-update; closest: pop3)",
    ),
    (
        "unknown disabled feature",
        "seg:\n  disabled-features: autoupdate\n",
        2,
        22,
        'unknown feature "autoupdate" in seg.disabled-features (known features: ',
    ),
    (
        "feature enabled and disabled",
        "seg:\n  features: [pop3]\n  disabled-features: [pop3]\n",
        3,
        23,
        'feature "pop3" is listed in both seg.features and seg.disabled-features '
        "(remove it from one of them)",
    ),
    (
        "unknown seg key",
        "seg:\n  versoin: '10.2'\n",
        2,
        3,
        'unknown key "versoin" in seg (known keys: version, features, '
        "disabled-features; closest: version)",
    ),
    (
        "version of wrong type",
        "seg:\n  version: [10]\n",
        2,
        12,
        'wrong type for seg.version (expected a version such as "10.2", got a list)',
    ),
    (
        "invalid version",
        'seg:\n  version: "ten"\n',
        2,
        12,
        'invalid version "ten" in seg.version (expected a SEG version number such as '
        '"10.2", "8" or "11.1")',
    ),
    (
        "roles of wrong type",
        "roles: 5\n",
        1,
        8,
        "wrong type for roles (expected a mapping, got an integer)",
    ),
    (
        "role address of wrong type",
        "roles:\n  sql-server:\n    - 10.0.0.1\n    - 167772161\n",
        4,
        7,
        "wrong type for roles.sql-server[1] (expected a string, got an integer)",
    ),
    (
        "role without value",
        "roles:\n  sql-server:\n  array-manager: [10.0.0.1]\n",
        2,
        3,
        "missing addresses for role sql-server (list its addresses, write [] if there "
        "is none, or remove the line to allow any address)",
    ),
    (
        "document not a mapping",
        "- 10.0.0.1\n",
        1,
        1,
        "wrong type for the configuration (expected a mapping, got a list)",
    ),
    (
        "rulesets of wrong type",
        "rulesets:\n  files: a.rules\n",
        2,
        3,
        "wrong type for rulesets (expected a list of rule set entries, got a mapping)",
    ),
    (
        "host names unknown role",
        "rulesets:\n  - files: a.rules\n    host: sql\n",
        3,
        11,
        'unknown role "sql" in rulesets[0].host (known roles: ',
    ),
    (
        "host of wrong type",
        "rulesets:\n  - files: a.rules\n    host: [sql-server]\n",
        3,
        11,
        "wrong type for rulesets[0].host (expected a role name, got a list)",
    ),
    (
        "ruleset without files or resources",
        "rulesets:\n  - files: a.rules\n  - host: sql-server\n",
        3,
        5,
        "rulesets[1] has neither files nor resources (add a files glob such as "
        '"hosts/*.rules" or a resources glob such as "aws_security_group.*")',
    ),
    (
        "unknown ruleset key",
        "rulesets:\n  - files: a.rules\n    zone: {}\n",
        3,
        5,
        'unknown key "zone" in rulesets[0] (known keys: files, resources, host, '
        "interfaces, zones, profiles; closest: zones)",
    ),
    (
        "empty files glob",
        "rulesets:\n  - files: ''\n",
        2,
        12,
        "empty pattern in rulesets[0].files (expected a glob such as *.rules)",
    ),
    (
        "zone network unknown",
        "rulesets:\n  - files: asa.cfg\n    zones:\n"
        "      dmz: [10.0.1.0/24, dmz-hosts]\n",
        4,
        26,
        'invalid network "dmz-hosts" in rulesets[0].zones.dmz (expected internet, a '
        "role name or an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8 or "
        "2001:db8::/32)",
    ),
    (
        "interface network misspelt role",
        "rulesets:\n  - files: a.nft\n    interfaces:\n      eth0: sql-servers\n",
        4,
        13,
        'invalid network "sql-servers" in rulesets[0].interfaces.eth0 (expected '
        "internet, a role name or an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8 "
        "or 2001:db8::/32; closest: sql-server)",
    ),
    (
        "interface without value",
        "rulesets:\n  - files: a.nft\n    interfaces:\n      eth0:\n",
        4,
        7,
        "wrong type for rulesets[0].interfaces.eth0 (expected internet, a role name or "
        "a list of addresses, got null)",
    ),
    (
        "interface name not a string",
        "rulesets:\n  - files: a.nft\n    interfaces:\n      0: internet\n",
        4,
        7,
        "invalid interface name 0 in rulesets[0].interfaces "
        "(expected a name such as eth0)",
    ),
    (
        "unknown profile",
        "rulesets:\n  - files: fw.txt\n    profiles: [domain, work]\n",
        3,
        24,
        'unknown profile "work" in rulesets[0].profiles (known profiles: domain, '
        "private, public)",
    ),
    (
        "empty profiles",
        "rulesets:\n  - files: fw.txt\n    profiles: []\n",
        3,
        15,
        "no profile in rulesets[0].profiles "
        "(list one or more of domain, private, public)",
    ),
    (
        "yaml syntax error",
        "roles:\n  sql-server: [10.0.0.1\n",
        3,
        1,
        "invalid YAML (",
    ),
    (
        "yaml bad indentation",
        "roles:\n  sql-server: [10.0.0.1]\n dns-servers: [10.0.0.53]\n",
        3,
        2,
        "invalid YAML (",
    ),
    (
        "duplicate key",
        "roles:\n  sql-server: [10.0.0.1]\n  sql-server: [10.0.0.2]\n",
        3,
        3,
        'duplicate key "sql-server" (each key may appear only once in a mapping)',
    ),
    (
        "duplicate top-level key",
        "rules: {}\nroles: {}\nrules: {}\n",
        3,
        1,
        'duplicate key "rules" (each key may appear only once in a mapping)',
    ),
    (
        "python object tag",
        "roles: !!python/object:os.system {}\n",
        1,
        8,
        "YAML tags are not allowed (!!python/object:os.system); write plain strings, "
        "numbers, lists and mappings",
    ),
    (
        "python name tag on a scalar",
        "rulesets:\n  - files: !!python/name:os.system ''\n",
        2,
        12,
        "YAML tags are not allowed (!!python/name:os.system); write plain strings, ",
    ),
    (
        "local tag in a list",
        "trusted: [10.0.0.0/8, !cidr 172.16.0.0/12]\n",
        1,
        23,
        "YAML tags are not allowed (!cidr); write plain strings, ",
    ),
    (
        "two documents",
        "roles: {}\n---\nrules: {}\n",
        2,
        1,
        "invalid YAML (expected a single document in the stream, but found another "
        "document)",
    ),
    (
        "nul character",
        "roles: {}\nrules: \x00\n",
        2,
        8,
        "invalid YAML (character U+0000 is not allowed in YAML text)",
    ),
    (
        "date instead of version",
        "seg:\n  version: 2024-01-01\n",
        2,
        12,
        'wrong type for seg.version (expected a version such as "10.2", '
        "got a date or time)",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [case[1:] for case in YAML_ERRORS],
    ids=[case[0] for case in YAML_ERRORS],
)
def test_yaml_error_position(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    error = load_error(tmp_path, text)
    assert error.span.path == "seglint.yaml"
    assert (error.span.line, error.span.column) == (line, column)
    assert error.message.startswith(message)


def test_error_message_is_str(tmp_path: Path) -> None:
    error = load_error(tmp_path, "roles:\n  sql: []\n")
    assert str(error) == error.message
    assert str(error.span) == "seglint.yaml:2:3"


def test_error_span_ends_at_value(tmp_path: Path) -> None:
    error = load_error(tmp_path, "roles:\n  sql-server: ['10.0.0.300']\n")
    assert (error.span.column, error.span.end_column) == (16, 27)


def test_error_span_covers_key(tmp_path: Path) -> None:
    error = load_error(tmp_path, "roles:\n  sequel-server: []\n")
    assert (error.span.column, error.span.end_column) == (3, 15)


def test_merged_key_error_points_at_source(tmp_path: Path) -> None:
    error = load_error(tmp_path, "roles:\n  <<: {sql: []}\n  dns-servers: []\n")
    assert (error.span.line, error.span.column) == (2, 8)


def test_merge_key_values(tmp_path: Path) -> None:
    text = """\
    rulesets:
      - &node {files: "a.rules", host: processing-nodes}
      - <<: *node
        files: "b.rules"
    """
    config = load(tmp_path, text)
    assert config.rulesets[1].files == "b.rules"
    assert config.rulesets[1].host == "processing-nodes"


def test_error_path_outside_cwd(tmp_path: Path) -> None:
    path = write(tmp_path / "conf", "roles:\n  sql: []\n")
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_rules=RULE_IDS, cwd=elsewhere)
    assert caught.value.span.path == path.resolve().as_posix()


def test_relative_path_and_subfolder(tmp_path: Path) -> None:
    write(tmp_path / "conf", "roles:\n  sql: []\n")
    with pytest.raises(ConfigError) as caught:
        load_config(Path("conf/seglint.yaml"), known_rules=RULE_IDS, cwd=tmp_path)
    assert str(caught.value.span) == "conf/seglint.yaml:2:3"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "seglint.yaml"
    path.write_bytes(b"roles: {}\nrules: {}\nseg: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_rules=RULE_IDS, cwd=tmp_path)
    assert caught.value.span.line == 3
    assert caught.value.message.startswith("configuration file is not UTF-8 text")


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "seglint.yaml"
    path.write_text("# padding\n" * 200_000, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_rules=RULE_IDS, cwd=tmp_path)
    assert caught.value.message.startswith("configuration file is too large")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", known_rules=RULE_IDS, cwd=tmp_path)
    assert caught.value.message.startswith("cannot read the configuration file")
    assert caught.value.span.line == 1


def test_deep_nesting(tmp_path: Path) -> None:
    error = load_error(tmp_path, "roles: " + "[" * 5000 + "]" * 5000 + "\n")
    assert error.message.startswith("invalid YAML (")


def test_alias_expansion_is_cheap(tmp_path: Path) -> None:
    # Nine levels of nine aliases would be 9**9 strings if expanded.
    lines = ["anchors:", "  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"  a{level}: &a{level} [{refs}]")
    error = load_error(tmp_path, "\n".join(lines) + "\n")
    assert (error.span.line, error.span.column) == (1, 1)


# --- pyproject.toml -----------------------------------------------------------

PYPROJECT = """\
[project]
name = "firewalls"

[tool.seglint]
seg = { version = "10.2", features = ["pop3"] }
trusted = [
  "10.0.0.0/8",  # offices
  "fd00::/8",
]

[tool.seglint.roles]
array-manager = ["10.0.0.10"]
processing-nodes = ["198.51.100.10", "2001:db8:5::10"]

[[tool.seglint.rulesets]]
files = "hosts/*.rules"
host = "processing-nodes"

[[tool.seglint.rulesets]]
resources = "aws_security_group.*"
zones.outside = "internet"

[tool.seglint.rules]
SEG206 = { level = "error" }
SEG301 = "off"
"""


def test_pyproject_values(tmp_path: Path) -> None:
    config = load(tmp_path, PYPROJECT, "pyproject.toml")
    assert config.version == (10, 2)
    assert config.features == frozenset({"pop3", "auto-update"})
    assert ip("172.16.0.1") not in config.trusted
    assert ip("fd00::1") in config.trusted
    assert config.roles["processing-nodes"].entries == (
        "198.51.100.10",
        "2001:db8:5::10",
    )
    assert [r.host for r in config.rulesets] == ["processing-nodes", None]
    assert config.rulesets[1].zones["outside"].internet is True
    assert config.rules["SEG206"].level == "error"
    assert config.rules["SEG301"].enabled is False


def test_pyproject_spans(tmp_path: Path) -> None:
    config = load(tmp_path, PYPROJECT, "pyproject.toml")
    assert str(config.roles["array-manager"].span) == "pyproject.toml:12:1"
    assert str(config.rulesets[1].span) == "pyproject.toml:19:1"
    assert str(config.rules["SEG301"].span) == "pyproject.toml:25:1"


TOML_ERRORS = [
    (
        "unknown role",
        PYPROJECT.replace("array-manager = ", "manager = "),
        12,
        1,
        'unknown role "manager" in roles (known roles: ',
    ),
    (
        "bad cidr in multi-line array",
        PYPROJECT.replace('"fd00::/8"', '"fd00::/300"'),
        8,
        3,
        'invalid address "fd00::/300" in trusted (',
    ),
    (
        "bad address in role array",
        PYPROJECT.replace('"2001:db8:5::10"', '"2001:db8:5::zz"'),
        13,
        38,
        'invalid address "2001:db8:5::zz" in roles.processing-nodes (',
    ),
    (
        "unknown feature in inline table",
        PYPROJECT.replace('["pop3"]', '["pop3", "imap"]'),
        5,
        47,
        'unknown feature "imap" in seg.features (',
    ),
    (
        "bad level in inline table",
        PYPROJECT.replace('level = "error"', 'level = "high"'),
        24,
        20,
        'invalid level "high" for rules.SEG206.level (',
    ),
    (
        "unknown rule id",
        PYPROJECT.replace('SEG301 = "off"', 'SEG399 = "off"'),
        25,
        1,
        'unknown rule id "SEG399" in rules (',
    ),
    (
        "array-of-tables entry without files",
        PYPROJECT.replace('files = "hosts/*.rules"\n', ""),
        15,
        1,
        "rulesets[0] has neither files nor resources (",
    ),
    (
        "host unknown role",
        PYPROJECT.replace('host = "processing-nodes"', 'host = "nodes"'),
        17,
        8,
        'unknown role "nodes" in rulesets[0].host (',
    ),
    (
        "unknown top-level key",
        PYPROJECT.replace("[tool.seglint.rules]", "[tool.seglint.checks]"),
        23,
        1,
        'unknown key "checks" (known keys: ',
    ),
    (
        "wrong type",
        PYPROJECT.replace('version = "10.2"', "version = true"),
        5,
        19,
        'wrong type for seg.version (expected a version such as "10.2", got a boolean)',
    ),
    (
        "toml syntax error",
        PYPROJECT.replace('SEG301 = "off"', "SEG301 = off"),
        25,
        10,
        "invalid TOML (invalid value)",
    ),
    (
        "duplicate key",
        PYPROJECT.replace('SEG301 = "off"', 'SEG301 = "off"\nSEG301 = "on"'),
        26,
        14,
        "invalid TOML (cannot overwrite a value)",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [case[1:] for case in TOML_ERRORS],
    ids=[case[0] for case in TOML_ERRORS],
)
def test_toml_error_position(
    tmp_path: Path, text: str, line: int, column: int, message: str
) -> None:
    error = load_error(tmp_path, text, "pyproject.toml")
    assert error.span.path == "pyproject.toml"
    assert (error.span.line, error.span.column) == (line, column)
    assert error.message.startswith(message)


def test_pyproject_without_section(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[project]\nname = "x"\n', "pyproject.toml")
    assert error.message == (
        "no [tool.seglint] table in this file (add one, or use seglint.yaml)"
    )


def test_pyproject_dotted_section(tmp_path: Path) -> None:
    text = (
        "[tool]\n"
        'seglint.roles.sql-server = "10.0.0.20"\n'
        'seglint.rules = {SEG1 = "off"}\n'
    )
    error = load_error(tmp_path, text, "pyproject.toml")
    assert (error.span.line, error.span.column) == (3, 18)


# --- defaults -----------------------------------------------------------------


def test_zero_config_defaults(tmp_path: Path) -> None:
    config = load_config(None, known_rules=RULE_IDS, cwd=tmp_path)
    assert config.path is None
    assert config.root == tmp_path.resolve()
    assert config.zero_config is True
    assert config.version == (11, 1)
    assert config.version_text == "11.1"
    assert config.features == frozenset({"auto-update"})
    assert config.disabled_features == frozenset()
    assert config.trusted_configured is False
    assert config.rulesets == ()
    assert config.rules == {}


@pytest.mark.parametrize(
    ("address", "trusted"),
    [
        ("10.1.2.3", True),
        ("172.31.255.255", True),
        ("172.32.0.1", False),
        ("192.168.1.1", True),
        ("127.0.0.1", True),
        ("fd00::1", True),
        ("fc00::1", True),
        ("::1", True),
        ("8.8.8.8", False),
        ("2001:db8::1", False),
        ("::2", False),
    ],
)
def test_default_trusted(tmp_path: Path, address: str, trusted: bool) -> None:
    config = load_config(None, known_rules=RULE_IDS, cwd=tmp_path)
    assert (ip(address) in config.trusted) is trusted


def test_default_roles(tmp_path: Path) -> None:
    config = load_config(None, known_rules=RULE_IDS, cwd=tmp_path)
    assert tuple(config.roles) == KNOWN_ROLES
    assert all(not role.configured for role in config.roles.values())
    assert config.roles["sql-server"].values == ADDR_ALL
    assert ip("8.8.8.8") in config.roles["smtp-peers"].values
    assert ip("10.0.0.1") not in config.roles["smtp-peers"].values
    assert config.roles["update-servers"].values == config.internet


def test_empty_file_is_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "# nothing configured yet\n")
    assert config.path == (tmp_path / "seglint.yaml").resolve()
    assert config.zero_config is True
    assert config.version == (11, 1)


def test_null_sections_are_absent(tmp_path: Path) -> None:
    config = load(tmp_path, "seg:\ntrusted:\nroles:\nrulesets:\nrules:\n")
    assert config.trusted_configured is False
    assert config.zero_config is True


def test_empty_trusted(tmp_path: Path) -> None:
    config = load(tmp_path, "trusted: []\n")
    assert config.trusted_configured is True
    assert not config.trusted
    assert config.roles["smtp-peers"].values == ADDR_ALL


def test_configured_trusted_drives_internet(tmp_path: Path) -> None:
    config = load(tmp_path, "trusted: 198.51.100.0/24\n")
    assert ip("10.0.0.1") not in config.trusted
    assert ip("198.51.100.7") not in config.roles["update-servers"].values
    assert ip("10.0.0.1") in config.roles["update-servers"].values


# --- seg: version and features ------------------------------------------------


@pytest.mark.parametrize(
    ("written", "version", "text"),
    [
        ('"10.2"', (10, 2), "10.2"),
        ("10.2", (10, 2), "10.2"),
        ("10.10", (10, 10), "10.10"),
        ("8", (8, 0), "8"),
        ("'11.1'", (11, 1), "11.1"),
        ('"10.2.0.1234"', (10, 2), "10.2.0.1234"),
    ],
)
def test_version_forms(
    tmp_path: Path, written: str, version: tuple[int, int], text: str
) -> None:
    config = load(tmp_path, f"seg:\n  version: {written}\n")
    assert config.version == version
    assert config.version_text == text


def test_version_in_toml_keeps_text(tmp_path: Path) -> None:
    config = load(tmp_path, "[tool.seglint]\nseg.version = 10.10\n", "pyproject.toml")
    assert config.version == (10, 10)


@pytest.mark.parametrize("written", ['"10."', '"v10"', '"10.2 beta"', "-1", "''"])
def test_invalid_versions(tmp_path: Path, written: str) -> None:
    error = load_error(tmp_path, f"seg:\n  version: {written}\n")
    assert error.message.startswith("invalid version")
    assert (error.span.line, error.span.column) == (2, 12)


def test_features_and_disabled(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "seg:\n  features: [pop3, entra]\n  disabled-features: [auto-update]\n",
    )
    assert config.features == frozenset({"pop3", "entra"})
    assert config.disabled_features == frozenset({"auto-update"})


def test_feature_as_single_string(tmp_path: Path) -> None:
    config = load(tmp_path, "seg:\n  features: active-directory\n")
    assert config.features == frozenset({"active-directory", "auto-update"})


# --- roles --------------------------------------------------------------------


def test_roles_of_both_families(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        roles:
          processing-nodes: [198.51.100.10, "2001:db8:5::10", 2001:db8:6::/64]
          sql-server: 10.0.0.20
          legacy-consoles: []
        """,
    )
    nodes = config.roles["processing-nodes"]
    assert nodes.configured is True
    assert nodes.entries == ("198.51.100.10", "2001:db8:5::10", "2001:db8:6::/64")
    assert family_of(nodes.values) == {4, 6}
    assert ip("198.51.100.10") in nodes.values
    assert ip("2001:db8:5::10") in nodes.values
    assert ip("2001:db8:6::ffff") in nodes.values
    assert ip("198.51.100.11") not in nodes.values
    assert str(nodes.span) == "seglint.yaml:2:3"
    assert family_of(config.roles["sql-server"].values) == {4}
    assert config.roles["legacy-consoles"].configured is True
    assert not config.roles["legacy-consoles"].values
    assert config.roles["dns-servers"].configured is False
    assert config.zero_config is False


def test_host_bits_are_kept_out(tmp_path: Path) -> None:
    config = load(tmp_path, "roles:\n  pop3-clients: [10.1.2.3/8]\n")
    assert ip("10.200.0.1") in config.roles["pop3-clients"].values


def test_ipv4_mapped_is_ipv6(tmp_path: Path) -> None:
    config = load(tmp_path, "roles:\n  sql-server: ['::ffff:10.0.0.20']\n")
    assert family_of(config.roles["sql-server"].values) == {6}


# --- rulesets -----------------------------------------------------------------

RULESETS = """\
roles:
  array-manager: [10.0.0.10]
rulesets:
  - files: "hosts/node-*.rules"
    host: processing-nodes
  - files: "hosts/am.nft"
    host: array-manager
    interfaces:
      eth1: internet
      eth0: [10.0.0.0/8]
      mgmt: array-manager
  - files: "edge/**/*.cfg"
    zones:
      outside: [internet]
      dmz: [198.51.100.0/28, "2001:db8:1::/48"]
      smtp: smtp-peers
  - resources: "aws_security_group.array_*"
    host: array-manager
  - files: "cloud/*.tf"
    resources: "aws_security_group.node*"
    host: processing-nodes
  - files: "*.ps1.txt"
    profiles: public
"""


def test_ruleset_values(tmp_path: Path) -> None:
    config = load(tmp_path, RULESETS)
    host_entry = config.rulesets[1]
    assert host_entry.interfaces["eth1"].internet is True
    assert host_entry.interfaces["eth1"].values == config.internet
    assert host_entry.interfaces["eth0"].entries == ("10.0.0.0/8",)
    assert host_entry.interfaces["mgmt"].values == config.roles["array-manager"].values
    assert host_entry.profiles == ("domain", "private", "public")
    assert str(host_entry.span) == "seglint.yaml:6:5"
    zones = config.rulesets[2].zones
    assert zones["outside"].internet is True
    assert family_of(zones["dmz"].values) == {4, 6}
    assert zones["smtp"].internet is True
    assert config.rulesets[5].profiles == ("public",)


@pytest.mark.parametrize(
    ("relative", "resource", "index"),
    [
        ("hosts/node-1.rules", None, 0),
        ("hosts/node-1.rules", "anything", 0),
        ("hosts/old/node-1.rules", None, None),
        ("hosts/am.nft", None, 1),
        ("edge/asa.cfg", None, 2),
        ("edge/site/a/asa.cfg", None, 2),
        ("edge.cfg", None, None),
        ("main.tf", "aws_security_group.array_manager", 3),
        ("main.tf", "aws_security_group.node", None),
        ("main.tf", None, None),
        ("cloud/main.tf", "aws_security_group.nodes", 4),
        ("cloud/main.tf", "aws_security_group.array_manager", 3),
        ("cloud/main.tf", None, None),
        ("fw.ps1.txt", None, 5),
        ("deep/down/fw.ps1.txt", None, 5),
    ],
)
def test_ruleset_for(
    tmp_path: Path, relative: str, resource: str | None, index: int | None
) -> None:
    config = load(tmp_path, RULESETS)
    found = config.ruleset_for(relative, tmp_path / relative, resource)
    expected = None if index is None else config.rulesets[index]
    assert found is expected


def test_ruleset_for_relative_to_config_folder(tmp_path: Path) -> None:
    write(tmp_path / "repo", RULESETS)
    config = load_config(
        tmp_path / "repo" / "seglint.yaml", known_rules=RULE_IDS, cwd=tmp_path
    )
    location = tmp_path / "repo" / "hosts" / "am.nft"
    assert config.ruleset_for("repo/hosts/am.nft", location) is config.rulesets[1]


def test_ruleset_for_outside_root_uses_display(tmp_path: Path) -> None:
    write(tmp_path / "repo", RULESETS)
    config = load_config(
        tmp_path / "repo" / "seglint.yaml", known_rules=RULE_IDS, cwd=tmp_path
    )
    location = tmp_path / "other" / "hosts" / "am.nft"
    assert config.ruleset_for("hosts/am.nft", location) is config.rulesets[1]


def test_ruleset_for_anchored_glob(tmp_path: Path) -> None:
    config = load(tmp_path, "rulesets:\n  - files: /fw.rules\n    host: sql-server\n")
    assert config.ruleset_for("fw.rules", tmp_path / "fw.rules") is config.rulesets[0]
    assert config.ruleset_for("a/fw.rules", tmp_path / "a" / "fw.rules") is None


def test_ruleset_for_zero_config(tmp_path: Path) -> None:
    config = load_config(None, known_rules=RULE_IDS, cwd=tmp_path)
    assert config.ruleset_for("a.rules", tmp_path / "a.rules") is None


def test_unconfigured_role_in_zone(tmp_path: Path) -> None:
    config = load(
        tmp_path, "rulesets:\n  - files: a\n    zones:\n      inside: sql-server\n"
    )
    inside = config.rulesets[0].zones["inside"]
    assert inside.values == ADDR_ALL
    assert inside.internet is False


# --- rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "level", "enabled"),
    [
        ("off", None, False),
        ("false", None, False),
        ("on", None, True),
        ("true", None, True),
        ("error", "error", True),
        ("warning", "warning", True),
        ("note", "note", True),
        ("{level: note}", "note", True),
        ("{level: off}", None, False),
        ("{}", None, True),
    ],
)
def test_rule_settings(
    tmp_path: Path, written: str, level: str | None, enabled: bool
) -> None:
    config = load(tmp_path, f"rules:\n  SEG208: {written}\n")
    setting = config.rules["SEG208"]
    assert setting.level == level
    assert setting.enabled is enabled
    assert str(setting.span) == "seglint.yaml:2:3"


def test_yaml_11_off_is_false(tmp_path: Path) -> None:
    config = load(tmp_path, "%YAML 1.1\n---\nrules:\n  SEG301: off\n")
    assert config.rules["SEG301"].enabled is False


def test_rule_ids_come_from_caller(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  SEG401: error\n")
    config = load_config(path, known_rules={"SEG401"}, cwd=tmp_path)
    assert config.rules["SEG401"].level == "error"


# --- finding the file ---------------------------------------------------------


def test_find_upward_from_nested_folder(tmp_path: Path) -> None:
    config = write(tmp_path, "roles: {}\n")
    nested = tmp_path / "a" / "b" / "c"
    nested.mkdir(parents=True)
    assert find_config(nested) == config.resolve()


def test_find_from_file(tmp_path: Path) -> None:
    config = write(tmp_path, "roles: {}\n")
    rules = tmp_path / "hosts" / "node.rules"
    rules.parent.mkdir()
    rules.write_text("*filter\nCOMMIT\n", encoding="utf-8")
    assert find_config(rules) == config.resolve()


def test_find_nearest_wins(tmp_path: Path) -> None:
    write(tmp_path, "roles: {}\n")
    inner = write(tmp_path / "site", "roles: {}\n", ".seglint.yaml")
    assert find_config(tmp_path / "site" / "x.nft") == inner.resolve()


def test_find_hidden_file(tmp_path: Path) -> None:
    hidden = write(tmp_path, "roles: {}\n", ".seglint.yaml")
    assert find_config(tmp_path) == hidden.resolve()


def test_find_order_in_one_folder(tmp_path: Path) -> None:
    plain = write(tmp_path, "roles: {}\n")
    write(tmp_path, "roles: {}\n", ".seglint.yaml")
    write(tmp_path, "[tool.seglint]\n", "pyproject.toml")
    assert find_config(tmp_path) == plain.resolve()


def test_find_pyproject_with_section(tmp_path: Path) -> None:
    pyproject = write(tmp_path, "[tool.seglint.roles]\n", "pyproject.toml")
    (tmp_path / "sub").mkdir()
    assert find_config(tmp_path / "sub") == pyproject.resolve()


def test_find_skips_pyproject_without_section(tmp_path: Path) -> None:
    outer = write(tmp_path, "roles: {}\n")
    write(tmp_path / "pkg", "[tool.ruff]\nline-length = 88\n", "pyproject.toml")
    assert find_config(tmp_path / "pkg") == outer.resolve()


def test_find_broken_pyproject_with_section(tmp_path: Path) -> None:
    pyproject = write(tmp_path, "[tool.seglint]\nroles = {\n", "pyproject.toml")
    assert find_config(tmp_path) == pyproject.resolve()
    error = load_error(tmp_path, "[tool.seglint]\nroles = {\n", "pyproject.toml")
    assert error.message.startswith("invalid TOML (")


def test_find_nothing(tmp_path: Path) -> None:
    # The temporary folder's parents may hold a stray configuration file.
    if any(
        (p / n).exists()
        for p in tmp_path.parents
        for n in ("seglint.yaml", ".seglint.yaml")
    ):
        pytest.skip("a seglint.yaml exists above the temporary folder")
    assert find_config(tmp_path) is None


def test_loaded_root_is_config_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "repo", "roles: {}\n", ".seglint.yaml")
    config = load_config(path, known_rules=RULE_IDS, cwd=tmp_path)
    assert config.root == (tmp_path / "repo").resolve()
    assert config.path == path.resolve()


TRICKY_TOML = """\
[ tool . seglint ]   # spaces in the header
"seg" . 'version' = "10.2"
seg.features = [ # comment inside the array
  "pop3", # one
  # a comment line
  'entra'
  ,
]

[[tool.seglint.rulesets]]
files = "a\\"b"
interfaces = {eth0 = "internet", eth1 = ["10.0.0.0/8", "fd00::/8"]}

[[tool.seglint.rulesets]]
files = 'c'

[tool.seglint.rulesets.zones]
inside = "10.0.0.0/8"
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        ("'entra'", "'entr'", 6, 3),
        ('"fd00::/8"', '"fd00::/800"', 12, 56),
        ('inside = "10.0.0.0/8"', 'inside = "lan"', 18, 10),
        ("'c'", "''", 15, 9),
        ('"seg" . \'version\' = "10.2"', '"seg" . \'version\' = "x"', 2, 21),
    ],
)
def test_toml_tricky_positions(
    tmp_path: Path, old: str, new: str, line: int, column: int
) -> None:
    assert TRICKY_TOML.count(old) == 1
    error = load_error(tmp_path, TRICKY_TOML.replace(old, new), "pyproject.toml")
    assert (error.span.line, error.span.column) == (line, column)


def test_toml_tricky_values(tmp_path: Path) -> None:
    config = load(tmp_path, TRICKY_TOML, "pyproject.toml")
    assert config.features == frozenset({"pop3", "entra", "auto-update"})
    assert config.rulesets[0].files == 'a"b'
    assert config.rulesets[0].interfaces["eth1"].entries == ("10.0.0.0/8", "fd00::/8")
    assert config.rulesets[1].zones["inside"].entries == ("10.0.0.0/8",)


def test_unused_rulesets_entry_noted(tmp_path: Path) -> None:
    from seglint.api import check

    (tmp_path / "seglint.yaml").write_text(
        "roles:\n  sql-server: [10.0.0.20]\nrulesets:\n  - files: \"hosts/db-*\"\n"
        "    host: sql-server\n", encoding="utf-8")
    (tmp_path / "db.rules").write_text("*filter\n:INPUT DROP [0:0]\nCOMMIT\n",
                                       encoding="utf-8")
    notes = check([tmp_path], cwd=tmp_path).notes
    assert notes == ["rulesets entry at seglint.yaml:4 (files: hosts/db-*) matches no "
                     "checked rule set; check its pattern"]


def test_unused_entry_not_noted_for_files(tmp_path: Path) -> None:
    from seglint.api import check

    (tmp_path / "seglint.yaml").write_text(
        "roles:\n  sql-server: [10.0.0.20]\nrulesets:\n  - files: \"hosts/db-*\"\n"
        "    host: sql-server\n", encoding="utf-8")
    (tmp_path / "db.rules").write_text("*filter\n:INPUT DROP [0:0]\nCOMMIT\n",
                                       encoding="utf-8")
    assert check([tmp_path / "db.rules"], cwd=tmp_path).notes == []
