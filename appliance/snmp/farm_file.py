"""The farm as the commander's snmpd serves it: ``<state_dir>/snmp/farm.json``, rewritten after every
poll and sentries cycle, read by the pass_persist responder (``appliance.snmp.responder``) whenever
it changes. The commander holds no port of its own for the NMS; snmpd does, with its own access
control and SNMPv3, as on the rigs.

One document, replaced whole::

    {"version": 1, "written_at": <Unix s>,
     "farm": {"name", "ha_role": "master"|"backup"|"fault"|"standalone", "asics", "asics_up", "rigs",
              "rigs_up", "power_w", "alerts_active", "poll_duration_ms", "polled_at"},
     "algorithms": [{"index", "algorithm", "miners", "miners_up", "hashrate_hs", "power_w",
                     "hashrate_nominal_hs"}, ...],
     "miners": [{"index", "address", "kind": "asic"|"rig", "hostname", "make", "model", "firmware",
                 "algorithm", "reachable", "hashrate_hs", "power_w", "temp_max_c", "uptime_s",
                 "accepted", "rejected", "error", "polled_at"}, ...],
     "sites": [{"site", "asics", "asics_up", "rigs", "rigs_up", "power_w", "algorithms": [...]}, ...]}

``index`` is the device's inventory number (kept for life, so an NMS row stays the same device);
a value nobody reported is null. Devices listed are those the commander reads now: every ASIC in
the inventory with an address, every configured rig.

Hashrates of different algorithms are never added, so the farm has no hashrate of its own: each
algorithm has its row in ``algorithms`` (its canonical name and number, ``collectors.algorithms``;
the number is its mwFarmAlgoTable row, the same on every farm), with the devices that mine it,
those that answered, their hashrate and their power. An ASIC counts under its algorithm whether or
not it answered (an unreachable one's is its model's); a rig under each algorithm it mines now,
with the power of the GPUs that mine it, and under none while it does not answer. An algorithm's
``hashrate_nominal_hs`` is the rating of every ASIC under it, answering or not (its snapshot's,
else its model's), so that the hashrate now shows what the farm loses to the miners that are down;
rigs have no rating, and an algorithm none of whose devices has one has null. A device whose
algorithm nobody knows is under none. A miner's ``algorithm`` is its canonical name; a rig mining
several has them joined by ``+`` and no ``hashrate_hs``, since they do not add up (its sentry
serves each).

``sites`` splits the same counts and per-algorithm rows by each device's inventory site, summed by
the same code, so a site's row and the farm's never disagree (the web's ``/metrics`` serves them;
the MIB has no per-site table).

The version stays 1: a reader takes a key that is not there as a value nobody reported, so an
older document (with ``farm.hashrate_hs``, a sum over algorithms) and this one read alike.
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import NotRequired, TypedDict  # pydantic reads typing's only from Python 3.12

import atomicfile
from appliance.damaged import parsed
from appliance.inventory import Device
from appliance.snmp.layout import VERSION
from collectors import algorithms
from collectors.asic.models import lookup_model
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
    records, shares = [], []
    sites: dict[str, tuple[list[dict[str, Any]], list[Share]]] = {}
    for device in devices:
        if device.kind == "rig" and device.source == "configured":
            record, share = _rig(device, rigs.get(device.key))
        elif device.kind == "asic" and device.ip:
            record, share = _asic(device, miners.get(device.ip))
        else:
            continue
        records.append(_finite(record))
        shares += share
        site_records, site_shares = sites.setdefault(device.site, ([], []))
        site_records.append(records[-1])
        site_shares += share
    farm = {
        "name": state.name or socket.gethostname(),
        "ha_role": state.ha_role,
        **_counts(records),
        "alerts_active": state.alerts_active,
        "poll_duration_ms": state.poll_duration_ms,
        "polled_at": state.polled_at,
    }
    return {"version": VERSION, "written_at": now, "farm": farm, "algorithms": _per_algorithm(shares),
            "miners": records,
            "sites": [{"site": name, **_counts(sites[name][0]), "algorithms": _per_algorithm(sites[name][1])}
                      for name in sorted(sites)]}


def _counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Devices listed and answering, by kind, and the power of those answering."""
    asics = [r for r in records if r["kind"] == "asic"]
    rig_records = [r for r in records if r["kind"] == "rig"]
    return {"asics": len(asics), "asics_up": sum(1 for r in asics if r["reachable"]),
            "rigs": len(rig_records), "rigs_up": sum(1 for r in rig_records if r["reachable"]),
            "power_w": _total(r["power_w"] for r in records if r["reachable"])}


def write(state_dir: Path, doc: Mapping[str, Any]) -> Path:
    path = farm_path(state_dir)
    atomicfile.replace(path, json.dumps(doc, separators=(",", ":"), allow_nan=False), durable=False)
    return path


# What a reader in another process (the web) takes of the document: types checked, other keys
# ignored, so that a key added later does not make an older reader call the file damaged.
_READ = ConfigDict(strict=True)


@with_config(_READ)
class AlgorithmRow(TypedDict):
    algorithm: str
    miners: int
    miners_up: int
    hashrate_hs: float | None
    power_w: float | None


@with_config(_READ)
class Totals(TypedDict):
    asics: int
    asics_up: int
    rigs: int
    rigs_up: int
    power_w: float | None


