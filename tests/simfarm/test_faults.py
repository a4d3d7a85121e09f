"""Each fault behaves as named, seen over sockets."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from simfarm.faults import ATTACKS, FAULTS
from simfarm.farm import Farm
from tests.simfarm.conftest import exchange, free_base


async def new_stats(rpc, ip: str) -> dict:
    return (await rpc(ip, "stats", parameter={"new_api": True}))["STATS"][0]


async def test_offline_means_no_listener(farm, pick):
    ip = pick(farm)["ip"]
    await farm.inject(ip, "offline")
    with pytest.raises(ConnectionRefusedError):
        await exchange(ip, 4028, b'{"command":"version"}')
    with pytest.raises(ConnectionRefusedError):
        await exchange(ip, 8080, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await farm.clear(ip)
    assert (await exchange(ip, 4028, b'{"command":"version"}')).endswith(b"\0")


async def test_offline_from_the_start():
    farm = Farm(miners=3, mix={"antminer": 1}, base=free_base(), web_port=8080)
    ip = list(farm.miners)[1]
    await farm.inject(ip, "offline")
    async with farm:
        with pytest.raises(ConnectionRefusedError):
            await exchange(ip, 4028, b'{"command":"version"}')
        assert farm.inventory()[1]["faults"] == {"offline": {}}


async def test_refuses_resets_the_connection(farm, pick):
    ip = pick(farm)["ip"]
    await farm.inject(ip, "refuses")
    with pytest.raises(ConnectionResetError):
        await exchange(ip, 4028, b'{"command":"version"}')


async def test_hangs_accepts_and_never_answers(farm, pick):
    ip = pick(farm)["ip"]
    await farm.inject(ip, "hangs")
    with pytest.raises(TimeoutError):
        await exchange(ip, 4028, b'{"command":"version"}', timeout=0.5)


async def test_garbage(farm, pick):
    ip = pick(farm)["ip"]
    await farm.inject(ip, "garbage", size=100)
    raw = await exchange(ip, 4028, b'{"command":"version"}')
    assert len(raw) == 100
    with pytest.raises(ValueError):
        json.loads(raw.rstrip(b"\0"))


async def test_truncated(farm, pick):
    ip = pick(farm, new_api=True)["ip"]
    whole = await exchange(ip, 4028, b'{"command":"version"}')
    await farm.inject(ip, "truncated")
    cut = await exchange(ip, 4028, b'{"command":"version"}')
    assert len(cut) == len(whole) // 2 and whole.startswith(cut) and not cut.endswith(b"\0")


async def test_slow(farm, pick):
    row = pick(farm, new_api=True)
    await farm.inject(row["ip"], "slow", delay_s=0.5)
    started = time.monotonic()
    assert (await exchange(row["ip"], 4028, b'{"command":"version"}')).endswith(b"\0")
    assert time.monotonic() - started >= 0.5
    async with httpx.AsyncClient(timeout=5) as client:  # every port of the device is slow
        started = time.monotonic()
        await client.get(f"http://{row['ip']}:{row['ports']['web']}/")
        assert time.monotonic() - started >= 0.5


async def test_dead_board_and_missing_chips(farm, rpc, pick):
    row = pick(farm, new_api=True)
    await farm.inject(row["ip"], "dead_board", board=1)
    await farm.inject(row["ip"], "missing_chips", board=2, missing=7)
    chains = (await new_stats(rpc, row["ip"]))["chain"]
    assert chains[1]["asic_num"] == 0 and chains[1]["rate_real"] == 0
    assert chains[2]["asic_num"] == row["chips_expected"][2] - 7
    assert chains[0]["asic_num"] == row["chips_expected"][0]
    legacy = (await rpc(row["ip"], "stats"))["STATS"][1]
    assert legacy["chain_acn2"] == 0 and legacy["chain_acs3"].count("x") == 7


async def test_fan_stopped_and_overheating(farm, rpc, pick):
    row = pick(farm, new_api=True)
    before = await new_stats(rpc, row["ip"])
    await farm.inject(row["ip"], "fan_stopped", fan=2)
    after = await new_stats(rpc, row["ip"])
    assert after["fan"][2] == 0 and all(rpm > 0 for i, rpm in enumerate(after["fan"]) if i != 2)
    assert max(after["chain"][0]["temp_pcb"]) > max(before["chain"][0]["temp_pcb"])  # less air, hotter
    await farm.inject(row["ip"], "overheating")
    hot = await new_stats(rpc, row["ip"])
    assert all(max(c["temp_chip"]) > 95 for c in hot["chain"])
    status = (await rpc(row["ip"], "summary", parameter={"new_api": True}))["SUMMARY"][0]["status"]
    assert {s["type"] for s in status if s["status"] == "e"} == {"fans", "temp"}


async def test_pool_down(farm, clock, rpc, pick):
    ip = pick(farm)["ip"]
    await farm.inject(ip, "pool_down")
    first = (await rpc(ip, "pools"))["POOLS"]
    assert {p["Status"] for p in first} == {"Dead"}
    clock.advance(0.3)
    second = (await rpc(ip, "pools"))["POOLS"]
    assert [p["Accepted"] for p in first] == [p["Accepted"] for p in second]  # no shares


async def test_reject_storm(farm, clock, rpc, pick):
    ip = pick(farm)["ip"]
    before = (await rpc(ip, "summary"))["SUMMARY"][0]["Rejected"]
    await farm.inject(ip, "reject_storm", per_s=100)
    clock.advance(0.3)
    after = (await rpc(ip, "summary"))["SUMMARY"][0]["Rejected"]
    assert after - before >= 20


async def test_reboot_resets_uptime_and_counters(farm, rpc, pick):
    ip = pick(farm)["ip"]
    before = (await rpc(ip, "summary"))["SUMMARY"][0]
    await farm.inject(ip, "reboot")
    after = (await rpc(ip, "summary"))["SUMMARY"][0]
    assert before["Elapsed"] > 3600 and after["Elapsed"] <= 2
    assert after["Accepted"] < before["Accepted"] and after["Accepted"] <= 1


def test_fault_rate_is_deterministic_and_recorded():
    base = free_base()
    rows = Farm(miners=40, mix={"antminer": 1}, base=base, seed=3, fault_rate=0.25).inventory()
    faulty = {row["ip"]: row["faults"] for row in rows if row["faults"]}
    assert len(faulty) == 10 and all(len(f) == 1 and set(f) <= set(FAULTS) for f in faulty.values())
    again = Farm(miners=40, mix={"antminer": 1}, base=base, seed=3, fault_rate=0.25).inventory()
    assert faulty == {row["ip"]: row["faults"] for row in again if row["faults"]}


async def test_bad_faults_are_refused(farm, pick):
    ip = pick(farm)["ip"]
    with pytest.raises(ValueError, match="unknown fault"):
        await farm.inject(ip, "meltdown")
    with pytest.raises(ValueError, match="board 9"):
        await farm.inject(ip, "dead_board", board=9)
    with pytest.raises(ValueError, match="no parameter"):
        await farm.inject(ip, "slow", seconds=1)
    with pytest.raises(ValueError, match="no emulated miner"):
        await farm.inject("127.0.0.2", "slow")


async def test_hostile_attacks_the_real_reply(farm, pick):
    """Each attack rewrites the device's own reply, on every port, as its name says."""
    row = pick(farm, new_api=False)
    ip = row["ip"]
    stats = b'{"command":"stats"}'
    honest = (await exchange(ip, 4028, stats)).rstrip(b"\0")

    async def attacked(attack: str, port: int = 4028, request: bytes = stats) -> bytes:
        await farm.inject(ip, "hostile", attack=attack)
        return (await exchange(ip, port, request)).rstrip(b"\0")

    huge = await attacked("huge_int")
    assert b'"fan_num":1' + b"0" * 400 + b"," in huge and b'"Type":"Antminer' in huge
    assert b'"fan_num":1e305' in await attacked("inf")
    counted = await attacked("huge_count")
    assert b'"fan_num":1e11' in counted and counted.replace(b'"fan_num":1e11', b"") != honest
    glued = await attacked("repairs")
    assert glued.count(b"}{") >= 2100 and b'"Type":"Antminer' in glued and len(glued) < 1 << 20
    assert b"[" * 100_000 in await attacked("deep")
    assert len(await attacked("huge_reply")) > 2 << 20
    long = await attacked("huge_string")
    assert len(long) > 500_000 and b'"Type":"M1VVVV' in long
    # the web UI's replies too, as the HTTP framing carries them
    page = await attacked("huge_reply", row["ports"]["web"], b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert len(page) > 2 << 20 and page.startswith(b"HTTP/1.1 401")


async def test_bad_attacks_are_refused(farm, pick):
    with pytest.raises(ValueError, match="unknown attack 'nuke'; known: huge_int, inf"):
        await farm.inject(pick(farm)["ip"], "hostile", attack="nuke")


def test_hostile_rate_is_deterministic_shows_every_attack_and_changes_nothing_else():
    base = free_base()
    rows = Farm(miners=30, mix={"antminer": 1}, base=base, seed=3, hostile_rate=1 / 3).inventory()
    attacks = {row["ip"]: row["faults"]["hostile"]["attack"] for row in rows if row["faults"]}
    assert len(attacks) == 10 and set(attacks.values()) == set(ATTACKS)
    again = Farm(miners=30, mix={"antminer": 1}, base=base, seed=3, hostile_rate=1 / 3).inventory()
    assert attacks == {row["ip"]: row["faults"]["hostile"]["attack"] for row in again if row["faults"]}
    honest = Farm(miners=30, mix={"antminer": 1}, base=base, seed=3).inventory()
    assert [{**row, "faults": {}} for row in rows] == honest  # the same farm, but for the attacks
