"""The faults real farms have, as a table: what each does, where it acts, and its parameters.

Where a fault acts:
- ``listener``: before accept. ``offline`` = no listening socket at all (connect is refused);
  ``refuses`` = a listener that resets every connection it accepts.
- ``connection``: ``hangs`` accepts and reads, and never answers.
- ``reply``: the reply is built and then spoiled on its way out (garbage, truncated, slow).
- ``state``: the device's own values change (boards, chips, fans, temperatures, pools, shares,
  uptime); the farm's live model applies them, and every protocol reports them as the firmware would.

Transport faults act on every port of the device (RPC, web, 4433) alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FaultKind:
    name: str
    where: str  # listener | connection | reply | state
    description: str
    defaults: dict[str, Any]


FAULTS: dict[str, FaultKind] = {kind.name: kind for kind in (
    FaultKind("offline", "listener", "no listener: connections are refused", {}),
    FaultKind("refuses", "listener", "accepts, then resets the connection (RST)", {}),
    FaultKind("hangs", "connection", "accepts, reads, never answers", {}),
    FaultKind("garbage", "reply", "answers random bytes, then closes", {"size": 256}),
    FaultKind("truncated", "reply", "answers the first half of the reply, then closes", {}),
    FaultKind("slow", "reply", "answers after a delay", {"delay_s": 5.0}),
    FaultKind("dead_board", "state", "one board reports no chips and no hashrate", {"board": 0}),
    FaultKind("missing_chips", "state", "one board lost some chips", {"board": 0, "missing": 10}),
    FaultKind("fan_stopped", "state", "one fan at 0 RPM; the boards run hotter", {"fan": 0}),
    FaultKind("overheating", "state", "board and chip temperatures above 95 °C", {"add_c": 45.0}),
    FaultKind("pool_down", "state", "every pool dead, no shares", {}),
    FaultKind("reject_storm", "state", "shares rejected at a high rate", {"per_s": 0.5}),
    FaultKind("reboot", "state", "the mining program restarted: uptime and counters reset", {}),
)}

# ``--faults RATE`` draws from these: every fault except ``reboot``, which is an event, not a
# condition a miner stays in.
RANDOM_FAULTS = tuple(name for name in FAULTS if name != "reboot")


def params_for(fault: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fault's parameters: its defaults overridden by ``params``; unknown names are errors."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    merged = dict(FAULTS[fault].defaults)
    for key, value in (params or {}).items():
        if key not in merged:
            raise ValueError(f"fault {fault!r} has no parameter {key!r}; it takes: {', '.join(merged) or 'none'}")
        merged[key] = type(merged[key])(value)
    return merged


def draw(ips: list[str], rate: float, rng: random.Random) -> dict[str, str]:
    """ip -> fault for ``rate`` of ``ips`` (rounded), chosen deterministically from ``rng``."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"fault rate must be between 0 and 1, not {rate}")
    chosen = rng.sample(ips, round(len(ips) * rate))
    return {ip: rng.choice(RANDOM_FAULTS) for ip in chosen}
