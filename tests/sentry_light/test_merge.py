"""Matching programs' GPUs to the hardware's by PCI bus id (``collect.merge_program``), and the bus-id
spellings (``busid``)."""

from __future__ import annotations

import pytest

from collectors.model import Gpu, MinerProgram, RigSnapshot
from sentry_light import busid
from sentry_light.collect import merge_program
from sentry_light.sources.programs.base import ProgramGpu, ProgramReading


@pytest.mark.parametrize("helper, value, expected", [
    (busid.bus_id, "00000000:0A:00.0", "0000:0a:00.0"),  # NVML
    (busid.bus_id, "0000:0a:00.0", "0000:0a:00.0"),  # GMiner, Rigel
    (busid.bus_id, "0a:00.0", "0000:0a:00.0"),  # XMRig, nanominer
    (busid.bus_id, b"00000001:2B:00.1\x00", "0001:2b:00.1"),
    (busid.bus_id, "10:0", None), (busid.bus_id, 10, None), (busid.bus_id, "0000:100:00.0", None),
    (busid.from_bus_number, 10, "0000:0a:00.0"),  # NBMiner, SRBMiner, BzMiner, OneZeroMiner
    (busid.from_bus_number, "43", "0000:2b:00.0"), (busid.from_bus_number, True, None),
    (busid.from_bus_number, 256, None), (busid.from_bus_number, -1, None),
    (busid.from_lolminer, "10:0", "0000:0a:00.0"), (busid.from_lolminer, "0a:00.0", None),
])
def test_bus_id_spellings(helper, value, expected):
    assert helper(value) == expected


def rig(*gpus: Gpu) -> RigSnapshot:
    return RigSnapshot(hostname="rig", gpus=list(gpus))


def reading(name: str, *gpus: ProgramGpu, cpu: float | None = None, algorithm: str = "kawpow") -> ProgramReading:
    return ProgramReading(MinerProgram(name=name, api_up=True, algorithm=algorithm), list(gpus), cpu)


def test_exact_then_by_bus_number():
    snapshot = rig(Gpu("0000:01:00.0", vendor="nvidia"), Gpu("0001:05:00.0", vendor="nvidia"))
    faults = merge_program(snapshot, reading("nbminer", ProgramGpu("0000:01:00.0", hashrate_hs=1.0),
                                             ProgramGpu(busid.from_bus_number(5), hashrate_hs=2.0)))
    assert faults == []
    assert [(g.bus_id, g.hashrate_hs, g.program) for g in snapshot.gpus] == [
        ("0000:01:00.0", 1.0, "nbminer"), ("0001:05:00.0", 2.0, "nbminer")]


def test_hardware_figures_win_and_the_program_fills_the_gaps():
    snapshot = rig(Gpu("0000:01:00.0", temp_c=60.0, mem_temp_c=None, name="NVIDIA GeForce RTX 3080"))
    merge_program(snapshot, reading("trex", ProgramGpu("0000:01:00.0", hashrate_hs=5.0, accepted=7, rejected=0,
                                                       temp_c=99.0, mem_temp_c=84.0, name="RTX 3080")))
    gpu = snapshot.gpus[0]
    assert (gpu.temp_c, gpu.mem_temp_c, gpu.name) == (60.0, 84.0, "NVIDIA GeForce RTX 3080")
    assert (gpu.hashrate_hs, gpu.accepted, gpu.rejected) == (5.0, 7, 0)


def test_a_bus_id_no_hardware_knows_adds_a_gpu_in_bus_order():
    snapshot = rig(Gpu("0000:05:00.0"))
    merge_program(snapshot, reading("gminer", ProgramGpu("0000:02:00.0", hashrate_hs=3.0, temp_c=55.0)))
    assert [(g.bus_id, g.hashrate_hs, g.temp_c, g.vendor) for g in snapshot.gpus] == [
        ("0000:02:00.0", 3.0, 55.0, None), ("0000:05:00.0", None, None, None)]


