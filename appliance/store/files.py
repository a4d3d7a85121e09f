"""Parquet files written whole or not at all, and read back by list.

A file is written under a temporary name in its final directory, flushed and fsync'd, then renamed
over its final name and the directory fsync'd: a reader (or a crash at any instant) sees either no
file or the whole file, and after the rename returns the file survives a power cut.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TypeVar

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from appliance.store.layout import temp_name

SWAP_ATTEMPTS = 3
T = TypeVar("T")
# zstd: about 2x smaller than snappy on these tables for a little more CPU; the appliance is disk-bound.
WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True}


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each new entry made durable in its parent."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        fsync_dir(path.parent)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only once the block ends without an exception."""
    make_dirs(path.parent)
    temp = path.with_name(temp_name(path.name))
    try:
        with open(temp, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_table(table: pa.Table, path: Path, *, row_group_size: int) -> None:
    """Write ``table`` to ``path`` atomically."""
    with atomic_file(path) as file:
        pq.write_table(table, file, row_group_size=row_group_size, **WRITE_OPTIONS)


def partition_generations(root: Path) -> dict[str, tuple[int, int]]:
    """Each date partition under ``root`` by name, with the identity (device, inode) of the directory
    now at that name. A compaction swaps in a new directory, so the identity changes with every swap;
    cycle files added by the writer leave it as it is."""
    generations = {}
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return {}
    for entry in entries:
        if entry.name.startswith("date="):
            try:
                info = os.stat(entry.path)
            except FileNotFoundError:
                continue  # deleted by retention since the listing: no generation to compare
            generations[entry.name] = (info.st_dev, info.st_ino)
    return generations


def reread_on_swap(read: Callable[[], T], root: Path) -> T:
    """``read()`` of files listed by name under the dataset ``root``, again (up to ``SWAP_ATTEMPTS``
    times) whenever a compaction swapped one of its partitions during the read; FileNotFoundError
    if every attempt met a swap.

    Failing to open a merged-away file (FileNotFoundError) is not enough to notice a swap: a merged
    file keeps its name when a late cycle is merged into its span, so a read that opened the cycle
    file before the swap and the merged file after it would count that cycle twice without any error.
    So a read counts only if no partition directory was replaced from before its listing to after its
    last open: then every name it listed and opened resolved in one directory, whose files only ever
    get added to."""
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        before = partition_generations(root)
        try:
            result = read()
        except FileNotFoundError:
            if attempt == SWAP_ATTEMPTS:
                raise
            continue
        if partition_generations(root) == before:
            return result
    raise FileNotFoundError(errno.ENOENT, f"the partitions of {root} were compacted during each of "
                                          f"{SWAP_ATTEMPTS} reads; read again")


def read_files(paths: Sequence[Path], schema: pa.Schema, *, columns: Sequence[str] | None = None,
               filter: ds.Expression | None = None) -> pa.Table:
    """The rows of ``paths`` that pass ``filter``, read against ``schema`` (so files written before a
    column was added read with that column null). Row-group statistics skip what the filter rules out."""
    if not paths:
        return schema.empty_table() if columns is None else schema.empty_table().select(list(columns))
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    return dataset.to_table(columns=list(columns) if columns is not None else None, filter=filter)
