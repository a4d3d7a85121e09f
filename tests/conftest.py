"""Shared test set-up: where the third-party captures live, and the CI rule for missing tools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_fixtures() -> Path:
    """../shared/fixtures beside the repository (CI lays it there), or MINERWATCH_SHARED_FIXTURES."""
    return Path(os.environ.get("MINERWATCH_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))


def require(condition: bool, what: str) -> None:
    """Skip when something the test needs is absent here; in CI (CI=true) that is a failure."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing, and CI must run this test")
    pytest.skip(f"{what} is missing")
