"""NVML through the fake: units, absent fields, lost GPUs, no driver; NVML always shut down again."""

from __future__ import annotations

import pynvml
import pytest

from sentry_light.sources.nvidia import read_nvidia
from tests.sentry_light.fake_nvml import FakeGpu, FakeNvml


def test_the_fake_raises_pynvmls_own_classes():
    nvml = FakeNvml(gpus=[FakeGpu("0000:01:00.0", lost=True)])
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        nvml.nvmlDeviceGetCount()
    nvml.nvmlInit()
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        nvml.nvmlDeviceGetPowerUsage(nvml.nvmlDeviceGetHandleByIndex(0))


def test_every_field_in_the_snapshots_unit():
    nvml = FakeNvml(gpus=[FakeGpu("0000:0a:00.0", name="NVIDIA GeForce RTX 3080", temp_c=64, mem_temp_c=88, fan_pct=71,
                                  power_mw=231_480, power_limit_mw=250_000, core_clock_mhz=1440, mem_clock_mhz=9501,
                                  load_pct=97)])
    reading = read_nvidia(nvml)
    assert (reading.faults, reading.absent) == ([], None)
    (gpu,) = reading.gpus
    assert (gpu.bus_id, gpu.index, gpu.vendor, gpu.name) == ("0000:0a:00.0", 0, "nvidia", "NVIDIA GeForce RTX 3080")
    assert (gpu.temp_c, gpu.mem_temp_c, gpu.fan_pct, gpu.load_pct) == (64, 88, 71, 97)
    assert (gpu.power_w, gpu.power_limit_w) == (pytest.approx(231.48), 250.0)  # mW -> W
    assert (gpu.core_clock_mhz, gpu.mem_clock_mhz) == (1440, 9501)
    assert nvml.initialized == 0 and nvml.calls == ["nvmlInit", "nvmlShutdown"]


def test_an_unsupported_field_is_absent_not_zero():
    nvml = FakeNvml(gpus=[FakeGpu("0000:01:00.0", fan_pct=None, power_mw=None, mem_temp_c=None)],
                    bytes_bus_id=True)
    (gpu,) = read_nvidia(nvml).gpus
    assert (gpu.fan_pct, gpu.power_w, gpu.mem_temp_c) == (None, None, None)
    assert gpu.bus_id == "0000:01:00.0" and gpu.temp_c == 61  # the rest is read as usual


@pytest.mark.parametrize("unknown, fault", [(False, "GPU 0000:03:00.0 lost"),
                                            (True, "GPU 0000:03:00.0 lost (Unknown Error)")])
def test_a_lost_gpu_is_a_fault_and_the_others_are_read(unknown, fault):
    nvml = FakeNvml(gpus=[FakeGpu("0000:01:00.0"), FakeGpu("0000:03:00.0", lost=not unknown, unknown=unknown),
                          FakeGpu("0000:05:00.0")])
    reading = read_nvidia(nvml)
    assert reading.faults == [fault]
    assert [g.bus_id for g in reading.gpus] == ["0000:01:00.0", "0000:03:00.0", "0000:05:00.0"]
    lost = reading.gpus[1]
    assert (lost.name, lost.temp_c, lost.power_w) == (None, None, None)
    assert reading.gpus[2].power_w == pytest.approx(150.25)
    assert nvml.initialized == 0


@pytest.mark.parametrize("nvml, sentence", [
    (FakeNvml(library=False), "NVIDIA: no driver (libnvidia-ml.so.1 not found)"),
    (FakeNvml(driver=False), "NVIDIA: no driver (the nvidia kernel module is not loaded)"),
])
def test_no_driver_is_one_clear_line(nvml, sentence):
    reading = read_nvidia(nvml)
    assert (reading.absent, reading.gpus, reading.faults) == (sentence, [], [])


def test_the_real_library_reports_what_this_machine_has():
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_LibraryNotFound:
        assert read_nvidia(pynvml).absent == "NVIDIA: no driver (libnvidia-ml.so.1 not found)"
    except pynvml.NVMLError:
        # the library without a usable kernel driver: absent too, in one sentence, no exception
        reading = read_nvidia(pynvml)
        assert reading.absent and reading.absent.startswith("NVIDIA: ") and reading.gpus == []
    else:
        pynvml.nvmlShutdown()
        reading = read_nvidia(pynvml)  # a machine with a GPU: every card found, keyed by its bus id
        assert reading.absent is None and reading.gpus
        assert all(gpu.bus_id.count(":") == 2 for gpu in reading.gpus)
        reading = read_nvidia(pynvml)  # a machine with a GPU: whatever it has, read without an error
        assert reading.absent is None and all(g.bus_id.startswith("0000:") for g in reading.gpus)
