"""The farm: determinism, addresses, live values, inventory, control API, start/stop, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

import httpx
import pytest

from simfarm.farm import Farm, FarmError, addresses, split
from tests.simfarm.conftest import free_base


def test_same_seed_same_farm():
    base = free_base()
    first = Farm(miners=50, mix={"antminer": 1}, base=base, seed=42).inventory()
    assert first == Farm(miners=50, mix={"antminer": 1}, base=base, seed=42).inventory()
    assert first != Farm(miners=50, mix={"antminer": 1}, base=base, seed=43).inventory()


def test_addresses_skip_network_and_broadcast_parts():
    assert list(addresses("127.77.0.253", 4)) == ["127.77.0.253", "127.77.0.254", "127.77.1.1", "127.77.1.2"]
    with pytest.raises(FarmError):
        list(addresses("127.255.255.250", 10))
    with pytest.raises(FarmError):
        list(addresses("10.0.0.1", 1))  # never outside loopback


def test_mix_is_shared_by_weight():
    assert split(10, {"a": 40, "b": 30, "c": 30}) == {"a": 4, "b": 3, "c": 3}
    assert sum(split(7, {"a": 1, "b": 1, "c": 1}).values()) == 7
    with pytest.raises(FarmError):
        Farm(miners=1, mix={"nosuchmake": 1})


async def test_live_values(farm, clock, rpc, pick):
    row = pick(farm, new_api=True)
    first = (await rpc(row["ip"], "summary"))["SUMMARY"][0]
    clock.advance(1.1)
    second = (await rpc(row["ip"], "summary"))["SUMMARY"][0]
    assert second["Elapsed"] >= first["Elapsed"] + 1  # uptime ticks
    for counter in ("Accepted", "Rejected", "Hardware Errors", "Difficulty Accepted"):
        assert second[counter] >= first[counter]  # counters only grow
    nominal = row["hashrate_nominal_hs"] / 1e9
    assert abs(second["GHS 5s"] - nominal) <= 0.03 * nominal + 0.01  # wanders within ±3 %
    chains = (await rpc(row["ip"], "stats", parameter={"new_api": True}))["STATS"][0]["chain"]
    assert all(20 < max(c["temp_chip"]) < 95 for c in chains)


async def test_inventory_file_and_control_api(farm, tmp_path, pick):
    from simfarm.control import ControlApi
    path = tmp_path / "inventory.json"
    farm.write_inventory(path)
    assert [row["ip"] for row in json.loads(path.read_text())["miners"]] == list(farm.miners)
    assert os.listdir(tmp_path) == ["inventory.json"]  # nothing left beside it
    ip = pick(farm)["ip"]
    control = ControlApi(farm)
    await control.start()
    try:
        async with httpx.AsyncClient(base_url=control.url, timeout=5) as client:
            row = (await client.post("/faults", json={"ip": ip, "fault": "slow", "params": {"delay_s": 2}})).json()
            assert row["faults"] == {"slow": {"delay_s": 2.0}}
            written = {r["ip"]: r for r in json.loads(path.read_text())["miners"]}
            assert written[ip]["faults"] == row["faults"]  # the file follows the faults
            bad = await client.post("/faults", json={"ip": ip, "fault": "nosuchfault"})
            assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
            assert (await client.delete(f"/faults/{ip}")).json()["faults"] == {}
            drawn = (await client.post("/faults", json={"rate": 0.25})).json()
            assert len(drawn) == 4
            inventory = (await client.get("/inventory")).json()
            assert sum(1 for r in inventory if r["faults"]) == 4
    finally:
        await control.stop()


def _refused(ip: str, port: int) -> bool:
    try:
        socket.create_connection((ip, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.slow
async def test_two_thousand_miners_start_and_stop_clean():
    farm = Farm(miners=2000, mix={"antminer": 1}, base=free_base(), seed=1, web_port=8080)
    await farm.start()
    ips = list(farm.miners)
    sample = [ips[0], ips[999], ips[-1]]
    try:
        for ip in sample:
            socket.create_connection((ip, 4028), timeout=2).close()
    finally:
        await farm.stop()
    assert all(_refused(ip, port) for ip in sample for port in (4028, 8080))


async def test_web_port_falls_back_when_80_is_taken():
    base = free_base()
    squatter = socket.socket()
    try:  # taken (as root) or forbidden (without root): either way the farm must fall back
        squatter.bind((base, 80))
        squatter.listen()
    except PermissionError:
        pass
    try:
        async with Farm(miners=2, mix={"antminer": 1}, base=base, web_port=80, web_port_fallback=8081) as farm:
            assert farm.web_port == 8081 and "8081" in farm.web_note
            assert farm.inventory()[0]["ports"]["web"] == 8081
    finally:
        squatter.close()


async def test_subprocess_farm_prints_where_it_listens_and_stops_clean(tmp_path):
    base = free_base()
    inventory = tmp_path / "inv.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simfarm", "--miners", "3", "--base", base, "--seed", "5",
        "--web-port", "8080", "--inventory", str(inventory), stdout=asyncio.subprocess.PIPE)
    lines = []
    try:
        while not lines or "inventory" not in lines[-1]:
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 20)).decode())
        assert f"3 miners on {base}" in lines[0]
        rows = json.loads(inventory.read_text())["miners"]
        socket.create_connection((rows[0]["ip"], 4028), timeout=2).close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert _refused(base, 4028)
