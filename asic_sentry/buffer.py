"""The ASIC sentry's buffer: every poll cycle kept on disk until the commander has it, through
restarts, power loss and full disks.

One file per cycle, ``<seq>-<polled_at_ms>.cycle`` in ``<state_dir>/buffer/``: the cycle's
snapshots as JSON lines, zstd-compressed. A file appears whole or not at all (written aside,
fsync'd, renamed, directory fsync'd: ``atomicfile``), so a kill -9 or a power cut loses at most
the cycle in flight and never leaves half of one to be read. Sequence numbers grow by one per
cycle for the life of the buffer; its ``id`` (made with the buffer) tells the commander when a
buffer was wiped and numbering began again, so it resets its cursor instead of waiting forever.

The buffer is bounded (``max_bytes``) and leaves ``reserve_bytes`` free on its file system:
beyond either, and on a full disk (ENOSPC), the oldest cycles go first, each drop said once in the
log with how many cycles and which span of time, and counted for ``minerwatch status``. Polling
never stops because the disk is full; the newest cycle is kept rather than the oldest.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

import atomicfile

log = logging.getLogger(__name__)

_NAME = re.compile(r"(\d{12})-(\d{13})\.cycle")
ID_FILE = "buffer-id"
CODEC = "zstd"
MAX_CYCLE_BYTES = 256 * 1024 * 1024  # a cycle's JSON, uncompressed: 50x what 5,000 miners take


@dataclass(frozen=True)
class Cycle:
    seq: int
    polled_at: float  # Unix s, when the cycle's poll started
    path: Path
    size: int  # bytes on disk


@dataclass
class Drops:
    cycles: int = 0  # dropped since the sentry started
    last: str | None = None  # the sentence said for the last drop


class Buffer:
    def __init__(self, directory: Path, max_bytes: int, reserve_bytes: int = 256 * 1024 * 1024) -> None:
        self.directory = Path(directory)
        self.max_bytes, self.reserve_bytes = max_bytes, reserve_bytes
        atomicfile.make_dirs(self.directory)
        self.id = self._id()
        self._lock = threading.Lock()  # the poll job writes while the API reads
        self._cycles = listing(self.directory)
        self.drops = Drops()

    def _id(self) -> str:
        path = self.directory / ID_FILE
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            text = ""
        if not re.fullmatch(r"[0-9a-f]{16}", text):
            text = secrets.token_hex(8)
            atomicfile.replace(path, text + "\n")
        return text

    # --- writing (the poll job) --------------------------------------------------------------

    def append(self, polled_at: float, snapshots: Iterable[dict]) -> Cycle:
        """Keep one cycle; the oldest go when the buffer or the disk is full."""
        lines = b"".join(json.dumps(snap, separators=(",", ":"), allow_nan=False).encode() + b"\n"
                         for snap in snapshots)
        data = pa.compress(lines, codec=CODEC, asbytes=True)
        # The length of the raw lines goes in front: zstd needs it to decompress in one call.
        body = len(lines).to_bytes(8, "big") + data
        with self._lock:
            seq = self._cycles[-1].seq + 1 if self._cycles else 1
            path = self.directory / f"{seq:012d}-{round(polled_at * 1000):013d}.cycle"
            self._make_room(len(body))
            while True:
                try:
                    atomicfile.replace(path, body)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not self._cycles:
                        raise
                    self._drop(max(1, len(self._cycles) // 100), "the disk is full")
            cycle = Cycle(seq, polled_at, path, len(body))
            self._cycles.append(cycle)
        return cycle

    def _make_room(self, size: int) -> None:
        held = sum(c.size for c in self._cycles)
        over = held + size - self.max_bytes
        free = shutil.disk_usage(self.directory).free
        short = self.reserve_bytes + size - free
        need = max(over, short)
        if need <= 0 or not self._cycles:
            return
        count, freed = 0, 0
        while count < len(self._cycles) and freed < need:
            freed += self._cycles[count].size
            count += 1
        self._drop(count, "the buffer is at its size limit" if over >= short else
                   f"its disk has {free // 2**20} MiB free and the buffer leaves {self.reserve_bytes // 2**20} MiB "
                   "to the rest of the system")

    def _drop(self, count: int, why: str) -> None:
        gone, self._cycles = self._cycles[:count], self._cycles[count:]
        for cycle in gone:
            cycle.path.unlink(missing_ok=True)
        self.drops.cycles += len(gone)
        self.drops.last = (f"{self.directory}: {why}: dropped the {len(gone)} oldest cycle(s), polled from "
                           f"{_utc(gone[0].polled_at)} to {_utc(gone[-1].polled_at)}; the commander will miss them")
        log.warning("%s", self.drops.last)

    # --- reading (the commander's pulls) ------------------------------------------------------

    def after(self, seq: int, max_bytes: int) -> list[Cycle]:
        """The cycles after ``seq``, oldest first, at least one and up to about ``max_bytes``."""
        with self._lock:
            chosen, size = [], 0
            for cycle in self._cycles:
                if cycle.seq <= seq:
                    continue
                if chosen and size + cycle.size > max_bytes:
                    break
                chosen.append(cycle)
                size += cycle.size
            return chosen

    def stats(self) -> dict:
        with self._lock:
            cycles = list(self._cycles)
        return summary(cycles) | {"id": self.id, "max_bytes": self.max_bytes, "dropped_cycles": self.drops.cycles,
                                  "last_drop": self.drops.last}


def listing(directory: Path) -> list[Cycle]:
    """The cycles in a buffer's directory, oldest first, from its listing alone (``minerwatch
    status`` reads a running sentry's this way); anything else there, such as the temporary file
    a crash left, is not a cycle."""
    found = []
    for entry in os.scandir(directory):
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Cycle(int(match[1]), int(match[2]) / 1000, Path(entry.path), entry.stat().st_size))
    return sorted(found, key=lambda c: c.seq)


def summary(cycles: list[Cycle]) -> dict:
    return {"cycles": len(cycles), "bytes": sum(c.size for c in cycles),
            "oldest_seq": cycles[0].seq if cycles else None, "newest_seq": cycles[-1].seq if cycles else None,
            "oldest_polled_at": cycles[0].polled_at if cycles else None,
            "newest_polled_at": cycles[-1].polled_at if cycles else None}


class BadCycle(ValueError):
    """A cycle's bytes are not what ``Buffer.append`` writes; the message says how."""


def read_cycle(data: bytes) -> list[dict]:
    """A cycle file's snapshots, as ``Buffer.append`` was given them; BadCycle for anything else,
    without ever inflating it past ``MAX_CYCLE_BYTES``."""
    try:
        return [json.loads(line) for line in cycle_lines(data).splitlines()]
    except ValueError as exc:
        raise BadCycle(f"it cannot be read ({exc})") from exc


def cycle_lines(data: bytes) -> bytes:
    """A cycle file's JSON lines, one snapshot each (``read_cycle``, without parsing them)."""
    if len(data) < 8:
        raise BadCycle(f"it is {len(data)} bytes long, too short for a cycle")
    size = int.from_bytes(data[:8], "big")
    if size > MAX_CYCLE_BYTES:
        raise BadCycle(f"it says it holds {size:,} bytes, more than the {MAX_CYCLE_BYTES:,} a cycle may")
    try:
        return pa.decompress(data[8:], decompressed_size=size, codec=CODEC, asbytes=True)
    except (pa.ArrowException, OSError, ValueError) as exc:  # pyarrow says a bad frame with OSError
        raise BadCycle(f"it cannot be read ({exc})") from exc


def _utc(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
