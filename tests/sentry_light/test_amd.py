"""amdgpu sysfs on fake trees under testdata/sysfs: the cards amdgpu drives, keyed by PCI address, in
the snapshot's units (m°C -> °C, µW -> W, pwm -> %, the current DPM level)."""

from __future__ import annotations

import pytest

from sentry_light.sources.amd import current_level_mhz, pwm_pct, read_amd
from tests.sentry_light.conftest import TESTDATA

SYSFS = TESTDATA / "sysfs"


def test_two_amd_cards_beside_an_nvidia_one():
    reading = read_amd(SYSFS / "two-amd-one-nvidia")
    assert reading.absent is None
    rx6800, rx580 = reading.gpus  # card2 (nvidia), the DP connector and renderD128 are not amdgpu cards
    assert (rx6800.bus_id, rx6800.index, rx6800.vendor, rx6800.name) == ("0000:03:00.0", 0, "amd", "AMD Radeon RX 6800")
    assert (rx6800.temp_c, rx6800.mem_temp_c) == (61.0, 84.0)  # edge and mem by label; junction left out
    assert (rx6800.power_w, rx6800.power_limit_w) == (pytest.approx(143.25), pytest.approx(203.0))
    assert (rx6800.fan_pct, rx6800.fan_rpm) == (60.0, 1830)
    assert (rx6800.core_clock_mhz, rx6800.mem_clock_mhz, rx6800.load_pct) == (1300.0, 1075.0, 99.0)
    # The older card: temp1 without a label is the edge, power1_input only, pwm1_max absent (255).
    assert (rx580.bus_id, rx580.name, rx580.temp_c, rx580.mem_temp_c) == ("0000:0a:00.0", None, 58.5, None)
    assert (rx580.power_w, rx580.power_limit_w) == (pytest.approx(98.0), None)
    assert (rx580.fan_pct, rx580.fan_rpm, rx580.core_clock_mhz, rx580.mem_clock_mhz) == (50.2, None, 1340.0, None)


@pytest.mark.parametrize("tree", ["nvidia-only", "does-not-exist"])
def test_no_amd_card_is_one_clear_line(tree):
    reading = read_amd(SYSFS / tree)
    assert reading.gpus == []
    assert reading.absent == f"AMD: no GPU driven by amdgpu under {SYSFS / tree / 'class' / 'drm'}"


def test_unit_helpers():
    assert current_level_mhz("0: 300Mhz\n1: 1340Mhz *\n") == 1340.0
    assert current_level_mhz("0: 300Mhz\n1: 1340Mhz\n") is None  # no level marked: unknown
    assert pwm_pct("255", "255") == 100.0 and pwm_pct("0", None) == 0.0 and pwm_pct(None, "255") is None
