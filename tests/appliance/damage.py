"""The ways a state file gets damaged, done to real files, and what the tests check after.

Each way rewrites the file in place; the test keeps the damaged bytes (``path.read_bytes()``) to
check that the set-aside copy holds exactly them.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from appliance.damaged import set_aside_files

SEED = 9


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(SEED).randbytes(max(path.stat().st_size, 64)))


def zero_length(path: Path) -> None:
    path.write_bytes(b"")


def parquet_of_another_schema(path: Path) -> None:
    """Parquet, with the table's key and time, but a number column holding words."""
    pq.write_table(pa.table({"device": ["x"], "rig": ["x"], "time": pa.array([0], pa.timestamp("ms", "UTC")),
                             "hashrate_hs": ["fast"], "hashrate_hs_avg": ["fast"]}), path)


def parquet_of_another_table(path: Path) -> None:
    """Parquet, of something else entirely: no key, no time."""
    pq.write_table(pa.table({"colour": ["red", "green"]}), path)


def parquet_page_garbage(path: Path) -> None:
    """The footer intact, the first page's header garbage (a bad sector)."""
    data = bytearray(path.read_bytes())
    data[4:20] = random.Random(SEED).randbytes(16)
    path.write_bytes(bytes(data))


PARQUET: dict[str, Callable[[Path], None]] = {
    "truncated": truncated, "random bytes": random_bytes, "zero length": zero_length,
    "another schema": parquet_of_another_schema, "another table": parquet_of_another_table,
    "a garbage page": parquet_page_garbage,
}


def sqlite_garbage_pages(path: Path) -> None:
    """Every page after the first (the header and the schema) overwritten with random bytes."""
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    data[page:] = random.Random(SEED).randbytes(len(data) - page)
    path.write_bytes(bytes(data))


def set_aside_copy(original: Path) -> Path:
    """The one file set aside from ``original``; fails if there is none, or more."""
    found = [entry.path for entry in set_aside_files(original.parent) if entry.original == original]
    assert len(found) == 1, f"{original} set aside as {found}"
    return found[0]


def lines_naming(caplog, path: Path, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level and str(path) in r.getMessage()]


def as_another_user(code: str, *args: str) -> subprocess.CompletedProcess:
    """``python -c code args`` in a process that cannot read a file of mode 000: this user's own, or,
    when the tests run as root (who reads anything), as nobody. Paths it touches must be reachable
    by that user."""
    command = [sys.executable, "-c", code, *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])


@contextmanager
def reachable_by_anyone() -> Iterator[Path]:
    """A directory ``as_another_user`` can write in (pytest's own are 0700), removed after."""
    directory = Path(tempfile.mkdtemp(prefix="minerwatch-test-"))
    directory.chmod(0o777)
    try:
        yield directory
    finally:
        shutil.rmtree(directory)
