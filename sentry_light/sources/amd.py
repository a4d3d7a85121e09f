"""AMD GPUs through the amdgpu driver's sysfs, under ``sysfs_root`` (``/sys``; tests give a fake tree).

For each ``class/drm/cardN`` whose ``device/uevent`` says ``DRIVER=amdgpu``:

| file (under ``device/``) | unit | field |
| --- | --- | --- |
| ``uevent`` ``PCI_SLOT_NAME`` | ``0000:03:00.0`` | ``bus_id`` |
| ``product_name`` (where the VBIOS has one) | text | ``name`` |
| ``hwmon/hwmon*/temp*_input``, by ``temp*_label`` ``edge`` / ``mem`` | m°C | ``temp_c``, ``mem_temp_c`` |
| ``hwmon/hwmon*/power1_average``, else ``power1_input`` (newer kernels) | µW | ``power_w`` |
| ``hwmon/hwmon*/power1_cap`` | µW | ``power_limit_w`` |
| ``hwmon/hwmon*/pwm1`` / ``pwm1_max`` | 0-255 | ``fan_pct`` |
| ``hwmon/hwmon*/fan1_input`` | rpm | ``fan_rpm`` |
| ``pp_dpm_sclk``, ``pp_dpm_mclk``: the level marked ``*`` | MHz | ``core_clock_mhz``, ``mem_clock_mhz`` |
| ``gpu_busy_percent`` | % | ``load_pct`` |

A file that is missing or unreadable leaves its field None: cards differ in what they expose, and
a hung GPU answers reads with EIO. The junction (hotspot) sensor has no field in the snapshot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from collectors import units
from collectors.model import Gpu
from sentry_light import busid

SOURCE = "AMD"
_CARD = re.compile(r"^card(\d+)$")
_CURRENT_LEVEL = re.compile(r"^\s*\d+:\s*(\d+(?:\.\d+)?)\s*mhz\s*\*\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class AmdReading:
    gpus: list[Gpu] = field(default_factory=list)
    absent: str | None = None


def millidegrees_to_c(value: object) -> float | None:
    result = units.number(value)
    return None if result is None else units.temperature_c(result / 1000.0)


def microwatts_to_w(value: object) -> float | None:
    result = units.number(value)
    return None if result is None or result < 0 else result / 1e6


def current_level_mhz(table: str | None) -> float | None:
    """The clock of the level marked ``*`` in ``pp_dpm_sclk`` (``1: 1340Mhz *``)."""
    match = _CURRENT_LEVEL.search(table or "")
    return float(match.group(1)) if match else None


def pwm_pct(pwm: object, pwm_max: object) -> float | None:
    value, top = units.number(pwm), units.number(pwm_max)
    top = 255.0 if top is None else top  # the hwmon ABI's range when pwm1_max is absent
    return None if value is None or top <= 0 else round(100.0 * value / top, 1)


def read_amd(sysfs_root: Path) -> AmdReading:
    drm = Path(sysfs_root) / "class" / "drm"
    cards = sorted((int(m.group(1)), p) for p in _children(drm) if (m := _CARD.match(p.name)))
    reading = AmdReading()
    for number, card in cards:
        gpu = read_card(card / "device", number)
        if gpu is not None:
            reading.gpus.append(gpu)
    if not reading.gpus:
        reading.absent = f"{SOURCE}: no GPU driven by amdgpu under {drm}"
    reading.gpus.sort(key=lambda g: g.bus_id)
    return reading


def read_card(device: Path, number: int) -> Gpu | None:
    """The card's figures, or None when amdgpu does not drive it (an NVIDIA or Intel card)."""
    uevent = dict(line.partition("=")[::2] for line in (_read(device / "uevent") or "").splitlines())
    bus = busid.bus_id(uevent.get("PCI_SLOT_NAME"))
    if uevent.get("DRIVER") != "amdgpu" or bus is None:
        return None
    hwmon = next(iter(sorted(_children(device / "hwmon"))), None)
    gpu = Gpu(bus_id=bus, index=number, vendor="amd", name=units.text(_read(device / "product_name")),
              core_clock_mhz=current_level_mhz(_read(device / "pp_dpm_sclk")),
              mem_clock_mhz=current_level_mhz(_read(device / "pp_dpm_mclk")),
              load_pct=units.number(_read(device / "gpu_busy_percent")))
    if hwmon is None:
        return gpu
    temps = _temperatures(hwmon)
    gpu.temp_c, gpu.mem_temp_c = temps.get("edge"), temps.get("mem")
    gpu.power_w = microwatts_to_w(_read(hwmon / "power1_average") or _read(hwmon / "power1_input"))
    gpu.power_limit_w = microwatts_to_w(_read(hwmon / "power1_cap"))
    gpu.fan_pct = pwm_pct(_read(hwmon / "pwm1"), _read(hwmon / "pwm1_max"))
    gpu.fan_rpm = units.integer(_read(hwmon / "fan1_input"))
    return gpu


def _temperatures(hwmon: Path) -> dict[str, float]:
    """°C by sensor label; an unlabelled ``temp1`` (older kernels) is the edge sensor."""
    found: dict[str, float] = {}
    for path in sorted(hwmon.glob("temp*_input")):
        sensor = path.name.removesuffix("_input")
        label = (_read(hwmon / f"{sensor}_label") or ("edge" if sensor == "temp1" else sensor)).lower()
        value = millidegrees_to_c(_read(path))
        if value is not None:
            found.setdefault(label, value)
    return found


def _children(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:
        return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()
    except (OSError, ValueError):
        return None
