"""Shared test set-up: where the third-party captures live, and the CI rule for missing tools."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
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


async def until(condition: Callable[[], bool], what: str, limit_s: float = 20.0) -> None:
    """Wait for ``condition``; the limit only turns a hang into a failure, it measures nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {limit_s:g} s")
        await asyncio.sleep(0.01)


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    """``until`` for tests that drive a process from outside an event loop."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {limit_s:g} s")
        time.sleep(0.02)
