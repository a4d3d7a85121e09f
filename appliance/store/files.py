"""Parquet files written whole or not at all, and read back by list, around the damaged ones.

A file is written through ``atomicfile``: a reader (or a crash at any instant) sees either no file or
the whole file, and after the rename returns the file survives a power cut.

A file can still be damaged by what happens to it afterwards (a disk, a person). A reader given an
``on_damaged`` callable reads around it: only when a read fails, each file is read again on its own,
and each that fails a plain read of all its rows is handed to ``on_damaged`` with the reason, the
rest read. Readers pass ``appliance.damaged.skip``; the commander's jobs set the file aside.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

import atomicfile
from appliance.damaged import skip
from appliance.store.layout import dataset, parts_between
from appliance.store.schema import TIME, utc

SWAP_ATTEMPTS = 3
T = TypeVar("T")
OnDamaged = Callable[[Path, str], object]  # (the file, what is wrong with it)
# pyarrow's own words for the file it could not read, which the caller names already
_SOURCE = re.compile(r"^.*?(?:input source|local file) '[^']*'[.:]?\s*")
# zstd: about 2x smaller than snappy on these tables for a little more CPU; the appliance is disk-bound.
WRITE_OPTIONS = {"compression": "zstd", "write_statistics": True}


def write_table(table: pa.Table, path: Path, *, row_group_size: int) -> None:
    """Write ``table`` to ``path`` atomically."""
    with atomicfile.replacing(path) as file:
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
               filter: ds.Expression | None = None, on_damaged: OnDamaged | None = None,
               required: Sequence[str] = ()) -> pa.Table:
    """The rows of ``paths`` that pass ``filter``, read against ``schema`` (so files written before a
    column was added read with that column null). Row-group statistics skip what the filter rules out.
    ``on_damaged``: the rows of the files that are not damaged, each damaged one handed to it; without
    it a damaged file fails the read. ``required``: columns without which a file is damaged, not old
    (its rows would have no key or time)."""
    def read(chosen: Sequence[Path]) -> pa.Table:
        if not chosen:
            return schema.empty_table() if columns is None else schema.empty_table().select(list(columns))
        dataset = ds.dataset([str(p) for p in chosen], schema=schema, format="parquet")
        for fragment in dataset.get_fragments() if required else ():
            if missing := [name for name in required if name not in fragment.physical_schema.names]:
                raise pa.ArrowInvalid(f"{fragment.path} has no {missing[0]} column")
        return dataset.to_table(columns=list(columns) if columns is not None else None, filter=filter)

    try:
        return read(paths)
    except (pa.ArrowException, OSError) as exc:
        if on_damaged is None or not is_damage(exc):
            raise
    sound = each_sound(paths, lambda path: read([path]), schema, on_damaged, required)
    return pa.concat_tables([read([]), *sound])


def read_range(state_dir: Path, name: str, since: datetime, until: datetime, *,
               columns: Sequence[str] | None = None, filter: ds.Expression | None = None,
               on_damaged: OnDamaged = skip) -> pa.Table:
    """The rows of dataset ``name`` (``miners``, ``miners_1h``...) with ``since <= time < until``;
    ``on_damaged``: what becomes of a damaged file (by default skipped and named in the log)."""
    data = dataset(name)
    since, until = utc(since, "since"), utc(until, "until")
    in_range = (ds.field("time") >= pa.scalar(since, TIME)) & (ds.field("time") < pa.scalar(until, TIME))
    where = in_range if filter is None else in_range & filter
    return reread_on_swap(lambda: read_files([part.path for part in parts_between(data.root(state_dir), since, until)],
                                             data.schema, columns=columns, filter=where, on_damaged=on_damaged),
                          data.root(state_dir))


def each_sound(paths: Iterable[Path], read: Callable[[Path], T], schema: pa.Schema,
               on_damaged: OnDamaged, required: Sequence[str] = ()) -> Iterator[T]:
    """``read(path)`` of each path in turn, but for the damaged files: a file whose read fails, and
    fails a plain read of all its rows as ``schema`` too (``why_damaged``), is handed to
    ``on_damaged`` and passed over. A read that fails on a sound file raises: the fault is the
    reader's, not the file's, and no file is set aside for it."""
    for path in paths:
        try:
            yield read(path)
        except (pa.ArrowException, OSError) as exc:
            if not is_damage(exc) or (wrong := why_damaged(path, schema, required)) is None:
                raise
            on_damaged(path, wrong)


def why_damaged(path: Path, schema: pa.Schema | None, required: Sequence[str] = ()) -> str | None:
    """Why the Parquet file ``path`` cannot be read, in a few words (None: it reads): empty, cut
    short, not Parquet, no ``required`` column; and, read whole as ``schema``, a page that does not
    decode or a column of a type that does not convert (``schema`` None: judged by the footer alone,
    which is cheap). OSError if it cannot be opened at all (permissions, gone): that says nothing
    about what it holds."""
    try:
        names = pq.read_schema(path).names
        if schema is not None:
            ds.dataset([str(path)], schema=schema, format="parquet").to_table()
    except (pa.ArrowException, OSError) as exc:
        if not is_damage(exc):
            raise
        return reason(exc)
    missing = [name for name in required if name not in names]
    return f"it has no {missing[0]} column" if missing else None


def is_damage(exc: BaseException) -> bool:
    """Whether a failed read met a file's content rather than its access. pyarrow raises its own
    errors for a file that is not Parquet or whose columns do not convert, and OSError without an
    errno for a page that does not decode; an OSError with one (permissions, a file gone, a failing
    disk) and running out of memory say nothing about the file."""
    if isinstance(exc, OSError):
        return exc.errno is None
    return isinstance(exc, (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError))


def reason(exc: BaseException) -> str:
    """What pyarrow found wrong with a file, in a few words: its first sentence, without the path,
    and with the file's own bytes it may quote escaped."""
    text = re.split(r"\.\s|\n", _SOURCE.sub("", str(exc).strip()), maxsplit=1)[0].rstrip(".")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) or type(exc).__name__
