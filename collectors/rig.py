"""Reading a rig's sentry over SNMP: the whole snapshot in one GET (two for a very large rig).

The sentry serves its snapshot JSON in MINERWATCH-MIB's mwRigSnapshotJsonTable, in chunks of at
most 4000 octets. One GET asks for the sentry's status, the snapshot's checksum and chunk count,
the first ``FIRST_CHUNKS`` chunks and the checksum again: a 12-GPU rig fits, so one round trip
per rig. Walking the MIB's tables instead would take a few hundred cells per rig, which pysnmp
cannot do for 1,000 rigs in the commander's cycle; the tables are for NMSs.

The JSON is the sentry's, so it is not trusted: ``collectors.rig_snapshot`` reads it, dropping an
absurd value (None), not the snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from collections.abc import Iterable

from collectors import mib
from collectors.errors import CollectorError, ProtocolError
from collectors.model import RigSnapshot
from collectors.rig_snapshot import parse_snapshot
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
