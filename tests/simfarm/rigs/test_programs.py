"""Every emulated mining program: its reply is strict JSON in the program's layout and units, and
says what the rig's state says (hashrates back to H/s within the program's rounding, PCI bus ids,
shares that only grow); the same seed gives the same bytes; the rig faults show in the replies.

Each program's reading below is written from its documented layout, independently of the builder,
the way a sentry would read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from simfarm.rigs import MINER_PROGRAMS
from simfarm.rigs.programs.base import MinerProgram
from simfarm.rigs.rig import PROFILES, CpuState, EmulatedRig, GpuState, RigState, generate_rig

T0 = 1_700_000_000.0
STARTED = T0 - 3600.0
BUS_IDS = ("0000:01:00.0", "0000:0a:00.0", "0000:2b:00.0")


def strict_loads(body: bytes) -> Any:
    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(body.decode(), parse_constant=reject)


def make_state(vendor: str, seed: int = 7) -> RigState:
    gpus = [GpuState(bus_id=bus, vendor=vendor, name=f"{vendor} card {i}", hashrate_nominal_hs=30e6 + i * 1.234567e6,
                     power_nominal_w=150.0, temp_nominal_c=60.0, mem_temp_nominal_c=80.0 if i else None,
                     fan_pct_nominal=60.0, fan_rpm_max=3000, core_clock_mhz=1500, mem_clock_mhz=7000,
                     shares_per_s=0.05) for i, bus in enumerate(BUS_IDS)]
    cpu = CpuState(model="AMD Ryzen 9 5950X 16-Core Processor", threads=32, hashrate_nominal_hs=18_123.45,
                   temp_nominal_c=65.0, shares_per_s=0.02)
    return RigState(hostname="rig-test", seed=seed, started_at=STARTED, gpus=gpus, cpu=cpu)


@dataclass
class Reading:
    """What one reply says, back in H/s: the sentry's view of the program."""

    total_hs: float
    gpus: dict[str | int, float]  # bus id (or GPU index where the program reports no bus) -> H/s
    accepted: int
    rejected: int
    cpu_hs: float | None = None


Fetch = Callable[[str], Any]  # endpoint -> parsed JSON


def read_xmrig(fetch: Fetch) -> Reading:
    summary, backends = fetch("/2/summary"), fetch("/2/backends")
    by_type = {b["type"]: b for b in backends}
    gpus = {"0000:" + t["bus_id"]: t["hashrate"][0] for t in by_type.get("cuda", {"threads": []})["threads"]}
    assert len(fetch("/1/summary")["hashrate"]["threads"]) == len(by_type["cpu"]["threads"])
    return Reading(summary["hashrate"]["total"][0], gpus, summary["connection"]["accepted"],
                   summary["connection"]["rejected"], cpu_hs=by_type["cpu"]["hashrate"][0])


def read_trex(fetch: Fetch) -> Reading:
    s = fetch("/summary")
    gpus = {f"{g['pci_domain']:04x}:{g['pci_bus']:02x}:{g['pci_id']:02x}.0": g["hashrate"] for g in s["gpus"]}
    assert sum(g["shares"]["accepted_count"] for g in s["gpus"]) == s["accepted_count"]
    return Reading(s["hashrate"], gpus, s["accepted_count"], s["rejected_count"])


def _lol_bus(address: str) -> str:
    bus, device = address.split(":")
    return f"0000:{int(bus):02x}:{int(device):02x}.0"


def read_lolminer(fetch: Fetch) -> Reading:
    root = fetch("/")
    algo = root["Algorithms"][0]
    factor = algo["Performance_Factor"]
    gpus = {_lol_bus(w["PCIE_Address"]): algo["Worker_Performance"][i] * factor for i, w in enumerate(root["Workers"])}
    return Reading(algo["Total_Performance"] * factor, gpus, algo["Total_Accepted"], algo["Total_Rejected"])


