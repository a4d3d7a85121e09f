"""A state directory for each storage test."""

from __future__ import annotations

import pytest


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"
