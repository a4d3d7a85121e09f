"""The commander's files as the web parsed them, kept until the file changes: twenty dashboards
open and refreshing every few seconds cost one read of each file per commander cycle, not one per
request (bench.web_load measured the commander's cycle at x2.18 with each request parsing
alerts.json and the latest rows again).

A file's version is its inode, size and modification time, so a file replaced by rename (as the
commander writes every file) is read again; what fails to read is not kept. What is kept is shared
by the web's threads and never changed: Arrow tables and frozen alerts."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
KEEP = 16  # files kept at once: the latest tables, alerts.json, with room


class FileMemo:
    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._kept: OrderedDict[tuple[str, str], tuple[tuple[tuple[int, int, int], ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, paths: Path | Sequence[Path], what: str, read: Callable[[], T]) -> T:
        """``read()``'s value for this version of ``paths`` (one file, or every file a figure is made
        of); ``what`` tells apart two things made of the same files."""
        paths = [paths] if isinstance(paths, Path) else list(paths)
        try:
            version = tuple(_version(path) for path in paths)
        except OSError:
            return read()  # unreadable: the reader says so, every time
        key = (",".join(map(str, paths)), what)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == version:
                self._kept.move_to_end(key)
                return kept[1]
        value = read()
        with self._lock:
            self._kept[key] = (version, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.keep:
                self._kept.popitem(last=False)
        return value


def _version(path: Path) -> tuple[int, int, int]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0)  # not written yet (no rigs, say) is a version too, until it appears
    return (info.st_ino, info.st_size, info.st_mtime_ns)


MEMO = FileMemo()
