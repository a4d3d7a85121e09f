"""The commander with damaged state files, against a simulated farm over real sockets: a damaged
inventory is set aside and rebuilt (configured miners and sentries, the store's latest rows under
their keys, the next discovery), found at the start or by a job; a damaged health file is replaced;
a state file it may not read stops `minerwatch serve` with one sentence and stays as it is; and the
real `minerwatch serve` process, on a state directory with a corrupt latest/miners.parquet,
alerts.json and inventory.sqlite3, starts, polls, stores and sets the three aside."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from appliance.commander import Commander
from appliance.config import load
from appliance.damaged import set_aside_files
from appliance.health import HealthFileError
from appliance.health import load as load_health
from appliance.inventory import INVENTORY_FILE, Inventory
from appliance.store.latest import latest_path
from simfarm.farm import Farm
from tests.appliance.damage import (as_another_user, lines_naming, random_bytes, reachable_by_anyone,
                                    set_aside_copy, sqlite_garbage_pages, truncated, zero_length)
from tests.appliance.test_commander import discovered_farm, write_config
from tests.conftest import until
from tests.simfarm.conftest import free_base

SENTRY = '\n[[sentries]]\nhost = "127.0.0.9"\nrack = "R7"\n'
IDENTITY = ("ip", "port", "make", "model", "mac", "serial", "hostname", "site")


def with_a_sentry(config: Path) -> Path:
    config.write_text(config.read_text() + SENTRY)
    secrets = config.with_name("secrets.toml")
    secrets.write_text('[snmp]\ncommunity = "farm"\n')
    os.chmod(secrets, 0o600)
    return config


def asics(inventory: Inventory) -> dict[str, tuple]:
    return {d.key: tuple(getattr(d, name) for name in IDENTITY) for d in inventory.devices() if d.kind == "asic"}


def miner_rows(state: Path) -> pd.DataFrame:
    return pd.read_parquet(state / "metrics" / "miners")


def sqlite_not_a_database(path: Path) -> None:
    random_bytes(path)


def checkpoint(path: Path) -> None:
    """Every page of the database in its file, none left in its journal only."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


INVENTORY_DAMAGE = {"garbage pages": sqlite_garbage_pages, "not a database": sqlite_not_a_database,
                    "truncated": truncated}


@pytest.mark.parametrize("damage", list(INVENTORY_DAMAGE.values()), ids=list(INVENTORY_DAMAGE))
async def test_a_damaged_inventory_is_set_aside_and_rebuilt_from_the_store(tmp_path, caplog, damage):
    async with discovered_farm(tmp_path, 4, {"antminer": 1, "whatsminer": 1}, 11) as (farm, ips, commander):
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        before = asics(commander.inventory)
        assert len(before) == 4 and all(mac for _, _, _, _, mac, *_ in before.values())  # learnt by polling
        path = commander.inventory.path
        checkpoint(path)
        commander.inventory.seen(next(iter(before)), 1.0)  # one transaction in the journal
        files = {p: p.read_bytes() for p in (path, path.with_name(f"{INVENTORY_FILE}-wal"))}
        commander.inventory.close()
        for left, data in files.items():  # as a commander killed with SIGKILL leaves them: the journal too
            left.write_bytes(data)
        damage(path)
        damaged = path.read_bytes()
        config = load(with_a_sentry(tmp_path / "commander.toml"))
        async with Commander(config, web_port=farm.web_port) as restarted:
            assert asics(restarted.inventory) == before
            assert [(d.key, d.kind, d.rack, d.source) for d in restarted.inventory.devices() if d.kind == "rig"] == [
                ("127.0.0.9", "rig", "R7", "configured")]
            await restarted.scheduler.run_now("poll", restarted.poll_cycle)
            assert restarted.scheduler.health.jobs["poll"].devices_ok == 4
    aside = set_aside_copy(path)
    assert aside.read_bytes() == damaged
    assert aside.with_name(aside.name + "-wal").read_bytes() == files[path.with_name(f"{INVENTORY_FILE}-wal")]
    [line] = lines_naming(caplog, path)
    assert "rebuilding it from the configuration, the store's latest rows and the next discovery" in line
    rows = miner_rows(tmp_path / "state")
    assert rows.groupby("device").size().to_dict() == {key: 2 for key in before}  # the history goes on


async def test_an_empty_inventory_file_is_an_empty_database_and_is_seeded_from_the_store(tmp_path):
    async with discovered_farm(tmp_path, 3, {"avalon": 1}, 12) as (farm, ips, commander):
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        before = asics(commander.inventory)
        path = commander.inventory.path
        commander.inventory.close()
        for leftover in (path, path.with_name(f"{INVENTORY_FILE}-wal"), path.with_name(f"{INVENTORY_FILE}-shm")):
            zero_length(leftover)
        async with Commander(commander.config, web_port=farm.web_port) as restarted:
            assert asics(restarted.inventory) == before
    assert set_aside_files(tmp_path / "state") == []  # to SQLite, nothing was damaged


