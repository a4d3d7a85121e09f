"""One miner or rig by key for a view, or the 404 sentence: the API and the pages answer alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort

from web import farm_view, rig_view


def miner(state_dir: Path, key: str) -> dict[str, Any]:
    found = farm_view.miner(state_dir, key)
    if found is None:
        abort(404, f"no miner with key {key!r} in the commander's latest cycle")
    return found


def rig(state_dir: Path, key: str) -> dict[str, Any]:
    found = rig_view.rig(state_dir, key)
    if found is None:
        abort(404, f"no rig with key {key!r} in the commander's latest cycle")
    return found
