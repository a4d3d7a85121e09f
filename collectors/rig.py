"""Reading a rig's sentry over SNMP: the whole snapshot in one GET (two for a very large rig).

The sentry serves its snapshot JSON in MINERWATCH-MIB's mwRigSnapshotJsonTable, in chunks of at
most 4000 octets. One GET asks for the sentry's status, the snapshot's checksum and chunk count,
the first ``FIRST_CHUNKS`` chunks and the checksum again: a 12-GPU rig fits, so one round trip
per rig. Walking the MIB's tables instead would take a few hundred cells per rig, which pysnmp
cannot do for 1,000 rigs in the commander's cycle; the tables are for NMSs.

The JSON is the sentry's, so it is not trusted: every field goes through ``collectors.units``
with a plausible range, and a value outside it is dropped (None), not the snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from collectors import mib, units
from collectors.errors import CollectorError, ProtocolError
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot, algorithm_totals
from collectors.transport.snmp import Oid, SnmpClient, SnmpTarget, default_client

log = logging.getLogger(__name__)

# The objects read here, as arcs below the base (MINERWATCH-MIB's, or the ``base`` a caller passes).
SENTRY_STATUS = mib.ARCS["mwSentryStatus"] + (0,)
SNAPSHOT_AGE = mib.ARCS["mwSentrySnapshotAge"] + (0,)
SNAPSHOT_LENGTH = mib.ARCS["mwRigSnapshotLength"] + (0,)
SNAPSHOT_CHECKSUM = mib.ARCS["mwRigSnapshotChecksum"] + (0,)
SNAPSHOT_CHUNKS = mib.ARCS["mwRigSnapshotChunks"] + (0,)
SNAPSHOT_JSON = mib.ARCS["mwRigSnapshotJson"]  # a table column, indexed from 1
STATUS_NAMES = {code: name for name, code in mib.SENTRY_STATUS.items()}

FIRST_CHUNKS = 3  # 12,000 octets of JSON in the first GET: a 24-GPU rig
MAX_CHUNKS = 64  # 256 KB: more is not a rig snapshot
DEFAULT_TIMEOUT_S = 3.0


async def read_rig(target: SnmpTarget, *, timeout: float = DEFAULT_TIMEOUT_S, retries: int = 1,
                   base: Oid = mib.BASE, client: SnmpClient | None = None) -> RigSnapshot:
    """The rig's snapshot; CollectorError (one sentence naming the host) when it cannot be had."""
    client = client or default_client()
    started = time.monotonic()
    for attempt in (1, 2):  # a second time only when the snapshot changed between two GETs
        text, status, age = await _fetch(client, target, timeout, retries, base)
        if text is not None or attempt == 2:
            break
    if text is None:
        raise ProtocolError(f"the sentry on {target.host} changed its snapshot during every read")
    if status == "down" or not text:
        raise ProtocolError(f"the sentry on {target.host} has no snapshot to serve "
                            "(is minerwatch-sentry running?)")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"the sentry on {target.host} served a snapshot that is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ProtocolError(f"the sentry on {target.host} served JSON that is not a rig snapshot")
    snapshot = parse_snapshot(data, fallback_hostname=target.host)
    if status == "stale":
        age_text = f"{age} s" if isinstance(age, int) else "too"
        snapshot.faults.append(f"the sentry's snapshot is {age_text} old: it stopped collecting")
    snapshot.ip, snapshot.port = target.host, target.port
    snapshot.latency_ms = round((time.monotonic() - started) * 1000, 1)
    return snapshot


