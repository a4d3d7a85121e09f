"""A stand-in for the ``pynvml`` module, with NVML's documented behaviour and pynvml's own error classes.

Errors are raised the way pynvml raises them, ``NVMLError(code)``, which the real package turns into
its subclass (``NVMLError_GpuIsLost`` ...), so the code under test catches the real types:

- ``nvmlInit``: ``LibraryNotFound`` without libnvidia-ml.so.1, ``DriverNotLoaded`` without the module;
- any call before ``nvmlInit`` (or after the last ``nvmlShutdown``): ``Uninitialized``;
- ``nvmlDeviceGetHandleByIndex`` past the count: ``InvalidArgument``;
- a field the board lacks: ``NotSupported`` (field values: ``nvmlReturn`` set in the value, not raised);
- a lost GPU: ``GpuIsLost`` from every call on its handle but ``nvmlDeviceGetPciInfo``, which NVML
  answers from what it cached at init (``unknown=True`` gives ``Unknown`` instead, as a hung GPU does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml


@dataclass
class FakeGpu:
    bus_id: str  # "0000:01:00.0"; NVML prints it with an 8-digit domain
    name: str = "NVIDIA GeForce RTX 3070"
    temp_c: int = 61
    mem_temp_c: int | None = None  # None: the board has no memory sensor (GeForce)
    fan_pct: int | None = 55  # None: passively cooled
    power_mw: int | None = 150_250
    power_limit_mw: int = 220_000
    core_clock_mhz: int = 1500
    mem_clock_mhz: int = 7000
    load_pct: int = 100
    lost: bool = False
    unknown: bool = False


@dataclass
class FakeNvml:
    gpus: list[FakeGpu] = field(default_factory=list)
    library: bool = True  # libnvidia-ml.so.1 is there
    driver: bool = True  # the kernel module is loaded
    bytes_bus_id: bool = False  # older pynvml returns bytes
    initialized: int = 0
    calls: list[str] = field(default_factory=list)

    # What the code under test reads from the module besides the functions.
    NVMLError = pynvml.NVMLError
    NVMLError_LibraryNotFound = pynvml.NVMLError_LibraryNotFound
    NVMLError_DriverNotLoaded = pynvml.NVMLError_DriverNotLoaded
    NVMLError_NotSupported = pynvml.NVMLError_NotSupported
    NVMLError_GpuIsLost = pynvml.NVMLError_GpuIsLost
    NVMLError_Unknown = pynvml.NVMLError_Unknown
    NVML_SUCCESS = pynvml.NVML_SUCCESS
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_CLOCK_GRAPHICS = pynvml.NVML_CLOCK_GRAPHICS
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM
    NVML_FI_DEV_MEMORY_TEMP = pynvml.NVML_FI_DEV_MEMORY_TEMP

    def gpu(self, bus_id: str) -> FakeGpu:
        return next(g for g in self.gpus if g.bus_id == bus_id)

    # -- the library's lifecycle -------------------------------------------------------------

    def nvmlInit(self) -> None:
        self.calls.append("nvmlInit")
        if not self.library:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
        if not self.driver:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED)
        self.initialized += 1

    def nvmlShutdown(self) -> None:
        self.calls.append("nvmlShutdown")
        self._ready()
        self.initialized -= 1

    def nvmlDeviceGetCount(self) -> int:
        self._ready()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._ready()
        if not 0 <= index < len(self.gpus):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    # -- per device ---------------------------------------------------------------------------

    def nvmlDeviceGetPciInfo(self, handle: FakeGpu) -> Any:
        self._ready()
        domain, rest = handle.bus_id.split(":", 1)
        bus_id = f"{int(domain, 16):08X}:{rest.upper()}"
        return SimpleNamespace(busId=bus_id.encode() if self.bytes_bus_id else bus_id)

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str:
        return self._value(handle, handle.name)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return self._value(handle, handle.temp_c)

    def nvmlDeviceGetFieldValues(self, handle: FakeGpu, field_ids: list[int]) -> list[Any]:
        self._value(handle, True)
        assert field_ids == [pynvml.NVML_FI_DEV_MEMORY_TEMP]
        supported = handle.mem_temp_c is not None
        return [SimpleNamespace(
            fieldId=field_ids[0],
            nvmlReturn=pynvml.NVML_SUCCESS if supported else pynvml.NVML_ERROR_NOT_SUPPORTED,
            value=SimpleNamespace(uiVal=handle.mem_temp_c if supported else 0))]

    def nvmlDeviceGetFanSpeed(self, handle: FakeGpu) -> int:
        return self._value(handle, handle.fan_pct)

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:
        return self._value(handle, handle.power_mw)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:
        return self._value(handle, handle.power_limit_mw)

    def nvmlDeviceGetClockInfo(self, handle: FakeGpu, clock: int) -> int:
        return self._value(handle, {pynvml.NVML_CLOCK_GRAPHICS: handle.core_clock_mhz,
                                    pynvml.NVML_CLOCK_MEM: handle.mem_clock_mhz}[clock])

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> Any:
        return SimpleNamespace(gpu=self._value(handle, handle.load_pct), memory=40)

    # -- NVML's rules ---------------------------------------------------------------------------

    def _ready(self) -> None:
        if self.initialized <= 0:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)

    def _value(self, handle: FakeGpu, value: Any) -> Any:
        self._ready()
        if handle.unknown:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNKNOWN)
        if handle.lost:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        if value is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return value
