"""The reference libraries as the client under test: pyasic and asic-rs (``pyasic-rs`` on PyPI).

Each is driven the way its documentation shows, with its own timeouts set to ours and our
concurrency applied around it:

- cold: per miner, identify (``get_miner``) then ``get_data`` on what it built;
- known: ``get_data`` again on the miner objects the cold poll built (identification cached),
  timed over ``--rounds`` rounds like ours;
- scan: the library's own network scan, as wide as our pre-check (``--concurrency``), timed.

A peer's own timeouts should bound every call; the outer net (``SAFETY`` times the timeout) is
only there so that a peer stuck on one miner cannot stall the whole bench.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import Tally, arguments, load_inventory, median_round, raise_open_files, run_worker, timed

SAFETY = 4


class Peer:
    """One library, reduced to the four calls the bench needs."""

    name: str

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    async def identify(self, ip: str) -> Any | None:
        raise NotImplementedError

    async def data(self, miner: Any) -> Any:
        raise NotImplementedError

    def hashrate(self, data: Any) -> Any:
        return getattr(data, "hashrate", None)

    def label(self, miner: Any) -> str:
        raise NotImplementedError

    async def scan(self, network: str, width: int) -> list[Any]:
        raise NotImplementedError


class Pyasic(Peer):
    name = "pyasic"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        import pyasic
        from pyasic import settings
        self.pyasic = pyasic
        seconds = max(1, round(timeout_s))  # pyasic's settings are whole seconds
        for key in ("factory_get_timeout", "api_function_timeout", "network_ping_timeout"):
            settings.update(key, seconds)
        # pyasic logs every failed request at WARNING; the bench reports failures itself.
        logging.getLogger().setLevel(logging.CRITICAL)

    async def identify(self, ip: str) -> Any | None:
        return await self.pyasic.get_miner(ip)

    async def data(self, miner: Any) -> Any:
        return await miner.get_data()

    def label(self, miner: Any) -> str:
        return type(miner).__name__

    async def scan(self, network: str, width: int) -> list[Any]:
        from pyasic import settings
        from pyasic.network import MinerNetwork
        settings.update("network_scan_semaphore", width)  # unbounded otherwise: one socket per address
        return await MinerNetwork.from_subnet(network).scan()


class AsicRs(Peer):
    name = "asic-rs"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        from pyasic_rs import MinerFactory
        seconds = max(1, round(timeout_s))  # the factory takes whole seconds
        self.seconds = seconds
        self.factory_class = MinerFactory
        self.factory = (MinerFactory().with_identification_timeout_secs(seconds)
                        .with_connectivity_timeout_secs(seconds))

    async def identify(self, ip: str) -> Any | None:
        return await self.factory.get_miner(ip)

    async def data(self, miner: Any) -> Any:
        return await miner.get_data()

    def label(self, miner: Any) -> str:
        return f"{miner.make} {miner.model} ({miner.firmware})"

    async def scan(self, network: str, width: int) -> list[Any]:
        factory = (self.factory_class.from_subnet(network).with_concurrent_limit(width)
                   .with_identification_timeout_secs(self.seconds).with_connectivity_timeout_secs(self.seconds))
        return await factory.scan()


PEERS: dict[str, Callable[[float], Peer]] = {"pyasic": Pyasic, "asic-rs": AsicRs}


async def guarded(slots: asyncio.Semaphore, limit_s: float, call: Callable[[], Awaitable[Any]]
                  ) -> tuple[Any, str | None]:
    """``call()`` in a concurrency slot; its failure becomes a short reason, never the run's end."""
    async with slots:
        try:
            async with asyncio.timeout(limit_s):
                return await call(), None
        except TimeoutError:
            return None, f"no result within {limit_s:g} s (the bench's safety net)"
        except Exception as exc:  # a peer's own exception types are many; each is one miner's failure
            return None, f"{type(exc).__name__}: {str(exc)[:160]}"


def why_not(peer: Peer, ip: str, miner: Any, data: Any) -> str | None:
    if miner is None:
        return f"{peer.name} did not recognise {ip} as a miner"
    if data is not None and peer.hashrate(data) is None:
        return f"{peer.name} read {ip} but found no hashrate"
    return None


async def poll(peer: Peer, rows: list[dict[str, Any]], concurrency: int, rounds: int) -> dict[str, Any]:
    slots = asyncio.Semaphore(concurrency)
    limit_s = SAFETY * peer.timeout_s
    miners: dict[str, Any] = {}
    tally = Tally(rows)

    async def cold_one(ip: str) -> None:
        async def call() -> Any:
            miner = await peer.identify(ip)
            if miner is None:
                return None, None
            return miner, await peer.data(miner)
        result, error = await guarded(slots, 2 * limit_s, call)
        miner, data = result or (None, None)
        if miner is not None:
            miners[ip] = miner
        tally.record(ip, data is not None and peer.hashrate(data) is not None,
                     peer.label(miner) if miner is not None else None, error or why_not(peer, ip, miner, data))

    _, elapsed = await timed(lambda: asyncio.gather(*(cold_one(row["ip"]) for row in rows)))
    cold = tally.result(elapsed)

    async def known_one(ip: str, miner: Any) -> tuple[str, Any, Any, str | None]:
        data, error = await guarded(slots, limit_s, lambda: peer.data(miner))
        return ip, miner, data, error

    known_rounds = []
    for _ in range(rounds):
        outcomes, elapsed = await timed(lambda: asyncio.gather(*(known_one(ip, m) for ip, m in miners.items())))
        round_tally = Tally(rows)
        for ip, miner, data, error in outcomes:
            round_tally.record(ip, data is not None and peer.hashrate(data) is not None, peer.label(miner),
                               error or why_not(peer, ip, miner, data))
        known_rounds.append(round_tally.result(elapsed))
    return {"cold": cold, "known": median_round(known_rounds) if known_rounds else None}


async def scan(peer: Peer, inventory: dict[str, Any], network: str, width: int) -> dict[str, Any]:
    live = {row["ip"] for row in inventory["miners"]}
    found, elapsed = await timed(lambda: peer.scan(network, width))
    ips = {str(miner.ip) for miner in found}
    return {"elapsed_s": round(elapsed, 2), "network": network, "live": len(live),
            "found": len(ips & live), "identified": len(found), "strays": len(ips - live)}


def main() -> dict[str, Any]:
    args = arguments(["poll", "scan"], peers=PEERS)
    limits = raise_open_files()
    inventory = load_inventory(args.inventory)
    peer = PEERS[args.peer](args.timeout)
    if args.mode == "poll":
        result = asyncio.run(poll(peer, inventory["miners"], args.concurrency, args.rounds))
    else:
        result = {"scan": asyncio.run(scan(peer, inventory, args.network, args.concurrency))}
    return {**result, "open_files": limits}


if __name__ == "__main__":
    run_worker(main)
