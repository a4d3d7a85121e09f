"""The dispatcher: every message to every channel that wants it, once, in order, off the poll's path.

``submit`` only queues (and persists the queue) and returns; one asyncio task per channel sends,
so a channel that is down delays nothing but itself. A failed attempt is tried again after an
exponential back-off (``RetrySettings``), the rest of that channel's queue waiting behind it so a
"resolved" never overtakes its "fired"; after the last attempt, or an answer that says trying
again cannot help, the message is dropped with one log line. Each queue holds at most
``queue_size`` messages; beyond that the oldest go, counted in ``dropped``.

Pending deliveries live in the outbox file (JSON, replaced atomically at every change), so a
restart sends what was still owed. A message sent but not yet struck from the file when the
process dies is sent again after the restart: at least once, and receivers get ``key`` to drop the
rare duplicate. A damaged outbox is set aside (``appliance.damaged``): the sound messages in it are
still sent, the others are not; one that cannot be read stops the start (``StateFileError``).

Only a MASTER sends (``appliance.ha.role``): a BACKUP queues nothing, and a node that turns
BACKUP with messages pending drops them, since its peer, now MASTER, tells its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import OnErrorOmit, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

import atomicfile
from appliance.alerts.channels import Channel, DeliveryError, wants
from appliance.alerts.message import Message
from appliance.damaged import STRICT, Damaged, StateFileError, parsed, set_aside
from appliance.health import ChannelHealth

log = logging.getLogger(__name__)

OUTBOX_VERSION = 1


@with_config(STRICT)
@dataclass(frozen=True)
class _Pending:
    channel: str
    message: Message
    attempts: int = 0


@with_config(STRICT)
@dataclass(frozen=True)
class _Outbox:
    version: int
    pending: list[OnErrorOmit[_Pending]]  # one damaged message costs that message


class _Count(TypedDict):
    pending: list[Any]


@dataclass
class Delivery:
    message: Message
    attempts: int = 0  # failed so far
    next_at: float = 0.0  # on the dispatcher's clock; not persisted: after a restart, try at once


class Dispatcher:
    def __init__(self, channels: Sequence[Channel], outbox_path: Path, role: Callable[[], str] = lambda: "MASTER",
                 queue_size: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        self.channels = {channel.name: channel for channel in channels}
        self.outbox_path = Path(outbox_path)
        self._role, self._queue_size, self._clock = role, queue_size, clock
        self._queues: dict[str, deque[Delivery]] = {name: deque() for name in self.channels}
        self._wake: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task] = []
        # The dispatcher's own health, as data for `minerwatch status`, the UI and /metrics.
        self.health = {name: ChannelHealth() for name in self.channels}
        self._load()

    async def __aenter__(self) -> Dispatcher:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self) -> None:
        for name in self.channels:
            self._wake[name] = asyncio.Event()
            if self._queues[name]:
                self._wake[name].set()
            self._tasks.append(asyncio.get_running_loop().create_task(self._run(name), name=f"alerts-{name}"))

    async def stop(self) -> None:
        """Stop sending; what is still pending stays in the outbox for the next start."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for channel in self.channels.values():
            await channel.aclose()

    def pending(self) -> dict[str, int]:
        return {name: len(queue) for name, queue in self._queues.items()}

    def status(self) -> dict[str, ChannelHealth]:
        """Each channel's deliveries, losses, queue and failure, as of now."""
        for name, health in self.health.items():
            health.pending = len(self._queues[name])
        return self.health

    def submit(self, messages: Iterable[Message]) -> None:
        """Queue each message for every channel that wants it; returns at once. Call from the event loop."""
        messages = list(messages)
        if not messages or self._role() != "MASTER":
            return
        for name, channel in self.channels.items():
            queue = self._queues[name]
            for message in messages:
                if wants(channel.settings, message):
                    queue.append(Delivery(message))
            overflow = len(queue) - self._queue_size
            if overflow > 0:
                for _ in range(overflow):
                    queue.popleft()
                self.health[name].dropped += overflow
                log.error("channel %s: %d message(s) dropped, the queue is full (%d)", name, overflow,
                          self._queue_size)
            if name in self._wake:
                self._wake[name].set()
        self._save()

    async def _run(self, name: str) -> None:
        channel, queue, wake = self.channels[name], self._queues[name], self._wake[name]
        while True:
            if not queue:
                wake.clear()
                await wake.wait()
                continue
            delivery = queue[0]
            wait_s = delivery.next_at - self._clock()
            if wait_s > 0:
                wake.clear()
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
                # that meets a finishing wait, and stop() would then wait for this task for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await wake.wait()
                continue
            if self._role() != "MASTER":
                queue.clear()
                self._save()
                continue
            try:
                # The channel's own timeout bounds each attempt; this one bounds a channel that ignores it.
                async with asyncio.timeout(channel.settings.retry.timeout_s * 2):
                    await channel.send(delivery.message)
            except DeliveryError as exc:
                self._failed(name, delivery, str(exc), exc.permanent)
            except TimeoutError:
                limit_s = channel.settings.retry.timeout_s * 2
                self._failed(name, delivery, f"channel {name}: no answer within {limit_s:g} s", False)
            except Exception as exc:  # the task's boundary: a bug in one channel must not stop its queue
                log.exception("channel %s: sending %s failed", name, delivery.message.key)
                self._failed(name, delivery, f"channel {name}: {type(exc).__name__}", False)
            else:
                self._done(name, delivery)
                health = self.health[name]
                health.delivered += 1
                if health.failing_since is not None:
                    health.failing_since, health.failed_attempts, health.last_error = None, 0, None
                    log.warning("channel %s: delivering again", name)
            self._save()

    def _done(self, name: str, delivery: Delivery) -> None:
        queue = self._queues[name]
        if queue and queue[0] is delivery:  # an overflow may have dropped it while it was being sent
            queue.popleft()

    def _failed(self, name: str, delivery: Delivery, reason: str, permanent: bool) -> None:
        retry = self.channels[name].settings.retry
        health = self.health[name]
        first_failure = health.failing_since is None
        if first_failure:
            health.failing_since = time.time()
        health.failed_attempts += 1
        health.last_error = reason
        delivery.attempts += 1
        if permanent or delivery.attempts >= retry.attempts:
            self._done(name, delivery)
            health.dropped += 1
            log.error("%s; gave up on %s after %d attempt(s)", reason, delivery.message.key, delivery.attempts)
            return
        delay = retry.delay_s(delivery.attempts)
        delivery.next_at = self._clock() + delay
        if first_failure:
            log.warning("%s; trying again in %g s, then with back-off", reason, delay)

    def _load(self) -> None:
        try:
            data = self.outbox_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateFileError.unreadable(self.outbox_path, exc) from exc
        try:
            outbox = parsed(_Outbox, data)
            if outbox.version != OUTBOX_VERSION:
                raise Damaged(f"version is {outbox.version}, not {OUTBOX_VERSION}")
            rows = len(parsed(_Count, data)["pending"])
        except Damaged as exc:
            set_aside(self.outbox_path, str(exc), then="starting with an empty outbox")
            return
        for pending in outbox.pending:
            if pending.channel not in self._queues:
                log.warning("%s: a message for channel %s, which is no longer configured, is dropped",
                            self.outbox_path, pending.channel)
                continue
            self._queues[pending.channel].append(Delivery(pending.message, pending.attempts))
        if len(outbox.pending) < rows:
            set_aside(self.outbox_path, f"{rows - len(outbox.pending)} of its {rows} messages are not messages",
                      then=f"sending the {len(outbox.pending)} others")

    def _save(self) -> None:
        pending = [{"channel": name, "attempts": d.attempts, "message": d.message.to_dict()}
                   for name, queue in self._queues.items() for d in queue]
        atomicfile.replace(self.outbox_path, json.dumps({"version": OUTBOX_VERSION, "pending": pending}))
