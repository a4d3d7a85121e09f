"""The floor: the least a client can do per miner, to show what the farm itself allows.

One connection per miner, one ``summary+stats+pools`` multi-command, read to the NUL (or EOF),
no parsing, at the same concurrency and timeout as the clients under test. A client that gets
close to this rate spends little of its own time per miner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from bench.common import Tally, arguments, load_inventory, median_round, raise_open_files, run_worker, timed

REQUEST = b'{"command":"summary+stats+pools"}'


async def one(ip: str, port: int, slots: asyncio.Semaphore, timeout_s: float) -> tuple[bool, str | None]:
    async with slots:
        writer, done = None, False
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(ip, port)
                writer.write(REQUEST)
                got = 0
                while chunk := await reader.read(1 << 16):
                    got += len(chunk)
                    if chunk.endswith(b"\0"):
                        break
                done = True
                return got > 0, None
        except (OSError, TimeoutError) as exc:
            return False, f"{ip}:{port}: {type(exc).__name__} {exc}"
        finally:
            # As collectors.transport.rpc closes: FIN once answered, RST otherwise.
            if writer is not None and done:
                writer.close()
            elif writer is not None:
                writer.transport.abort()


async def poll(args: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    slots = asyncio.Semaphore(args.concurrency)
    targets = [(row["ip"], row["ports"]["rpc"]) for row in rows if "rpc" in row.get("ports", {})]
    def work() -> Awaitable[list[tuple[bool, str | None]]]:
        return asyncio.gather(*(one(ip, port, slots, args.timeout) for ip, port in targets))

    results = []
    for _ in range(args.rounds):
        tally = Tally(rows)
        outcomes, elapsed = await timed(work)
        for (ip, _), (ok, error) in zip(targets, outcomes, strict=True):
            tally.record(ip, ok, error=error)
        results.append(tally.result(elapsed))
    return median_round(results)


def main() -> dict[str, Any]:
    args = arguments(["poll"])
    limits = raise_open_files()
    inventory = load_inventory(args.inventory)
    return {"known": asyncio.run(poll(args, inventory["miners"])), "open_files": limits}


if __name__ == "__main__":
    run_worker(main)
