"""Plugin loading: formats and policies from entry points, built-ins included.

Built-in formats and the SEG policy are declared as entry points in
``pyproject.toml`` like any third-party plugin. In a source checkout that
is not installed, the built-ins are registered from their modules directly.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from dataclasses import dataclass, field
from typing import Any

import pluggy

from seglint import hookspecs

logger = logging.getLogger(__name__)

GROUPS = ("seglint.formats", "seglint.policies")
BUILTIN_MODULES = {
    "seglint.formats": (
        "seglint.formats.iptables",
        "seglint.formats.nftables",
        "seglint.formats.pf",
        "seglint.formats.asa",
        "seglint.formats.ios",
        "seglint.formats.terraform",
        "seglint.formats.cloudformation",
        "seglint.formats.windows_firewall",
    ),
    "seglint.policies": ("seglint.plugins.seg",),
}


@dataclass
class Plugins:
    formats: list[Any] = field(default_factory=list)
    policies: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one message per plugin that failed


def load_plugins() -> Plugins:
    """Register every plugin and collect its formats and policies.

    A plugin that fails to import is reported by name and skipped; the
    others still run.
    """
    manager = pluggy.PluginManager("seglint")
    manager.add_hookspecs(hookspecs)
    result = Plugins()
    registered: set[str] = set()
    # One scan of the installed distributions serves both groups: each scan
    # reads every entry_points.txt, about 10 ms in a small environment.
    everything = importlib.metadata.entry_points()
    for group in GROUPS:
        for entry in everything.select(group=group):
            if entry.value in registered:
                continue
            try:
                module = entry.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is reported
                result.failures.append(
                    f"plugin {entry.name!r} ({entry.value}) failed to load: {exc}")
                continue
            registered.add(entry.value)
            manager.register(module, name=f"{group}:{entry.name}")
        for module_name in BUILTIN_MODULES[group]:
            if module_name in registered:
                continue
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    logger.debug("built-in plugin %s is not present", module_name)
                    continue
                result.failures.append(f"plugin {module_name!r} failed to load: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001
                result.failures.append(f"plugin {module_name!r} failed to load: {exc}")
                continue
            registered.add(module_name)
            manager.register(module, name=f"{group}:{module_name}")
    seen: set[str] = set()
    for formats in manager.hook.seglint_formats():
        for fmt in formats:
            if fmt.id in seen:
                result.failures.append(f"format {fmt.id!r} is registered twice; the first wins")
                continue
            seen.add(fmt.id)
            result.formats.append(fmt)
    for policies in manager.hook.seglint_policies():
        result.policies.extend(policies)
    return result
