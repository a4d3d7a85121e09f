"""The collectors against a whole emulated farm over real sockets: every make identified and polled
cold, bad devices contained, scans that miss nothing, and the CLI's JSON contract."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from collectors.asic import DRIVERS
from collectors.credentials import Credentials
from collectors.fleet import poll_fleet
from collectors.poll import Poller, PollSettings
from collectors.scan import scan
from collectors.targets import Target
from simfarm.asic import MAKES
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base

SNAPSHOT_KEYS = {
    "ip", "port", "make", "model", "firmware", "firmware_version", "algorithm", "reachable", "error",
    "dropped_fields", "warnings", "hashrate_hs", "hashrate_avg_hs", "hashrate_nominal_hs", "power_w", "power_limit_w",
    "efficiency_jth", "uptime_s", "temp_max_c", "boards", "fans", "pools", "accepted", "rejected", "hw_errors", "errors",
    "fault_light", "mac", "serial", "hostname", "polled_at", "latency_ms",
}
BOARD_KEYS = {"index", "hashrate_hs", "chips", "chips_expected", "temp_board_c", "temp_chip_c",
              "frequency_mhz", "hw_errors", "status"}
POOL_KEYS = {"index", "url", "user", "status", "active", "accepted", "rejected", "stale"}


def credentials_for(farm: Farm) -> Credentials:
    """The logins the emulated web UIs were given (the farm may set non-default ones)."""
    rows = {}
    for row in farm.inventory():
        if row.get("web_user"):
            rows[row["driver"]] = {"username": row["web_user"], "password": row["web_password"] or ""}
    return Credentials(rows)


async def test_every_make_is_identified_and_polled_cold():
    async with Farm(miners=2 * len(MAKES), mix={name: 1.0 for name in MAKES}, base=free_base(), seed=5,
                    web_port=8080) as farm:
        inventory = {row["ip"]: row for row in farm.inventory()}
        settings = PollSettings(timeout_s=5.0, web_port=farm.web_port, credentials=credentials_for(farm))
        async with Poller(settings) as poller:
            snapshots = await poll_fleet(poller, [Target(ip) for ip in inventory])
    assert {row["driver"] for row in inventory.values()} == set(MAKES)
    for snap in snapshots:
        row = inventory[snap.ip]
        state = farm.miners[snap.ip].state
        where = f"{snap.ip} ({row['driver']})"
        assert snap.reachable, f"{where}: {snap.error}"
        assert snap.make == row["make"], where
        assert snap.firmware == DRIVERS[row["driver"]].firmware, where
        assert len(snap.boards) == row["boards"], where
        assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.05), where
        assert snap.hashrate_hs > 0 and snap.uptime_s is None or snap.uptime_s >= 0, where
        assert snap.pools and snap.pools[0].url, where


async def test_a_bad_device_gets_its_own_error_and_delays_nobody():
    timeout_s = 2.0
    faults = {"offline": {}, "refuses": {}, "hangs": {}, "garbage": {"size": 50_000_000},
              "truncated": {}, "slow": {"delay_s": 30.0}}
    async with Farm(miners=40, mix={"antminer": 1, "whatsminer": 1}, base=free_base(), seed=9,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        rows = {row["ip"]: row for row in farm.inventory()}
        settings = PollSettings(timeout_s=timeout_s, web_port=farm.web_port)
        async with Poller(settings) as poller:
            # the commander's steady state: identities (MAC, serial) known from an earlier poll
            first = await asyncio.gather(*(poller.poll(ip, DRIVERS[rows[ip]["driver"]]) for ip in ips))
            identities = {ip: identity for ip, (_, identity) in zip(ips, first, strict=True)}
            bad = dict(zip(ips[::6], faults.items(), strict=False))
            for ip, (fault, params) in bad.items():
                await farm.inject(ip, fault, **params)
            began = asyncio.get_running_loop().time()
            results = await asyncio.gather(*(
                poller.poll(ip, DRIVERS[rows[ip]["driver"]], identity=identities[ip]) for ip in ips))
            took = asyncio.get_running_loop().time() - began
    assert took < timeout_s + 1.5, "one device's fault held up the round"
    for ip, (snap, _) in zip(ips, results, strict=True):
        if ip in bad:
            assert not snap.reachable, f"{ip} with {bad[ip][0]} was read as healthy"
            assert ip in snap.error and "\n" not in snap.error, snap.error
            assert snap.latency_ms <= (timeout_s + 0.5) * 1000
        else:
            assert snap.reachable, f"{ip}: {snap.error}"
            # served at once, not after the hung ones' timeouts
            assert snap.latency_ms < timeout_s * 1000 * 0.9, f"{ip} waited {snap.latency_ms} ms"


async def test_scan_finds_every_live_miner_even_with_a_tiny_concurrency():
    async with Farm(miners=30, mix={name: 1.0 for name in MAKES}, base=free_base(), seed=3,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        for ip in ips[:3]:
            await farm.inject(ip, "offline")
        live = set(ips[3:])
        network = ips[0].rsplit(".", 1)[0] + ".0/24"
        from collectors.targets import expand

        settings = PollSettings(timeout_s=5.0, concurrency=4, web_port=farm.web_port,
                                credentials=credentials_for(farm))
        async with Poller(settings) as poller:
            found = await scan(poller, expand([network]), precheck_concurrency=16)
    found_ips = {i.ip for i in found}
    assert found_ips == live
    rows = {row["ip"]: row for row in farm.inventory()}
    assert {i.ip: i.driver for i in found} == {ip: rows[ip]["driver"] for ip in live}


async def test_scan_reports_a_stranger_as_unknown_with_what_it_said():
    async def not_a_miner(reader, writer):
        await reader.read(100)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        await writer.drain()
        writer.close()

    ip = free_base()
    server = await asyncio.start_server(not_a_miner, ip, 4028)
    try:
        async with Poller(PollSettings(timeout_s=2.0, web_port=18080)) as poller:
            found = await scan(poller, [Target(ip)])
    finally:
        server.close()
        await server.wait_closed()
    assert len(found) == 1 and found[0].driver is None
    assert "answered but not as a miner" in found[0].error and ip in found[0].error


def test_poll_command_with_all_prints_one_json_object_per_address(tmp_path):
    inventory = tmp_path / "farm.json"
    base = free_base()
    farm = subprocess.Popen([sys.executable, "-m", "simfarm", "--miners", "4", "--mix", "antminer=1,avalon=1",
                             "--base", base, "--web-port", "8080", "--inventory", str(inventory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            if inventory.exists() or farm.poll() is not None:
                break
            asyncio.run(asyncio.sleep(0.05))
        assert inventory.exists(), farm.stderr.read().decode()
        rows = json.loads(inventory.read_text())
        rows = rows["miners"] if isinstance(rows, dict) else rows
        dead = base.rsplit(".", 1)[0] + ".250"
        targets = [row["ip"] for row in rows] + [dead]
        done = subprocess.run([sys.executable, "-m", "appliance.cli", "poll", *targets, "--json", "--all",
                               "--timeout", "3", "--web-port", "8080"],
                              capture_output=True, text=True, timeout=60, env={**os.environ})
    finally:
        farm.terminate()
        farm.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(targets)
    objects = [json.loads(line) for line in lines]
    assert [o["ip"] for o in objects] == targets
    for obj in objects:
        assert set(obj) == SNAPSHOT_KEYS
        for board in obj["boards"]:
            assert set(board) == BOARD_KEYS
        for pool in obj["pools"]:
            assert set(pool) == POOL_KEYS
    assert objects[-1]["reachable"] is False and dead in objects[-1]["error"]
    assert all(o["reachable"] and o["hashrate_hs"] > 0 for o in objects[:-1])
