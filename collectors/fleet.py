"""Polling many miners at once: identify the ones whose make is not given, then poll each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from collectors.asic import DRIVERS
from collectors.identify import identify
from collectors.model import MinerSnapshot, unreachable
from collectors.poll import Poller
from collectors.targets import Target


async def poll_target(poller: Poller, target: Target, driver_name: str | None = None) -> MinerSnapshot:
    """One miner: with ``driver_name`` straight to the poll, otherwise identified first."""
    port = target.port
    if driver_name is None:
        async with poller.slots:
            found = await identify(poller, target.ip, port or 4028, poller.settings.timeout_s)
        if found.driver is None:
            return unreachable(target.ip, port or 4028, found.error or "no miner answered")
        driver_name, port = found.driver, port or found.port
    snapshot, _ = await poller.poll(target.ip, DRIVERS[driver_name], port)
    return snapshot


async def poll_fleet(poller: Poller, targets: Iterable[Target], driver_name: str | None = None,
                     progress: Callable[[int], None] | None = None) -> list[MinerSnapshot]:
    """Every target, in the order given; a bad miner only spoils its own snapshot."""

    async def one(target: Target) -> MinerSnapshot:
        snapshot = await poll_target(poller, target, driver_name)
        if progress:
            progress(1)
        return snapshot

    return list(await asyncio.gather(*(one(t) for t in targets)))
