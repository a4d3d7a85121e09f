"""The whole collection against simulated rigs over real sockets: simfarm serves each rig's mining
programs on loopback, a fake amdgpu tree and the NVML fake stand for its hardware. Every program of
every profile, matched to its GPUs by bus id, agrees with the farm's inventory; API down, GPU lost."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from collectors.algorithms import canonical
from sentry_light.collect import collect
from sentry_light.config import ProgramTarget
from sentry_light.show import render
from simfarm.farm import Farm
from simfarm.rigs.rig import PROFILES
from simfarm.rigs.sentry import READER_OF, write_amd_sysfs
from tests.sentry_light.conftest import by_bus, fake_nvml_for, rig_config
from tests.simfarm.conftest import free_base

WANDER = 0.02  # simfarm's devices wander ±2 % around their nominal hashrate
ROUNDING = 0.006e6  # the coarsest rounding of a program's own unit (lolMiner's 0.01 MH/s), back in H/s


@pytest.fixture
async def farm():
    """One rig of each profile, so every program runs; the rigs on a /24 of their own."""
    async with Farm(miners=0, rigs=len(PROFILES), rig_base=free_base(), seed=23, web_port=8080) as running:
        yield running


def near(value: float | None, nominal: float, devices: int = 1) -> bool:
    return value is not None and abs(value - nominal) <= WANDER * nominal + ROUNDING * devices


def first_rig(farm: Farm, program: str) -> dict[str, Any]:
    return next(row for row in farm.rig_inventory() if any(p["name"] == program for p in row["programs"]))


async def collect_rig(row: dict[str, Any], tmp_path, nvml=None, sysfs_gpus=None):
    sysfs = write_amd_sysfs(tmp_path / row["ip"], row["gpus"] if sysfs_gpus is None else sysfs_gpus)
    return await collect(rig_config(row, sysfs), nvml=nvml or fake_nvml_for(row["gpus"]))


async def test_every_program_of_every_profile_matches_the_inventory(farm, tmp_path):
    rows = farm.rig_inventory()
    assert {READER_OF.get(p["name"], p["name"]) for row in rows for p in row["programs"]} == {
        "xmrig", "trex", "lolminer", "teamredminer", "gminer", "nbminer", "srbminer", "nanominer", "rigel", "bzminer",
        "onezerominer"}
    for row in rows:
        snapshot = await collect_rig(row, tmp_path)
        assert snapshot.faults == [], row["ip"]
        vendors = {g["vendor"] for g in row["gpus"]}
        assert snapshot.absent == (["NVIDIA: no driver (libnvidia-ml.so.1 not found)"] if vendors == {"amd"} else
                                   [f"AMD: no GPU driven by amdgpu under {tmp_path / row['ip'] / 'class' / 'drm'}"])
        gpus = by_bus(snapshot.gpus)
        assert list(gpus) == [g["bus_id"] for g in row["gpus"]]  # keyed and ordered by bus id
        records = iter(snapshot.programs)
        for expected in row["programs"]:
            name = READER_OF.get(expected["name"], expected["name"])
            gpu_nominal = sum(g["hashrate_nominal_hs"] for g in row["gpus"] if g["bus_id"] in expected["gpus"])
            cpu_nominal = expected["hashrate_nominal_hs"] - gpu_nominal
            # SRBMiner mining on the CPU too gives a record per algorithm, each with its own hashrate.
            per_algorithm = [(expected["algorithm"], expected["hashrate_nominal_hs"])]
            if expected.get("cpu_algorithm"):
                per_algorithm = [(expected["algorithm"], gpu_nominal), (expected["cpu_algorithm"], cpu_nominal)]
            for algorithm, nominal in per_algorithm:
                program = next(records)
                assert (program.name, program.api_up, program.error, program.port, program.algorithm) == (
                    name, True, None, expected["port"], algorithm)
                assert near(program.hashrate_hs, nominal, len(expected["gpus"])), (row["ip"], name, algorithm)
                assert program.uptime_s > 0 and program.accepted is not None
            for bus_id in expected["gpus"]:
                nominal = next(g["hashrate_nominal_hs"] for g in row["gpus"] if g["bus_id"] == bus_id)
                gpu = gpus[bus_id]
                assert near(gpu.hashrate_hs, nominal), (row["ip"], name, bus_id)
                assert gpu.algorithm == expected["algorithm"]
                assert gpu.program == name and gpu.vendor in vendors and gpu.temp_c is not None
            if expected["cpu"]:
                assert near(snapshot.cpu.hashrate_hs, cpu_nominal), (row["ip"], name)
                assert snapshot.cpu.algorithm == expected.get("cpu_algorithm") or expected["algorithm"]
        assert next(records, None) is None
        # The rig's hashrate is one total per algorithm: its programs' of that algorithm.
        names = {canonical(p.algorithm) for p in snapshot.programs}
        assert snapshot.hashrate_by_algorithm_hs == pytest.approx({
            name: sum(p.hashrate_hs for p in snapshot.programs if canonical(p.algorithm) == name) for name in names})
        if not any(p["cpu"] for p in row["programs"]):
            assert snapshot.cpu.hashrate_hs is None
        assert snapshot.cpu.threads and snapshot.memory_used_pct is not None and snapshot.uptime_s


async def test_a_program_whose_api_is_down_is_one_sentence_and_the_others_go_on(farm, tmp_path):
    row = first_rig(farm, "trex")  # T-Rex on the GPUs, XMRig on the CPU
    await farm.inject(row["ip"], "api_down", program="trex")
    snapshot = await collect_rig(row, tmp_path)
    trex, xmrig = snapshot.programs
    assert (trex.api_up, trex.error, trex.hashrate_hs) == (False, f"nothing answers on {row['ip']}:4067", None)
    assert xmrig.api_up and snapshot.hashrate_by_algorithm_hs == {"RandomX": xmrig.hashrate_hs}
    assert all(g.hashrate_hs is None for g in snapshot.gpus) and len(snapshot.gpus) == len(row["gpus"])
    assert snapshot.faults == []
    assert f"T-Rex: nothing answers on {row['ip']}:4067" in render(snapshot)


async def test_programs_the_rig_does_not_run_are_reported_absent(farm, tmp_path):
    row = first_rig(farm, "gminer")
    config = rig_config(row, write_amd_sysfs(tmp_path, []))
    config = replace(config, programs=(ProgramTarget("gminer", row["ip"], 10050), ProgramTarget("lolminer", row["ip"], 8020),
                                       ProgramTarget("teamredminer", row["ip"], 4028)))
    snapshot = await collect(config, nvml=fake_nvml_for(row["gpus"]))
    assert [(p.name, p.api_up) for p in snapshot.programs] == [("gminer", True), ("lolminer", False),
                                                               ("teamredminer", False)]
    text = render(snapshot)
    for line in (f"lolMiner: nothing answers on {row['ip']}:8020", f"TeamRedMiner: nothing answers on {row['ip']}:4028",
                 f"AMD: no GPU driven by amdgpu under {tmp_path / 'class' / 'drm'}"):
        assert line in text


async def test_a_lost_nvidia_gpu_is_a_fault_by_bus_id(farm, tmp_path):
    row = first_rig(farm, "trex")
    lost = row["gpus"][1]["bus_id"]
    await farm.inject(row["ip"], "gpu_lost", bus_id=lost)
    nvml = fake_nvml_for(row["gpus"])
    nvml.gpu(lost).lost = True
    snapshot = await collect_rig(row, tmp_path, nvml=nvml)
    assert snapshot.faults == [f"GPU {lost} lost"]
    gpus = by_bus(snapshot.gpus)
    assert gpus[lost].hashrate_hs is None and gpus[lost].temp_c is None
    others = [g for g in row["gpus"] if g["bus_id"] != lost]
    assert all(near(gpus[g["bus_id"]].hashrate_hs, g["hashrate_nominal_hs"]) for g in others)
    assert "GPU " + lost + " lost" in render(snapshot)


async def test_teamredminer_keeps_its_numbers_when_a_gpu_is_lost(farm, tmp_path):
    row = first_rig(farm, "teamredminer")
    lost = row["gpus"][1]["bus_id"]
    await farm.inject(row["ip"], "gpu_lost", bus_id=lost)
    # The card is still on the bus (sysfs lists it): the others keep their numbers and their bus ids.
    snapshot = await collect_rig(row, tmp_path / "on-bus")
    gpus = by_bus(snapshot.gpus)
    assert gpus[lost].hashrate_hs is None and snapshot.faults == []
    assert all(near(gpus[g["bus_id"]].hashrate_hs, g["hashrate_nominal_hs"]) for g in row["gpus"] if g["bus_id"] != lost)
    # Gone from sysfs too: counting AMD cards in bus order would shift every later GPU, so none is matched.
    remaining = [g for g in row["gpus"] if g["bus_id"] != lost]
    snapshot = await collect_rig(row, tmp_path / "off-bus", sysfs_gpus=remaining)
    assert snapshot.faults == [(f"TeamRedMiner numbers {len(row['gpus'])} GPUs but the rig shows {len(remaining)} "
                                "AMD GPUs, so its GPUs are not matched to bus ids")]
    assert all(g.hashrate_hs is None for g in snapshot.gpus)
    assert near(snapshot.programs[0].hashrate_hs, sum(g["hashrate_nominal_hs"] for g in remaining), len(remaining))


async def test_srbminer_on_gpus_and_cpu_is_two_algorithms_never_added(farm, tmp_path):
    row = first_rig(farm, "srbminer_multi")  # KawPow on the GPUs, RandomX on the CPU
    snapshot = await collect_rig(row, tmp_path)
    kawpow, randomx = snapshot.programs
    assert [(p.name, p.algorithm) for p in (kawpow, randomx)] == [("srbminer", "kawpow"), ("srbminer", "randomx")]
    assert snapshot.hashrate_by_algorithm_hs == {"KawPow": kawpow.hashrate_hs, "RandomX": randomx.hashrate_hs}
    assert kawpow.hashrate_hs == pytest.approx(sum(g.hashrate_hs for g in snapshot.gpus))
    assert (snapshot.cpu.hashrate_hs, snapshot.cpu.algorithm) == (randomx.hashrate_hs, "randomx")
    text = render(snapshot)
    header, cpu_line = text.splitlines()[:2]
    assert header.endswith(f"hashrate KawPow {kawpow.hashrate_hs / 1e6:,.2f} MH/s, "
                           f"RandomX {randomx.hashrate_hs / 1e3:,.2f} kH/s")
    assert cpu_line.endswith(f"mining RandomX {randomx.hashrate_hs / 1e3:,.2f} kH/s")
    programs = [line.split() for line in text.splitlines() if line.startswith("SRBMiner-MULTI")]
    assert [(line[2], line[4]) for line in programs] == [("KawPow", "MH/s"), ("RandomX", "kH/s")]
