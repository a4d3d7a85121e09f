"""Finding miners in address ranges: a TCP pre-check on the miner ports, then identification.

The pre-check keeps identification (several requests) for addresses where something listens.
Each connect's timeout starts only once it holds a concurrency slot, and our own resource limits
(too many open files) are waited out and retried, never taken as a dead address: a scan never
misses a live miner because of its own concurrency.
"""

from __future__ import annotations

import asyncio
import errno
import resource
from collections.abc import Callable, Iterable

from collectors.identify import Identity, identify
from collectors.poll import Poller
from collectors.targets import Target

_OUR_LIMITS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.EADDRNOTAVAIL}


def raise_open_files_limit() -> int:
    """Raise this process's open-files limit to its hard limit; returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def listening(ip: str, port: int, timeout_s: float) -> bool:
    """Whether something accepts a TCP connection on ip:port within the timeout."""
    while True:
        try:
            async with asyncio.timeout(timeout_s):
                _, writer = await asyncio.open_connection(ip, port)
        except TimeoutError:
            return False
        except OSError as exc:
            if exc.errno in _OUR_LIMITS:
                await asyncio.sleep(0.05)  # our own limit, not the device's answer: try again
                continue
            return False
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return True


async def scan(poller: Poller, targets: Iterable[Target], *, connect_timeout_s: float = 1.0,
               precheck_concurrency: int = 1000,
               progress: Callable[[int], None] | None = None) -> list[Identity]:
    """Identify every address where a miner port answers, in the order given; the others are left out.

    Fixed pools of workers take addresses one by one, so memory stays flat however large the
    range: a /16 is 65,534 addresses, and only the ones in flight cost anything.
    """
    # Every make we know answers on one of these: the RPC, the web UI, Whatsminer's API V3.
    miner_ports = (4028, poller.settings.web_port, 4433)
    pending = iter(enumerate(targets))
    alive: asyncio.Queue[tuple[int, Target] | None] = asyncio.Queue(maxsize=poller.settings.concurrency)
    found: dict[int, Identity] = {}

    async def precheck() -> None:
        for position, target in pending:
            ports = (target.port,) if target.port else miner_ports
            answers = await asyncio.gather(*(listening(target.ip, p, connect_timeout_s) for p in ports))
            if any(answers):
                await alive.put((position, target))
            elif progress:
                progress(1)

    async def identification() -> None:
        while (item := await alive.get()) is not None:
            position, target = item
            async with poller.slots:
                found[position] = await identify(poller, target.ip, target.port,
                                                 poller.settings.timeout_s)
            if progress:
                progress(1)

    identifiers = [asyncio.create_task(identification()) for _ in range(poller.settings.concurrency)]
    try:
        await asyncio.gather(*(precheck() for _ in range(precheck_concurrency)))
        for _ in identifiers:
            await alive.put(None)
        await asyncio.gather(*identifiers)
    finally:
        for task in identifiers:
            task.cancel()
    return [found[position] for position in sorted(found)]
