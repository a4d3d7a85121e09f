"""Braiins OS emulation over real sockets, polled by the braiins driver: each checks the other."""

from __future__ import annotations

import httpx
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


# What asic-rs asks BOS's GraphQL for (its Braiins backends); each answer must hold exactly these fields.
SYSTEM = """{ bos { hostname faultLight info { version { full } } uptime { durationS } }
  bosminer { info { workSolver { realHashrate { mhs5S } nominalMhs } fans { name speed rpm }
  summary { power { limitW approxConsumptionW } } } } }"""
POOLS = """{ bosminer { config { ... on BosminerConfig { groups { id strategy { ... on QuotaStrategy { quota } } } } }
  info { poolGroups { name pools { url user status active shares { acceptedSolutions rejectedSolutions } } } } } }"""
LOGIN = """mutation ($username: String!, $password: String!) {
  auth { login(username: $username, password: $password) { ... on VoidResult { void } } } }"""


async def test_the_web_ui_says_braiins_os_and_graphql_answers_what_is_selected(farm):
    for row in farm.inventory():
        state, base = farm.miners[row["ip"]].state, f"http://{row['ip']}:{row['ports']['web']}"
        async with httpx.AsyncClient(base_url=base) as web:
            assert "Braiins OS" in (await web.get("/")).text
            model = (await web.post("/graphql", json={"query": "{ bosminer { info { modelName } } }"})).json()
            assert model == {"data": {"bosminer": {"info": {"modelName": row["model"]}}}}
            system = (await web.post("/graphql", json={"query": SYSTEM})).json()["data"]
            assert set(system) == {"bos", "bosminer"} and set(system["bos"]["info"]["version"]) == {"full"}
            assert system["bos"]["info"]["version"]["full"].endswith("-25.05.1-plus")
            mhs = system["bosminer"]["info"]["workSolver"]["realHashrate"]["mhs5S"]
            assert mhs * 1e6 == pytest.approx(state.hashrate_hs, rel=0.02)
            pools = (await web.post("/graphql", json={"query": POOLS})).json()["data"]["bosminer"]
            assert pools["config"]["groups"] == [{"id": "0", "strategy": {"quota": 1}}]
            assert len(pools["info"]["poolGroups"][0]["pools"]) == row["pools"]
            unknown = (await web.post("/graphql", json={"query": "{ bos { nonsense } }"})).json()
            assert unknown["data"] is None and unknown["errors"]


async def test_graphql_and_luci_logins_set_the_session_cookie(farm):
    row = farm.inventory()[0]
    async with httpx.AsyncClient(base_url=f"http://{row['ip']}:{row['ports']['web']}") as web:
        lan = "/cgi-bin/luci/admin/network/iface_status/lan"
        assert (await web.get(lan)).status_code == 403
        login = await web.post("/graphql", json={"query": LOGIN, "variables": {"username": "root", "password": ""}})
        assert login.json() == {"data": {"auth": {"login": {"void": None}}}} and "session_id" in login.cookies
        web.cookies.clear()
        form = await web.post("/cgi-bin/luci", data={"luci_username": "root", "luci_password": ""})
        assert "session_id" in form.cookies
        assert (await web.get(lan)).json() == [{"macaddr": farm.miners[row["ip"]].state.mac.lower()}]


async def test_devdetails_names_the_hashchain_managers(farm):
    for row in farm.inventory():
        details = await rpc.command(row["ip"], 4028, "devdetails")
        names = [d["Name"] for d in details["DEVDETAILS"]]
        assert names == [f"HashchainManager {d['ID']}" for d in details["DEVDETAILS"]]