def read_lolminer_legacy(fetch: Fetch) -> Reading:
    s = fetch("/summary")
    session = s["Session"]
    assert session["Performance_Unit"] == "mh/s"
    gpus = {_lol_bus(g["PCIE_Address"]): g["Performance"] * 1e6 for g in s["GPUs"]}
    return Reading(session["Performance_Summary"] * 1e6, gpus, session["Accepted"],
                   session["Submitted"] - session["Accepted"])


def read_teamredminer(fetch: Fetch) -> Reading:
    summary, devs = fetch("summary"), fetch("devs")
    assert summary["STATUS"][0]["STATUS"] == "S" and summary["STATUS"][0]["Description"].startswith("TeamRedMiner")
    row = summary["SUMMARY"][0]
    return Reading(row["KHS 30s"] * 1e3, {d["GPU"]: d["KHS 30s"] * 1e3 for d in devs["DEVS"]},
                   row["Accepted"], row["Rejected"])


def read_gminer(fetch: Fetch) -> Reading:
    s = fetch("/stat")
    assert s["speed_unit"] in ("H/s", "Sol/s")
    gpus = {d["bus_id"]: d["speed"] for d in s["devices"]}
    return Reading(sum(gpus.values()), gpus, s["total_accepted_shares"], s["total_rejected_shares"])


def read_nbminer(fetch: Fetch) -> Reading:
    s = fetch("/api/v1/status")
    gpus = {f"0000:{d['pci_bus_id']:02x}:00.0": d["hashrate_raw"] for d in s["miner"]["devices"]}
    return Reading(s["miner"]["total_hashrate_raw"], gpus, s["stratum"]["accepted_shares"],
                   s["stratum"]["rejected_shares"])


def read_srbminer_multi(fetch: Fetch) -> Reading:
    s = fetch("/")
    buses = {d["id"]: f"0000:{d['bus_id']:02x}:00.0" for d in s["gpu_devices"]}
    gpus: dict[str | int, float] = {}
    total = cpu = 0.0
    for algo in s["algorithms"]:
        total += algo["hashrate"]["now"]
        cpu += algo["hashrate"]["cpu"]["total"]
        for key, value in algo["hashrate"]["gpu"].items():
            if key != "total":
                gpus[buses[int(key.removeprefix("gpu"))]] = value
    return Reading(total, gpus, sum(a["shares"]["accepted"] for a in s["algorithms"]),
                   sum(a["shares"]["rejected"] for a in s["algorithms"]), cpu_hs=cpu)


def read_nanominer(fetch: Fetch) -> Reading:
    s = fetch("/stats")
    (algo,) = s["Algorithms"][0].values()
    buses = {name: "0000:" + device["Pci"] for entry in s["Devices"] for name, device in entry.items()}
    gpus = {buses[name]: float(v["Hashrate"]) for name, v in algo.items() if name.startswith("GPU ")}
    total = algo["Total"]
    assert isinstance(total["Hashrate"], str) and "e+" in total["Hashrate"]
    return Reading(float(total["Hashrate"]), gpus, total["Accepted"], total["Denied"])


def read_rigel(fetch: Fetch) -> Reading:
    s = fetch("/")
    algo = s["algorithm"]
    gpus = {d["pci_address"]: d["hashrate"][algo] for d in s["devices"]}
    return Reading(s["hashrate"][algo], gpus, s["solution_stat"][algo]["accepted"], s["solution_stat"][algo]["rejected"])


def read_bzminer(fetch: Fetch) -> Reading:
    s = fetch("/status")
    gpus = {f"0000:{d['pci_bus_id']:02x}:00.0": d["hashrate"][0] for d in s["devices"] if d["vendor"] == 1}
    return Reading(sum(gpus.values()), gpus, s["pools"][0]["valid_solutions"], s["pools"][0]["rejected_solutions"])


