"""The sentry's test set-up: our testdata, fake sysfs trees built from a rig's inventory, the NVML fake
for a rig, and a config pointing every reader at a simulated rig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collectors.model import Gpu
from sentry_light.config import ProgramTarget, SentryConfig
from sentry_light.sources.programs import PROGRAMS
from tests.sentry_light.fake_nvml import FakeGpu, FakeNvml

TESTDATA = Path(__file__).parent / "testdata"
# simfarm's program names where the sentry's reader is called otherwise (one reader, both layouts).
READER_OF = {"lolminer_legacy": "lolminer", "srbminer_multi": "srbminer"}


def endpoint_file(endpoint: str) -> str:
    """``/2/summary`` -> ``2_summary.json``, ``/`` -> ``root.json``, RPC ``devs`` -> ``devs.json``."""
    return (endpoint.strip("/").replace("/", "_") or "root") + ".json"


def load_replies(folder: Path, program: str) -> dict[str, Any]:
    return {endpoint: json.loads((folder / endpoint_file(endpoint)).read_text())
            for endpoint in PROGRAMS[program].endpoints}


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


def fake_nvml_for(gpus: list[dict[str, Any]]) -> FakeNvml:
    """NVML as the rig's driver would show it; without NVIDIA GPUs, a rig with no NVIDIA driver."""
    nvidia = [FakeGpu(bus_id=g["bus_id"], name=g["name"]) for g in gpus if g["vendor"] == "nvidia"]
    return FakeNvml(gpus=nvidia) if nvidia else FakeNvml(library=False)


def rig_config(row: dict[str, Any], sysfs_root: Path, timeout_s: float = 3.0) -> SentryConfig:
    """The sentry's config on that rig: its programs at the rig's address, its fake sysfs."""
    return SentryConfig(
        timeout_s=timeout_s, sysfs_root=sysfs_root,
        programs=tuple(ProgramTarget(READER_OF.get(p["name"], p["name"]), row["ip"], p["port"])
                       for p in row["programs"]))


def by_bus(gpus: list[Gpu]) -> dict[str, Gpu]:
    return {g.bus_id: g for g in gpus}
