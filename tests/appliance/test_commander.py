"""The commander against a simulated farm over real sockets: discovery, poll cycles stored as Parquet,
alerts fired once and resolved, the health file and `minerwatch status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pandas as pd

from appliance.commander import Commander
from appliance.config import load
from appliance.inventory import Inventory
from appliance.snmp.farm_file import farm_path
from collectors import algorithms
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base

RULES = """
[alerts.rules.board_dead]
hold_s = 0
[alerts.rules.temp_chip]
hold_s = 0
"""


def write_config(root: Path, subnet: str, poll_s: float = 30, *, extra: str = "", timeout_s: float = 3.0,
                 **intervals: float) -> Path:
    """commander.toml (and an empty secrets.toml) for a farm in ``subnet``; ``intervals`` beyond
    poll_s (discovery_s is 0 unless given), and ``extra`` TOML after the rest."""
    path = root / "commander.toml"
    every = "".join(f"{key} = {value}\n" for key, value in ({"discovery_s": 0} | intervals).items())
    path.write_text(f"""
[commander]
state_dir = "{root / 'state'}"

[discovery]
subnets = ["{subnet}"]
timeout_s = {timeout_s}

[intervals]
poll_s = {poll_s}
{every}{RULES}
{extra}""")
    secrets = root / "secrets.toml"
    secrets.write_text("")
    os.chmod(secrets, 0o600)
    return path


@asynccontextmanager
async def discovered_farm(tmp_path: Path, miners: int, mix: dict[str, int], seed: int,
                          extra: Callable[[list[str]], str] = lambda ips: ""):
    """An emulated farm, and a commander that has discovered it: (farm, its addresses, commander).
    ``extra``: more configuration (TOML), given the farm's addresses."""
    async with Farm(miners=miners, mix=mix, base=free_base(), seed=seed, web_port=8080) as farm:
        ips = list(farm.miners)
        config = load(write_config(tmp_path, f"{ips[0]}-{ips[-1]}", extra=extra(ips)))
        async with Commander(config, web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("discovery", commander.discover)
            yield farm, ips, commander


async def test_discover_poll_store_alert_and_resolve(tmp_path):
    mix = {"antminer": 1, "whatsminer": 1, "avalon": 1}
    async with discovered_farm(tmp_path, 12, mix, 4) as (farm, ips, commander):
        assert {d.ip for d in commander.inventory.devices()} == set(ips)

        await commander.scheduler.run_now("poll", commander.poll_cycle)
        assert commander.last_transitions == []
        victim = ips[0]
        await farm.inject(victim, "overheating")
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        fired = [t for t in commander.last_transitions if t.kind == "fired"]
        assert fired and {t.alert.device for t in fired} == {victim}
        assert {t.alert.rule for t in fired} >= {"temp_chip"}

        await commander.scheduler.run_now("poll", commander.poll_cycle)
        assert [t for t in commander.last_transitions if t.kind == "fired"] == []  # once, not every cycle

        await farm.clear(victim)
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        resolved = {t.alert.rule for t in commander.last_transitions if t.kind == "resolved"}
        assert "temp_chip" in resolved

    state = tmp_path / "state"
    miners = pd.read_parquet(state / "metrics" / "miners")
    assert len(miners) == 4 * 12  # four cycles, one row per miner per cycle
    assert miners.groupby("time").size().tolist() == [12] * 4
    hot = miners[miners["ip"] == victim]
    assert hot["temp_max_c"].max() > 95  # the overheating cycle is in the history
    health = json.loads((state / "health.json").read_text())
    assert health["jobs"]["poll"]["runs"] == 4
    assert health["jobs"]["poll"]["devices_ok"] == 12


async def test_a_miner_broken_while_discovery_runs_is_watched_and_alerted_on_until_it_answers(tmp_path, caplog):
    async with Farm(miners=6, mix={"antminer": 1, "whatsminer": 1}, base=free_base(), seed=6, web_port=8080) as farm:
        ips = list(farm.miners)
        hung, garbled = ips[1], ips[4]
        await farm.inject(hung, "hangs")
        await farm.inject(garbled, "garbage")
        config = load(write_config(tmp_path, f"{ips[0]}-{ips[-1]}", timeout_s=1.0))
        async with Commander(config, web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("discovery", commander.discover)
            found = commander.last_discovery
            assert (found.miners, sorted(i.ip for i in found.badly)) == (4, sorted([hung, garbled]))
            summary = found.summary()
            assert "4 miners identified; 2 answered badly and are watched as unidentified miners" in summary
            assert f"{hung} listens on port" in summary and f"{garbled} answered on port" in summary
            assert sum(f"discovery: {hung} " in m for m in caplog.messages) == 1
            devices = {d.ip: d for d in commander.inventory.devices()}
            assert set(devices) == set(ips)
            assert (devices[hung].driver, devices[hung].last_seen, devices[hung].source) == (None, None, "discovered")

            await commander.scheduler.run_now("discovery", commander.discover)  # again: no second device, no new line
            assert len(commander.inventory.devices()) == 6
            assert sum(f"discovery: {hung} " in m for m in caplog.messages) == 1

            for _ in range(3):  # the offline rule's threshold: 3 missed polls
                await commander.scheduler.run_now("poll", commander.poll_cycle)
            firing = {(a.device, a.rule) for a in commander.alerts.engine.firing()}
            assert firing == {(hung, "offline"), (garbled, "offline")}

            await farm.clear(hung)
            await farm.clear(garbled)
            await commander.scheduler.run_now("poll", commander.poll_cycle)
            resolved = {t.alert.device for t in commander.last_transitions if t.kind == "resolved"}
            assert resolved == {hung, garbled}
            devices = {d.ip: d for d in commander.inventory.devices()}
            for ip in (hung, garbled):  # identified now, under the key discovery gave it
                assert (devices[ip].key, devices[ip].driver) == (ip, farm.miners[ip].driver)
                assert devices[ip].mac is not None and devices[ip].last_seen is not None
    miners = pd.read_parquet(tmp_path / "state" / "metrics" / "miners")
    assert miners.groupby("time").size().tolist() == [6] * 4  # every cycle has a row for both
    assert miners[miners["ip"] == hung]["reachable"].tolist() == [False] * 3 + [True]


async def test_the_farm_document_for_snmpd_lists_every_miner_under_its_inventory_number(tmp_path):
    async with discovered_farm(tmp_path, 6, {"antminer": 1, "whatsminer": 1}, 5) as (farm, ips, commander):
        await farm.inject(ips[1], "offline")
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        numbers = {d.ip: d.number for d in commander.inventory.devices()}
        polled = {s.ip: s for s in commander.last_snapshots}
        doc = json.loads(farm_path(tmp_path / "state").read_text())
    farm_row = doc["farm"]
    assert (farm_row["asics"], farm_row["asics_up"], farm_row["rigs"], farm_row["alerts_active"]) == (6, 5, 0, 0)
    assert {row["algorithm"]: row["hashrate_hs"] for row in doc["algorithms"]} == algorithms.totals(
        (s.algorithm, s.hashrate_hs) for s in polled.values() if s.reachable)
    assert farm_row["polled_at"] <= doc["written_at"] and farm_row["poll_duration_ms"] > 0
    records = {r["address"].rsplit(":", 1)[0]: r for r in doc["miners"]}
    assert {ip: r["index"] for ip, r in records.items()} == numbers
    assert sorted(numbers.values()) == list(range(1, 7))
    down = records[ips[1]]
    assert (down["reachable"], down["hashrate_hs"]) == (False, None) and down["error"]
    up = records[ips[0]]
    assert (up["kind"], up["make"], up["model"], up["hashrate_hs"]) == (
        "asic", polled[ips[0]].make, polled[ips[0]].model, polled[ips[0]].hashrate_hs)


async def test_a_miner_that_moves_to_another_address_keeps_its_device(tmp_path):
    async with discovered_farm(tmp_path, 4, {"antminer": 1}, 8) as (farm, ips, commander):
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        before = {d.mac: d.key for d in commander.inventory.devices()}
        # the same identities answering from each other's addresses, as after a DHCP shuffle
        commander.inventory.upsert_discovered(
            [s for s in reversed(commander.last_snapshots)], site_for=commander.config.site_for)
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        after = {d.mac: d.key for d in commander.inventory.devices()}
    assert before == after and len(after) == 4


def test_status_reads_the_health_file(tmp_path):
    from appliance.health import Health, JobHealth

    health = Health(jobs={"poll": JobHealth(interval_s=30, runs=5, skipped=1, devices_ok=10, devices_failed=2,
                                            last_started_at=1.0, last_duration_s=0.4)})
    health.save(tmp_path)
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "running" in done.stdout
    poll = next(line for line in done.stdout.splitlines() if line.startswith("poll"))
    assert poll.split()[6:11] == ["10", "2", "5", "1", "0"]  # ok, failed, runs, skipped, errors


def test_status_without_a_commander_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3  # UNKNOWN, in the monitoring plugins' terms
    assert "has not run with this state directory" in done.stderr and "Traceback" not in done.stderr


def test_discover_on_demand_fills_the_inventory(tmp_path):
    farm_base = free_base()
    inventory = tmp_path / "farm.json"
    farm = subprocess.Popen([sys.executable, "-m", "simfarm", "--miners", "3", "--mix", "avalon=1",
                             "--base", farm_base, "--web-port", "8080", "--inventory", str(inventory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if inventory.exists() or farm.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        ips = [row["ip"] for row in json.loads(inventory.read_text())["miners"]]
        config = write_config(tmp_path, f"{ips[0]}-{ips[-1]}")
        done = subprocess.run([sys.executable, "-m", "appliance.cli", "discover", "--config", str(config),
                               "--web-port", "8080"], capture_output=True, text=True, timeout=60)
    finally:
        farm.terminate()
        farm.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    assert "discovery of 3 addresses: 3 miners identified; 3 devices in the inventory" in done.stdout
    with Inventory.open(tmp_path / "state") as known:
        assert sorted(d.ip for d in known.devices()) == sorted(ips)


async def test_the_store_files_each_miner_under_its_inventory_key(tmp_path):
    # Configured by address, so the inventory keys them by address before any answer; their polls
    # then report MACs. The history must stay under the inventory's keys, the ones the web and
    # the NMS table show, not split between the address and the MAC.
    async with Farm(miners=3, mix={"antminer": 1}, base=free_base(), seed=6, web_port=8080) as farm:
        ips = list(farm.miners)
        path = write_config(tmp_path, ips[0])
        path.write_text(path.read_text() + "".join(f'\n[[miners]]\nip = "{ip}"\n' for ip in ips))
        async with Commander(load(path), web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("poll", commander.poll_cycle)
            await farm.inject(ips[2], "offline")
            await commander.scheduler.run_now("poll", commander.poll_cycle)
            inventory = {d.ip: (d.key, d.mac) for d in commander.inventory.devices()}
    assert {ip: key for ip, (key, _) in inventory.items()} == {ip: ip for ip in ips}
    assert all(mac for _, mac in inventory.values())  # the MACs were learnt, the keys kept
    miners = pd.read_parquet(tmp_path / "state" / "metrics" / "miners")
    assert sorted(miners.groupby("device").size().items()) == sorted((ip, 2) for ip in ips)


def test_devices_lists_the_inventory_with_the_numbers_an_nms_sees(tmp_path):
    from appliance.config import Sentry
    from collectors.model import MinerSnapshot

    with Inventory.open(tmp_path) as inventory:
        inventory.upsert_discovered([MinerSnapshot("10.0.3.15", 4028, reachable=True, mac="AA:00:00:00:00:01",
                                                   make="Bitmain", model="Antminer S19")], at=100)
        inventory.sync_rigs([Sentry("10.0.5.7", community="c", rack="R7")])
    written = (tmp_path / "inventory.sqlite3").read_bytes()
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "devices", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "inventory.sqlite3").read_bytes() == written  # a reader never writes the commander's file
    lines = done.stdout.splitlines()
    assert lines[1].split()[:6] == ["1", "asic", "AA:00:00:00:00:01", "10.0.3.15:4028", "Bitmain", "Antminer"]
    assert lines[2].split()[:4] == ["2", "rig", "10.0.5.7", "10.0.5.7:161"] and "never" in lines[2]
    assert lines[-1] == "2 devices: 1 ASICs, 1 rigs"
    as_json = subprocess.run([sys.executable, "-m", "appliance.cli", "devices", "--state-dir", str(tmp_path),
                              "--json"], capture_output=True, text=True, timeout=60)
    assert [json.loads(line)["number"] for line in as_json.stdout.splitlines()] == [1, 2]


def test_devices_without_an_inventory_says_so(tmp_path):
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "devices", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "does not exist" in done.stderr and not (tmp_path / "inventory.sqlite3").exists()


async def test_alerts_at_an_address_no_longer_polled_are_closed(tmp_path):
    # A miner that moved (DHCP) is polled at its new address; what fired at the old one would
    # otherwise stay firing for ever, since nothing is polled there any more.
    import dataclasses

    from appliance.alerts.history import read_history

    async with discovered_farm(tmp_path, 3, {"antminer": 1}, 9) as (farm, ips, commander):
        await farm.inject(ips[0], "overheating")
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        assert {a.device for a in commander.alerts.engine.firing()} == {ips[0]}
        [hot] = [s for s in commander.last_snapshots if s.ip == ips[0]]
        commander.inventory.upsert_discovered([dataclasses.replace(hot, ip="127.0.0.254")])
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        assert commander.alerts.engine.firing() == []
        closed = [e for e in read_history(commander.alerts.engine.state_path) if e["event"] == "resolved"]
    assert {e["device"] for e in closed} == {ips[0]}
    assert {e["by"] for e in closed} == {"no longer polled at this address"}


async def test_a_refused_login_is_in_every_polls_snapshot_and_logged_once(tmp_path, caplog):
    async with Farm(miners=2, mix={"antminer": 1}, base=free_base(), seed=10, web_port=8080) as farm:
        ips = list(farm.miners)
        path = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", extra='[credentials.antminer]\nusername = "root"\n'
                                                                  f'subnets = ["{ips[0]}"]\n')
        (tmp_path / "secrets.toml").write_text('[credentials.antminer]\npassword = "not-its-password"\n')
        async with Commander(load(path), web_port=farm.web_port) as commander:
            await commander.scheduler.run_now("discovery", commander.discover)
            for _ in range(2):
                await commander.scheduler.run_now("poll", commander.poll_cycle)
                polled = {s.ip: s for s in commander.last_snapshots}
                assert polled[ips[0]].reachable and polled[ips[0]].mac is None
                assert polled[ips[0]].warnings == [f"{ips[0]}:8080 refused the login for user root: mac, serial, "
                                                   "hostname and firmware_version are unknown"]
                assert polled[ips[1]].warnings == [] and polled[ips[1]].mac  # the factory login, outside the subnet
    logged = [r.getMessage() for r in caplog.records if "refused the login" in r.getMessage()]
    assert logged == [f"{ips[0]}: {polled[ips[0]].warnings[0]}"]