def read_onezerominer(fetch: Fetch) -> Reading:
    s = fetch("/")
    algo = s["algos"][0]
    gpus = {f"0000:{d['bus_id']:02x}:00.0": algo["hashrates"][i] for i, d in enumerate(s["devices"])}
    return Reading(algo["total_hashrate"], gpus, algo["total_accepted_shares"], algo["total_rejected_shares"])


@dataclass
class Case:
    vendor: str
    cpu: bool
    read: Callable[[Fetch], Reading]
    abs_tol: float  # H/s the program's rounding may lose per value
    rel_tol: float = 0.0
    reports_bus: bool = True


CASES: dict[str, Case] = {
    "xmrig": Case("nvidia", True, read_xmrig, 0.005),
    "trex": Case("nvidia", False, read_trex, 0.5),
    "lolminer": Case("amd", False, read_lolminer, 0.005e6),
    "lolminer_legacy": Case("amd", False, read_lolminer_legacy, 0.005e6),
    "teamredminer": Case("amd", False, read_teamredminer, 0.0005e3, reports_bus=False),
    "gminer": Case("nvidia", False, read_gminer, 0.5),
    "nbminer": Case("nvidia", False, read_nbminer, 0.005),
    "srbminer_multi": Case("amd", True, read_srbminer_multi, 1e-6),
    "nanominer": Case("amd", False, read_nanominer, 0.0, rel_tol=5e-7),
    "rigel": Case("nvidia", False, read_rigel, 0.005),
    "bzminer": Case("nvidia", False, read_bzminer, 0.005),
    "onezerominer": Case("nvidia", False, read_onezerominer, 0.005),
}


# The one request that returns each program's per-GPU data.
MAIN_ENDPOINT = {"xmrig": "/2/backends", "trex": "/summary", "lolminer": "/", "lolminer_legacy": "/summary",
                 "teamredminer": "devs", "gminer": "/stat", "nbminer": "/api/v1/status", "srbminer_multi": "/",
                 "nanominer": "/stats", "rigel": "/", "bzminer": "/status", "onezerominer": "/"}


def build(name: str, seed: int = 7) -> tuple[RigState, MinerProgram]:
    case = CASES[name]
    state = make_state(case.vendor, seed)
    program = MINER_PROGRAMS[name](state, gpus=list(BUS_IDS), cpu=case.cpu)
    return state, program


def fetcher(program: MinerProgram, now: float) -> Fetch:
    def fetch(endpoint: str) -> Any:
        if program.protocol == "http":
            reply = program.http("GET", endpoint, {}, b"", now)
            assert reply is not None, f"{program.title} does not serve {endpoint}"
            status, headers, body = reply
            assert status == 200 and headers["Content-Type"] == "application/json"
        else:
            body = program.rpc(endpoint, None, {"command": endpoint}, now)
            assert body is not None, f"{program.title} does not answer {endpoint}"
        return strict_loads(body)
    return fetch


def close(actual: float, expected: float, case: Case) -> bool:
    return abs(actual - expected) <= case.abs_tol * 1.0001 + case.rel_tol * abs(expected)


