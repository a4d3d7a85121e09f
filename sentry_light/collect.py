"""One collection: every source at once, each under its own timeout, merged into a ``RigSnapshot``.

Sources: NVML, amdgpu sysfs, the host (blocking calls, each in a thread), and every configured
mining program's API. A source that fails or overruns becomes one sentence in ``faults`` and the
others are kept.

Matching a program's GPUs to the hardware (``merge_program``), in order:

1. the program's bus id equals a hardware GPU's (every spelling is normalized first by ``busid``:
   ``01:00.0``, bus 1, ``"1:0"``, ``00000000:01:00.0`` all become ``0000:01:00.0``);
2. else the PCI bus number alone, when exactly one hardware GPU is on that bus (a program that gives
   the bus number cannot know the domain or the device);
3. a program that gives no bus id but numbers the GPUs of one vendor in bus order (TeamRedMiner):
   its GPU n is the n-th GPU of that vendor sorted by bus id, but only when it numbers no more GPUs
   than the hardware shows (a card that fell off the bus would shift every later one, so then none
   is matched and a fault says why);
4. a bus id no hardware source knows (no NVIDIA driver, a card the sysfs tree lacks) adds a GPU
   with what the program says about it, unless several hardware GPUs share its bus number (then it
   cannot be told which, and it counts only in its program's total);
5. a GPU with neither bus id nor vendor order (old T-Rex, NBMiner before v2x) counts only in its
   program's total.

The hardware's own figures win; a program's temperature, fan, power and clocks fill only what the
hardware source left None.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from collectors.algorithms import canonical
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot, algorithm_totals
from sentry_light import busid
from sentry_light.config import SentryConfig
from sentry_light.sources import amd, host, nvidia
from sentry_light.sources.programs import PROGRAMS
from sentry_light.sources.programs.base import ProgramGpu, ProgramReading
from sentry_light.sources.programs.fetch import http_client, read_program

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a program may tell about a GPU beyond its hashrate and shares, used where the hardware is silent.
_FILLED_FROM_PROGRAM = ("name", "temp_c", "mem_temp_c", "fan_pct", "fan_rpm", "power_w", "core_clock_mhz",
                        "mem_clock_mhz")


def default_nvml() -> ModuleType | None:
    """The real ``pynvml``, or None when nvidia-ml-py is not installed."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


@dataclass
class Collector:
    """Collections in a row: keeps the CPU times between them, so CPU load is the interval's average."""

    config: SentryConfig
    nvml: ModuleType | None  # pynvml (``default_nvml()``), a fake in tests; None: not installed
    _cpu_times: Any = None

    async def collect(self) -> RigSnapshot:
        config, timeout = self.config, self.config.timeout_s
        started = time.time()
        faults: list[str] = []
        async with http_client(timeout) as client:
            nvidia_task = self._guard(nvidia.SOURCE, self._nvidia(), timeout, faults)
            amd_task = self._guard(amd.SOURCE, asyncio.to_thread(amd.read_amd, config.sysfs_root), timeout, faults)
            host_task = self._guard("Host", asyncio.to_thread(host.read_host, config.proc_root, self._cpu_times),
                                    timeout + host.FIRST_SAMPLE_S, faults)
            program_tasks = [self._guard(PROGRAMS[t.name].title, read_program(
                PROGRAMS[t.name], t.host, t.port, client=client, timeout=timeout), timeout + 1.0, faults)
                for t in config.programs]
            nvidia_reading, amd_reading, host_result, *program_readings = await asyncio.gather(
                nvidia_task, amd_task, host_task, *program_tasks)
        snapshot = RigSnapshot(hostname=config.hostname or socket.gethostname(), collected_at=started, faults=faults)
        if host_result is not None:
            host_reading, self._cpu_times = host_result
            snapshot.cpu = host_reading.cpu
            snapshot.uptime_s, snapshot.load_1m = host_reading.uptime_s, host_reading.load_1m
            snapshot.memory_used_pct = host_reading.memory_used_pct
            snapshot.disk_used_pct = host_reading.disk_used_pct
        for reading in (nvidia_reading, amd_reading):
            if reading is not None:
                snapshot.gpus.extend(reading.gpus)
                snapshot.absent.extend([reading.absent] if reading.absent else [])
        if nvidia_reading is not None:
            faults.extend(nvidia_reading.faults)
        snapshot.gpus.sort(key=lambda g: g.bus_id)
        for target, reading in zip(config.programs, program_readings):
            if reading is None:  # its guard already wrote the fault
                error = f"its API on {target.host}:{target.port} could not be read"
                reading = ProgramReading(MinerProgram(name=target.name, port=target.port, error=error))
            for part in (reading, *reading.more):
                snapshot.programs.append(part.program)
                faults.extend(merge_program(snapshot, part))
        snapshot.hashrate_by_algorithm_hs = algorithm_totals(snapshot.programs)
        return snapshot

    async def _nvidia(self) -> nvidia.NvidiaReading:
        if self.nvml is None:
            return nvidia.NvidiaReading(absent=f"{nvidia.SOURCE}: no driver bindings (nvidia-ml-py is not installed)")
        return await asyncio.to_thread(nvidia.read_nvidia, self.nvml)

    @staticmethod
    async def _guard(source: str, work: Awaitable[T], timeout: float, faults: list[str]) -> T | None:
        """``work``'s result, or None with one fault sentence: a source that fails stops no other."""
        try:
            async with asyncio.timeout(timeout):
                return await work
        except TimeoutError:
            faults.append(f"{source}: no answer within {timeout:g} s")
        except Exception as exc:  # the source's boundary: the collection goes on without it
            log.debug("%s failed", source, exc_info=True)
            faults.append(f"{source}: reading failed ({type(exc).__name__}: {exc})")
        return None


