"""Deliberately broken engines, to show that the kernel harness notices faults.

Each mutant patches :class:`seglint.engine.Engine` (or its interface atoms)
through pytest's ``monkeypatch``, so the patch ends with the test. This is
test code only; the product never imports it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from seglint import engine as engine_module
from seglint.ir import Action, Match
from seglint.space import DPORT, SPORT, STATE, IntervalSet


def _wrap_conditions(monkeypatch: pytest.MonkeyPatch, change: Callable) -> None:
    original = engine_module.Engine._condition_boxes

    def patched(self, condition):  # type: ignore[no-untyped-def]
        return original(self, change(condition))

    monkeypatch.setattr(engine_module.Engine, "_condition_boxes", patched)


def _wrap_actions(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    original = engine_module.Engine.__init__

    def patched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        for name, rules in self._compiled.items():
            self._compiled[name] = [
                (
                    dataclasses.replace(rule, action=Action(new, rule.action.target))
                    if rule.action.kind == old
                    else rule,
                    match,
                )
                for rule, match in rules
            ]

    monkeypatch.setattr(engine_module.Engine, "__init__", patched)


def negation_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_conditions(
        monkeypatch,
        lambda c: (
            dataclasses.replace(c, negated=False) if getattr(c, "negated", False) else c
        ),
    )


def port_range_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """Port ranges lose their last port (an upper bound read as exclusive)."""

    def change(condition):  # type: ignore[no-untyped-def]
        if isinstance(condition, Match) and condition.dim in (SPORT, DPORT):
            values = IntervalSet(
                (lo, hi - 1 if hi > lo else hi) for lo, hi in condition.values
            )
            return dataclasses.replace(condition, values=values)
        return condition

    _wrap_conditions(monkeypatch, change)


def state_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_conditions(
        monkeypatch,
        lambda c: (
            Match(STATE, IntervalSet.single(0, 4))
            if isinstance(c, Match) and c.dim == STATE
            else c
        ),
    )


def return_as_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_actions(monkeypatch, "return", "accept")


def goto_as_jump(monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_actions(monkeypatch, "goto", "jump")


def wildcard_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interface names ending in + are taken literally instead of as prefixes."""
    original = engine_module.InterfaceAtoms.match

    def patched(self, names):  # type: ignore[no-untyped-def]
        return original(
            self,
            [n for n in names if not n.endswith("+")]
            + [n[:-1] for n in names if n.endswith("+")],
        )

    monkeypatch.setattr(engine_module.InterfaceAtoms, "match", patched)


MUTANTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "negation-ignored": negation_ignored,
    "port-range-short": port_range_short,
    "state-ignored": state_ignored,
    "return-as-accept": return_as_accept,
    "goto-as-jump": goto_as_jump,
    "wildcard-exact": wildcard_exact,
}
