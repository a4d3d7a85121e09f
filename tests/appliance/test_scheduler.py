"""The commander's jobs: on time, never overlapping, skips counted, failures contained, health written."""

from __future__ import annotations

import asyncio
import time

from appliance.health import load
from appliance.scheduler import Outcome, Scheduler
from tests.conftest import until


async def test_a_late_run_is_skipped_and_counted_not_stacked(tmp_path):
    running = 0
    most = 0
    release = asyncio.Event()

    async def slow_cycle():
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()  # held until the scheduler has come due twice more
        running -= 1
        return Outcome(ok=3, failed=1)

    scheduler = Scheduler(tmp_path)
    scheduler.add("poll", 0.05, slow_cycle)
    scheduler.start()
    try:
        await until(lambda: scheduler.health.jobs["poll"].skipped >= 2, "two skipped runs")
        release.set()
        await until(lambda: scheduler.health.jobs["poll"].runs >= 2, "a run after the slow one")
    finally:
        release.set()
        await scheduler.stop()
    assert most == 1
    health, _ = load(tmp_path)
    job = health.jobs["poll"]
    assert job.skipped >= 2
    assert job.runs >= 2
    assert (job.devices_ok, job.devices_failed) == (3, 1)


async def test_a_failing_run_is_counted_and_the_next_goes_ahead(tmp_path):
    calls = 0

    async def flaky():
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("inventory locked")
        return Outcome(ok=1, failed=0)

    scheduler = Scheduler(tmp_path)
    scheduler.add("discovery", 0.05, flaky)
    scheduler.start()
    try:
        await until(lambda: calls >= 2, "the run after the failed one")
    finally:
        await scheduler.stop()
    health, _ = load(tmp_path)
    job = health.jobs["discovery"]
    assert job.failures == 1 and job.runs >= 2
    assert job.last_error is None  # cleared by the next good run


async def test_a_job_that_waits_for_its_first_interval_then_runs_on_schedule(tmp_path):
    # APScheduler 3 adds a job with next_run_time=None paused: the storage upkeep, which waits for
    # its first interval, never ran in `minerwatch serve` until this was given a time.
    runs: list[float] = []

    async def upkeep():
        runs.append(time.monotonic())
        return Outcome(ok=0, failed=0)

    scheduler = Scheduler(tmp_path)
    started = time.monotonic()
    scheduler.add("storage", 0.3, upkeep, first_run_now=False)
    scheduler.start()
    try:
        await until(lambda: len(runs) >= 3, "three upkeep runs")
    finally:
        await scheduler.stop()
    assert runs[0] - started >= 0.25  # not at once: after its interval
    assert load(tmp_path)[0].jobs["storage"].runs >= 3


async def test_run_now_follows_the_same_rules(tmp_path):
    async def boom():
        raise ValueError("subnet 10.0.0.0/33")

    scheduler = Scheduler(tmp_path)
    scheduler.add("discovery", 3600, boom, first_run_now=False)
    await scheduler.run_now("discovery", boom)
    health, _ = load(tmp_path)
    assert health.jobs["discovery"].last_error == "ValueError: subnet 10.0.0.0/33"
