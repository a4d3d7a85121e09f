"""The rig snapshot as MINERWATCH-MIB rows: a pure function, so the layout tests without snmpd.

``rows(snapshot)`` gives every cell the pass_persist responder serves, sorted by OID, as
``(oid, type, value)``, encoded as ``snmp_agent.cells`` says (no cell for an unknown or unusable
value, hashrates as Gauge32 plus a unit column, tenths, hundredths, Counter32, DisplayString).
What is the rig's own:

- temperatures and watts in tenths (``MwTenths``), percentages and the load average in hundredths;
- the GPU index from the PCI bus id (``gpu_index``), so a card keeps its row when another is lost;
- the rig's hashrate as a row per algorithm (mwRigAlgoTable, under the algorithm's number in
  ``collectors.algorithms``), never one sum over algorithms;
- the whole snapshot as compact ASCII JSON in chunks of ``CHUNK_OCTETS`` (``snapshot_json``).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from collectors import algorithms
from collectors.mib import BASE, SENTRY_STATUS, Oid, oid
from collectors.model import RigSnapshot
from snmp_agent.cells import (HASHRATE, INT32_MAX, Field, Row, cells, counter, display, fixed_hashrate, gauge,
                              hundredths, integer, records, tenths, truth)

# net-snmp 5.9 reads a pass_persist value line into a 4096-octet buffer: 4094 octets of value at most,
# and a longer line leaves its tail in the pipe, which the next answer would be read from. 4000 keeps
# a margin and a round figure.
CHUNK_OCTETS = 4000


# -- the tables, as (MIB column, snapshot key, encoder); hashrates are (value column, unit column) --

# Hundredths of the unit of the record's algorithm, whatever the value: what an NMS threshold reads.
FIXED = fixed_hashrate(lambda name: algorithms.unit(name).mib)

RIG: tuple[Field, ...] = (
    ("mwRigHostname", "hostname", display),
    ("mwRigCollectedAt", "collected_at", gauge),
    ("mwRigUptime", "uptime_s", gauge),
    ("mwRigLoad1m", "load_1m", hundredths),
    ("mwRigMemoryUsed", "memory_used_pct", hundredths),
    ("mwRigDiskUsed", "disk_used_pct", hundredths),
)

CPU: tuple[Field, ...] = (
    ("mwCpuModel", "model", display),
    ("mwCpuThreads", "threads", gauge),
    ("mwCpuLoad", "load_pct", hundredths),
    ("mwCpuTemp", "temp_c", tenths),
    ("mwCpuFrequency", "frequency_mhz", gauge),
    ("mwCpuHashrate", "hashrate_hs", HASHRATE),
    ("mwCpuAlgorithm", "algorithm", display),
)

GPU: tuple[Field, ...] = (
    ("mwGpuBusId", "bus_id", display),
    ("mwGpuDriverIndex", "index", integer),
    ("mwGpuVendor", "vendor", display),
    ("mwGpuName", "name", display),
    ("mwGpuHashrate", "hashrate_hs", HASHRATE),
    ("mwGpuTemp", "temp_c", tenths),
    ("mwGpuMemTemp", "mem_temp_c", tenths),
    ("mwGpuFanPercent", "fan_pct", hundredths),
    ("mwGpuFanRpm", "fan_rpm", gauge),
    ("mwGpuPower", "power_w", tenths),
    ("mwGpuPowerLimit", "power_limit_w", tenths),
    ("mwGpuCoreClock", "core_clock_mhz", gauge),
    ("mwGpuMemClock", "mem_clock_mhz", gauge),
    ("mwGpuAccepted", "accepted", counter),
    ("mwGpuRejected", "rejected", counter),
    ("mwGpuProgram", "program", display),
    ("mwGpuLoad", "load_pct", hundredths),
    ("mwGpuAlgorithm", "algorithm", display),
)

PROGRAM: tuple[Field, ...] = (
    ("mwProgramName", "name", display),
    ("mwProgramVersion", "version", display),
    ("mwProgramAlgorithm", "algorithm", display),
    ("mwProgramPool", "pool", display),
    ("mwProgramUser", "user", display),
    ("mwProgramHashrate", "hashrate_hs", HASHRATE),
    ("mwProgramAccepted", "accepted", counter),
    ("mwProgramRejected", "rejected", counter),
    ("mwProgramUptime", "uptime_s", gauge),
    ("mwProgramApiUp", "api_up", truth),
    ("mwProgramApiPort", "port", integer),
    ("mwProgramError", "error", display),
    ("mwProgramHashrateFixed", "hashrate_hs", FIXED),
)

# The rig's hashrate per algorithm (``hashrate_by_algorithm_hs``), a row each, under the algorithm's number.
RIG_ALGORITHM: tuple[Field, ...] = (
    ("mwRigAlgoName", "algorithm", display),
    ("mwRigAlgoHashrate", "hashrate_hs", HASHRATE),
    ("mwRigAlgoHashrateFixed", "hashrate_hs", FIXED),
)


# -- GPU index --------------------------------------------------------------------------------

_BUS_ID = re.compile(r"([0-9a-f]{1,8}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])")
_FALLBACK_FIRST = 2**30 + 1  # above every index a parsed bus id gives


def gpu_index(bus_id: str) -> int:
    """1 + (domain mod 32768) * 65536 + bus * 256 + device * 8 + function: 0000:01:00.0 -> 257.

    A bus id in no PCI form (a source that got it wrong) hashes into 2^30 + 1 .. 2^31 - 1, still
    the same on every collection."""
    match = _BUS_ID.fullmatch(bus_id.strip().lower())
    if match is None:
        return _FALLBACK_FIRST + zlib.crc32(bus_id.encode("utf-8", "replace")) % (INT32_MAX - _FALLBACK_FIRST)
    domain, bus, device, function = (int(part, 16) for part in match.groups())
    return 1 + (domain % 0x8000) * 0x10000 + (bus << 8) + (device << 3) + function


def gpu_indexes(bus_ids: Iterable[str]) -> dict[str, int]:
    """Each bus id's row index; two that collide (domains 32768 apart) take the next free one."""
    used: set[int] = set()
    result: dict[str, int] = {}
    for bus_id in sorted(set(bus_ids)):
        index = gpu_index(bus_id)
        while index in used:
            index = index % INT32_MAX + 1
        used.add(index)
        result[bus_id] = index
    return result


