"""Conformance with real replies: every capture in ``../shared/fixtures/gpu`` (GPL data kept outside
this repository; see SOURCES.md there) through its reader's parse function, checked against the values
the capture holds. Skipped here when the folder is absent; in CI (CI=true) that is a failure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentry_light.sources.programs import PROGRAMS
from tests.conftest import require, shared_fixtures

FOLDER = shared_fixtures() / "gpu"
NOW = 1_600_000_000.0

# (program, {endpoint: capture file}, program's values, cpu H/s, [per-GPU values, in order]).
# XMRig's /1/summary has /2/summary's layout plus per-thread triples, so it is read in its place;
# lolMiner 1.48 serves the same document on / and /summary.
CAPTURES: list[tuple[str, dict[str, str], dict[str, Any], float | None, list[dict[str, Any]]]] = [
    ("gminer", {"/stat": "gminer_stat.json"},
     {"version": "1.34", "algorithm": 'Equihash 150,5 "Beam-PoW"', "pool": "stratum+ssl://beam.sparkpool.com:2222",
      "hashrate_hs": 1.2, "accepted": 0, "rejected": 0, "uptime_s": 88}, None,
     [{"bus_id": "0000:02:00.0", "hashrate_hs": 1.2, "temp_c": 54, "power_w": 32, "mem_temp_c": None,
       "name": "ASUS Radeon RX 560 Series 4GB"}]),
    ("lolminer", {"/summary": "lolminer_root_v1_48.json"},
     {"version": "1.48", "algorithm": "Ethash", "pool": "eth-sg.flexpool.io:5555", "hashrate_hs": 113.0692608e6,
      "accepted": 1234, "rejected": 0, "uptime_s": 43001}, None,
     [{"bus_id": f"0000:0{bus}:00.0", "hashrate_hs": rate * 1e6, "accepted": accepted, "temp_c": temp, "fan_pct": fan,
       "mem_temp_c": None, "power_w": power}
      for bus, rate, accepted, temp, fan, power in ((2, 27.43, 286, 72, 68, 140.146), (3, 29.37, 322, 68, 42, 110.072),
                                                     (4, 29.37, 322, 68, 42, 112.072), (8, 26.9, 304, 74, 75, 124.074))]),
    ("lolminer", {"/summary": "lolminer_summary_v1_0.json"},
     {"version": "1.16a", "algorithm": "Ethash", "pool": "eth.2miners.com:2020", "hashrate_hs": 302.4e6,
      "accepted": 3, "rejected": 0, "uptime_s": 90}, None,
     [{"bus_id": bus, "hashrate_hs": rate * 1e6, "mem_temp_c": mem, "fan_pct": 0, "power_w": power}
      for bus, rate, mem, power in (("0000:03:00.0", 75.86, 58, 160.631), ("0000:10:00.0", 74.51, 76, 163.956),
                                    ("0000:13:00.0", 75.34, 64, 158.396), ("0000:16:00.0", 76.69, 66, 176.468))]),
    ("nanominer", {"/stats": "nanominer_stats.json"},
     {"algorithm": "Ethash", "pool": "eth-us-east1.nanopool.org:9999", "hashrate_hs": 4.591157e6,
      "accepted": 3, "rejected": 0, "uptime_s": 898}, None,
     [{"bus_id": "0000:01:00.0", "index": 0, "hashrate_hs": 4.591157e6, "temp_c": 46, "name": "GeForce GTX 1050 Ti"}]),
    ("nbminer", {"/api/v1/status": "nbminer_api_v1_status.json"},
     {"version": "10.0", "pool": "btm.pool.zhizh.com:3859", "hashrate_hs": 2989, "accepted": 99, "rejected": 1,
      "uptime_s": int(NOW - 1532482659)}, None,
     [{"bus_id": None, "index": 0, "hashrate_hs": 1499, "temp_c": 65, "fan_pct": 36, "power_w": 182},
      {"bus_id": None, "index": 1, "hashrate_hs": 1490, "temp_c": 62, "fan_pct": 34, "power_w": 172}]),
    ("srbminer", {"/": "srbminer_legacy_root.json"},
     {"version": "1.7.9", "algorithm": "normalv8", "pool": "xmr-eu1.nanopool.org:14444", "hashrate_hs": 343,
      "accepted": 0, "rejected": 0, "uptime_s": 132}, None,
     [{"bus_id": "0000:02:00.0", "hashrate_hs": 343, "temp_c": 63, "fan_rpm": 1652, "core_clock_mhz": 1187}]),
    ("srbminer", {"/": "srbminer_multi_root_cpu.json"},
     {"version": "0.5.6", "algorithm": "verushash", "pool": "verus.alphatechit.co.uk:9997",
      "hashrate_hs": 206111.5149227829, "accepted": 15, "rejected": 0, "uptime_s": 1368}, 206111.5149227829, []),
    ("teamredminer", {"devs": "teamredminer_devs.json"},
     {"version": "0.3.8", "hashrate_hs": sum((2107, 2118, 2095, 2058, 2101, 2094))}, None,
     [{"bus_id": None, "index": i, "hashrate_hs": rate, "accepted": accepted, "rejected": rejected, "fan_rpm": rpm}
      for i, (rate, accepted, rejected, rpm) in enumerate(((2107, 60, 2, 3185), (2118, 53, 1, 3226), (2095, 70, 1, 3273),
                                                          (2058, 73, 4, 3185), (2101, 55, 0, 3299), (2094, 60, 4, 3216)))]),
    ("teamredminer", {"pools": "teamredminer_pools.json"},
     {"version": "0.3.8", "algorithm": "cnv8", "pool": "stratum+tcp://pool.supportxmr.com:7777", "hashrate_hs": None},
     None, []),
    ("trex", {"/summary": "trex_summary.json"},
     {"version": "0.9.1", "algorithm": "x16r", "pool": "stratum+tcp://pool.minermore.com:4501", "hashrate_hs": 7748158,
      "accepted": 1, "rejected": 0, "uptime_s": 56}, None,
     [{"bus_id": None, "index": 0, "hashrate_hs": 7748158, "temp_c": 68, "fan_pct": None, "power_w": None}]),
    ("trex", {"/summary": "trex_summary_8gpu.json"},
     {"version": "0.6.3", "hashrate_hs": 150645350, "accepted": 10, "rejected": 0, "uptime_s": 31}, None,
     [{"bus_id": None, "index": i, "hashrate_hs": rate, "fan_pct": fan, "power_w": power}
      for i, (rate, fan, power) in enumerate(((19101584, 56, 193), (18800141, 52, 194), (18846666, 56, 193),
                                              (18872865, 53, 198), (18934160, 55, 189), (18910557, 56, 190),
                                              (18944655, 53, 194), (18234722, 57, 181)))]),
    ("xmrig", {"/2/summary": "xmrig_1_summary.json"},
     {"version": "2.6.0-beta3", "algorithm": "cryptonight", "pool": "pool.monero.hashvault.pro:3333",
      "hashrate_hs": 296.24, "accepted": 30, "rejected": 0, "uptime_s": None}, 296.24, []),
    ("xmrig", {"/2/summary": "xmrig_1_summary_v6_token.json"},
     {"version": "5.11.1", "algorithm": "rx/0", "hashrate_hs": 445.81, "accepted": 0, "rejected": 0, "uptime_s": 18},
     None, []),
    ("xmrig", {"/2/summary": "xmrig_2_summary.json", "/2/backends": "xmrig_2_backends.json"},
     {"version": "6.17.1-dev", "algorithm": "rx/0", "pool": "some.pool:20064", "hashrate_hs": 1207.19,
      "accepted": 3, "rejected": 0, "uptime_s": 106}, 1235.78,
     [{"bus_id": "0000:01:00.0", "index": 0, "hashrate_hs": 246.77, "temp_c": 69, "power_w": 161, "fan_pct": 100,
       "core_clock_mhz": 1328, "mem_clock_mhz": 3662, "name": "NVIDIA GeForce GTX 970"}]),
]


def _load(name: str) -> Any:
    return json.loads((FOLDER / name).read_text())


def test_every_capture_is_checked():
    require(FOLDER.is_dir(), f"the GPU miner captures ({FOLDER})")
    checked = {name for _, files, *_ in CAPTURES for name in files.values()}
    assert checked == {p.name for p in FOLDER.glob("*.json")}


@pytest.mark.parametrize("program, files, values, cpu, gpus", CAPTURES,
                         ids=["+".join(files.values()) for _, files, *_ in CAPTURES])
def test_capture(program, files, values, cpu, gpus):
    require(FOLDER.is_dir(), f"the GPU miner captures ({FOLDER})")
    reading = PROGRAMS[program].parse({endpoint: _load(name) for endpoint, name in files.items()}, NOW)
    assert reading.program.name == program
    assert {key: getattr(reading.program, key) for key in values} == pytest.approx(values)
    assert reading.cpu_hashrate_hs == pytest.approx(cpu)
    assert len(reading.gpus) == len(gpus)
    for got, want in zip(reading.gpus, gpus):
        assert {key: getattr(got, key) for key in want} == pytest.approx(want)
