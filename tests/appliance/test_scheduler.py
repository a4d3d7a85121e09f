"""The commander's jobs: never overlapping, skips counted, failures contained, health written."""

from __future__ import annotations

import asyncio

from appliance.health import load
from appliance.scheduler import Outcome, Scheduler


async def test_a_late_run_is_skipped_and_counted_not_stacked(tmp_path):
    running = 0
    most = 0

    async def slow_cycle():
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.5)
        running -= 1
        return Outcome(ok=3, failed=1)

    scheduler = Scheduler(tmp_path)
    scheduler.add("poll", 0.1, slow_cycle)
    scheduler.start()
    try:
        await asyncio.sleep(1.3)
    finally:
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
    scheduler.add("discovery", 0.1, flaky)
    scheduler.start()
    try:
        await asyncio.sleep(0.35)
    finally:
        await scheduler.stop()
    health, _ = load(tmp_path)
    job = health.jobs["discovery"]
    assert job.failures == 1 and job.runs >= 2
    assert job.last_error is None  # cleared by the next good run


async def test_run_now_follows_the_same_rules(tmp_path):
    async def boom():
        raise ValueError("subnet 10.0.0.0/33")

    scheduler = Scheduler(tmp_path)
    scheduler.add("discovery", 3600, boom, first_run_now=False)
    await scheduler.run_now("discovery", boom)
    health, _ = load(tmp_path)
    assert health.jobs["discovery"].last_error == "ValueError: subnet 10.0.0.0/33"
