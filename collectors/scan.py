"""Finding miners in address ranges: a TCP pre-check on the miner ports, then identification (or,
for ``minerwatch poll``, identification and a poll: ``sweep`` serves both).

The pre-check keeps identification (several requests) for addresses where something listens.
Each connect's timeout starts only once it holds a concurrency slot, and our own resource limits
(too many open files) are waited out and retried, never taken as a dead address: a scan never
misses a live miner because of its own concurrency.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import resource
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from collectors.identify import RPC_PORT, Identity, identify_target
from collectors.poll import Poller, PollSettings
from collectors.targets import Target
from collectors.transport import btminer

T = TypeVar("T")

_OUR_LIMITS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.EADDRNOTAVAIL}
CONNECT_TIMEOUT_S = 1.0  # the pre-check's: a LAN device accepts in milliseconds, or nothing is there


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


def miner_ports(settings: PollSettings, target: Target) -> tuple[int, ...]:
    """Where the pre-check knocks: the target's own port, else the ports every make we know answers
    on (the RPC, the web UI, Whatsminer's API V3)."""
    return (target.port,) if target.port else (RPC_PORT, settings.web_port, btminer.DEFAULT_PORT)


def silence(ports: Iterable[int], connect_timeout_s: float = CONNECT_TIMEOUT_S) -> str:
    """What the pre-check found where nothing listens on ``ports``: "nothing accepted a connection
    on port 80, 4028 or 4433 within 1 s"."""
    texts = [str(port) for port in sorted(set(ports))]
    where = texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"
    return f"nothing accepted a connection on port {where} within {connect_timeout_s:g} s"


async def sweep(poller: Poller, targets: Iterable[Target], examine: Callable[[Target], Awaitable[T]],
                record: Callable[[int, Target, T | None], None], *, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                precheck_concurrency: int = 1000) -> None:
    """``record(position, target, result)`` each target the moment it is done: ``result`` is what
    ``examine`` gave where a miner port answers the pre-check, None where none does (``silence``
    words it); ``position`` is its place in ``targets``.

    Fixed pools of workers take addresses one by one, so memory stays flat however large the
    range: a /16 is 65,534 addresses, and only the ones in flight cost anything. A sweep cancelled
    (a Ctrl-C) stops its workers; what was recorded by then stays.
    """
    pending = iter(enumerate(targets))
    alive: asyncio.Queue[tuple[int, Target] | None] = asyncio.Queue(maxsize=poller.settings.concurrency)

    async def precheck() -> None:
        for position, target in pending:
            ports = miner_ports(poller.settings, target)
            answers = await asyncio.gather(*(listening(target.ip, p, connect_timeout_s) for p in ports))
            if any(answers):
                await alive.put((position, target))
            else:
                record(position, target, None)

    async def examination() -> None:
        while (item := await alive.get()) is not None:
            position, target = item
            record(position, target, await examine(target))

    examiners = [asyncio.create_task(examination()) for _ in range(poller.settings.concurrency)]
    try:
        await asyncio.gather(*(precheck() for _ in range(precheck_concurrency)))
        for _ in examiners:
            await alive.put(None)
        await asyncio.gather(*examiners)
    finally:
        for task in examiners:
            task.cancel()
        await asyncio.gather(*examiners, return_exceptions=True)  # their sockets closed before we go on


async def scan(poller: Poller, targets: Iterable[Target], *, connect_timeout_s: float = CONNECT_TIMEOUT_S,
               precheck_concurrency: int = 1000,
               progress: Callable[[int], None] | None = None) -> list[Identity]:
    """Identify every address where a miner port answers, in the order given; the others are left out."""
    found: dict[int, Identity] = {}

    def record(position: int, target: Target, identity: Identity | None) -> None:
        if identity is not None:
            found[position] = identity
        if progress:
            progress(1)

    await sweep(poller, targets, functools.partial(identify_target, poller), record,
                connect_timeout_s=connect_timeout_s, precheck_concurrency=precheck_concurrency)
    return [found[position] for position in sorted(found)]
