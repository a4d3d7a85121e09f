"""Each mining program's parse function, offline, on our own replies (``testdata/programs/<program>/<case>/``:
one file per endpoint and an ``expected.json``), and on replies no program should send."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from collectors.model import Gpu
from sentry_light.sources.programs import PROGRAMS
from sentry_light.sources.programs import gminer, lolminer, teamredminer, trex, xmrig
from sentry_light.sources.programs.base import ProgramGpu
from tests.sentry_light.conftest import TESTDATA, load_replies

CASES = sorted(p.parent for p in (TESTDATA / "programs").glob("*/*/expected.json"))


def test_every_program_has_a_case():
    assert {case.parent.name for case in CASES} == set(PROGRAMS)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parse_gives_the_expected_reading(case: Path):
    program = case.parent.name
    expected = json.loads((case / "expected.json").read_text())
    reading = PROGRAMS[program].parse(load_replies(case, program), expected["now"])
    # A program that mines several algorithms at once gives a reading per algorithm, the others in "more".
    for part, wanted in zip([reading, *reading.more], [expected, *expected.get("more", [])], strict=True):
        got = asdict(part.program)
        assert (got.pop("port"), got.pop("error")) == (None, None)
        assert got == pytest.approx(wanted["program"])
        assert part.cpu_hashrate_hs == pytest.approx(wanted["cpu_hashrate_hs"])
        assert [asdict(g) for g in part.gpus] == [pytest.approx(g) for g in wanted["gpus"]]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("reply", [None, {}, [], "busy", 42, {"gpus": "x", "devices": [1, None, "a"],
                                                               "Workers": {}, "algorithms": [{"hashrate": []}]}])
def test_a_reply_of_the_wrong_shape_gives_nothing_rather_than_an_error(name, reply):
    program = PROGRAMS[name]
    reading = program.parse({endpoint: reply for endpoint in program.endpoints}, 1_700_000_000.0)
    assert reading.program.name == name and reading.program.api_up
    assert reading.program.hashrate_hs is None and reading.cpu_hashrate_hs is None
    assert all(gpu.hashrate_hs is None for gpu in reading.gpus)


def test_placeholders_are_absent_not_zero():
    # T-Rex prints 0 for a memory sensor the card lacks, and XMRig null for a window not yet run.
    reading = trex.parse({"/summary": {"hashrate": 5, "gpus": [{"pci_bus": 3, "hashrate": 5, "temperature": 60,
                                                                 "memory_temperature": 0, "fan_speed": 0}]}}, 0)
    gpu = reading.gpus[0]
    assert (gpu.bus_id, gpu.temp_c, gpu.mem_temp_c, gpu.fan_pct) == ("0000:03:00.0", 60, None, 0)
    summary = {"hashrate": {"total": [None, None, None]}, "connection": {"accepted": 0}}
    assert xmrig.parse({"/2/summary": summary, "/2/backends": []}, 0).program.hashrate_hs is None


def test_teamredminer_takes_its_shortest_window():
    devs = {"DEVS": [{"GPU": 0, "KHS av": 1.0, "KHS 120s": 2.0, "MHS 30s": 0.003, "KHS 5s": "nan"}]}
    assert teamredminer.parse({"devs": devs}, 0).gpus[0].hashrate_hs == pytest.approx(3000.0)


def test_lolminer_without_a_factor_uses_its_unit():
    root = {"Workers": [{"PCIE_Address": "16:0"}],
            "Algorithms": [{"Performance_Unit": "gh/s", "Total_Performance": 1.5, "Worker_Performance": [1.5]}]}
    reading = lolminer.parse({"/summary": root}, 0)
    assert reading.program.hashrate_hs == reading.gpus[0].hashrate_hs == pytest.approx(1.5e9)
    assert reading.gpus[0].bus_id == "0000:10:00.0"


def test_gminer_reads_the_camel_case_keys_of_1x():
    stat = {"devices": [{"bus_id": "0000:0A:00.0", "speed": 80.5}], "speedUnit": "Sol/s"}
    reading = gminer.parse({"/stat": stat}, 0)
    assert (reading.gpus[0].bus_id, reading.program.hashrate_hs) == ("0000:0a:00.0", 80.5)


def test_reading_fields_cover_what_the_gpu_row_takes():
    assert {f.name for f in fields(ProgramGpu)} - {"index"} <= {f.name for f in fields(Gpu)}
