"""Parquet files written whole or not at all, and read back by list.

A file is written under a temporary name in its final directory, flushed and fsync'd, then renamed
over its final name and the directory fsync'd: a reader (or a crash at any instant) sees either no
file or the whole file, and after the rename returns the file survives a power cut.
"""

from __future__ import annotations

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


def reread_on_swap(read: Callable[[], T]) -> T:
    """``read()``, again (up to ``SWAP_ATTEMPTS`` times) when a compaction swapped a partition between
    the listing of its files and their opening."""
    attempt = 1
    while True:
        try:
            return read()
        except FileNotFoundError:
            if attempt == SWAP_ATTEMPTS:
                raise
            attempt += 1


def read_files(paths: Sequence[Path], schema: pa.Schema, *, columns: Sequence[str] | None = None,
               filter: ds.Expression | None = None) -> pa.Table:
    """The rows of ``paths`` that pass ``filter``, read against ``schema`` (so files written before a
    column was added read with that column null). Row-group statistics skip what the filter rules out."""
    if not paths:
        return schema.empty_table() if columns is None else schema.empty_table().select(list(columns))
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    return dataset.to_table(columns=list(columns) if columns is not None else None, filter=filter)
