"""What the emulated web firmwares' replies have in common: JSON bodies and the refusals."""

from __future__ import annotations

import json
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


def json_reply(value: Any, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def html(text: str, status: int = 200) -> Reply:
    return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode()
