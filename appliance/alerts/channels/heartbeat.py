"""The heartbeat: one request to a URL each cycle (healthchecks.io, Uptime Kuma's push monitor, ...),
so that something outside the farm notices when the commander, or its network, goes quiet.

``beat()`` returns at once: the request runs as a task, and a beat that finds the last one still
in flight is skipped rather than queued, since a late ping says nothing a fresh one would not.
Failures are logged when they start and when they end, never per cycle, and never with the URL
(its path is the credential).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, url: str, method: str = "GET", timeout_s: float = 10.0,
                 role: Callable[[], str] = lambda: "MASTER") -> None:
        self._url, self._method = url, method
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._role = role
        self._task: asyncio.Task | None = None
        self.failing = False
        self.sent = 0  # pings answered with a 2xx

    def beat(self) -> None:
        # Only the MASTER pings: with no MASTER the switch should trip, and a BACKUP is not one.
        if self._role() != "MASTER" or self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self._ping())

    async def _ping(self) -> None:
        try:
            response = await self._client.request(self._method, self._url)
            problem = None if response.is_success else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            problem = f"no answer ({type(exc).__name__})"
        if problem is None:
            self.sent += 1
            if self.failing:
                log.warning("heartbeat: the receiver answers again")
        elif not self.failing:
            log.warning("heartbeat: the receiver did not take the ping: %s", problem)
        self.failing = problem is not None

    async def aclose(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()
