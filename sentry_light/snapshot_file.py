"""The rig snapshot on disk: written by the collector, read by ``show``-like tools, the pass_persist
responder and the LibreNMS ``extend`` output.

The file is ``RigSnapshot.to_dict()`` as JSON. It appears by atomic rename (temporary file in the same
directory, fsync, rename, fsync of the directory), so a reader sees the previous snapshot or the new
one, never a part; a crash loses at most the collection in flight.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import atomicfile
from collectors.model import RigSnapshot
from collectors.rig_snapshot import parse_snapshot

EXTEND_VERSION = 1
# LibreNMS's json_app_get: error 0 is none; > 0 an error code; negatives are LibreNMS's own.
EXTEND_UNREADABLE, EXTEND_STALE = 1, 2


class SnapshotError(Exception):
    """One sentence naming the snapshot file and what is wrong with it."""


def write_snapshot(snapshot: RigSnapshot, path: Path) -> None:
    path = Path(path)
    body = json.dumps(snapshot.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    try:
        # 0o644: snmpd's pass_persist and LibreNMS's extend run as other users
        atomicfile.replace(path, body, mode=0o644)
    except OSError as exc:
        raise SnapshotError(f"Cannot write the rig snapshot {path}: {exc.strerror or exc}.") from exc


def read_snapshot(path: Path) -> RigSnapshot:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SnapshotError(f"There is no rig snapshot at {path} yet: is minerwatch-sentry.service running?") from exc
    except OSError as exc:
        raise SnapshotError(f"Cannot read the rig snapshot {path}: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SnapshotError(f"{path} is not a rig snapshot ({exc}).") from exc
    snapshot = parse_snapshot(data, fallback_hostname="") if isinstance(data, dict) else None
    if snapshot is None or not snapshot.hostname:
        raise SnapshotError(f"{path} is not a rig snapshot (no hostname at its top level).")
    return snapshot


def extend_document(path: Path, max_age_s: float, now: float | None = None) -> dict[str, Any]:
    """LibreNMS's JSON-app envelope (``version``, ``error``, ``errorString``, ``data``) around the
    snapshot, for snmpd's ``extend``. A snapshot older than ``max_age_s`` is still sent, flagged stale."""
    try:
        snapshot = read_snapshot(path)
    except SnapshotError as exc:
        return {"version": EXTEND_VERSION, "error": EXTEND_UNREADABLE, "errorString": str(exc), "data": {}}
    now = time.time() if now is None else now
    age = now - snapshot.collected_at if snapshot.collected_at is not None else None
    if age is None or age > max_age_s:
        said = "has no collection time" if age is None else f"is {age:.0f} s old"
        return {"version": EXTEND_VERSION, "error": EXTEND_STALE, "data": snapshot.to_dict(),
                "errorString": f"The rig snapshot {path} {said}: is minerwatch-sentry.service running?"}
    return {"version": EXTEND_VERSION, "error": 0, "errorString": "", "data": snapshot.to_dict()}
