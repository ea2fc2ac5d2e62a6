"""Finding and loading seglint's configuration.

The configuration lives in ``seglint.yaml``, ``.seglint.yaml`` or the
``[tool.seglint]`` table of ``pyproject.toml``, in the folder of the checked
files or above it. Without one, seglint runs on defaults (zero config).
Errors are :class:`ConfigError` with the file, line and column of the
offending key or value.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from seglint._config_build import build_config
from seglint._config_model import (
    DEFAULT_TRUSTED,
    DEFAULT_TRUSTED_ENTRIES,
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
    glob_match,
)
from seglint._config_toml import has_section_text, read_pyproject
from seglint._config_tree import ConfigError, Node, read_yaml
from seglint.ir import Span

__all__ = [
    "CONFIG_NAMES",
    "DEFAULT_TRUSTED",
    "DEFAULT_TRUSTED_ENTRIES",
    "INTERNET_ROLES",
    "KNOWN_FEATURES",
    "KNOWN_ROLES",
    "LEVELS",
    "PROFILES",
    "Config",
    "ConfigError",
    "Networks",
    "Role",
    "RuleSetting",
    "RulesetConfig",
    "find_config",
    "glob_match",
    "load_config",
]

logger = logging.getLogger(__name__)

# Looked for in this order in each folder, from the start folder upward.
CONFIG_NAMES = ("seglint.yaml", ".seglint.yaml", "pyproject.toml")

# A configuration is a few hundred lines at most. A file this large is the
# wrong file, and parsing it would only waste time.
MAX_CONFIG_BYTES = 1024 * 1024


def find_config(start: Path) -> Path | None:
    """Return the nearest configuration file at or above ``start``, or None.

    ``start`` is a file (its folder is searched first) or a folder. A
    ``pyproject.toml`` counts only if it has a ``[tool.seglint]`` table.
    """
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate_folder in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = candidate_folder / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml" or _pyproject_has_section(candidate):
                logger.debug("configuration found at %s", candidate)
                return candidate
    return None


def load_config(path: Path | None, *, known_rules: set[str], cwd: Path) -> Config:
    """Read and validate the configuration at ``path``; None gives the defaults.

    A relative ``path`` is taken relative to ``cwd``. ``known_rules`` are the
    rule ids that ``rules`` may name. Raises ConfigError.
    """
    if path is None:
        return build_config(
            None, path=None, root=cwd.resolve(), known_rules=known_rules
        )

    location = path if path.is_absolute() else cwd / path
    location = location.resolve()
    display = _display(location, cwd)
    text = _read(location, display)
    if location.suffix == ".toml":
        node: Node | None = read_pyproject(text, display)
    else:
        node = read_yaml(text, display)
    config = build_config(
        node, path=location, root=location.parent, known_rules=known_rules
    )
    logger.debug("configuration loaded from %s", location)
    return config


def _pyproject_has_section(location: Path) -> bool:
    try:
        if os.path.getsize(location) > MAX_CONFIG_BYTES:
            return False
        text = location.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        logger.debug("skipping %s (%s)", location, error)
        return False
    return has_section_text(text)


def _display(location: Path, cwd: Path) -> str:
    """Return the path to show in messages: relative to ``cwd`` when inside it."""
    try:
        return location.relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return location.as_posix()


def _read(location: Path, display: str) -> str:
    start = Span(display, 1)
    try:
        size = os.path.getsize(location)
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"configuration file is too large ({size} bytes > {MAX_CONFIG_BYTES}); "
                "check that --config names the right file",
                start,
            )
        data = location.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"cannot read the configuration file ({error.strerror or error})", start
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            "configuration file is not UTF-8 text "
            f"(invalid byte at offset {error.start})",
            Span(display, line),
        ) from None
