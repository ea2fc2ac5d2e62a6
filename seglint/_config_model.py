"""The validated configuration: roles, networks, rule sets and rule overrides."""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from seglint.ir import Span
from seglint.limits import DEFAULT_MAX_FILE_SIZE
from seglint.space import ADDR_ALL, IntervalSet, addresses

KNOWN_ROLES = (
    "array-manager",
    "processing-nodes",
    "sql-server",
    "dns-servers",
    "ldap-servers",
    "admin-workstations",
    "web-components",
    "rest-clients",
    "pop3-clients",
    "legacy-consoles",
    "update-servers",
    "smtp-peers",
)
# Roles that live on the internet by default: www.marshal.com for updates and
# the mail servers that nodes exchange SMTP with. Every other role defaults
# to any address.
INTERNET_ROLES = frozenset({"update-servers", "smtp-peers"})

KNOWN_FEATURES = ("active-directory", "pop3", "rest-api", "entra", "auto-update")
# SEG checks for updates unless an administrator turns it off.
DEFAULT_FEATURES = frozenset({"auto-update"})

LEVELS = ("error", "warning", "note")
PROFILES = ("domain", "private", "public")

DEFAULT_VERSION = (11, 1)  # the newest row of the port table

# RFC 1918 private networks, RFC 4193 unique local addresses and loopback.
DEFAULT_TRUSTED_ENTRIES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
    "127.0.0.0/8",
    "::1/128",
)
DEFAULT_TRUSTED = addresses(DEFAULT_TRUSTED_ENTRIES)


@dataclass(frozen=True)
class Networks:
    """The addresses an interface or zone faces.

    ``values`` is always the full resolved set, so ``internet`` (set by the
    keyword ``internet``, or by a role that defaults to it) only records how
    the set was written: as "everything outside ``trusted``".
    """

    values: IntervalSet
    internet: bool = False
    entries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    """The addresses of one party of the port table, configured or defaulted."""

    name: str
    values: IntervalSet
    entries: tuple[str, ...]
    configured: bool
    span: Span | None


@dataclass(frozen=True)
class RulesetConfig:
    """The settings of one ``rulesets`` entry for the files or resources it matches."""

    files: str | None
    resources: str | None
    host: str | None
    interfaces: dict[str, Networks]
    zones: dict[str, Networks]
    profiles: tuple[str, ...]
    span: Span

    def matches(self, relative_path: str, resource: str | None) -> bool:
        """Tell whether this entry applies to a file (path relative to the root).

        An entry with ``resources`` applies only to that resource of a file,
        so a query without a resource does not match it.
        """
        if self.files is not None and not glob_match(self.files, relative_path):
            return False
        if self.resources is not None:
            return resource is not None and fnmatch.fnmatchcase(
                resource, self.resources
            )
        return True


@dataclass(frozen=True)
class RuleSetting:
    """A per-rule override: a level, or the rule turned off."""

    level: str | None
    enabled: bool
    span: Span


@dataclass(frozen=True)
class Config:
    """The configuration of one run, with defaults filled in.

    ``features`` are the features in use: those listed in ``seg.features``
    plus ``auto-update`` unless ``seg.disabled-features`` lists it.
    """

    path: Path | None
    root: Path
    version: tuple[int, int]
    version_text: str
    features: frozenset[str]
    disabled_features: frozenset[str]
    trusted: IntervalSet
    trusted_configured: bool
    roles: dict[str, Role]
    rulesets: tuple[RulesetConfig, ...]
    rules: dict[str, RuleSetting]
    # Files larger than this are not parsed (seglint.limits).
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    @property
    def zero_config(self) -> bool:
        """True when no role is configured, so only exposures are checked."""
        return not any(role.configured for role in self.roles.values())

    @property
    def internet(self) -> IntervalSet:
        """Every address outside ``trusted``."""
        return ADDR_ALL.subtract(self.trusted)

    def ruleset_for(
        self, display_path: str, location: Path, resource: str | None = None
    ) -> RulesetConfig | None:
        """Return the first ``rulesets`` entry that applies to a file or resource.

        ``files`` globs match the file's path relative to ``root``, or its
        display path when the file lies outside ``root``.
        """
        try:
            relative = location.resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError):
            relative = display_path.replace("\\", "/")
        for entry in self.rulesets:
            if entry.matches(relative, resource):
                return entry
        return None


def default_roles(trusted: IntervalSet) -> dict[str, Role]:
    """Return every known role unconfigured, with its default addresses."""
    internet = ADDR_ALL.subtract(trusted)
    return {
        name: Role(
            name,
            internet if name in INTERNET_ROLES else ADDR_ALL,
            (),
            configured=False,
            span=None,
        )
        for name in KNOWN_ROLES
    }


# --- file globs ---------------------------------------------------------------


def glob_match(pattern: str, relative_path: str) -> bool:
    """Match a path relative to the configuration's folder against a glob.

    ``*``, ``?`` and ``[...]`` work as in fnmatch but stay within one path
    segment, and ``**`` spans any number of folders. A pattern without a
    ``/`` matches the file name in any folder, as in ``.gitignore``. A
    leading ``/`` or ``./`` anchors the pattern at the configuration's folder.
    """
    return _compile_glob(pattern).fullmatch(relative_path.lstrip("/")) is not None


@functools.lru_cache(maxsize=256)
def _compile_glob(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith(("/", "./"))
    body = pattern.removeprefix("./").lstrip("/")
    prefix = "" if anchored or "/" in body.rstrip("/") else "(?:.*/)?"
    return re.compile(prefix + _translate(body), re.DOTALL)


def _translate(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if body.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif body.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            index = _translate_class(body, index, out)
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def _translate_class(body: str, index: int, out: list[str]) -> int:
    """Translate ``[...]`` at ``index``. An unclosed ``[`` is literal, as in fnmatch."""
    end = index + 1
    if end < len(body) and body[end] in "!^":
        end += 1
    if end < len(body) and body[end] == "]":
        end += 1
    end = body.find("]", end)
    if end < 0:
        out.append(re.escape("["))
        return index + 1
    inner = body[index + 1 : end]
    negated = inner[:1] in ("!", "^")
    if negated:
        inner = inner[1:]
    # Escape what re would read as set operations or an escape.
    inner = re.sub(r"([\\\[\]&~|^])", r"\\\1", inner)
    out.append("[^/" + inner + "]" if negated else "[" + inner + "]")
    return end + 1
