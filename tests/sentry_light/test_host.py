"""The host: the pure choices on fake inputs, and the real psutil figures present on this machine."""

from __future__ import annotations

from collections import namedtuple

import pytest

from sentry_light.sources.host import busy_pct, cpu_model, cpu_temperature, read_host
from tests.sentry_light.conftest import TESTDATA

T = namedtuple("shwtemp", "label current high critical")
Times = namedtuple("scputimes", "user nice system idle iowait irq softirq steal guest guest_nice")


@pytest.mark.parametrize("sensors, expected", [
    ({"coretemp": [T("Package id 0", 58.0, 80, 100), T("Core 0", 61.0, 80, 100)], "k10temp": [T("Tctl", 40, 0, 0)]},
     58.0),
    ({"coretemp": [T("Package id 0", 58.0, 80, 100), T("Package id 1", 63.0, 80, 100)]}, 63.0),
    ({"coretemp": [T("Core 0", 55.0, 80, 100), T("Core 1", 57.0, 80, 100)]}, 57.0),
    ({"k10temp": [T("Tctl", 70.0, 0, 0), T("Tdie", 50.0, 0, 0), T("Tccd1", 52.0, 0, 0)]}, 50.0),
    ({"k10temp": [T("Tctl", 66.5, 0, 0), T("Tccd1", 61.0, 0, 0)]}, 66.5),
    ({"zenpower": [T("Tdie", 48.0, 0, 0)], "nvme": [T("Composite", 40.0, 0, 0)]}, 48.0),
    ({"cpu_thermal": [T("", 51.5, 0, 0)]}, 51.5),
    ({"amdgpu": [T("edge", 60.0, 0, 0)], "acpitz": [T("", 27.8, 0, 0)]}, None),
    ({"coretemp": [T("Package id 0", -273.0, 0, 0)]}, None),
    ({}, None),
])
def test_cpu_temperature_is_chosen_sensibly(sensors, expected):
    assert cpu_temperature(sensors) == expected


def test_cpu_model_from_cpuinfo():
    assert cpu_model((TESTDATA / "proc" / "x86" / "cpuinfo").read_text()) == "AMD Ryzen 9 5950X 16-Core Processor"
    assert cpu_model("processor\t: 0\nBogoMIPS\t: 108.00\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n") == (
        "Raspberry Pi 4 Model B Rev 1.4")
    assert cpu_model("") is None


def test_busy_pct_between_two_samples():
    before = Times(100, 0, 50, 800, 50, 0, 0, 0, 10, 0)
    after = Times(160, 0, 70, 900, 70, 0, 0, 0, 30, 0)
    assert busy_pct(before, after) == pytest.approx(100 * 80 / 200)  # guest counted once, in user
    assert busy_pct(after, after) is None


def test_the_host_figures_are_present():
    reading, times = read_host(TESTDATA / "proc" / "x86")
    assert reading.cpu.model == "AMD Ryzen 9 5950X 16-Core Processor"
    assert reading.cpu.threads >= 1 and 0 <= reading.cpu.load_pct <= 100
    assert reading.uptime_s > 0 and reading.load_1m >= 0
    assert 0 < reading.memory_used_pct < 100 and 0 < reading.disk_used_pct <= 100
    again, _ = read_host(TESTDATA / "proc" / "x86", times)  # the next collection measures from the last
    assert again.cpu.load_pct is None or 0 <= again.cpu.load_pct <= 100