@with_config(_READ)
class SiteRow(Totals):
    site: str
    algorithms: list[AlgorithmRow]


@with_config(_READ)
class FarmRow(Totals):
    ha_role: str


@with_config(_READ)
class FarmDocument(TypedDict):
    version: int
    written_at: float
    farm: FarmRow
    algorithms: list[AlgorithmRow]
    sites: NotRequired[list[SiteRow]]  # not in documents of releases before it


def read(state_dir: Path) -> FarmDocument:
    """The farm document's totals; OSError when it cannot be read, ``Damaged`` when it is not one."""
    return parsed(FarmDocument, farm_path(state_dir).read_bytes())


def _finite(record: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities (a firmware's division by zero) as null: they are not JSON, nor a reading."""
    return {key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in record.items()}


def _total(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return sum(known) if known else None


# A device's part in one algorithm's row: (algorithm, answered, hashrate H/s, power W, rated H/s).
Share = tuple[str, bool, float | None, float | None, float | None]


def _per_algorithm(shares: list[Share]) -> list[dict[str, Any]]:
    rows: dict[str, list[Share]] = {}
    for share in shares:
        rows.setdefault(share[0], []).append(share)
    return [{"index": algorithms.number(name), "algorithm": name, "miners": len(rows[name]),
             "miners_up": sum(1 for s in rows[name] if s[1]), "hashrate_hs": _total(s[2] for s in rows[name] if s[1]),
             "power_w": _total(s[3] for s in rows[name] if s[1]),
             "hashrate_nominal_hs": _total(s[4] for s in rows[name])}
            for name in sorted(rows, key=algorithms.order)]


def _asic(device: Device, snap: MinerSnapshot | None) -> tuple[dict[str, Any], list[Share]]:
    reachable = snap is not None and snap.reachable
    record = _base(device, "asic", reachable)
    spec = lookup_model((snap.model if snap else None) or device.model)
    # An ASIC that does not answer still mines what its model mines, as far as the NMS is concerned.
    record["algorithm"] = algorithms.canonical((snap.algorithm if snap else None) or (spec.algorithm if spec else None))
    if snap is not None:
        firmware = " ".join(part for part in (snap.firmware, snap.firmware_version) if part) or None
        record.update(address=f"{snap.ip}:{snap.port}", hostname=snap.hostname or device.hostname,
                      make=snap.make or device.make, model=snap.model or device.model, firmware=firmware,
                      hashrate_hs=snap.hashrate_hs, power_w=snap.power_w, temp_max_c=snap.temp_max_c,
                      uptime_s=snap.uptime_s, accepted=snap.accepted, rejected=snap.rejected, error=snap.error,
                      polled_at=snap.polled_at)
    algorithm = record["algorithm"]
    rated = (snap.hashrate_nominal_hs if snap else None) or (spec.hashrate_nominal_hs if spec else None)
    return record, [] if algorithm is None else [(algorithm, reachable, record["hashrate_hs"], record["power_w"], rated)]


def _rig(device: Device, rig: RigSnapshot | None) -> tuple[dict[str, Any], list[Share]]:
    record = _base(device, "rig", rig is not None and rig.reachable)
    if rig is None:
        return record, []
    record.update(error=rig.error, polled_at=rig.collected_at)
    if not rig.reachable:
        return record, []
    up = [p for p in rig.programs if p.api_up]
    names = sorted({gpu.name for gpu in rig.gpus if gpu.name})
    temps = [t for t in [rig.cpu.temp_c, *(gpu.temp_c for gpu in rig.gpus)] if t is not None]
    totals = rig.hashrate_by_algorithm_hs
    record.update(
        hostname=rig.hostname,
        # What an NMS row can say of a rig's make-up: its GPUs; and what it runs, as a firmware would.
        model=f"{len(rig.gpus)} GPU ({', '.join(names)})" if rig.gpus else rig.cpu.model,
        # dict.fromkeys: a program that mines two algorithms has a record for each.
        firmware=", ".join(dict.fromkeys(" ".join(filter(None, (p.name, p.version))) for p in up)) or None,
        algorithm="+".join(totals) or None,
        hashrate_hs=next(iter(totals.values())) if len(totals) == 1 else None,
        power_w=_total(gpu.power_w for gpu in rig.gpus),
        temp_max_c=max(temps) if temps else None,
        uptime_s=rig.uptime_s,
        accepted=_total(p.accepted for p in up),
        rejected=_total(p.rejected for p in up),
    )
    return record, [(name, True, hashrate_hs,
                     _total(gpu.power_w for gpu in rig.gpus if algorithms.canonical(gpu.algorithm) == name), None)
                    for name, hashrate_hs in totals.items()]


def _base(device: Device, kind: str, reachable: bool) -> dict[str, Any]:
    port = f":{device.port}" if device.port else ""
    return {"index": device.number, "address": f"{device.ip}{port}" if device.ip else None, "kind": kind,
            "hostname": device.hostname, "make": device.make, "model": device.model, "firmware": None,
            "algorithm": None, "reachable": reachable, "hashrate_hs": None, "power_w": None, "temp_max_c": None,
            "uptime_s": None, "accepted": None, "rejected": None, "error": None, "polled_at": None,
            "sentry": device.sentry}