async def collect(config: SentryConfig, *, nvml: ModuleType | None = None) -> RigSnapshot:
    """One collection with a fresh ``Collector`` (CPU load sampled over ``host.FIRST_SAMPLE_S``)."""
    return await Collector(config, nvml if nvml is not None else default_nvml()).collect()


def merge_program(snapshot: RigSnapshot, reading: ProgramReading) -> list[str]:
    """Put one program's per-GPU and CPU figures into ``snapshot``; the faults that matching found."""
    program = reading.program
    if not program.api_up:
        return []
    faults: list[str] = []
    index_vendor = PROGRAMS[program.name].index_vendor if program.name in PROGRAMS else None
    by_index = _vendor_order(snapshot.gpus, index_vendor, reading.gpus, program, faults) if index_vendor else {}
    for reported in reading.gpus:
        if reported.bus_id is not None:
            gpu = _find(snapshot.gpus, reported.bus_id)
            if gpu is None and not _on_bus(snapshot.gpus, reported.bus_id):
                gpu = Gpu(bus_id=reported.bus_id)
                snapshot.gpus.append(gpu)
                snapshot.gpus.sort(key=lambda g: g.bus_id)
        else:
            gpu = by_index.get(reported.index)
        if gpu is not None:
            _attribute(gpu, reported, program)
    _add_hashrate(snapshot.cpu, reading.cpu_hashrate_hs, program.algorithm)
    return faults


def _find(gpus: list[Gpu], bus_id: str) -> Gpu | None:
    exact = [g for g in gpus if g.bus_id == bus_id]
    if exact:
        return exact[0]
    same_bus = _on_bus(gpus, bus_id)
    return same_bus[0] if len(same_bus) == 1 else None


def _on_bus(gpus: list[Gpu], bus_id: str) -> list[Gpu]:
    return [g for g in gpus if busid.bus_number(g.bus_id) == busid.bus_number(bus_id)]


def _vendor_order(gpus: list[Gpu], vendor: str, reported: list[ProgramGpu], program: MinerProgram,
                  faults: list[str]) -> dict[int | None, Gpu]:
    ordered = sorted((g for g in gpus if g.vendor == vendor), key=lambda g: g.bus_id)
    indexes = [r.index for r in reported if r.index is not None]
    if indexes and max(indexes) >= len(ordered):
        faults.append(f"{PROGRAMS[program.name].title} numbers {max(indexes) + 1} GPUs but the rig shows {len(ordered)} "
                      f"{vendor.upper()} GPUs, so its GPUs are not matched to bus ids")
        return {}
    return dict(enumerate(ordered))


def _add_hashrate(device: Gpu | Cpu, hashrate_hs: float | None, algorithm: str | None) -> None:
    """A program's hashrate on a device. Two programs on one device (rare) add up when they mine one
    algorithm; a second algorithm's cannot be added to the first's, and is in its program's record only."""
    if hashrate_hs is None:
        return
    if device.hashrate_hs is None:
        device.hashrate_hs, device.algorithm = hashrate_hs, algorithm
    elif canonical(algorithm) is not None and canonical(algorithm) == canonical(device.algorithm):
        device.hashrate_hs += hashrate_hs


def _attribute(gpu: Gpu, reported: ProgramGpu, program: MinerProgram) -> None:
    """The program's figures for one GPU; two programs' shares on one GPU (rare) add up."""
    _add_hashrate(gpu, reported.hashrate_hs, program.algorithm)
    for name in ("accepted", "rejected"):
        value = getattr(reported, name)
        if value is not None:
            setattr(gpu, name, (getattr(gpu, name) or 0) + value)
    gpu.program = program.name if gpu.program in (None, program.name) else f"{gpu.program}+{program.name}"
    for name in _FILLED_FROM_PROGRAM:
        if getattr(gpu, name) is None:
            setattr(gpu, name, getattr(reported, name))

