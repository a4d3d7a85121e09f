"""CPU/GPU rigs in the farm, over real sockets: every program of every rig answers on its port with
strict JSON whose hashrate agrees with the inventory; TeamRedMiner through the cgminer-style RPC
server; the rig faults (API down, GPU lost, GPU hot, hashrate zero) in-process and through the
control API; the same seed gives the same rigs; stop leaves no listener.

The readers below follow each program's documented layout and units (simfarm/rigs/README.md),
written apart from the builders, and return H/s (Sol/s for Equihash) keyed by full PCI bus id."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from simfarm.control import ControlApi
from simfarm.farm import Farm, FarmError
from simfarm.rigs import MINER_PROGRAMS
from simfarm.rigs.rig import PROFILES
from tests.simfarm.conftest import exchange, free_base

WANDER = 0.02  # a device's hashrate wanders ±2 % around its nominal


def strict_loads(body: bytes) -> Any:
    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(body.decode(), parse_constant=reject)


def bus(number: int, device: int = 0) -> str:
    return f"0000:{number:02x}:{device:02x}.0"


Fetch = Callable[[str], Awaitable[Any]]  # endpoint (HTTP path or RPC command) -> parsed reply
# (total, {GPU key: hashrate}) in the inventory's unit; the key is the bus id, or the GPU index for
# TeamRedMiner, whose replies carry no PCI address.
Reading = tuple[float, dict[str | int, float]]


async def read_xmrig(fetch: Fetch) -> Reading:
    summary, backends = await fetch("/2/summary"), await fetch("/2/backends")
    cuda = [b for b in backends if b["type"] == "cuda"]
    return summary["hashrate"]["total"][0], {"0000:" + t["bus_id"]: t["hashrate"][0]
                                             for b in cuda for t in b["threads"]}


async def read_trex(fetch: Fetch) -> Reading:
    s = await fetch("/summary")
    return s["hashrate"], {f"{g['pci_domain']:04x}:{g['pci_bus']:02x}:{g['pci_id']:02x}.0": g["hashrate"]
                           for g in s["gpus"]}


def lol_bus(address: str) -> str:
    number, device = address.split(":")  # "bus:dev", decimal
    return bus(int(number), int(device))


async def read_lolminer(fetch: Fetch) -> Reading:
    root = await fetch("/")
    algo = root["Algorithms"][0]
    factor = algo["Performance_Factor"]  # Performance_Unit -> H/s
    return algo["Total_Performance"] * factor, {lol_bus(w["PCIE_Address"]): algo["Worker_Performance"][i] * factor
                                                for i, w in enumerate(root["Workers"])}


async def read_lolminer_legacy(fetch: Fetch) -> Reading:
    s = await fetch("/summary")
    assert s["Session"]["Performance_Unit"] == "mh/s"
    return s["Session"]["Performance_Summary"] * 1e6, {lol_bus(g["PCIE_Address"]): g["Performance"] * 1e6
                                                       for g in s["GPUs"]}


async def read_teamredminer(fetch: Fetch) -> Reading:
    summary, devs = await fetch("summary"), await fetch("devs")
    return summary["SUMMARY"][0]["KHS 30s"] * 1e3, {d["GPU"]: d["KHS 30s"] * 1e3 for d in devs["DEVS"]}


async def read_gminer(fetch: Fetch) -> Reading:
    s = await fetch("/stat")
    assert s["speed_unit"] in ("H/s", "Sol/s")
    gpus = {d["bus_id"]: d["speed"] for d in s["devices"]}
    return sum(gpus.values()), gpus


async def read_nbminer(fetch: Fetch) -> Reading:
    s = await fetch("/api/v1/status")
    return s["miner"]["total_hashrate_raw"], {bus(d["pci_bus_id"]): d["hashrate_raw"] for d in s["miner"]["devices"]}


async def read_srbminer_multi(fetch: Fetch) -> Reading:
    s = await fetch("/")
    buses = {d["id"]: bus(d["bus_id"]) for d in s["gpu_devices"]}
    gpus: dict[str | int, float] = {}
    for algo in s["algorithms"]:
        for key, value in algo["hashrate"]["gpu"].items():
            if key != "total":
                gpus[buses[int(key.removeprefix("gpu"))]] = value
    return sum(a["hashrate"]["now"] for a in s["algorithms"]), gpus


async def read_nanominer(fetch: Fetch) -> Reading:
    s = await fetch("/stats")
    (algo,) = s["Algorithms"][0].values()
    buses = {name: "0000:" + device["Pci"] for entry in s["Devices"] for name, device in entry.items()}
    # Hashrates are "%e" strings in H/s.
    return float(algo["Total"]["Hashrate"]), {buses[name]: float(v["Hashrate"]) for name, v in algo.items()
                                              if name.startswith("GPU ")}


async def read_rigel(fetch: Fetch) -> Reading:
    s = await fetch("/")
    algo = s["algorithm"]
    return s["hashrate"][algo], {d["pci_address"]: d["hashrate"][algo] for d in s["devices"]}


async def read_bzminer(fetch: Fetch) -> Reading:
    s = await fetch("/status")
    gpus = {bus(d["pci_bus_id"]): d["hashrate"][0] for d in s["devices"] if d["vendor"] == 1}  # 1: NVIDIA
    return sum(gpus.values()), gpus


async def read_onezerominer(fetch: Fetch) -> Reading:
    s = await fetch("/")
    algo = s["algos"][0]
    return algo["total_hashrate"], {bus(d["bus_id"]): algo["hashrates"][i] for i, d in enumerate(s["devices"])}


# program -> (reader, what its rounding may lose per value, in its own unit back in H/s)
READERS: dict[str, tuple[Callable[[Fetch], Awaitable[Reading]], float]] = {
    "xmrig": (read_xmrig, 0.005), "trex": (read_trex, 0.5), "lolminer": (read_lolminer, 0.005e6),
    "lolminer_legacy": (read_lolminer_legacy, 0.005e6), "teamredminer": (read_teamredminer, 0.0005e3),
    "gminer": (read_gminer, 0.05), "nbminer": (read_nbminer, 0.005), "srbminer_multi": (read_srbminer_multi, 0.0),
    "nanominer": (read_nanominer, 0.0), "rigel": (read_rigel, 0.005), "bzminer": (read_bzminer, 0.005),
    "onezerominer": (read_onezerominer, 0.005),
}


async def rpc_call(ip: str, port: int, request: bytes) -> Any:
    raw = await exchange(ip, port, request)
    assert raw.endswith(b"\0"), raw[-40:]  # sgminer ends a reply with a NUL, as cgminer does
    return strict_loads(raw[:-1])


def fetcher(client: httpx.AsyncClient, ip: str, program: dict[str, Any]) -> Fetch:
    async def fetch(endpoint: str) -> Any:
        if program["protocol"] == "rpc":
            return await rpc_call(ip, program["port"], json.dumps({"command": endpoint}).encode())
        reply = await client.get(f"http://{ip}:{program['port']}{endpoint}")
        assert reply.status_code == 200, (program["name"], endpoint, reply.status_code)
        return strict_loads(reply.content)
    return fetch


async def read(client: httpx.AsyncClient, ip: str, program: dict[str, Any]) -> Reading:
    return await READERS[program["name"]][0](fetcher(client, ip, program))


def rig_row(farm: Farm, program: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first rig running ``program``, and that program's row."""
    for row in farm.rig_inventory():
        for entry in row["programs"]:
            if entry["name"] == program:
                return row, entry
    raise LookupError(program)