async def _fetch(client: SnmpClient, target: SnmpTarget, timeout: float, retries: int,
                 base: Oid) -> tuple[str | None, str, int | None]:
    """(JSON text, sentry status, snapshot age); the text is None when the snapshot changed midway.

    The checksum is read first and last in each GET: the responder re-reads its file between two
    cells at most, so equal checksums mean every chunk between them is of one snapshot."""
    head = [base + SENTRY_STATUS, base + SNAPSHOT_AGE, base + SNAPSHOT_CHECKSUM, base + SNAPSHOT_LENGTH,
            base + SNAPSHOT_CHUNKS]
    wanted = head + [base + SNAPSHOT_JSON + (n,) for n in range(1, FIRST_CHUNKS + 1)] \
        + [base + SNAPSHOT_CHECKSUM]
    answer = await client.get(target, wanted, timeout, retries)
    status_code = answer.get(base + SENTRY_STATUS)
    if not isinstance(status_code, int):
        raise ProtocolError(f"{target.address} serves no MINERWATCH-MIB under .{'.'.join(map(str, base))} "
                            "(is the sentry's pass_persist line in its snmpd.conf?)")
    status = STATUS_NAMES.get(status_code, "down")
    age = answer.get(base + SNAPSHOT_AGE)
    age = age if isinstance(age, int) else None
    if status == "down":
        return "", status, age
    checksum, length, count = (answer.get(base + key) for key in (SNAPSHOT_CHECKSUM, SNAPSHOT_LENGTH,
                                                                  SNAPSHOT_CHUNKS))
    if not all(isinstance(value, int) for value in (checksum, length, count)) or not 1 <= count <= MAX_CHUNKS:
        raise ProtocolError(f"{target.address} serves an incomplete MINERWATCH-MIB snapshot header")
    parts = [answer.get(base + SNAPSHOT_JSON + (n,)) for n in range(1, min(count, FIRST_CHUNKS) + 1)]
    if count > FIRST_CHUNKS:
        rest = [base + SNAPSHOT_JSON + (n,) for n in range(FIRST_CHUNKS + 1, count + 1)]
        more = await client.get(target, rest + [base + SNAPSHOT_CHECKSUM], timeout, retries)
        if more.get(base + SNAPSHOT_CHECKSUM) != checksum:
            return None, status, age
        parts += [more.get(oid) for oid in rest]
    if any(not isinstance(part, bytes) for part in parts):
        raise ProtocolError(f"{target.address} is missing chunks of its MINERWATCH-MIB snapshot")
    raw = b"".join(parts)
    if len(raw) != length or zlib.crc32(raw) != checksum:
        return None, status, age  # a chunk from another snapshot
    try:
        return raw.decode("ascii"), status, age
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{target.address} served a snapshot that is not ASCII JSON") from exc


async def poll_rig(target: SnmpTarget, *, timeout: float = DEFAULT_TIMEOUT_S, retries: int = 1,
                   base: Oid = mib.BASE, client: SnmpClient | None = None) -> RigSnapshot:
    """``read_rig``, with a failure as an unreachable snapshot carrying the sentence."""
    started = time.monotonic()
    try:
        return await read_rig(target, timeout=timeout, retries=retries, base=base, client=client)
    except CollectorError as exc:
        return RigSnapshot(hostname=target.host, reachable=False, error=str(exc), ip=target.host,
                           port=target.port, latency_ms=round((time.monotonic() - started) * 1000, 1))


async def poll_rigs(targets: Iterable[SnmpTarget], concurrency: int = 200, *,
                    timeout: float = DEFAULT_TIMEOUT_S, retries: int = 1, base: Oid = mib.BASE,
                    client: SnmpClient | None = None) -> list[RigSnapshot]:
    """Every target's snapshot, in the targets' order, ``concurrency`` at a time, on one engine."""
    client = client or default_client()
    targets = list(targets)
    await client.prepare(targets, timeout, retries)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(target: SnmpTarget) -> RigSnapshot:
        async with gate:
            return await poll_rig(target, timeout=timeout, retries=retries, base=base, client=client)

    return list(await asyncio.gather(*(one(target) for target in targets)))


# -- the sentry's JSON into the model, field by field ------------------------------------------------

def _range(convert: Callable[[Any], float | int | None], low: float, high: float) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        result = convert(value)
        return result if result is None or low <= result <= high else None
    return check


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_percent = _range(units.number, 0, 100)
_hashrate = _range(units.number, 0, 1e21)  # H/s: a zettahash is no rig
_watts = _range(units.number, 0, 5000)
_mhz = _range(units.number, 0, 50_000)
_seconds = _range(units.integer, 0, 10 * 365 * 86400)
_unix_time = _range(units.number, 1e9, 1e10)  # 2001 .. 2286

