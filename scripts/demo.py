"""``make demo``: a simulated farm on loopback, found by a scan, then polled live in the terminal.

Until the commander (appliance/) exists, this is what the demo shows: every emulated make
identified from the wire, then a table refreshed every few seconds, faults included.
DEMO_ROUNDS=N stops after N polls (for a quick look, or to check the demo itself).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import uvloop

from collectors.asic import DRIVERS
from collectors.cli import poll_table, scan_table
from collectors.poll import Poller, PollSettings
from collectors.scan import raise_open_files_limit, scan
from collectors.targets import Target
from simfarm.asic import MAKES
from simfarm.farm import Farm

MINERS = 48
BASE = "127.77.0.1"
INTERVAL_S = 10


async def main() -> int:
    rounds = int(os.environ.get("DEMO_ROUNDS", "0")) or None
    raise_open_files_limit()
    async with Farm(miners=MINERS, mix={name: 1.0 for name in MAKES}, base=BASE, seed=7,
                    fault_rate=0.1) as farm:
        addresses = list(farm.miners)
        print(f"demo: {len(addresses)} emulated miners of {len(MAKES)} makes on {addresses[0]} .. "
              f"{addresses[-1]}, some with faults; press Ctrl-C to stop.")
        if farm.web_note:
            print(f"demo: {farm.web_note}")
        settings = PollSettings(timeout_s=3.0, web_port=farm.web_port)
        async with Poller(settings) as poller:
            began = time.perf_counter()
            found = await scan(poller, [Target(ip) for ip in addresses])
            print(scan_table(found, len(addresses)))
            print(f"demo: scan took {time.perf_counter() - began:.1f} s\n")
            known = [(i.ip, i.driver, i.port) for i in found if i.driver]
            identities: dict[str, dict] = {}
            done = 0
            while rounds is None or done < rounds:
                began = time.perf_counter()
                results = await asyncio.gather(*(
                    poller.poll(ip, DRIVERS[name], port, identities.get(ip)) for ip, name, port in known))
                for (ip, _, _), (_, identity) in zip(known, results):
                    if identity:
                        identities[ip] = identity
                print(time.strftime("%H:%M:%S"), f"poll of {len(known)} miners in "
                      f"{(time.perf_counter() - began) * 1000:.0f} ms")
                print(poll_table([snapshot for snapshot, _ in results]), "\n")
                done += 1
                if rounds is None or done < rounds:
                    await asyncio.sleep(INTERVAL_S)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(uvloop.run(main()))
    except KeyboardInterrupt:
        print("\ndemo: stopped")
