"""LuxOS emulation over real sockets, polled by the luxos driver: each checks the other."""

from __future__ import annotations

import pytest

from collectors.asic import antminer, luxos
from collectors.poll import Poller
from collectors.transport import rpc
from simfarm.asic.luxos import LuxOS
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base


@pytest.fixture
async def farm():
    async with Farm(miners=5, base=free_base(), seed=5, makes={"luxos": LuxOS}) as running:
        yield running


async def test_the_driver_reads_the_emulation_as_the_inventory_says(farm):
    async with Poller() as poller:
        for row in farm.inventory():
            snap, _ = await poller.poll(row["ip"], luxos.DRIVER)
            state = farm.miners[row["ip"]].state
            assert snap.reachable, snap.error
            assert (snap.make, snap.model, snap.firmware) == (row["make"], row["model"], row["firmware"])
            assert (snap.firmware_version, snap.mac, snap.hostname) == (
                row["firmware_version"], row["mac"], row["hostname"])
            assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.02)
            assert snap.hashrate_nominal_hs == pytest.approx(row["hashrate_nominal_hs"])
            assert [b.chips_expected for b in snap.boards] == row["chips_expected"]
            assert [b.hashrate_hs for b in snap.boards] == pytest.approx(
                [b.hashrate_hs for b in state.boards], rel=0.02)
            assert [f.rpm for f in snap.fans] == pytest.approx(state.fans_rpm, rel=0.02)
            assert len(snap.pools) == row["pools"] and snap.pools[0].active
            assert snap.power_w == pytest.approx(row["power_w"], abs=1)


async def test_its_version_is_claimed_by_the_luxos_signature_not_the_stock_one(farm):
    row = farm.inventory()[0]
    replies = {"version": await rpc.command(row["ip"], 4028, "version"), "devdetails": None}
    assert luxos.rpc_signature(replies) and not antminer.rpc_signature(replies)


async def test_pyasics_configuration_multi_command_is_answered(farm):
    # pyasic's LuxOS backend sends this on every poll and fails without each part
    row = farm.inventory()[0]
    reply = await rpc.command(row["ip"], 4028, "tempctrl+fans+pools+groups+config+profiles")
    parts = {name: reply[name][0] for name in ("tempctrl", "fans", "pools", "groups", "config", "profiles")}
    assert not any(rpc.is_error(part) for part in parts.values())
    groups = {group["GROUP"] for group in parts["groups"]["GROUPS"]}
    assert {pool["GROUP"] for pool in parts["pools"]["POOLS"]} <= groups
    profiles = [profile["Profile Name"] for profile in parts["profiles"]["PROFILES"]]
    assert parts["config"]["CONFIG"][0]["Profile"] in profiles
    assert parts["fans"]["FANCTRL"][0]["MinFans"] == len(parts["fans"]["FANS"]) == row["fans"]
