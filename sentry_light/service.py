"""The collector service: collect every ``interval_s``, write the snapshot file, log changes of state.

Each problem (a fault, an absent source, a program that does not answer) is logged once when it
starts and once when it ends, not every cycle. A collection that fails as a whole is logged with its
traceback the first time its message is seen, and the loop goes on at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import ModuleType

from collectors.model import RigSnapshot
from sentry_light.collect import Collector, default_nvml
from sentry_light.config import SentryConfig
from sentry_light.show import title
from sentry_light.snapshot_file import write_snapshot

log = logging.getLogger(__name__)


def problems(snapshot: RigSnapshot) -> list[str]:
    """Every sentence about what is wrong or missing on the rig now."""
    return [*snapshot.faults, *snapshot.absent,
            *(f"{title(p.name)}: {p.error}" for p in snapshot.programs if not p.api_up)]


class StateLog:
    """Logs the sentences that appear and disappear between two collections."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._failure: str | None = None

    def update(self, snapshot: RigSnapshot) -> None:
        now = problems(snapshot)
        absent = set(snapshot.absent)  # hardware the rig does not have: worth a note, not a warning
        for sentence in now:
            if sentence not in self._known:
                log.log(logging.INFO if sentence in absent else logging.WARNING, "%s", sentence)
        for sentence in sorted(self._known - set(now)):
            log.info("no longer: %s", sentence)
        self._known = set(now)
        if self._failure is not None:
            log.info("collections work again")
            self._failure = None

    def failed(self, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if message != self._failure:
            log.error("the collection failed (%s); the next one runs at the next interval", message,
                      exc_info=exc)
            self._failure = message


async def run(config: SentryConfig, *, once: bool = False, nvml: ModuleType | None = None,
              stop: asyncio.Event | None = None) -> int:
    """Collect and write until SIGTERM/SIGINT (or ``stop``); with ``once``, a single collection."""
    collector = Collector(config, nvml if nvml is not None else default_nvml())
    state = StateLog()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        next_tick = loop.time()
        while True:
            try:
                snapshot = await collector.collect()
                await asyncio.to_thread(write_snapshot, snapshot, config.snapshot_path)
                state.update(snapshot)
            except Exception as exc:  # the job's boundary: one bad cycle does not end the service
                if once:
                    raise
                state.failed(exc)
            if once:
                return 0
            # Ticks stay on the interval's grid; a cycle that overran skips the ticks it missed.
            next_tick += config.interval_s * max(1, -(-(loop.time() - next_tick) // config.interval_s))
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_tick - loop.time()))
                return 0
            except TimeoutError:
                pass
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