RIG_FIELDS: dict[str, Callable[[Any], Any]] = {
    "hostname": units.text, "error": units.text, "collected_at": _unix_time, "uptime_s": _seconds,
    "load_1m": _range(units.number, 0, 100_000), "memory_used_pct": _percent, "disk_used_pct": _percent,
}
CPU_FIELDS: dict[str, Callable[[Any], Any]] = {
    "model": units.text, "threads": _range(units.integer, 1, 100_000), "load_pct": _percent,
    "temp_c": units.temperature_c, "frequency_mhz": _mhz, "hashrate_hs": _hashrate, "algorithm": units.text,
}
GPU_FIELDS: dict[str, Callable[[Any], Any]] = {
    "bus_id": units.text, "index": _range(units.integer, 0, 65535), "vendor": units.text, "name": units.text,
    "hashrate_hs": _hashrate, "temp_c": units.temperature_c, "mem_temp_c": units.temperature_c,
    "fan_pct": _percent, "fan_rpm": _range(units.integer, 0, 30_000), "power_w": _watts,
    "power_limit_w": _watts, "core_clock_mhz": _mhz, "mem_clock_mhz": _mhz, "load_pct": _percent,
    "accepted": units.counter, "rejected": units.counter, "program": units.text, "algorithm": units.text,
}
PROGRAM_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": units.text, "api_up": _flag, "version": units.text, "algorithm": units.text, "pool": units.text,
    "user": units.text, "hashrate_hs": _hashrate, "accepted": units.counter, "rejected": units.counter,
    "uptime_s": _seconds, "port": _range(units.integer, 1, 65535), "error": units.text,
}


def _pick(record: Mapping[str, Any], table: Mapping[str, Callable[[Any], Any]]) -> tuple[dict[str, Any], int]:
    """The table's fields of ``record``, converted; and how many present values were dropped."""
    values, dropped = {}, 0
    for key, convert in table.items():
        raw = record.get(key)
        value = convert(raw)
        if value is None and raw is not None:
            dropped += 1
        values[key] = value
    return values, dropped


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _sentences(value: Any) -> list[str]:
    return [text for text in map(units.text, value) if text] if isinstance(value, list) else []


def parse_snapshot(data: Mapping[str, Any], fallback_hostname: str) -> RigSnapshot:
    """A RigSnapshot from the sentry's JSON; only its own absurd values are lost."""
    rig, dropped = _pick(data, RIG_FIELDS)
    cpu_data = data.get("cpu") if isinstance(data.get("cpu"), Mapping) else {}
    cpu, count = _pick(cpu_data, CPU_FIELDS)
    dropped += count
    gpus: list[Gpu] = []
    for record in _records(data.get("gpus")):
        gpu, count = _pick(record, GPU_FIELDS)
        dropped += count
        if gpu["bus_id"]:  # the GPU's key: without it the record names nothing
            gpus.append(Gpu(**gpu))
    programs: list[MinerProgram] = []
    for record in _records(data.get("programs")):
        program, count = _pick(record, PROGRAM_FIELDS)
        dropped += count
        if program["name"]:
            program["api_up"] = bool(program["api_up"])
            programs.append(MinerProgram(**program))
    if dropped:
        log.debug("%s: %d absurd or malformed values dropped from the sentry's snapshot",
                  rig["hostname"] or fallback_hostname, dropped)
    rig["hostname"] = rig["hostname"] or fallback_hostname
    # The rig's totals are its programs', added up here by one rule whatever the sentry sent: an older
    # sentry sends one sum over every algorithm instead.
    return RigSnapshot(**rig, hashrate_by_algorithm_hs=algorithm_totals(programs), cpu=Cpu(**cpu), gpus=gpus,
                       programs=programs, faults=_sentences(data.get("faults")), absent=_sentences(data.get("absent")))

