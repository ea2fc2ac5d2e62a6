"""Hook specifications for seglint plugins.

Formats register through the ``seglint.formats`` entry-point group and
policies through ``seglint.policies``; the built-in ones use the same path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from seglint.formats.base import Format

hookspec = pluggy.HookspecMarker("seglint")
hookimpl = pluggy.HookimplMarker("seglint")


@hookspec
def seglint_formats() -> list[Format]:  # type: ignore[empty-body]
    """Return the input formats this plugin provides.

    Called once per run, before discovery. Each format needs a unique ``id``.
    """


@hookspec
def seglint_policies() -> list[Any]:  # type: ignore[empty-body]
    """Return the policies this plugin provides.

    Called once per run, after the configuration is loaded. A policy has a
    ``rules`` tuple of :class:`seglint.findings.RuleMeta` and a
    ``check(target)`` method that yields findings for one rule set.
    """
