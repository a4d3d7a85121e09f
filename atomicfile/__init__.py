"""Files replaced whole: a reader (the web, ``minerwatch status``, snmpd's responders, pandas) or a
crash at any instant sees the old file or the new one, never half of either.

The new content goes to a temporary file in the same directory (its name starts with "." and ends
in ".tmp", which pyarrow, pandas, DuckDB's globs and the store's sweep after a crash all know to
skip), is flushed and fsync'd, given its mode (and owner), renamed over the final name, and the
directory fsync'd, so that after the rename returns the file survives a power cut. ``durable=False``
skips the two fsyncs, for a file rewritten every cycle from what is in memory (health, the farm
document served over SNMP), where losing the last one costs nothing.

Shared by the commander, the rig sentry and the snmpd.conf installer, so it imports nothing of ours.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["fsync_dir", "make_dirs", "replace", "replacing"]


@contextmanager
def replacing(path: Path, *, mode: int = 0o644, owner: tuple[int, int] | None = None,
              durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file that takes ``path``'s place only once the block ends without an exception.

    ``mode`` 0o644 by default, since mkstemp's 0o600 would keep readers of another user (the web,
    snmpd) out; ``owner`` (uid, gid) is applied when running as root, as for snmpd.conf."""
    path = Path(path)
    make_dirs(path.parent, durable=durable)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            if durable:
                os.fsync(file.fileno())
        os.chmod(temporary, mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(temporary, *owner)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def replace(path: Path, data: bytes | str, *, mode: int = 0o644, owner: tuple[int, int] | None = None,
            durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8), as ``replacing`` does."""
    with replacing(path, mode=mode, owner=owner, durable=durable) as file:
        file.write(data.encode("utf-8") if isinstance(data, str) else data)


def fsync_dir(directory: Path) -> None:
    """Make the entries of ``directory`` (a rename, a new file) survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(directory: Path, *, durable: bool = True) -> None:
    """Create ``directory`` and its missing parents, each new entry made durable in its parent."""
    missing = []
    directory = Path(directory)
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        if durable:
            fsync_dir(path.parent)