def test_a_bus_number_shared_by_two_gpus_is_not_guessed():
    snapshot = rig(Gpu("0000:05:00.0"), Gpu("0001:05:00.0"))
    merge_program(snapshot, reading("bzminer", ProgramGpu("0002:05:00.0", hashrate_hs=3.0)))
    assert [g.hashrate_hs for g in snapshot.gpus] == [None, None] and len(snapshot.gpus) == 2


def test_teamredminer_counts_the_amd_gpus_in_bus_order():
    snapshot = rig(Gpu("0000:01:00.0", vendor="nvidia"), Gpu("0000:0a:00.0", vendor="amd"),
                   Gpu("0000:03:00.0", vendor="amd"))
    faults = merge_program(snapshot, reading("teamredminer", ProgramGpu(None, index=1, hashrate_hs=11.0),
                                             ProgramGpu(None, index=0, hashrate_hs=10.0)))
    assert faults == []
    assert {g.bus_id: g.hashrate_hs for g in snapshot.gpus} == {
        "0000:01:00.0": None, "0000:03:00.0": 10.0, "0000:0a:00.0": 11.0}


def test_teamredminer_numbering_more_gpus_than_the_rig_shows_is_a_fault_not_a_guess():
    snapshot = rig(Gpu("0000:03:00.0", vendor="amd"), Gpu("0000:0a:00.0", vendor="amd"))
    faults = merge_program(snapshot, reading("teamredminer", ProgramGpu(None, index=0, hashrate_hs=10.0),
                                             ProgramGpu(None, index=2, hashrate_hs=12.0)))
    assert faults == [("TeamRedMiner numbers 3 GPUs but the rig shows 2 AMD GPUs, so its GPUs are not matched "
                       "to bus ids")]
    assert all(g.hashrate_hs is None for g in snapshot.gpus)


def test_a_gpu_without_bus_id_counts_only_in_its_programs_total():
    snapshot = rig(Gpu("0000:01:00.0", vendor="nvidia"))
    assert merge_program(snapshot, reading("trex", ProgramGpu(None, index=0, hashrate_hs=7.0))) == []
    assert snapshot.gpus[0].hashrate_hs is None


def test_cpu_hashrate_and_programs_that_are_down():
    snapshot = rig()
    merge_program(snapshot, reading("xmrig", cpu=900.0, algorithm="rx/0"))
    merge_program(snapshot, reading("srbminer", cpu=100.0, algorithm="randomx"))  # RandomX too: they add up
    down = ProgramReading(MinerProgram(name="trex", error="nothing answers on 127.0.0.1:4067"),
                          [ProgramGpu("0000:01:00.0", hashrate_hs=1.0)])
    merge_program(snapshot, down)
    assert (snapshot.cpu.hashrate_hs, snapshot.cpu.algorithm, snapshot.gpus) == (1000.0, "rx/0", [])


def test_two_algorithms_on_one_device_are_never_added():
    snapshot = rig(Gpu("0000:01:00.0", vendor="nvidia"))
    merge_program(snapshot, reading("trex", ProgramGpu("0000:01:00.0", hashrate_hs=30e6), algorithm="kawpow"))
    merge_program(snapshot, reading("rigel", ProgramGpu("0000:01:00.0", hashrate_hs=2e6), algorithm="KAWPOW"))
    merge_program(snapshot, reading("lolminer", ProgramGpu("0000:01:00.0", hashrate_hs=9e9), algorithm="alephium"))
    merge_program(snapshot, reading("xmrig", cpu=9e3, algorithm="rx/0"))
    merge_program(snapshot, reading("srbminer", cpu=1e3, algorithm="ghostrider"))
    gpu = snapshot.gpus[0]
    assert (gpu.hashrate_hs, gpu.algorithm, gpu.program) == (32e6, "kawpow", "trex+rigel+lolminer")
    assert (snapshot.cpu.hashrate_hs, snapshot.cpu.algorithm) == (9e3, "rx/0")