def refused(ip: str, port: int) -> bool:
    try:
        socket.create_connection((ip, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
async def rig_farm():
    """Two ASICs and one rig of each profile, so every program runs; the rigs on a /24 of their own."""
    async with Farm(miners=2, base=free_base(), rigs=len(PROFILES), rig_base=free_base(), seed=11,
                    web_port=8080) as running:
        yield running


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def test_every_program_has_a_reader():
    assert set(READERS) == set(MINER_PROGRAMS)


async def test_every_program_of_every_rig_agrees_with_the_inventory(rig_farm, client, tmp_path):
    rows = rig_farm.rig_inventory()
    assert {p["name"] for row in rows for p in row["programs"]} == set(READERS)
    for row in rows:
        nominal = {g["bus_id"]: g["hashrate_nominal_hs"] for g in row["gpus"]}
        for program in row["programs"]:
            total, gpus = await read(client, row["ip"], program)
            rounding = READERS[program["name"]][1] * (len(program["gpus"]) + 2)
            expected = program["hashrate_nominal_hs"]
            assert abs(total - expected) <= WANDER * expected + rounding, (row["ip"], program["name"], total, expected)
            keys = list(range(len(program["gpus"]))) if program["name"] == "teamredminer" else program["gpus"]
            assert sorted(gpus, key=str) == sorted(keys, key=str), (row["ip"], program["name"])
            for key, bus_id in zip(keys, program["gpus"]):
                assert abs(gpus[key] - nominal[bus_id]) <= WANDER * nominal[bus_id] + rounding, (program["name"], key)

    path = tmp_path / "inventory.json"
    rig_farm.write_inventory(path)
    document = json.loads(path.read_text())
    assert document["rigs"] == rows and document["rig_base"] == rig_farm.rig_base
    assert [r["ip"] for r in document["miners"]] == list(rig_farm.miners)  # the ASICs' rows as before
    assert not set(rig_farm.rigs) & set(rig_farm.miners)


async def test_teamredminer_answers_over_the_rpc_server(rig_farm):
    row, program = rig_row(rig_farm, "teamredminer")
    ip, port = row["ip"], program["port"]
    summary = await rpc_call(ip, port, b'{"command":"summary"}')
    status = summary["STATUS"][0]
    assert (status["STATUS"], status["Code"], status["Description"]) == ("S", 11, "TeamRedMiner 0.10.21")
    assert summary["SUMMARY"][0]["Elapsed"] > 0
    devs = await rpc_call(ip, port, b'{"command":"devs"}\n')
    assert [d["GPU"] for d in devs["DEVS"]] == list(range(len(row["gpus"])))
    # sgminer's refusals, signed by TRM; no multi-commands: "a+b" is one unknown command.
    for request, code in ((b'{"command":"restart"}', 14), (b'{"command":"summary+devs"}', 14), (b"{nope}", 23)):
        status = (await rpc_call(ip, port, request))["STATUS"][0]
        assert (status["STATUS"], status["Code"], status["Description"]) == ("E", code, "TeamRedMiner 0.10.21")


async def test_api_down_closes_the_port_and_clearing_it_reopens(rig_farm, client):
    row = rig_farm.rig_inventory()[0]  # profile 0: T-Rex on the GPUs and XMRig on the CPU
    trex, xmrig = row["programs"]
    ip = row["ip"]
    await rig_farm.inject(ip, "api_down", program="trex")
    assert rig_farm.row(ip)["faults"] == {"api_down": {"program": "trex"}}
    assert refused(ip, trex["port"])
    assert (await read(client, ip, xmrig))[0] > 0  # the other program still answers
    await rig_farm.clear(ip, "api_down")
    assert rig_farm.row(ip)["faults"] == {}
    summary = await fetcher(client, ip, trex)("/summary")
    assert summary["uptime"] <= 5  # a new session
    # With no program named the rig's first one goes down; TeamRedMiner's RPC port goes the same way.
    trm, program = rig_row(rig_farm, "teamredminer")
    await rig_farm.inject(trm["ip"], "api_down")
    assert refused(trm["ip"], program["port"])
    await rig_farm.clear(trm["ip"])
    assert (await read(client, trm["ip"], program))[0] > 0


async def test_gpu_lost_drops_its_bus_id_from_the_reply(rig_farm, client):
    for name in ("trex", "teamredminer"):
        row, program = rig_row(rig_farm, name)
        lost = program["gpus"][1]
        await rig_farm.inject(row["ip"], "gpu_lost", bus_id=lost)
        assert rig_farm.row(row["ip"])["faults"] == {"gpu_lost": {"bus_id": lost}}
        _, gpus = await read(client, row["ip"], program)
        assert len(gpus) == len(program["gpus"]) - 1
        if name == "trex":
            assert lost not in gpus
        await rig_farm.clear(row["ip"], "gpu_lost")
        _, gpus = await read(client, row["ip"], program)
        assert len(gpus) == len(program["gpus"])


async def test_rig_faults_through_the_control_api(rig_farm, client, tmp_path):
    path = tmp_path / "inventory.json"
    rig_farm.write_inventory(path)
    row, trex = rig_row(rig_farm, "trex")
    ip, hot = row["ip"], trex["gpus"][0]
    control = ControlApi(rig_farm)
    await control.start()
    try:
        async with httpx.AsyncClient(base_url=control.url, timeout=5) as api:
            answer = (await api.post("/faults", json={"ip": ip, "fault": "gpu_hot", "params": {"bus_id": hot}})).json()
            assert answer["faults"] == {"gpu_hot": {"bus_id": hot}}
            gpus = {g["pci_bus"]: g for g in (await fetcher(client, ip, trex)("/summary"))["gpus"]}
            assert gpus[int(hot.split(":")[1], 16)]["fan_speed"] == 100
            assert (await api.post("/faults", json={"ip": ip, "fault": "hashrate_zero"})).json()["faults"] == {
                "gpu_hot": {"bus_id": hot}, "hashrate_zero": {}}
            total, gpus = await read(client, ip, trex)
            assert total == 0 and not any(gpus.values())
            written = {r["ip"]: r for r in json.loads(path.read_text())["rigs"]}
            assert written[ip]["faults"] == {"gpu_hot": {"bus_id": hot}, "hashrate_zero": {}}
            assert {r["ip"]: r for r in (await api.get("/rigs")).json()}[ip]["faults"] == written[ip]["faults"]
            for body in ({"ip": ip, "fault": "slow"}, {"ip": ip, "fault": "api_down", "params": {"program": "gminer"}},
                         {"ip": ip, "fault": "gpu_lost", "params": {"bus_id": "0000:ff:00.0"}},
                         {"ip": ip, "fault": "gpu_hot", "params": {"gpu": 0}}):
                bad = await api.post("/faults", json=body)
                assert bad.status_code == 400 and bad.json()["error"], body
            assert (await api.delete(f"/faults/{ip}")).json()["faults"] == {}
            assert (await read(client, ip, trex))[0] > 0
    finally:
        await control.stop()


def test_same_seed_same_rigs():
    base, rig_base = free_base(), free_base()
    first = Farm(miners=3, base=base, rigs=12, rig_base=rig_base, seed=5)
    assert first.rig_inventory() == Farm(miners=3, base=base, rigs=12, rig_base=rig_base, seed=5).rig_inventory()
    assert first.rig_inventory() != Farm(miners=3, base=base, rigs=12, rig_base=rig_base, seed=6).rig_inventory()
    # Rigs draw from seeds of their own: adding them leaves the ASICs as they were.
    assert first.inventory() == Farm(miners=3, base=base, seed=5).inventory()


def test_rig_addresses_stay_apart_from_the_asics():
    assert Farm(miners=2, base="127.77.0.1", rigs=2).rig_base == "127.78.0.1"
    assert list(Farm(miners=0, base="127.77.250.1", rigs=1).rigs) == ["127.78.0.1"]
    with pytest.raises(FarmError, match="share 127.77.0.2"):
        Farm(miners=4, base="127.77.0.1", rigs=2, rig_base="127.77.0.2")
    with pytest.raises(FarmError, match="--rig-base"):
        Farm(miners=0, rigs=3, rig_base="127.255.255.253")


async def test_stop_leaves_no_listener():
    farm = Farm(miners=2, base=free_base(), rigs=len(PROFILES), rig_base=free_base(), seed=2, web_port=8080)
    await farm.start()
    ports = [(row["ip"], p["port"]) for row in farm.rig_inventory() for p in row["programs"]]
    first = next(iter(farm.rigs))
    await farm.inject(first, "api_down")
    await farm.clear(first)  # a listener opened again after start must close too
    # A keep-alive HTTP client left idle must be cut too, not left hanging on a dead farm.
    reader, writer = await asyncio.open_connection(*ports[0])
    writer.write(b"GET /summary HTTP/1.1\r\nHost: rig\r\n\r\n")
    assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 200")
    try:
        await farm.stop()
        assert all(refused(ip, port) for ip, port in ports)
        try:
            await asyncio.wait_for(reader.read(), 2)  # the rest of the reply, then the end
        except ConnectionResetError:
            pass
    finally:
        writer.close()


async def test_subprocess_farm_with_rigs(tmp_path):
    base, rig_base = free_base(), free_base()
    inventory = tmp_path / "inv.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simfarm", "--miners", "1", "--rigs", "3", "--base", base, "--rig-base", rig_base,
        "--seed", "5", "--web-port", "8080", "--inventory", str(inventory), stdout=asyncio.subprocess.PIPE)
    lines: list[str] = []
    try:
        while not lines or "inventory" not in lines[-1]:
            lines.append((await asyncio.wait_for(proc.stdout.readline(), 20)).decode())
        assert any(f"3 rigs on {rig_base}" in line for line in lines)
        rigs = json.loads(inventory.read_text())["rigs"]
        ports = [(row["ip"], p["port"]) for row in rigs for p in row["programs"]]
        assert len(rigs) == 3 and ports
        for address in ports:
            socket.create_connection(address, timeout=2).close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert all(refused(ip, port) for ip, port in ports)
