"""The store's lock, the atomic directory swap, and the sweep after a crash.

Compaction replaces a whole partition directory in one step: the new directory is built in
``.staging`` (hard links to every file that stays, plus the merged file) and swapped with the live
one by ``renameat2(RENAME_EXCHANGE)``, one system call. A swap changes the partition's inode, which
is how the store's readers (``files.reread_on_swap``) notice one that happened while they read and
read again. Readers that list and stat by path themselves (pyarrow discovery, pandas, DuckDB) may
silently skip files a swap removed between their listing and their stat: see README.md. The old
directory lands in ``.staging`` and is kept, unchanged, for ``RETIRED_KEEP_S``, for readers that
opened it by handle. Whatever a crash leaves in
``.staging`` holds only rows that are also live, so the sweep at start deletes it unread.

Writers, compaction's swap and retention hold ``.lock`` (flock: the kernel drops it when its holder
dies, even by SIGKILL), so a cycle file is never renamed into a directory being swapped away.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from atomicfile import fsync_dir, make_dirs
from appliance.store.layout import is_temp

RETIRED_KEEP_S = 60  # far longer than listing a partition takes
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


@contextmanager
def store_lock(state_dir: Path) -> Iterator[None]:
    """Exclusive hold of the store for writing; every acquisition opens the file anew, so threads of
    one process exclude each other too."""
    make_dirs(Path(state_dir))
    fd = os.open(Path(state_dir) / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def staging(state_dir: Path) -> Path:
    """A new, empty work directory under ``.staging``, on the same filesystem as the datasets."""
    work = Path(state_dir) / ".staging" / uuid.uuid4().hex
    make_dirs(work)
    return work


def exchange(a: Path, b: Path) -> None:
    """Swap two directories atomically (Linux 3.15+, on ext4, xfs, btrfs, tmpfs)."""
    if _libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS):
            raise OSError(code, f"the filesystem under {b} cannot swap directories atomically "
                                "(renameat2 RENAME_EXCHANGE); set compaction = false in [storage]")
        raise OSError(code, f"could not swap {a} with {b}: {os.strerror(code)}")
    fsync_dir(a.parent)
    fsync_dir(b.parent)


def retire(state_dir: Path, work: Path) -> None:
    """Hand the work area ``work`` (holding a swapped-out partition) to ``sweep_retired``."""
    os.rename(work, Path(state_dir) / ".staging" / f"retired-{time.time_ns()}-{work.name}")


def sweep_retired(state_dir: Path, keep_s: float = RETIRED_KEEP_S) -> None:
    """Delete the retired partitions older than ``keep_s``."""
    area = Path(state_dir) / ".staging"
    if not area.is_dir():
        return
    oldest_kept = time.time_ns() - int(keep_s * 1e9)
    for entry in area.iterdir():
        retired_at = _retired_at(entry.name)
        if retired_at is not None and retired_at < oldest_kept:
            shutil.rmtree(entry)


def _retired_at(name: str) -> int | None:
    """When a retired partition was retired (ns since the epoch), from its name; None for others."""
    parts = name.split("-")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "retired" and parts[1].isdigit() else None


def discard(state_dir: Path, directory: Path) -> None:
    """Remove ``directory`` as one step for readers: moved into ``.staging`` at once, deleted there
    once no reader can still be listing it. The caller holds the lock."""
    work = staging(state_dir)
    os.rename(directory, work / directory.name)
    fsync_dir(directory.parent)
    retire(state_dir, work)


def recover(state_dir: Path) -> int:
    """Delete what interrupted writes left: ``.staging`` work areas and temporary files in the
    partitions and in ``latest/``. Run at start, before any writer. Retired partitions are left to
    ``sweep_retired``: a reader may still be listing one. Returns how many were removed."""
    state_dir = Path(state_dir)
    removed = 0
    with store_lock(state_dir):
        work_areas = state_dir / ".staging"
        if work_areas.is_dir():
            for work in work_areas.iterdir():
                if _retired_at(work.name) is not None:
                    continue
                if work.is_dir():
                    shutil.rmtree(work)
                else:
                    work.unlink()
                removed += 1
        for top in ("metrics", "rollups", "latest"):
            for directory, _, names in os.walk(state_dir / top):
                for name in names:
                    if is_temp(name) and name.endswith(".tmp"):
                        os.unlink(os.path.join(directory, name))
                        removed += 1
    return removed
