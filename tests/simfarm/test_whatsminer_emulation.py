"""Whatsminer emulations over real sockets (btminer on 4028, API V3 on 4433), polled by our drivers."""

from __future__ import annotations

import pytest

from collectors.asic import whatsminer
from collectors.asic.models import lookup_model
from collectors.poll import Poller
from collectors.transport import btminer, rpc
from simfarm.asic.whatsminer import Whatsminer, WhatsminerV3
from simfarm.farm import Farm
from tests.simfarm.conftest import exchange, free_base


@pytest.fixture
async def farm():
    async with Farm(miners=8, base=free_base(), seed=11, makes={"whatsminer": Whatsminer}) as running:
        for miner in running.miners.values():
            miner.state.errors = [("2310", "fan speed error"), ("530", "slot 0 board not found")]
        yield running


@pytest.fixture
async def farm_v3():
    async with Farm(miners=3, base=free_base(), seed=2, makes={"whatsminer_v3": WhatsminerV3}) as running:
        yield running


def check(snap, row, state):
    assert snap.reachable, snap.error
    assert (snap.make, snap.model, snap.firmware) == (row["make"], row["model"], row["firmware"])
    assert snap.firmware_version == row["firmware_version"]  # unquoted, \' or not
    assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.02)
    assert snap.hashrate_nominal_hs == pytest.approx(row["hashrate_nominal_hs"], rel=1e-3)
    assert [b.chips for b in snap.boards] == [b.chips for b in state.boards]
    if lookup_model(row["model"]).chips_per_board:  # the farm invents a count the table lacks
        assert [b.chips_expected for b in snap.boards] == row["chips_expected"]
    assert [f.rpm for f in snap.fans] == pytest.approx(state.fans_rpm, rel=0.02)
    assert len(snap.pools) == row["pools"]
    assert snap.mac == row["mac"] and snap.power_w == pytest.approx(row["power_w"], abs=1)
    assert [e.code for e in snap.errors] == row["errors"]


async def test_btminer_is_read_by_our_driver(farm):
    quirky = 0
    async with Poller() as poller:
        for row in farm.inventory():
            snap, _ = await poller.poll(row["ip"], whatsminer.DRIVER)
            check(snap, row, farm.miners[row["ip"]].state)
            quirky += "firmware_version_backslash_quote" in row["quirks"]
    assert quirky, "the seed should give at least one M20S with the \\' firmware"


async def test_cgminer_commands_join_but_btminer_own_commands_do_not(farm):
    # pyasic reads every btminer with "summary+devs+pools" and sends get_* / status one by one
    row = farm.inventory()[0]
    joined = await rpc.command(row["ip"], 4028, "summary+devs+pools")
    assert {"summary", "devs", "pools"} <= set(joined)
    assert not rpc.is_error(joined["summary"][0]) and joined["devs"][0]["DEVS"]
    mixed = await rpc.command(row["ip"], 4028, "get_version+summary")
    assert rpc.is_error(mixed["get_version"][0]) and not rpc.is_error(mixed["summary"][0])


async def test_get_version_and_status_answer_objects_under_msg(farm):
    for row in farm.inventory():
        version = await rpc.command(row["ip"], 4028, "get_version")
        assert (version["STATUS"], version["Code"]) == ("S", 131)
        assert version["Msg"]["fw_ver"] == row["firmware_version"]
        assert version["Msg"]["api_ver"].startswith("whatsminer v")
        status = await rpc.command(row["ip"], 4028, "status")
        assert status["Msg"]["mineroff"] == "false"


async def test_hs_rt_from_the_2021_firmwares_on(farm):
    for row in farm.inventory():
        summary = await rpc.command(row["ip"], 4028, "summary")
        escaped = "firmware_version_backslash_quote" in row["quirks"]
        assert ("HS RT" in summary["SUMMARY"][0]) is not escaped


async def test_the_escaped_quote_is_really_on_the_wire(farm):
    row = next(r for r in farm.inventory() if r["quirks"])
    raw = await exchange(row["ip"], 4028, b'{"command":"summary"}')
    assert b"\"Firmware Version\":\"\\'" in raw


async def test_version_is_refused_the_whatsminer_way_and_claimed_by_its_signature(farm):
    row = farm.inventory()[0]
    version = await rpc.command(row["ip"], 4028, "version")
    assert rpc.is_error(version)
    assert whatsminer.rpc_signature({"version": version, "devdetails": None})
    devdetails = await rpc.command(row["ip"], 4028, "devdetails")
    assert whatsminer.rpc_signature({"version": {}, "devdetails": devdetails})


async def test_api_v3_on_4433(farm_v3):
    for row in farm_v3.inventory():
        ip = row["ip"]
        # the poller's own 4433 path is tested where it lives; here the replies go straight to the driver
        replies = {e.name: await btminer.command(ip, 4433, e.command, e.parameter)
                   for e in whatsminer.DRIVER_V3.endpoints}
        assert whatsminer.v3_signature(replies[whatsminer.DEVICE_INFO.name])
        snap = whatsminer.DRIVER_V3.parse(replies, ip)
        check(snap, row, farm_v3.miners[ip].state)
        assert snap.port == 4433 and snap.serial == row["serial"] and snap.hostname == row["hostname"]
