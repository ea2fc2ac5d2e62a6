"""The JSON copy of the SEG policy data matches the YAML source of truth."""

from __future__ import annotations

import json

import pytest

from seglint import policy
from seglint.resources import policy_path


def test_json_copy_is_current() -> None:
    text = policy_path(policy.POLICY_FILE).read_text(encoding="utf-8")
    stored = json.loads(policy_path(policy.FAST_FILE).read_text(encoding="utf-8"))
    # A failure means seg.yaml changed: run `python -m seglint.policy`.
    assert stored == policy.fast_form(text)


def test_raw_policy_equals_yaml() -> None:
    text = policy_path(policy.POLICY_FILE).read_text(encoding="utf-8")
    assert policy.raw_policy() == policy.read_yaml(text)


def test_stale_copy_falls_back(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / policy.POLICY_FILE).write_text("rows: {a: b}\n", encoding="utf-8")
    (tmp_path / policy.FAST_FILE).write_text(
        json.dumps({"yaml_sha256": "0" * 64, "data": {"rows": {"a": "stale"}}}),
        encoding="utf-8")
    monkeypatch.setattr(policy, "policy_path", lambda name: tmp_path / name)
    assert policy.raw_policy() == {"rows": {"a": "b"}}


def test_missing_copy_falls_back(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / policy.POLICY_FILE).write_text("rows: {a: b}\n", encoding="utf-8")
    monkeypatch.setattr(policy, "policy_path", lambda name: tmp_path / name)
    assert policy.raw_policy() == {"rows": {"a": "b"}}