def test_every_program_has_a_case() -> None:
    assert set(CASES) == set(MINER_PROGRAMS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reply_agrees_with_the_rig(name: str) -> None:
    case = CASES[name]
    state, program = build(name)
    previous: Reading | None = None
    for now in (T0, T0 + 600.0):
        reading = case.read(fetcher(program, now))
        gpus = program.gpus(now)
        cpu = program.cpu(now)
        hashrate, accepted, rejected = program.totals(now)

        tol_total = Case(case.vendor, case.cpu, case.read, case.abs_tol * (len(gpus) + 1), case.rel_tol)
        assert close(reading.total_hs, hashrate, tol_total), (reading.total_hs, hashrate)
        keys = [g.bus_id for g in gpus] if case.reports_bus else [g.index for g in gpus]
        assert sorted(reading.gpus, key=str) == sorted(keys, key=str)
        for key, g in zip(keys, gpus):
            assert close(reading.gpus[key], g.hashrate_hs, case), (key, reading.gpus[key], g.hashrate_hs)
        if case.cpu:
            assert cpu is not None and reading.cpu_hs is not None
            assert close(reading.cpu_hs, cpu.hashrate_hs, case)
        assert (reading.accepted, reading.rejected) == (accepted, rejected)

        if previous is not None:
            assert reading.accepted > previous.accepted
            assert reading.rejected >= previous.rejected
        previous = reading


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_renders_the_same_rig(name: str) -> None:
    now = T0 + 123.4
    renders = []
    for seed in (7, 7, 8):
        _, program = build(name, seed)
        renders.append(json.dumps(fetcher(program, now)(MAIN_ENDPOINT[name]), sort_keys=True))
    assert renders[0] == renders[1]
    assert renders[0] != renders[2]


@pytest.mark.parametrize("name", sorted(CASES))
def test_unknown_requests_are_left_to_the_server(name: str) -> None:
    _, program = build(name)
    if program.protocol == "http":
        assert program.http("GET", "/no/such/page", {}, b"", T0) is None
        assert program.rpc("summary", None, {}, T0) is None
    else:
        assert program.rpc("restart", None, {"command": "restart"}, T0) is None
        assert program.http("GET", "/", {}, b"", T0) is None


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_lost_gpu_disappears_from_the_reply(name: str) -> None:
    case = CASES[name]
    state, program = build(name)
    state.set_gpu_lost(BUS_IDS[1], True, T0)
    reading = case.read(fetcher(program, T0 + 60.0))
    assert len(reading.gpus) == 2
    if case.reports_bus:
        assert BUS_IDS[1] not in reading.gpus


def test_hashrate_zero_freezes_the_shares() -> None:
    state, program = build("trex")
    state.set_hashrate_zero(True, T0)
    before = read_trex(fetcher(program, T0))
    after = read_trex(fetcher(program, T0 + 900.0))
    assert after.total_hs == 0 and all(v == 0 for v in after.gpus.values())
    assert (after.accepted, after.rejected) == (before.accepted, before.rejected)
    state.set_hashrate_zero(False, T0 + 900.0)
    assert read_trex(fetcher(program, T0 + 1800.0)).accepted > after.accepted


def test_a_hot_gpu_runs_hot_and_slower() -> None:
    state, program = build("trex")
    cool = state.read_gpu(BUS_IDS[0], T0)
    state.set_gpu_hot(BUS_IDS[0], True, T0)
    hot = state.read_gpu(BUS_IDS[0], T0)
    assert hot.temp_c >= 88.0 and hot.fan_pct == 100.0 and hot.hashrate_hs < cool.hashrate_hs
    gpus = {g["pci_bus"]: g for g in fetcher(program, T0)("/summary")["gpus"]}
    assert gpus[1]["temperature"] >= 88 and gpus[1]["fan_speed"] == 100


def test_gauges_wander_but_stay_near_nominal() -> None:
    state = make_state("nvidia")
    values = [state.read_gpu(BUS_IDS[0], T0 + 7.0 * i) for i in range(200)]
    hashrates = {round(v.hashrate_hs) for v in values}
    assert len(hashrates) > 100
    assert all(abs(v.hashrate_hs / 30e6 - 1.0) <= 0.02 for v in values)
    assert all(58.0 <= v.temp_c <= 62.0 for v in values)


def test_api_down_and_a_restart_start_a_new_session() -> None:
    state = make_state("nvidia")
    rig = EmulatedRig("127.0.2.1", state, [MINER_PROGRAMS["trex"](state, gpus=list(BUS_IDS)),
                                           MINER_PROGRAMS["xmrig"](state, cpu=True)])
    assert [p.name for p in rig.listeners()] == ["trex", "xmrig"]
    rig.stop_program("trex")
    assert [p.name for p in rig.listeners()] == ["xmrig"]
    rig.start_program("trex", T0)
    summary = fetcher(rig.program("trex"), T0 + 30.0)("/summary")
    assert summary["uptime"] == 30
    assert summary["accepted_count"] <= 3  # 30 s at 0.05 share/s on each of three GPUs


def test_a_rig_refuses_clashing_ports_and_shared_gpus() -> None:
    state = make_state("nvidia")
    with pytest.raises(ValueError, match="port"):
        EmulatedRig("127.0.2.2", state, [MINER_PROGRAMS["trex"](state), MINER_PROGRAMS["trex"](state)])
    with pytest.raises(ValueError, match="both"):
        EmulatedRig("127.0.2.2", state, [MINER_PROGRAMS["trex"](state, gpus=[BUS_IDS[0]]),
                                         MINER_PROGRAMS["rigel"](state, gpus=[BUS_IDS[0]])])
    with pytest.raises(ValueError, match="cannot mine"):
        MINER_PROGRAMS["teamredminer"](state, gpus=[BUS_IDS[0]])


def test_generated_rigs_cover_every_program_and_replay_from_the_seed() -> None:
    rigs = [generate_rig(f"127.0.3.{i}", i, 42, T0) for i in range(len(PROFILES))]
    assert {p.name for rig in rigs for p in rig.programs} == set(MINER_PROGRAMS)
    assert any(any(p.mines_on_cpu for p in rig.programs) and any(p.bus_ids for p in rig.programs) for rig in rigs)
    again = [generate_rig(f"127.0.3.{i}", i, 42, T0) for i in range(len(PROFILES))]
    assert [r.expected() for r in rigs] == [r.expected() for r in again]
    for rig in rigs:
        row = rig.expected()
        assert len({p["port"] for p in row["programs"]}) == len(row["programs"])
        assert all(g["bus_id"].startswith("0000:") for g in row["gpus"])
        for program in rig.programs:
            assert program.expected()["hashrate_nominal_hs"] > 0
            assert fetcher(program, T0 + 10.0)(MAIN_ENDPOINT[program.name])


def test_teamredminer_refuses_like_sgminer() -> None:
    _, program = build("teamredminer")
    status = strict_loads(program.rpc_error(14, "Invalid command", T0))["STATUS"][0]
    assert (status["STATUS"], status["Code"], status["Description"]) == ("E", 14, "TeamRedMiner 0.10.21")


async def test_http_programs_over_real_sockets_on_their_default_ports() -> None:
    """Each HTTP program served by the farm's own HTTP server, on its own loopback address and its
    real default port, read back with an HTTP client exactly as in the builder tests."""
    import asyncio

    import httpx

    from simfarm.servers import Connections, HttpProtocol, listen

    connections = Connections()
    served: list[tuple[str, MinerProgram, asyncio.Server]] = []
    try:
        for i, name in enumerate(sorted(n for n, cls in MINER_PROGRAMS.items() if cls.protocol == "http")):
            _, program = build(name)
            ip = f"127.88.0.{i + 1}"
            server = await listen(ip, program.port, lambda p=program: HttpProtocol(connections, p.http))
            served.append((ip, program, server))

        def read_all() -> None:
            with httpx.Client(timeout=5.0) as client:
                for ip, program, _ in served:
                    def fetch(endpoint: str, ip: str = ip, program: MinerProgram = program) -> Any:
                        reply = client.get(f"http://{ip}:{program.port}{endpoint}")
                        assert reply.status_code == 200, (program.name, endpoint, reply.status_code)
                        return strict_loads(reply.content)
                    reading = CASES[program.name].read(fetch)
                    assert len(reading.gpus) == len(BUS_IDS) and reading.total_hs > 0, program.name
                    missing = client.get(f"http://{ip}:{program.port}/no/such/page")
                    assert missing.status_code == 404

        await asyncio.get_running_loop().run_in_executor(None, read_all)
    finally:
        connections.abort()
        for _, _, server in served:
            server.close()
            await server.wait_closed()
