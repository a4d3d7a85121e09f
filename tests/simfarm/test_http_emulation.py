"""Our HTTP drivers poll each emulated web firmware over real sockets and find what it emulates."""

from __future__ import annotations

import pytest

from collectors.asic import auradine, bitmain_web, epic, espminer, goldshell, iceriver, innosilicon, vnish
from collectors.asic.models import lookup_model
from collectors.credentials import Credentials
from collectors.poll import Poller, PollSettings
from simfarm.asic.auradine import AuradineMiner
from simfarm.asic.elphapex import ElphapexMiner
from simfarm.asic.epic import EpicMiner
from simfarm.asic.espminer import EspMiner
from simfarm.asic.goldshell import GoldshellMiner
from simfarm.asic.iceriver import IceRiverMiner
from simfarm.asic.innosilicon import InnosiliconMiner
from simfarm.asic.vnish import VnishMiner
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base

CASES = {
    "epic": (EpicMiner, epic.DRIVER),
    "espminer": (EspMiner, espminer.DRIVER),
    "vnish": (VnishMiner, vnish.DRIVER),
    "goldshell": (GoldshellMiner, goldshell.DRIVER),
    "innosilicon": (InnosiliconMiner, innosilicon.DRIVER),
    "iceriver": (IceRiverMiner, iceriver.DRIVER),
    "auradine": (AuradineMiner, auradine.DRIVER),
    "elphapex": (ElphapexMiner, bitmain_web.ELPHAPEX),
}
# Bitmain-like CGI logins the credentials table does not ship yet.
DIGEST = {"elphapex": {"username": "root", "password": "root"}}


async def poll_all(name: str, credentials: Credentials):
    make, driver = CASES[name]
    async with Farm(miners=3, mix={name: 1.0}, makes={name: make}, base=free_base(), web_port=8080) as farm:
        settings = PollSettings(timeout_s=5.0, web_port=farm.web_port, credentials=credentials)
        async with Poller(settings) as poller:
            for row in farm.inventory():
                snapshot, _ = await poller.poll(row["ip"], driver)
                yield row, farm.miners[row["ip"]], snapshot


@pytest.mark.parametrize("name", sorted(CASES))
async def test_driver_reads_the_emulation(name):
    async for row, miner, snap in poll_all(name, Credentials(DIGEST)):
        assert snap.reachable, snap.error
        state = miner.state
        assert lookup_model(snap.model) is lookup_model(row["model"]) is not None, snap.model  # as the device names it
        assert snap.make == row["make"]
        assert len(snap.boards) == row["boards"]
        if lookup_model(row["model"]).chips_per_board:  # else the emulator made a count up
            assert [b.chips_expected for b in snap.boards] == row["chips_expected"]
        assert snap.hashrate_hs == pytest.approx(state.hashrate_hs, rel=0.02)
        assert sum(b.hashrate_hs or 0 for b in snap.boards) == pytest.approx(state.hashrate_hs, rel=0.02)
        if name != "innosilicon":  # its API gives fan duty (%), not RPM
            assert [f.rpm for f in snap.fans] == pytest.approx(state.fans_rpm, rel=0.05)  # fans drift live
        assert len(snap.pools) == (2 if name == "espminer" else row["pools"])
        assert snap.mac == row["mac"] or name == "goldshell"  # Goldshell's status has no MAC
        if name not in ("goldshell", "innosilicon"):
            assert snap.hostname == row["hostname"]
        if name in ("epic", "auradine", "innosilicon", "vnish"):
            assert snap.power_w == pytest.approx(row["power_w"], rel=0.01)
        if name in ("auradine", "vnish", "elphapex"):
            assert snap.serial == row["serial"]


@pytest.mark.parametrize("name", ["vnish", "goldshell", "innosilicon", "iceriver", "auradine", "elphapex"])
async def test_a_wrong_password_is_refused_as_the_firmware_refuses(name):
    driver = CASES[name][1]
    user = Credentials().for_driver(driver.name) or Credentials(DIGEST).for_driver(driver.name)
    wrong = Credentials({driver.name: {"username": user.username, "password": "not-the-password"}})
    async for row, _, snap in poll_all(name, wrong):
        assert not snap.reachable
        assert snap.error.endswith(f"refused the login for user {user.username}"), snap.error



async def test_a_password_limited_to_subnets_is_offered_only_there():
    # A VNish password kept to a /24 that is not the farm's: the farm's miners are offered the
    # factory login instead, and answer to it. Kept to the first miner's address, it is offered
    # to that miner only (which refuses it: it is not the emulation's password).
    farm_password = {"username": "admin", "password": "not-the-password"}
    async with Farm(miners=2, mix={"vnish": 1.0}, makes={"vnish": VnishMiner}, base=free_base(),
                    web_port=8080) as farm:
        first, second = list(farm.miners)
        for subnets, answering in ((["10.99.0.0/24"], {first, second}), ([first], {second})):
            credentials = Credentials({"vnish": farm_password | {"subnets": subnets}})
            settings = PollSettings(timeout_s=5.0, web_port=farm.web_port, credentials=credentials)
            async with Poller(settings) as poller:
                snaps = [(await poller.poll(ip, vnish.DRIVER))[0] for ip in (first, second)]
            assert {s.ip for s in snaps if s.reachable} == answering, [s.error for s in snaps]