async def test_a_job_that_finds_the_inventory_damaged_sets_it_aside_rebuilds_it_and_goes_on(tmp_path, caplog):
    async with discovered_farm(tmp_path, 3, {"antminer": 1}, 13) as (farm, ips, commander):
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        before = asics(commander.inventory)
        path = commander.inventory.path
        checkpoint(path)
        sqlite_garbage_pages(path)
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("PRAGMA user_version = 2")  # a write, so the commander's connection reads the file again
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        job = commander.scheduler.health.jobs["poll"]
        assert (job.failures, job.devices_ok) == (0, 3)
        assert asics(commander.inventory) == before
    set_aside_copy(path)
    assert len(lines_naming(caplog, path)) == 1
    assert miner_rows(tmp_path / "state").groupby("device").size().to_dict() == {key: 2 for key in before}


async def test_a_damaged_health_file_is_replaced_and_a_reader_gets_one_sentence(tmp_path):
    async with discovered_farm(tmp_path, 2, {"antminer": 1}, 14) as (farm, ips, commander):
        health = tmp_path / "state" / "health.json"
        health.write_text('{"started_at": "yesterday"}')
        with pytest.raises(HealthFileError, match=r"^.*health.json is damaged \(started_at: input should be a valid "
                                                  r"number \(and 2 more\)\); the commander rewrites it after every "
                                                  "job run$"):
            load_health(health.parent)
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        assert load_health(health.parent)[0].jobs["poll"].devices_ok == 2


SERVE = ("import sys; from appliance.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("name", ["alerts.json", INVENTORY_FILE])
def test_serve_stops_with_one_sentence_on_a_state_file_it_may_not_read_and_leaves_it(name):
    with reachable_by_anyone() as shared:
        config = write_config(shared, "127.0.0.1")
        config.chmod(0o644)
        if os.geteuid() == 0:  # the configuration check wants the secrets owned by the user that runs
            os.chown(config.with_name("secrets.toml"), 65534, 65534)
        state = shared / "state"
        state.mkdir()
        state.chmod(0o777)
        path = state / name
        path.write_text("{}")
        path.chmod(0)
        done = as_another_user(SERVE, "serve", "--config", str(config))
        assert done.returncode in (1, 2), done.stderr
        assert "Traceback" not in done.stderr and "corrupt" not in done.stderr
        assert str(path) in done.stderr and "Permission denied" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert path.exists() and set_aside_files(state) == []


def test_serve_on_a_state_directory_with_three_corrupt_files_starts_polls_stores_and_sets_them_aside(tmp_path):
    asyncio.run(_serve_on_three_corrupt_files(tmp_path))


async def _serve_on_three_corrupt_files(tmp_path):
    async with Farm(miners=3, mix={"antminer": 1}, base=free_base(), seed=15, web_port=8080) as farm:
        ips = list(farm.miners)
        config = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", poll_s=0.5)
        async with Commander(load(config), web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("discovery", commander.discover)
            await commander.scheduler.run_now("poll", commander.poll_cycle)
            keys = {d.key for d in commander.inventory.devices()}
        state = tmp_path / "state"
        damaged = {latest_path(state, "miners"): truncated, state / "alerts.json": random_bytes,
                   state / INVENTORY_FILE: sqlite_garbage_pages}
        for path, damage in damaged.items():
            damage(path)
        bytes_of = {path: path.read_bytes() for path in damaged}
        rows_before = len(miner_rows(state))
        serve = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "appliance.cli", "serve", "--config", str(config), "--web-port",
            str(farm.web_port), stderr=asyncio.subprocess.PIPE)
        try:
            await until(lambda: len(miner_rows(state)) >= rows_before + 2 * 3, "two poll cycles stored", 60)
            status = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "appliance.cli", "status",
                                                              "--config", str(config)], capture_output=True, text=True)
        finally:
            serve.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(serve.communicate(), 30)
    assert serve.returncode == 0, err.decode()
    log = err.decode()
    assert "Traceback" not in log
    # `minerwatch status` names each file set aside, and says the commander runs with a warning.
    assert status.returncode == 1, status.stdout + status.stderr
    assert len([line for line in status.stdout.splitlines() if "damaged file set aside" in line]) == 3
    for path in damaged:
        assert set_aside_copy(path).read_bytes() == bytes_of[path]
        assert len([line for line in log.splitlines() if f"{path} is damaged" in line]) == 1
    rows = miner_rows(state)
    assert set(rows["device"]) == keys  # the rebuilt inventory kept every key
    assert json.loads((state / "alerts.json").read_text())["version"] == 1
    with Inventory.open(state) as inventory:
        assert {d.key for d in inventory.devices()} == keys
