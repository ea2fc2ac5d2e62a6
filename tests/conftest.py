"""Shared fixtures: the development workspace's shared folder and a config writer."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared() -> Path:
    """The shared corpus and cases, present only in the development workspace."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (only in the development workspace)")
    return SHARED
