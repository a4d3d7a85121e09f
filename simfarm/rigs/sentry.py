"""What a rig sentry needs to watch an emulated rig, for the tests and the demo: the sentry's reader
of each program, and the amdgpu sysfs tree the rig's AMD cards would have (simfarm serves only the
programs' APIs; a sentry finds the hardware in sysfs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# simfarm's program names where the sentry's reader is called otherwise (one reader, both layouts).
READER_OF = {"lolminer_legacy": "lolminer", "srbminer_multi": "srbminer"}


def sentry_programs(row: dict[str, Any]) -> list[tuple[str, int]]:
    """(sentry reader, port) of each program in a rig's inventory row, in the row's order."""
    return [(READER_OF.get(p["name"], p["name"]), p["port"]) for p in row["programs"]]


def write_amd_sysfs(root: Path, gpus: list[dict[str, Any]], temp_c: float = 60.0) -> Path:
    """A minimal amdgpu tree under ``root`` for the inventory's AMD GPUs, one card each, in bus order."""
    drm = root / "class" / "drm"
    drm.mkdir(parents=True, exist_ok=True)
    for number, gpu in enumerate(g for g in gpus if g["vendor"] == "amd"):
        device = drm / f"card{number}" / "device"
        hwmon = device / "hwmon" / f"hwmon{number}"
        hwmon.mkdir(parents=True)
        (device / "uevent").write_text(f"DRIVER=amdgpu\nPCI_SLOT_NAME={gpu['bus_id']}\n")
        (hwmon / "temp1_input").write_text(f"{int(temp_c * 1000)}\n")
        (hwmon / "temp1_label").write_text("edge\n")
        (hwmon / "power1_average").write_text("120000000\n")
    return root
