"""The sentry's test set-up: our testdata, the NVML fake for a rig, and a config pointing every reader
at a simulated rig (its fake sysfs tree is simfarm's: ``simfarm.rigs.sentry``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collectors.model import Gpu
from sentry_light.config import ProgramTarget, SentryConfig
from sentry_light.sources.programs import PROGRAMS
from simfarm.rigs.sentry import sentry_programs
from tests.sentry_light.fake_nvml import FakeGpu, FakeNvml

TESTDATA = Path(__file__).parent / "testdata"


def endpoint_file(endpoint: str) -> str:
    """``/2/summary`` -> ``2_summary.json``, ``/`` -> ``root.json``, RPC ``devs`` -> ``devs.json``."""
    return (endpoint.strip("/").replace("/", "_") or "root") + ".json"


def load_replies(folder: Path, program: str) -> dict[str, Any]:
    return {endpoint: json.loads((folder / endpoint_file(endpoint)).read_text())
            for endpoint in PROGRAMS[program].endpoints}


def fake_nvml_for(gpus: list[dict[str, Any]]) -> FakeNvml:
    """NVML as the rig's driver would show it; without NVIDIA GPUs, a rig with no NVIDIA driver."""
    nvidia = [FakeGpu(bus_id=g["bus_id"], name=g["name"]) for g in gpus if g["vendor"] == "nvidia"]
    return FakeNvml(gpus=nvidia) if nvidia else FakeNvml(library=False)


def rig_config(row: dict[str, Any], sysfs_root: Path, timeout_s: float = 3.0) -> SentryConfig:
    """The sentry's config on that rig: its programs at the rig's address, its fake sysfs."""
    return SentryConfig(
        timeout_s=timeout_s, sysfs_root=sysfs_root,
        programs=tuple(ProgramTarget(reader, row["ip"], port) for reader, port in sentry_programs(row)))


def by_bus(gpus: list[Gpu]) -> dict[str, Gpu]:
    return {g.bus_id: g for g in gpus}
