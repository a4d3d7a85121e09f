"""Reads the driver testdata folders: tests/collectors/asic/<make>/<model>-<firmware>/.

A folder holds one raw reply per endpoint, named after the endpoint (``stats.json``,
``system_info.json``; ``.txt`` when the bytes are not valid JSON, as firmwares send them), and
``expected.json``: ``{"driver": "antminer", "snapshot": {...a subset of the snapshot's keys...}}``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from collectors.transport.decode import decode

HERE = Path(__file__).parent


def cases() -> list[Path]:
    return sorted(p.parent for p in HERE.glob("*/*/expected.json"))


def load_replies(folder: Path) -> dict[str, Any]:
    replies = {}
    for path in sorted(folder.iterdir()):
        if path.name == "expected.json" or path.suffix not in (".json", ".txt"):
            continue
        replies[path.stem] = decode(path.read_bytes(), str(path))
    return replies


def assert_matches(actual: Any, expected: Any, where: str = "snapshot") -> None:
    """``expected`` is a subset: every key it names must match (floats to 1e-6 relative)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} is missing"
            assert_matches(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            f"{where}: expected {len(expected)} items, got {actual!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_matches(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        assert math.isclose(actual, expected, rel_tol=1e-6), f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def load_expected(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "expected.json").read_text())
