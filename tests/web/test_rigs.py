"""Rigs in the web, from rig snapshots stored as the commander stores them: the list (on the Miners
page and ``/api/v1/rigs``), one rig's GPUs by PCI bus id, its CPU and each mining program with its
own hashrate and shares, and its GPUs' history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.store.jobs import store_cycle
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot
from tests.web.conftest import checked
from tests.web.test_miner_page import signed_in_admin

RIG = "10.0.5.7"
QUIET = "10.0.5.8:1161"  # a sentry off port 161 that stopped answering


def rig(n: int) -> RigSnapshot:
    """The rig's n-th reading: two GPUs on KawPow (listed out of bus order), an XMRig on the CPU."""
    return RigSnapshot(
        hostname="rig-east-1", ip=RIG, uptime_s=86_400 + 30 * n, load_1m=3.5,
        cpu=Cpu(model="AMD Ryzen 9 5950X", threads=32, load_pct=90.0, temp_c=71.0, hashrate_hs=15e3, algorithm="rx/0"),
        gpus=[Gpu(bus_id=bus, name="NVIDIA GeForce RTX 3080", vendor="nvidia", hashrate_hs=rate + n * 1e5,
                  algorithm="kawpow", temp_c=60.0 + n, mem_temp_c=84.0, fan_pct=70.0, fan_rpm=2100, power_w=220.0,
                  core_clock_mhz=1710.0, mem_clock_mhz=9251.0, accepted=40 + n, rejected=1)
              for bus, rate in (("0000:0b:00.0", 40e6), ("0000:03:00.0", 41e6))],
        programs=[MinerProgram(name="trex", api_up=True, version="0.26.8", algorithm="kawpow",
                               pool="stratum+tcp://rvn.pool:3333", user="farm.r1", hashrate_hs=81e6, accepted=80,
                               rejected=2, uptime_s=7200),
                  MinerProgram(name="xmrig", api_up=True, version="6.21.0", algorithm="rx/0",
                               pool="stratum+tcp://xmr.pool:443", user="farm.x1", hashrate_hs=15e3, accepted=12,
                               rejected=0, uptime_s=7100)])


@pytest.fixture(scope="module")
def rigs_state(tmp_path_factory):
    state = tmp_path_factory.mktemp("rigs") / "state"
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(5):
        quiet = RigSnapshot(hostname="10.0.5.8", ip="10.0.5.8", port=1161, reachable=False,
                            error="no answer from 10.0.5.8:1161 within 3 s")
        store_cycle(state, [], now - timedelta(seconds=30 * (5 - n)), rigs=[rig(n), quiet])
    return state


@pytest.fixture
def admin(rigs_state, tmp_path):
    return signed_in_admin(tmp_path, rigs_state)


def test_the_rig_list_says_each_rigs_hashrate_per_algorithm(admin):
    listed = checked(admin.get("/api/v1/rigs"), "/rigs").json
    assert [r["key"] for r in listed["items"]] == [RIG, QUIET]
    east, quiet = listed["items"]
    assert east["hashrates"] == [{"algorithm": "KawPow", "hashrate_hs": 81e6},
                                 {"algorithm": "RandomX", "hashrate_hs": 15e3}]  # never one sum of the two
    assert (east["status"], east["gpu_count"], east["cpu"]["model"]) == ("ok", 2, "AMD Ryzen 9 5950X")
    assert (quiet["status"], quiet["error"], quiet["hashrates"]) == ("offline", "no answer from 10.0.5.8:1161 within 3 s", [])
    assert [r["key"] for r in checked(admin.get("/api/v1/rigs?q=EAST"), "/rigs").json["items"]] == [RIG]


def test_one_rig_has_its_gpus_by_bus_id_and_each_program(admin):
    one = checked(admin.get(f"/api/v1/rigs/{RIG}"), "/rigs/{key}").json
    assert [g["bus_id"] for g in one["gpus"]] == ["0000:03:00.0", "0000:0b:00.0"]
    gpu = one["gpus"][1]
    assert (gpu["hashrate_hs"], gpu["temp_c"], gpu["mem_temp_c"], gpu["fan_pct"], gpu["power_w"],
            gpu["core_clock_mhz"], gpu["mem_clock_mhz"], gpu["accepted"]) == (40.4e6, 64.0, 84.0, 70.0, 220.0,
                                                                              1710.0, 9251.0, 44)
    assert [(p["program"], p["algorithm"], p["hashrate_hs"], p["accepted"]) for p in one["programs"]] == [
        ("trex", "kawpow", 81e6, 80), ("xmrig", "rx/0", 15e3, 12)]
    assert checked(admin.get("/api/v1/rigs/10.0.9.9"), "/rigs/{key}").status_code == 404


def test_the_rig_page_and_the_miners_page_show_it(admin):
    page = admin.get(f"/rigs/{RIG}").get_data(as_text=True)
    for text in ("rig-east-1", "0000:03:00.0", "0000:0b:00.0", "NVIDIA GeForce RTX 3080", "AMD Ryzen 9 5950X",
                 "trex", "xmrig", "stratum+tcp://rvn.pool:3333", "81.0 MH/s KawPow", f'data-history="/api/v1/rigs/{RIG}/history"'):
        assert text in page, text
    assert page.index("0000:03:00.0") < page.index("0000:0b:00.0")
    quiet = admin.get(f"/rigs/{QUIET}").get_data(as_text=True)
    assert "no answer from 10.0.5.8:1161 within 3 s" in quiet
    listed = admin.get("/miners").get_data(as_text=True)
    assert f'href="/rigs/{RIG}"' in listed and f'href="/rigs/{QUIET}"' in listed
    assert admin.get("/rigs/10.0.9.9").status_code == 404


def test_a_rigs_history_is_each_gpu_on_one_time_axis(admin):
    answer = checked(admin.get(f"/api/v1/rigs/{RIG}/history"), "/rigs/{key}/history").json
    assert answer["resolution"] == "raw" and len(answer["time"]) == 5
    assert [g["bus_id"] for g in answer["gpus"]] == ["0000:03:00.0", "0000:0b:00.0"]
    assert answer["gpus"][0]["hashrate_hs"] == [41e6 + n * 1e5 for n in range(5)]
    assert answer["gpus"][1]["temp_c"] == [60.0 + n for n in range(5)]
    silent = checked(admin.get(f"/api/v1/rigs/{QUIET}/history"), "/rigs/{key}/history").json
    assert (silent["time"], silent["gpus"]) == ([], [])
