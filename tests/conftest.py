"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real rule files and small cases live beside the repository, in the
# development workspace only.
SHARED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared"


@pytest.fixture
def SHARED() -> Path:  # noqa: N802 - the name the test suite shares
    """Return the shared folder of rule files; skip the test when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not present (only in the development workspace)")
    return SHARED_DIR
