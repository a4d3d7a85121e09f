"""`minerwatch serve` as it runs: the real process on short intervals against a simulated farm.

Each job's unit tests call it directly; these start the daemon, let its scheduler run every job
on its own, and check what the jobs left behind, then stop it the ways a service is stopped and
check what `minerwatch status` says about each.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psutil
import pytest

from appliance.store.jobs import store_cycle
from simfarm.farm import Farm
from tests.appliance.alerts.conftest import miner
from tests.appliance.test_commander import write_config as commander_config
from tests.conftest import until
from tests.simfarm.conftest import free_base

CLI = [sys.executable, "-m", "appliance.cli"]


def write_config(root: Path, ips: list[str], receiver_url: str, *, extra: str = "") -> Path:
    """Polls every second, discovery every 4 s, upkeep every 2 s; alerts to the receiver's /ops."""
    channel = f'[[channels]]\nname = "ops"\ntype = "webhook"\nurl = "{receiver_url}/ops"\nretry_base_s = 0.05\n'
    miners = "".join(f'\n[[miners]]\nip = "{ip}"\n' for ip in ips)
    return commander_config(root, f"{ips[0]}-{ips[-1]}", 1, discovery_s=4, compaction_s=2,
                            extra=channel + extra + miners)


def health(state: Path) -> dict:
    try:
        return json.loads((state / "health.json").read_text())
    except (FileNotFoundError, ValueError):  # not yet written, or mid-replace on a slow disk
        return {}


def runs(state: Path, job: str) -> int:
    return health(state).get("jobs", {}).get(job, {}).get("runs", 0)


def status(state: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "status", "--state-dir", str(state), *flags], capture_output=True, text=True,
                          timeout=60)


@asynccontextmanager
async def serving(config: Path, web_port: int, log: Path):
    """The daemon as a process, its stderr in ``log``; killed if the test leaves it running."""
    with open(log, "w") as err:
        process = await asyncio.create_subprocess_exec(*CLI, "serve", "--config", str(config),
                                                       "--web-port", str(web_port),
                                                       stdout=subprocess.DEVNULL, stderr=err)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stopped(process: asyncio.subprocess.Process) -> int:
    async with asyncio.timeout(60):
        return await process.wait()


def seed_history(state: Path, now: datetime) -> tuple[datetime, datetime]:
    """Cycles of a closed hour two hours back (for compaction and rollups) and one of 20 days ago
    (past the 14 days raw samples are kept); returns the two hours."""
    closed = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    expired = closed - timedelta(days=20)
    for at in (closed, closed + timedelta(minutes=1), closed + timedelta(minutes=7), expired):
        # Loopback addresses nothing listens on: the commander, which takes the store's miners into
        # its new inventory, polls them too, and only ever on this machine.
        snaps = [replace(miner(0, ip=f"127.254.254.{n}"), polled_at=at.timestamp()) for n in (1, 2)]
        store_cycle(state, snaps, at)
    return closed, expired


def partition(state: Path, table: str, at: datetime) -> Path:
    return state / table / f"date={at.date().isoformat()}"


