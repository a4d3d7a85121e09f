"""The CPU and the host through psutil, plus ``/proc/cpuinfo`` under ``proc_root`` for the CPU's name.

The choices are pure functions, tested on fake inputs: ``cpu_model`` (from cpuinfo's text),
``cpu_temperature`` (from ``psutil.sensors_temperatures()``'s mapping) and ``busy_pct`` (from two
``psutil.cpu_times()`` samples). CPU load is measured between two collections, so in the service it
is the average over the interval; a first collection samples over ``FIRST_SAMPLE_S``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from collectors import units
from collectors.model import Cpu

FIRST_SAMPLE_S = 0.25
# Where the CPU's own temperature is, in order: (hwmon driver, labels, best first). A chip listed
# without one of its labels (coretemp with per-core sensors only, cpu_thermal's unlabelled zone)
# gives its hottest reading.
TEMPERATURE_SENSORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coretemp", ("Package id",)),  # Intel: "Package id 0", "Package id 1" on two sockets
    ("k10temp", ("Tdie", "Tctl")),  # AMD: Tdie is the die; Tctl carries an offset on some Ryzen 1000/2000
    ("zenpower", ("Tdie", "Tctl")),  # the out-of-tree driver for Zen
    ("cpu_thermal", ()),  # ARM boards (Raspberry Pi)
)


@dataclass
class HostReading:
    cpu: Cpu = field(default_factory=Cpu)
    uptime_s: int | None = None
    load_1m: float | None = None
    memory_used_pct: float | None = None
    disk_used_pct: float | None = None


def cpu_model(cpuinfo: str) -> str | None:
    """The CPU's name: x86's ``model name``, else ARM's ``Model`` or ``Hardware``."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    for key in ("model name", "Model", "Hardware"):
        if fields.get(key):
            return " ".join(fields[key].split())
    return None


def cpu_temperature(sensors: Mapping[str, Sequence[Any]]) -> float | None:
    """°C of the CPU from psutil's ``{chip: [shwtemp(label, current, ...)]}``, or None."""
    for chip, labels in TEMPERATURE_SENSORS:
        entries = [(str(e.label or ""), units.temperature_c(e.current)) for e in sensors.get(chip, ())]
        entries = [(label, value) for label, value in entries if value is not None]
        if not entries:
            continue
        for wanted in labels:
            chosen = [value for label, value in entries if label.startswith(wanted)]
            if chosen:
                return max(chosen)
        return max(value for _, value in entries)
    return None


def busy_pct(before: Any, after: Any) -> float | None:
    """% of CPU time not idle between two ``psutil.cpu_times()`` samples (guest time is in user)."""
    def busy_and_total(times: Any) -> tuple[float, float]:
        values = times._asdict()
        whole = sum(values.values()) - values.get("guest", 0.0) - values.get("guest_nice", 0.0)
        return whole - values.get("idle", 0.0) - values.get("iowait", 0.0), whole
    busy_before, total_before = busy_and_total(before)
    busy_after, total_after = busy_and_total(after)
    elapsed = total_after - total_before
    if elapsed <= 0:
        return None
    return round(min(100.0, max(0.0, 100.0 * (busy_after - busy_before) / elapsed)), 1)


def read_host(proc_root: Path, previous_times: Any = None) -> tuple[HostReading, Any]:
    """The host now, and the CPU times to pass as ``previous_times`` next time."""
    if previous_times is None:
        previous_times = psutil.cpu_times()
        time.sleep(FIRST_SAMPLE_S)
    times = psutil.cpu_times()
    reading = HostReading()
    reading.cpu = Cpu(model=cpu_model(_read(Path(proc_root) / "cpuinfo")), threads=psutil.cpu_count(),
                      load_pct=busy_pct(previous_times, times), temp_c=_temperature(),
                      frequency_mhz=_frequency())
    reading.uptime_s = max(0, int(time.time() - psutil.boot_time()))
    reading.load_1m = round(os.getloadavg()[0], 2)
    reading.memory_used_pct = psutil.virtual_memory().percent
    reading.disk_used_pct = psutil.disk_usage("/").percent
    return reading, times


def _temperature() -> float | None:
    # Not every platform has sensors_temperatures, and it reads hwmon files that may vanish.
    try:
        return cpu_temperature(psutil.sensors_temperatures())
    except (AttributeError, OSError):
        return None


def _frequency() -> float | None:
    try:
        freq = psutil.cpu_freq()
    except (NotImplementedError, OSError):
        return None
    return units.number(freq.current) if freq is not None else None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
