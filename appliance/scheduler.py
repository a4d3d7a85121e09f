"""The commander's periodic jobs on APScheduler 3, and the rules every job follows.

- One run of a job never overlaps the next: a run that comes due while the previous one still
  runs is skipped and counted in the job's health (APScheduler's ``max_instances=1``), never stacked.
- The job boundary is the only place that catches every exception: it is logged once with its
  traceback, counted, and the next run goes ahead as usual.
- Every run updates the health file, so ``minerwatch status`` sees the daemon from outside.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from appliance.health import Health, JobHealth

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a run reports about the devices it handled."""

    ok: int | None = None
    failed: int | None = None


JobFunction = Callable[[], Awaitable[Outcome | None]]


class Scheduler:
    def __init__(self, state_dir: Path, health: Health | None = None,
                 refresh: Callable[[Health], None] | None = None) -> None:
        """``refresh`` brings what lives outside the jobs (the alert channels) into the health
        before each write."""
        self.state_dir = state_dir
        self.health = health or Health()
        self._refresh = refresh
        self._scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True,
                                                         "misfire_grace_time": None})
        self._scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self._running: set[asyncio.Task] = set()

    def add(self, name: str, interval_s: float, function: JobFunction, *, first_run_now: bool = True) -> None:
        self.health.jobs[name] = self.health.jobs.get(name) or JobHealth(interval_s=interval_s)
        self.health.jobs[name].interval_s = interval_s
        # APScheduler 3 takes next_run_time=None as "add the job paused": a job that waits for its
        # first interval is given that time explicitly, or it would never run.
        now = datetime.now(timezone.utc)
        first = now if first_run_now else now + timedelta(seconds=interval_s)
        self._scheduler.add_job(self._run, "interval", seconds=interval_s, id=name, name=name,
                                args=(name, function), next_run_time=first)

    async def run_now(self, name: str, function: JobFunction) -> None:
        """Run a job at once (discovery on demand), under the same rules as a scheduled run."""
        self.health.jobs.setdefault(name, JobHealth(interval_s=0))
        await self._run(name, function)

    def start(self) -> None:
        self._scheduler.start()

    async def stop(self, clean: bool = True) -> None:
        """Stop scheduling, then let the runs in flight finish: a cycle is never cut in half. After
        a ``clean`` stop (asked for, not a crash) the health file says so."""
        if not self._scheduler.running:
            return
        self._scheduler.pause()  # no new runs; APScheduler's shutdown would cancel those in flight
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        self._scheduler.shutdown(wait=False)
        if clean:
            self.health.stopped_at = time.time()
            self._save()

    async def _run(self, name: str, function: JobFunction) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._timed(name, function)
        finally:
            self._running.discard(task)

    async def _timed(self, name: str, function: JobFunction) -> None:
        job = self.health.jobs[name]
        job.runs += 1
        job.last_started_at = time.time()
        clock = time.perf_counter()
        try:
            outcome = await function()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the job boundary: log once, count, and let the next run go ahead
            log.exception("job %s failed", name)
            job.failures += 1
            job.last_error = f"{type(exc).__name__}: {exc}"
        else:
            job.last_error = None
            if outcome is not None:
                job.devices_ok, job.devices_failed = outcome.ok, outcome.failed
        job.last_duration_s = round(time.perf_counter() - clock, 3)
        self._save()

    def _skipped(self, event: JobExecutionEvent) -> None:
        job = self.health.jobs.get(event.job_id)
        if job is not None:
            job.skipped += 1
            log.warning("job %s came due while its previous run was still going: skipped", event.job_id)
            self._save()

    def _save(self) -> None:
        if self._refresh is not None:
            self._refresh(self.health)
        try:
            self.health.save(self.state_dir)
        except OSError as exc:
            log.error("cannot write the health file in %s: %s", self.state_dir, exc)
