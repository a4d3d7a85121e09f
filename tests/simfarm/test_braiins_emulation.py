"""Braiins OS emulation over real sockets, polled by the braiins driver: each checks the other."""

from __future__ import annotations

import pytest

from collectors.asic import braiins
from collectors.poll import Poller
from collectors.transport import rpc
from simfarm.asic.braiins import BraiinsOS
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base


@pytest.fixture
async def farm():
    async with Farm(miners=6, base=free_base(), seed=3, makes={"braiins": BraiinsOS}) as running:
        yield running


async def test_the_driver_reads_the_emulation_as_the_inventory_says(farm):
    async with Poller() as poller:
        for row in farm.inventory():
            snap, _ = await poller.poll(row["ip"], braiins.DRIVER)
            state = farm.miners[row["ip"]].state
            assert snap.reachable, snap.error
            assert (snap.make, snap.model, snap.firmware) == (row["make"], row["model"], row["firmware"])
            assert snap.firmware_version == row["firmware_version"]
            assert snap.hashrate_nominal_hs == pytest.approx(row["hashrate_nominal_hs"])
            assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.02)
            assert [b.chips_expected for b in snap.boards] == row["chips_expected"]
            assert [b.index for b in snap.boards] == list(range(row["boards"]))  # S9 slots 6-8 too
            assert [b.chips for b in snap.boards] == [b.chips for b in state.boards]
            assert len(snap.fans) == row["fans"] and len(snap.pools) == row["pools"]
            assert snap.power_w == pytest.approx(row["power_w"], abs=1)
            assert snap.power_limit_w == row["power_limit_w"]
            assert all(b.temp_chip_c > b.temp_board_c for b in snap.boards)


async def test_its_version_is_claimed_by_the_braiins_signature_only(farm):
    row = farm.inventory()[0]
    replies = {"version": await rpc.command(row["ip"], 4028, "version"), "devdetails": None}
    assert braiins.rpc_signature(replies)
    from collectors.asic import antminer, luxos, whatsminer
    assert not any(m.rpc_signature(replies) for m in (antminer, luxos, whatsminer))


async def test_a_dead_board_reads_dead(farm):
    row = farm.inventory()[0]
    await farm.inject(row["ip"], "dead_board", board=1)
    async with Poller() as poller:
        snap, _ = await poller.poll(row["ip"], braiins.DRIVER)
    assert snap.boards[1].chips == 0 and snap.boards[1].status == "dead"
