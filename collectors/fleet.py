"""Polling many miners at once: identify the ones whose make is not given, then poll each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from collectors.asic import DRIVERS
from collectors.identify import RPC_PORT, Identity, identify_target
from collectors.model import MinerSnapshot, unreachable
from collectors.poll import Poller
from collectors.targets import Target


@dataclass(frozen=True, slots=True)
class Polled:
    """One miner's poll, with what the next poll of the same device can reuse."""

    snapshot: MinerSnapshot
    identity: Mapping[str, Any] | None  # the identity replies to pass to the next poll (Poller.poll)
    found: Identity | None  # what identification said, when no driver was given


async def poll_target(poller: Poller, target: Target, driver_name: str | None = None,
                      identity: Mapping[str, Any] | None = None) -> Polled:
    """One miner: with ``driver_name`` straight to the poll, otherwise identified first (on the
    target's port alone, when it has one)."""
    port, found, started = target.port, None, time.time()
    if driver_name is None:
        found = await identify_target(poller, target)
        if found.driver is None:
            snapshot = unreachable(target.ip, port or found.port or RPC_PORT, found.error or "no miner answered",
                                   polled_at=started)
            return Polled(snapshot, identity, found)
        driver_name, port = found.driver, found.port
    snapshot, identity = await poller.poll(target.ip, DRIVERS[driver_name], port, identity)
    return Polled(snapshot, identity, found)


async def poll_fleet(poller: Poller, targets: Iterable[Target], driver_name: str | None = None,
                     progress: Callable[[int], None] | None = None) -> list[MinerSnapshot]:
    """Every target, in the order given; a bad miner only spoils its own snapshot."""

    async def one(target: Target) -> MinerSnapshot:
        polled = await poll_target(poller, target, driver_name)
        if progress:
            progress(1)
        return polled.snapshot

    return list(await asyncio.gather(*(one(t) for t in targets)))
