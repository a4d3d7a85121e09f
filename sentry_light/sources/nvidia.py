"""NVIDIA GPUs through NVML (``nvidia-ml-py``, imported as ``pynvml``), keyed by PCI bus id.

``read_nvidia(nvml)`` takes the module, so tests hand it a fake with the library's behaviour and
error classes. One call initialises NVML, reads every GPU and shuts NVML down again (what
``nvidia-smi`` does per run), so a driver installed or upgraded while the sentry runs is picked up.

- No library or no kernel module: the source is absent, with one sentence saying which.
- Each field is read in its own try: ``NVMLError_NotSupported`` (a passive card has no fan, a
  GeForce no memory sensor) and any other refusal of one field leave that field None, never 0.
- ``NVMLError_GpuIsLost`` or ``NVMLError_Unknown`` on a device: it fell off the bus or hung; a fault
  sentence names it by bus id, its row stays in the table with what was read before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from collectors import units
from collectors.model import Gpu
from sentry_light import busid

log = logging.getLogger(__name__)

SOURCE = "NVIDIA"


@dataclass
class NvidiaReading:
    gpus: list[Gpu] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    absent: str | None = None  # the sentence when the rig has no usable NVIDIA driver


def mw_to_w(value: Any) -> float | None:
    """NVML reports power in milliwatts."""
    result = units.number(value)
    return None if result is None or result < 0 else result / 1000.0


def memory_temperature(nvml: ModuleType, handle: Any) -> Any:
    """The memory's temperature, a field value only some boards fill (HBM; not GeForce's GDDR6X)."""
    value = nvml.nvmlDeviceGetFieldValues(handle, [nvml.NVML_FI_DEV_MEMORY_TEMP])[0]
    if value.nvmlReturn != nvml.NVML_SUCCESS:
        raise nvml.NVMLError(value.nvmlReturn)
    return value.value.uiVal


def _sensor_c(value: Any) -> float | None:
    """°C; a board without the sensor may fill the field with 0."""
    result = units.temperature_c(value)
    return None if result == 0 else result


# (Gpu field, how to read it from NVML, the conversion to the snapshot's unit)
FIELDS: tuple[tuple[str, Callable[[ModuleType, Any], Any], Callable[[Any], Any]], ...] = (
    ("name", lambda nvml, h: nvml.nvmlDeviceGetName(h), lambda v: units.text(_str(v))),
    ("temp_c", lambda nvml, h: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU), units.temperature_c),
    ("mem_temp_c", memory_temperature, _sensor_c),
    ("fan_pct", lambda nvml, h: nvml.nvmlDeviceGetFanSpeed(h), units.number),
    ("power_w", lambda nvml, h: nvml.nvmlDeviceGetPowerUsage(h), mw_to_w),
    ("power_limit_w", lambda nvml, h: nvml.nvmlDeviceGetEnforcedPowerLimit(h), mw_to_w),
    ("core_clock_mhz", lambda nvml, h: nvml.nvmlDeviceGetClockInfo(h, nvml.NVML_CLOCK_GRAPHICS), units.number),
    ("mem_clock_mhz", lambda nvml, h: nvml.nvmlDeviceGetClockInfo(h, nvml.NVML_CLOCK_MEM), units.number),
    ("load_pct", lambda nvml, h: nvml.nvmlDeviceGetUtilizationRates(h).gpu, units.number),
)


def read_nvidia(nvml: ModuleType) -> NvidiaReading:
    try:
        nvml.nvmlInit()
    except nvml.NVMLError_LibraryNotFound:
        return NvidiaReading(absent=f"{SOURCE}: no driver (libnvidia-ml.so.1 not found)")
    except nvml.NVMLError_DriverNotLoaded:
        return NvidiaReading(absent=f"{SOURCE}: no driver (the nvidia kernel module is not loaded)")
    except nvml.NVMLError as exc:
        # Installed but unusable (a driver upgraded without a reboot, no permission): a fault, not absent.
        return NvidiaReading(faults=[f"{SOURCE}: NVML does not start ({exc})"])
    try:
        return _read_gpus(nvml)
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError as exc:
            log.debug("nvmlShutdown failed: %s", exc)


def _read_gpus(nvml: ModuleType) -> NvidiaReading:
    reading = NvidiaReading()
    try:
        count = nvml.nvmlDeviceGetCount()
    except nvml.NVMLError as exc:
        reading.faults.append(f"{SOURCE}: NVML does not count the GPUs ({exc})")
        return reading
    lost_errors = (nvml.NVMLError_GpuIsLost, nvml.NVMLError_Unknown)
    for index in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            bus = busid.bus_id(_str(nvml.nvmlDeviceGetPciInfo(handle).busId))
        except lost_errors as exc:
            reading.faults.append(f"NVIDIA GPU {index} lost before its bus id could be read ({exc})")
            continue
        except nvml.NVMLError as exc:
            reading.faults.append(f"NVIDIA GPU {index} cannot be read ({exc})")
            continue
        if bus is None:
            reading.faults.append(f"NVIDIA GPU {index} has a bus id NVML cannot spell")
            continue
        gpu = Gpu(bus_id=bus, index=index, vendor="nvidia")
        reading.gpus.append(gpu)
        for name, read, convert in FIELDS:
            try:
                setattr(gpu, name, convert(read(nvml, handle)))
            except lost_errors as exc:
                lost = f"GPU {bus} lost" if isinstance(exc, nvml.NVMLError_GpuIsLost) else f"GPU {bus} lost ({exc})"
                reading.faults.append(lost)
                break
            except nvml.NVMLError as exc:
                log.debug("GPU %s: %s not read: %s", bus, name, exc)
    return reading


def _str(value: Any) -> Any:
    """pynvml returns bytes from older bindings and str from newer ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
