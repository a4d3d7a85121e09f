"""Our collectors as the client under test: cold poll, known poll, scan, and memory at scale.

- ``poll``: a cold poll (``poll_fleet`` with no driver: identify, then poll) on a fresh ``Poller``,
  then the known poll as a commander runs it: one first poll with the inventory's driver keeps each
  miner's identity, and the timed rounds pass it back, so they fetch only the data endpoints.
- ``memory``: the known poll alone (a first poll, one timed round) on a large farm, for peak RSS.
- ``scan``: ``scan`` of a whole network, timed; found = live miners identified with their driver.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable
from typing import Any

from bench.common import Tally, arguments, load_inventory, median_round, raise_open_files, run_worker, timed
from collectors.asic import DRIVERS
from collectors.fleet import poll_fleet
from collectors.model import MinerSnapshot
from collectors.poll import Poller, PollSettings
from collectors.scan import scan
from collectors.targets import Target, expand


def answered(snapshot: MinerSnapshot) -> bool:
    return snapshot.reachable and snapshot.hashrate_hs is not None


def settings(args: Any, inventory: dict[str, Any]) -> PollSettings:
    return PollSettings(timeout_s=args.timeout, concurrency=args.concurrency,
                        web_port=inventory.get("web_port") or 80)


def drivers_for(rows: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    unknown = sorted({row["driver"] for row in rows} - set(DRIVERS))
    if unknown:
        raise LookupError(f"collectors.asic.DRIVERS has no driver {', '.join(unknown)} named by the inventory")
    return [(row["ip"], DRIVERS[row["driver"]]) for row in rows]


async def cold(args: Any, inventory: dict[str, Any]) -> dict[str, Any]:
    rows = inventory["miners"]
    tally = Tally(rows)
    async with Poller(settings(args, inventory)) as poller:
        snapshots, elapsed = await timed(lambda: poll_fleet(poller, [Target(row["ip"]) for row in rows]))
    for snapshot in snapshots:
        tally.record(snapshot.ip, answered(snapshot), snapshot.model if snapshot.reachable else None,
                     snapshot.error)
    return tally.result(elapsed)


async def known(args: Any, inventory: dict[str, Any], rounds: int) -> dict[str, Any]:
    rows = inventory["miners"]
    targets = drivers_for(rows)
    async with Poller(settings(args, inventory)) as poller:
        first = await asyncio.gather(*(poller.poll(ip, driver) for ip, driver in targets))
        # A failed first poll returns {}, which poll() would take as "identity known": pass None
        # instead, so that miner's timed polls still fetch its identity, as they should.
        identities = [identity or None for _, identity in first]
        results = []
        def work() -> Awaitable[list[tuple[MinerSnapshot, Any]]]:
            return asyncio.gather(*(poller.poll(ip, driver, identity=identity)
                                    for (ip, driver), identity in zip(targets, identities, strict=True)))

        for _ in range(rounds):
            tally = Tally(rows)
            polled, elapsed = await timed(work)
            for snapshot, _ in polled:
                tally.record(snapshot.ip, answered(snapshot), snapshot.model, snapshot.error)
            results.append(tally.result(elapsed))
    first_answered = sum(answered(snapshot) for snapshot, _ in first)
    return {**median_round(results), "first_answered": first_answered}


async def scan_network(args: Any, inventory: dict[str, Any]) -> dict[str, Any]:
    live = {row["ip"]: row["driver"] for row in inventory["miners"]}
    network = ipaddress.ip_network(args.network)
    targets = expand([args.network])
    async with Poller(settings(args, inventory)) as poller:
        found, elapsed = await timed(lambda: scan(poller, targets))
    right = sum(1 for identity in found if live.get(identity.ip) == identity.driver)
    strays = sum(1 for identity in found if identity.ip not in live)
    return {"elapsed_s": round(elapsed, 2), "addresses": len(targets), "network": str(network),
            "live": len(live), "found": right, "identified": len(found), "strays": strays}


def main() -> dict[str, Any]:
    args = arguments(["poll", "memory", "scan"])
    limits = raise_open_files()
    inventory = load_inventory(args.inventory)
    if args.mode == "poll":
        result = {"cold": asyncio.run(cold(args, inventory)),
                  "known": asyncio.run(known(args, inventory, args.rounds))}
    elif args.mode == "memory":
        result = {"known": asyncio.run(known(args, inventory, 1))}
    else:
        result = {"scan": asyncio.run(scan_network(args, inventory))}
    result["open_files"] = limits
    return result


if __name__ == "__main__":
    run_worker(main)
