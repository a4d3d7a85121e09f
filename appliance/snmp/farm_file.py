"""The farm as the commander's snmpd serves it: ``<state_dir>/snmp/farm.json``, rewritten after every
poll and sentries cycle, read by the pass_persist responder (``appliance.snmp.responder``) whenever
it changes. The commander holds no port of its own for the NMS; snmpd does, with its own access
control and SNMPv3, as on the rigs.

One document, replaced whole::

    {"version": 1, "written_at": <Unix s>,
     "farm": {"name", "ha_role": "master"|"backup"|"fault"|"standalone", "asics", "asics_up", "rigs",
              "rigs_up", "hashrate_hs", "power_w", "alerts_active", "poll_duration_ms", "polled_at"},
     "miners": [{"index", "address", "kind": "asic"|"rig", "hostname", "make", "model", "firmware",
                 "reachable", "hashrate_hs", "power_w", "temp_max_c", "uptime_s", "accepted",
                 "rejected", "error", "polled_at"}, ...]}

``index`` is the device's inventory number (kept for life, so an NMS row stays the same device);
a value nobody reported is null. Devices listed are those the commander reads now: every ASIC in
the inventory with an address, every configured rig.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.atomic import write_atomic
from appliance.inventory import Device
from appliance.snmp.layout import VERSION
from collectors.model import MinerSnapshot, RigSnapshot

FARM_FILE = Path("snmp") / "farm.json"


def farm_path(state_dir: Path) -> Path:
    return Path(state_dir) / FARM_FILE


@dataclass(frozen=True)
class FarmState:
    """What the commander knows of the farm as a whole, besides each device."""

    name: str | None  # None: this host's name
    ha_role: str  # "master", "backup", "fault", or "standalone" when no keepalived runs
    alerts_active: int
    poll_duration_ms: float | None  # the last poll cycle of every ASIC
    polled_at: float | None  # Unix s, when it started


def document(state: FarmState, devices: Iterable[Device], miners: Mapping[str, MinerSnapshot],
             rigs: Mapping[str, RigSnapshot], now: float) -> dict[str, Any]:
    """The farm document: ``miners`` by address (their last poll), ``rigs`` by key (their last read)."""
    records = []
    for device in devices:
        if device.kind == "rig" and device.source == "configured":
            records.append(_finite(_rig(device, rigs.get(device.key))))
        elif device.kind == "asic" and device.ip:
            records.append(_finite(_asic(device, miners.get(device.ip))))
    asics = [r for r in records if r["kind"] == "asic"]
    rig_records = [r for r in records if r["kind"] == "rig"]
    up = [r for r in records if r["reachable"]]
    farm = {
        "name": state.name or socket.gethostname(),
        "ha_role": state.ha_role,
        "asics": len(asics), "asics_up": sum(1 for r in asics if r["reachable"]),
        "rigs": len(rig_records), "rigs_up": sum(1 for r in rig_records if r["reachable"]),
        "hashrate_hs": _total(r["hashrate_hs"] for r in up),
        "power_w": _total(r["power_w"] for r in up),
        "alerts_active": state.alerts_active,
        "poll_duration_ms": state.poll_duration_ms,
        "polled_at": state.polled_at,
    }
    return {"version": VERSION, "written_at": now, "farm": farm, "miners": records}


def write(state_dir: Path, doc: Mapping[str, Any]) -> Path:
    path = farm_path(state_dir)
    write_atomic(path, json.dumps(doc, separators=(",", ":"), allow_nan=False), durable=False)
    return path


def _finite(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities (a firmware's division by zero) as null: they are not JSON, nor a reading."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in record.items()}


def _total(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return sum(known) if known else None


def _asic(device: Device, snap: MinerSnapshot | None) -> dict[str, Any]:
    record = _base(device, "asic", snap is not None and snap.reachable)
    if snap is None:
        return record
    firmware = " ".join(part for part in (snap.firmware, snap.firmware_version) if part) or None
    record.update(address=f"{snap.ip}:{snap.port}", hostname=snap.hostname or device.hostname,
                  make=snap.make or device.make, model=snap.model or device.model, firmware=firmware,
                  hashrate_hs=snap.hashrate_hs, power_w=snap.power_w, temp_max_c=snap.temp_max_c,
                  uptime_s=snap.uptime_s, accepted=snap.accepted, rejected=snap.rejected, error=snap.error,
                  polled_at=snap.polled_at)
    return record


def _rig(device: Device, rig: RigSnapshot | None) -> dict[str, Any]:
    record = _base(device, "rig", rig is not None and rig.reachable)
    if rig is None:
        return record
    record.update(error=rig.error, polled_at=rig.collected_at)
    if not rig.reachable:
        return record
    up = [p for p in rig.programs if p.api_up]
    names = sorted({gpu.name for gpu in rig.gpus if gpu.name})
    temps = [t for t in [rig.cpu.temp_c, *(gpu.temp_c for gpu in rig.gpus)] if t is not None]
    record.update(
        hostname=rig.hostname,
        # What an NMS row can say of a rig's make-up: its GPUs; and what it runs, as a firmware would.
        model=f"{len(rig.gpus)} GPU ({', '.join(names)})" if rig.gpus else rig.cpu.model,
        firmware=", ".join(" ".join(filter(None, (p.name, p.version))) for p in up) or None,
        hashrate_hs=rig.hashrate_hs,
        power_w=_total(gpu.power_w for gpu in rig.gpus),
        temp_max_c=max(temps) if temps else None,
        uptime_s=rig.uptime_s,
        accepted=_total(p.accepted for p in up),
        rejected=_total(p.rejected for p in up),
    )
    return record


def _base(device: Device, kind: str, reachable: bool) -> dict[str, Any]:
    port = f":{device.port}" if device.port else ""
    return {"index": device.number, "address": f"{device.ip}{port}" if device.ip else None, "kind": kind,
            "hostname": device.hostname, "make": device.make, "model": device.model, "firmware": None,
            "reachable": reachable, "hashrate_hs": None, "power_w": None, "temp_max_c": None, "uptime_s": None,
            "accepted": None, "rejected": None, "error": None, "polled_at": None}
