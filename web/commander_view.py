"""The Commander page's figures: the commander's health as ``minerwatch status`` judges it (jobs,
channels, what fails), its ASIC sentries, the store's size on disk, and, for admins, the effective
configuration with every secret left out."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from enum import Enum
from pathlib import Path
from typing import Any

from appliance import health as health_file
from appliance.asic_sentries import load_cursors
from appliance.config import Config
from appliance.damaged import set_aside_files

# A key whose value is a secret, or may carry one (a webhook's URL often holds its token).
_SECRET = re.compile(r"password|community|secret|token|hash|key$|_key|^url$|auth_key|priv_key", re.IGNORECASE)
HIDDEN = "(secret: not shown)"


def health(state_dir: Path) -> dict[str, Any]:
    """The health file judged, or why there is none."""
    try:
        found, written_at = health_file.load(state_dir)
    except health_file.HealthFileError as exc:
        return {"unavailable": str(exc)}
    verdict = health_file.assess(found, written_at, time.time(), set_aside_files(state_dir))
    return {"unavailable": None, "verdict": verdict, "jobs": found.jobs, "channels": found.channels,
            "written_s_ago": time.time() - written_at, "sentries": sorted(load_cursors(state_dir).items())}


def store_size(state_dir: Path) -> dict[str, int]:
    """Bytes on disk of the raw samples, the rollups and the rest of the state directory."""
    sizes = {"metrics": 0, "rollups": 0, "other": 0}
    for root, _, names in os.walk(state_dir):
        part = Path(root).relative_to(state_dir).parts
        bucket = part[0] if part and part[0] in sizes else "other"
        for name in names:
            try:
                sizes[bucket] += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue  # replaced while walking
    return sizes


def effective_config(config: Config) -> dict[str, Any]:
    """The configuration as the commander runs it, with every secret replaced by ``HIDDEN``."""
    return _shown(config)


def _shown(value: Any, key: str = "") -> Any:
    if key and _SECRET.search(key) and value not in (None, "", (), []):
        return HIDDEN
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _shown(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _shown(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    if isinstance(value, Path | Enum):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
