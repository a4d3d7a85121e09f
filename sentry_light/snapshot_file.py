"""The rig snapshot on disk: written by the collector, read by ``show``-like tools, the pass_persist
responder and the LibreNMS ``extend`` output.

The file is ``RigSnapshot.to_dict()`` as JSON. It appears by atomic rename (temporary file in the same
directory, fsync, rename, fsync of the directory), so a reader sees the previous snapshot or the new
one, never a part; a crash loses at most the collection in flight.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot

EXTEND_VERSION = 1
# LibreNMS's json_app_get: error 0 is none; > 0 an error code; negatives are LibreNMS's own.
EXTEND_UNREADABLE, EXTEND_STALE = 1, 2


class SnapshotError(Exception):
    """One sentence naming the snapshot file and what is wrong with it."""


def write_snapshot(snapshot: RigSnapshot, path: Path) -> None:
    path = Path(path)
    body = json.dumps(snapshot.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    try:
        _replace(path, body)
    except OSError as exc:
        raise SnapshotError(f"Cannot write the rig snapshot {path}: {exc.strerror or exc}.") from exc


def _replace(path: Path, body: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # snmpd's pass_persist and LibreNMS's extend run as other users
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def read_snapshot(path: Path) -> RigSnapshot:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SnapshotError(f"There is no rig snapshot at {path} yet: is minerwatch-sentry.service running?") from exc
    except OSError as exc:
        raise SnapshotError(f"Cannot read the rig snapshot {path}: {exc.strerror or exc}.") from exc
    try:
        return from_dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"{path} is not a rig snapshot ({exc}).") from exc


def from_dict(data: Any) -> RigSnapshot:
    """The ``RigSnapshot`` a ``to_dict()`` gave; keys a newer writer added are ignored."""
    if not isinstance(data, dict) or not isinstance(data.get("hostname"), str):
        raise TypeError("no hostname at its top level")
    rig = _known(RigSnapshot, data)
    rig["cpu"] = Cpu(**_known(Cpu, data.get("cpu") or {}))
    rig["gpus"] = [Gpu(**_known(Gpu, g)) for g in data.get("gpus") or []]
    rig["programs"] = [MinerProgram(**_known(MinerProgram, p)) for p in data.get("programs") or []]
    return RigSnapshot(**rig)


def _known(cls: type, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"a {cls.__name__} that is not an object")
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


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