# -- the snapshot as JSON ---------------------------------------------------------------------------

def snapshot_json(data: Mapping[str, Any]) -> str:
    """The snapshot's compact JSON text: ASCII only, so every chunk is one printable line."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, default=str)


def chunks(text: str) -> list[str]:
    return [text[i:i + CHUNK_OCTETS] for i in range(0, len(text), CHUNK_OCTETS)] or [""]


def _snapshot_rows(data: Mapping[str, Any], base: Oid) -> Iterable[Row]:
    text = snapshot_json(data)
    parts = chunks(text)
    yield oid("mwRigSnapshotLength", base) + (0,), "gauge", len(text)
    yield oid("mwRigSnapshotChecksum", base) + (0,), "gauge", zlib.crc32(text.encode("ascii"))
    yield oid("mwRigSnapshotChunks", base) + (0,), "gauge", len(parts)
    for number, part in enumerate(parts, start=1):
        yield oid("mwRigSnapshotJson", base) + (number,), "string", part


# -- everything -------------------------------------------------------------------------------------

def rows(snapshot: RigSnapshot | Mapping[str, Any], base: Oid = BASE) -> list[Row]:
    """Every cell of the rig subtree but mwSentry (the responder's own, time-dependent), by OID."""
    data: Mapping[str, Any] = snapshot.to_dict() if isinstance(snapshot, RigSnapshot) else snapshot
    out: list[Row] = list(cells(RIG, data, (0,), base))

    gpus = [g for g in records(data.get("gpus")) if isinstance(g.get("bus_id"), str)]
    indexes = gpu_indexes(g["bus_id"] for g in gpus)
    programs = sorted(records(data.get("programs")),
                      key=lambda p: (str(p.get("name")), p.get("port") if isinstance(p.get("port"), int) else 0))
    faults = [cell for cell in map(display, data.get("faults") or []) if cell is not None] \
        if isinstance(data.get("faults"), list) else []

    out.append((oid("mwRigGpuCount", base) + (0,), "gauge", len(indexes)))
    out.append((oid("mwRigProgramCount", base) + (0,), "gauge", len(programs)))
    out.append((oid("mwRigFaultCount", base) + (0,), "gauge", len(faults)))
    totals = _algorithm_rows(data.get("hashrate_by_algorithm_hs"))
    out.append((oid("mwRigAlgoCount", base) + (0,), "gauge", len(totals)))
    for number, total in totals.items():
        out.extend(cells(RIG_ALGORITHM, total, (number,), base))
    cpu = data.get("cpu")
    if isinstance(cpu, Mapping):
        out.extend(cells(CPU, cpu, (0,), base))
    seen: set[str] = set()
    for gpu in gpus:
        if gpu["bus_id"] not in seen:  # a duplicated GPU would give two cells one OID
            seen.add(gpu["bus_id"])
            out.extend(cells(GPU, gpu, (indexes[gpu["bus_id"]],), base))
    for number, program in enumerate(programs, start=1):
        out.extend(cells(PROGRAM, program, (number,), base))
    for number, (kind, text) in enumerate(faults, start=1):
        out.append((oid("mwFaultText", base) + (number,), kind, text))
    out.extend(_snapshot_rows(data, base))
    out.sort(key=lambda row: row[0])
    return out


def _algorithm_rows(totals: Any) -> dict[int, dict[str, Any]]:
    """``{name: H/s}`` as rows by the algorithm's number; of two names with one number, the first."""
    rows: dict[int, dict[str, Any]] = {}
    for name, hashrate_hs in (totals.items() if isinstance(totals, Mapping) else ()):
        if isinstance(name, str) and name:
            rows.setdefault(algorithms.number(name), {"algorithm": name, "hashrate_hs": hashrate_hs})
    return rows


def sentry_rows(status: str, age_s: float | None, base: Oid = BASE) -> list[Row]:
    """mwSentry: ``status`` is a key of collectors.mib.SENTRY_STATUS; no age when there is no snapshot."""
    out: list[Row] = [(oid("mwSentryStatus", base) + (0,), "integer", SENTRY_STATUS[status])]
    age = gauge(age_s)
    if age is not None:
        out.append((oid("mwSentrySnapshotAge", base) + (0,), age[0], age[1]))
    return out