async def test_every_job_runs_on_its_schedule_and_does_its_work(tmp_path, receiver):
    state = tmp_path / "state"
    closed, expired = seed_history(state, datetime.now(UTC))
    started = datetime.now(UTC)
    async with Farm(miners=3, mix={"antminer": 1, "whatsminer": 1}, base=free_base(), seed=11,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        hot = ips[0]
        await farm.inject(hot, "overheating")
        config = write_config(tmp_path, ips, receiver.url)
        async with serving(config, farm.web_port, tmp_path / "serve.log") as daemon:
            await until(lambda: runs(state, "poll") >= 5 and runs(state, "storage") >= 2
                        and runs(state, "discovery") >= 2, "five polls, two upkeeps, two discoveries", 90)
            daemon.send_signal(signal.SIGTERM)
            assert await stopped(daemon) == 0

    log = (tmp_path / "serve.log").read_text()
    assert "poll: 3 of 5 miners answered" in log and "alerts firing" in log  # the store's two are silent
    assert "commander stopped cleanly" in log and "Traceback" not in log
    jobs = health(state)["jobs"]
    assert all(job["failures"] == 0 for job in jobs.values()), jobs

    # Every poll cycle stored once: one time per run, three miners in each.
    miners = pd.read_parquet(state / "metrics" / "miners")
    ours = miners[miners["time"] >= pd.Timestamp(started)]
    assert ours.groupby("time").size().tolist() == [5] * jobs["poll"]["runs"]

    # The upkeep compacted the closed hour, rolled it up, and removed the expired day.
    hour_files = sorted(p.name for p in partition(state, "metrics/miners", closed).iterdir())
    assert not any(name.startswith(f"cycle-{closed:%Y%m%dT%H}") for name in hour_files), hour_files
    assert len(miners[miners["time"].dt.floor("h") == pd.Timestamp(closed)]) == 6  # no row lost or doubled
    for step in ("5m", "1h"):
        rolled = pd.read_parquet(state / "rollups" / f"miners_{step}")
        assert (rolled["time"].dt.floor("h") == pd.Timestamp(closed)).any(), step
    assert not partition(state, "metrics/miners", expired).exists()

    # The hot miner's alerts went to the channel once each, although every cycle still found it hot.
    fired = Counter(body["alert_id"] for body in (r["json"] for r in receiver.posts()) if body["kind"] == "fired")
    assert fired and set(fired.values()) == {1}
    assert {tuple(alert_id.split("/")[:2]) for alert_id in fired} == {
        (hot, "temp_chip"), ("127.254.254.1", "offline"), ("127.254.254.2", "offline")}


async def test_status_follows_the_process_through_each_way_it_stops(tmp_path, receiver):
    receiver.down_paths = {"/down"}
    down = '\n[[channels]]\nname = "down"\ntype = "webhook"\nurl = "URL/down"\nretry_base_s = 0.05\n'
    state = tmp_path / "state"
    async with Farm(miners=1, mix={"antminer": 1}, base=free_base(), seed=12, web_port=8080) as farm:
        ips = list(farm.miners)
        await farm.inject(ips[0], "overheating")  # something to send, to a channel that is down
        config = write_config(tmp_path, ips, receiver.url, extra=down.replace("URL", receiver.url))
        for how in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            async with serving(config, farm.web_port, tmp_path / "serve.log") as daemon:
                pid = daemon.pid
                await until(lambda: health(state).get("pid") == pid and runs(state, "poll") >= 1
                            and health(state).get("channels", {}).get("down", {}).get("failing_since"),
                            "a poll and a failed delivery", 60)
                running = await asyncio.to_thread(status, state)
                assert running.returncode == 1, running.stdout + running.stderr  # running, with a warning
                assert running.stdout.startswith(f"commander running, pid {pid}")
                assert "WARNING: alert channel down failing since" in running.stdout
                assert (await asyncio.to_thread(status, state, "--alive")).returncode == 0
                daemon.send_signal(how)
                code = await stopped(daemon)
            after = await asyncio.to_thread(status, state)
            assert after.returncode == 2, (how, after.stdout, after.stderr)
            assert (await asyncio.to_thread(status, state, "--alive")).returncode == 2
            if how == signal.SIGKILL:
                assert "NOT RUNNING" in after.stdout and "without stopping cleanly" in after.stdout
            else:
                assert code == 0 and "STOPPED: it stopped cleanly" in after.stdout


def test_status_says_a_commander_that_stopped_writing_hangs(tmp_path):
    from appliance.health import Health, JobHealth

    Health(jobs={"poll": JobHealth(interval_s=30, runs=5)}).save(tmp_path)
    health_file = tmp_path / "health.json"
    data = json.loads(health_file.read_text())
    health_file.write_text(json.dumps(data | {"written_at": time.time() - 600}))
    done = status(tmp_path)
    assert done.returncode == 2 and "NOT POLLING" in done.stdout


async def test_a_third_of_the_farm_hostile_costs_those_miners_only(tmp_path, receiver):
    # Issue 9's farm: every make, a third of the miners attacking their monitor (huge numbers, endless
    # repairs, deep nesting, a megabyte of reply), the daemon as it runs: no cycle is lost, every good
    # miner is stored as it is, and the process stays within its time and memory.
    from simfarm.asic import MAKES

    state = tmp_path / "state"
    async with Farm(miners=3 * len(MAKES), mix={name: 1.0 for name in MAKES}, base=free_base(), seed=11,
                    web_port=8080, hostile_rate=1 / 3) as farm:
        rows = farm.inventory()
        hostile = {row["ip"] for row in rows if "hostile" in row["faults"]}
        logins = {row["driver"]: (row["web_user"], row["web_password"] or "") for row in rows if row.get("web_user")}
        credentials = "".join(f'\n[credentials.{driver}]\nusername = "{user}"\n' for driver, (user, _) in logins.items())
        config = write_config(tmp_path, list(farm.miners), receiver.url, extra=credentials)
        secrets = tmp_path / "secrets.toml"
        secrets.write_text("".join(f'[credentials.{driver}]\npassword = "{password}"\n'
                                   for driver, (_, password) in logins.items()))
        async with serving(config, farm.web_port, tmp_path / "serve.log") as daemon:
            process = psutil.Process(daemon.pid)
            peak_mb = 0.0

            def polled_thrice() -> bool:
                nonlocal peak_mb
                peak_mb = max(peak_mb, process.memory_info().rss / 2**20)
                return runs(state, "poll") >= 3

            await until(polled_thrice, "three poll cycles", 120)
            daemon.send_signal(signal.SIGTERM)
            assert await stopped(daemon) == 0
        expected = {ip: farm.miners[ip].state.hashrate_hs for ip in farm.miners if ip not in hostile}

    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "commander stopped cleanly" in log
    poll = health(state)["jobs"]["poll"]
    assert poll["failures"] == 0 and poll["last_duration_s"] < 2 * 3.0  # each miner within its 3 s
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
    miners = pd.read_parquet(state / "metrics" / "miners")
    # Every cycle stored every miner, hostile or not, and nothing no float or int64 holds.
    assert set(miners.groupby("time").size()) == {len(farm.miners)}
    assert miners.select_dtypes("number").apply(lambda column: column.abs().max()).max() < float("inf")
    last = miners[miners["time"] == miners["time"].max()].set_index("ip")
    for ip, hashrate in expected.items():
        assert last.loc[ip, "reachable"], (ip, last.loc[ip, "error"])
        assert last.loc[ip, "hashrate_hs"] == pytest.approx(hashrate, rel=0.05), ip
