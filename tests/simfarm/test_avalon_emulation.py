"""AvalonMiner emulation over real sockets, polled by the avalon driver: each checks the other."""

from __future__ import annotations

import pytest

from collectors.asic import avalon
from collectors.poll import Poller
from collectors.transport import rpc
from simfarm.asic.avalon import Avalon
from simfarm.farm import Farm
from tests.simfarm.conftest import exchange, free_base


@pytest.fixture
async def farm():
    async with Farm(miners=4, base=free_base(), seed=4, makes={"avalon": Avalon}) as running:
        yield running


async def test_the_driver_reads_the_emulation_as_the_inventory_says(farm):
    async with Poller() as poller:
        for row in farm.inventory():
            snap, _ = await poller.poll(row["ip"], avalon.DRIVER)
            state = farm.miners[row["ip"]].state
            assert snap.reachable, snap.error
            assert (snap.make, snap.model) == (row["make"], row["model"])
            assert (snap.firmware_version, snap.mac) == (row["firmware_version"], row["mac"])
            assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.02)
            assert snap.hashrate_avg_hs == pytest.approx(state.hashrate_avg_hs, rel=0.02)
            assert [b.chips for b in snap.boards] == [b.chips for b in state.boards]
            assert [b.chips_expected for b in snap.boards] == row["chips_expected"]
            assert [b.hashrate_hs for b in snap.boards] == pytest.approx(
                [b.hashrate_hs for b in state.boards], rel=0.02)
            assert len(snap.fans) == row["fans"] and len(snap.pools) == row["pools"]
            assert snap.power_w == pytest.approx(row["power_w"], abs=1)
            assert avalon.rpc_signature({"version": await rpc.command(row["ip"], 4028, "version")})


async def test_a_restarted_miner_sends_a_bare_nan_that_the_poll_reads_as_absent(farm):
    row = farm.inventory()[0]
    await farm.inject(row["ip"], "reboot")
    raw = await exchange(row["ip"], 4028, b'{"command":"pools+summary+stats"}')
    assert b'"MHS av":nan' in raw
    async with Poller() as poller:
        snap, _ = await poller.poll(row["ip"], avalon.DRIVER)
    assert snap.reachable and snap.hashrate_avg_hs is None and snap.hashrate_hs is not None
    assert snap.uptime_s < 60


async def test_devs_carries_the_hashrate_and_estats_repeats_stats(farm):
    # both peers read the hashrate from devs' single ASC record; pyasic reads the boards from estats
    for row in farm.inventory():
        state = farm.miners[row["ip"]].state
        devs = await rpc.command(row["ip"], 4028, "devs")
        (asc,) = devs["DEVS"]
        assert asc["Name"] == "AVA10" and asc["MHS 1m"] * 1e6 == pytest.approx(state.hashrate_hs, rel=0.02)
        estats = await rpc.command(row["ip"], 4028, "estats")
        assert "GHSspd[" in estats["STATS"][0]["MM ID0"]
        assert estats["STATS"][0].keys() == (await rpc.command(row["ip"], 4028, "stats"))["STATS"][0].keys()
