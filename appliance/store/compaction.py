"""Many small files merged into fewer, by an atomic swap of the partition directory.

Raw tables, in two levels: every closed 5 minutes, the cycle files (10 at a 30 s cycle) become
``min5-HHMM.parquet``; every closed hour, those become ``hour-HH.parquet``. So a partition holds at
most about 24 + 12 + 10 files, and a 24-hour history read opens about 45 files, not 2,880.
Rollups: every closed day, the hour files become ``day.parquet``. Every merged file is sorted by
device, part and time, so that row-group statistics let a reader decode one group per file.

Crash safety (see ``durable``): the merged file is written inside a copy of the partition built in
``.staging`` from hard links, and that copy is swapped with the live partition in one system call.
Before the swap the live partition is untouched; after it, the live partition holds every row exactly
once. A crash at any point leaves only ``.staging`` debris, which ``recover`` deletes.

A damaged source (its footer unreadable or without the key and time columns, or a page that does
not decode while merging) is set aside and the others are merged: merging a file that lacks the
key would drop its rows, and the merge deletes its sources.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from appliance.damaged import is_set_aside, set_aside
from appliance.store.durable import exchange, retire, staging, store_lock, sweep_retired
from appliance.store.files import WRITE_OPTIONS, is_damage, why_damaged
from atomicfile import fsync_dir, replacing
from appliance.store.layout import (
    DAY,
    FIVE_MINUTES,
    HOUR,
    Dataset,
    Part,
    bucket_name,
    bucket_of,
    is_temp,
    partitions,
    parts,
    span_name,
)

log = logging.getLogger(__name__)

RAW_LEVELS = (FIVE_MINUTES, HOUR)
ROLLUP_LEVELS = (DAY,)
# Rows per row group by the span a file holds: a history read decodes one group per file, and
# parses each file's footer (one entry per group and column) once; these sizes balance the two.
ROW_GROUP = {FIVE_MINUTES: 4096, HOUR: 4096, DAY: 32_768}
# Values (rows x columns) per file of a compacted span, about: 131,072 rows of miners. A footer holds
# an entry per row group and column, and this keeps it near 100 kB, parsed in about 1 ms.
BUCKET_CELLS = 131_072 * 33
MAX_BUCKETS = 99  # two digits in the name; beyond, files just grow
# Rows sorted in memory at once while merging: bounds compaction's memory (about 100 MB for miners)
# whatever the size of the sources.
CHUNK_ROWS = 300_000
GRACE = timedelta(minutes=2)  # a cycle may land this long after its time; compaction waits for it


@dataclass(frozen=True)
class Merge:
    """The files of one partition to merge into one file named ``target``."""

    sources: tuple[Part, ...]
    target: str
    size: timedelta  # the span the target holds


def plan(day: date, found: list[Part], now: datetime, size: timedelta, grace: timedelta = GRACE) -> list[Merge]:
    """The merges due in partition ``day`` at ``now`` at one level: for each closed span of ``size``
    (aligned on midnight), its files, unless they are that span's merged files already; pure."""
    midnight = datetime.combine(day, time(), UTC)
    groups: dict[datetime, list[Part]] = {}
    for part in found:
        if part.end - part.start <= size:  # a file coarser than the level is left as it is
            start = midnight + (part.start - midnight) // size * size
            groups.setdefault(start, []).append(part)
    due = []
    for start, sources in sorted(groups.items()):
        merged_already = all(p.end - p.start == size for p in sources)  # the files of one earlier merge
        if start + size + grace <= now and not merged_already:
            due.append(Merge(tuple(sources), span_name(start, size), size))
    return due


def compact(state_dir: Path, data: Dataset, now: datetime) -> list[Path]:
    """Run every merge due in ``data`` at ``now``, finer levels first; returns the merged files."""
    sweep_retired(state_dir)
    done = []
    for level in RAW_LEVELS if data.step is None else ROLLUP_LEVELS:
        for day, directory in sorted(partitions(data.root(state_dir)).items()):
            for merge in plan(day, parts(directory, day), now, level):
                done.extend(merge_sound(state_dir, data, directory, merge))
    return done


def merge_sound(state_dir: Path, data: Dataset, live: Path, merge: Merge) -> list[Path]:
    """``run_merge`` of the sources that are not damaged; each damaged one is set aside first, found
    by its footer, or by reading each source whole when the merge fails on a page."""
    put_aside = functools.partial(set_aside, then="compacting the rest without it")
    required = [name for name, _ in data.table.sort_keys]
    sources = []
    for part in merge.sources:
        if (wrong := why_damaged(part.path, None, required)) is None:
            sources.append(part)
        else:
            put_aside(part.path, wrong)
    while sources:
        try:
            return run_merge(state_dir, data, live, replace(merge, sources=tuple(sources)))
        except (pa.ArrowException, OSError) as exc:
            if not is_damage(exc):
                raise
            damaged = {part.path: wrong for part in sources
                       if (wrong := why_damaged(part.path, data.schema)) is not None}
            if not damaged:
                raise
        for path, wrong in damaged.items():
            put_aside(path, wrong)
        sources = [part for part in sources if part.path not in damaged]
    return []


def run_merge(state_dir: Path, data: Dataset, live: Path, merge: Merge) -> list[Path]:
    """Merge ``merge.sources`` into ``live/merge.target`` (one file or a few buckets): the work outside
    the lock, the swap under it. Returns the merged files."""
    work = staging(state_dir)
    try:
        fresh = work / live.name
        fresh.mkdir()
        outputs = merge_sorted([p.path for p in merge.sources], data, fresh, merge.target, ROW_GROUP[merge.size])
        with store_lock(state_dir):
            replaced = {p.name for p in merge.sources}
            present = {entry.name for entry in live.iterdir()}
            if missing := replaced - present:
                raise FileNotFoundError(f"{live} lost {min(missing)} while it was being compacted")
            for name in sorted(present - replaced - {p.name for p in outputs}):
                if not is_temp(name) or is_set_aside(name):
                    os.link(live / name, fresh / name)
            fsync_dir(fresh)
            exchange(fresh, live)
    except BaseException:
        shutil.rmtree(work)
        raise
    retire(state_dir, work)  # now holding the old partition
    log.debug("compacted %d files into %d in %s", len(merge.sources), len(outputs), live)
    return [live / p.name for p in outputs]


def merge_sorted(sources: list[Path], dataset: Dataset, out_dir: Path, name: str, row_group: int,
                 chunk_rows: int = CHUNK_ROWS) -> list[Path]:
    """Write the rows of ``sources`` into ``out_dir`` as ``name``, split by device key into buckets
    of about ``BUCKET_CELLS`` values, each sorted by the table's sort keys; holds at most about
    ``chunk_rows`` rows in memory (one pass per range of devices). Returns the files written."""
    schema, table = dataset.schema, dataset.table
    data = ds.dataset([str(p) for p in sources], schema=schema, format="parquet")
    keys = data.to_table(columns=[table.key])[table.key]
    buckets = min(MAX_BUCKETS, max(1, math.ceil(len(keys) * len(schema) / BUCKET_CELLS)))
    paths = [out_dir / bucket_name(name, b, buckets) for b in range(buckets)]
    key = ds.field(table.key)
    with ExitStack() as stack:
        writers = [stack.enter_context(pq.ParquetWriter(stack.enter_context(replacing(path)), schema, **WRITE_OPTIONS))
                   for path in paths]
        filled = [0] * buckets
        for low, high in key_ranges(keys, chunk_rows):
            chunk = data.to_table(filter=(key >= low) & (key <= high)).sort_by(table.sort_keys)
            for bucket, rows in enumerate(split_by_bucket(chunk, table.key, buckets)):
                if rows.num_rows:
                    writers[bucket].write_table(rows, row_group_size=row_group)
                    filled[bucket] += rows.num_rows
        for writer, rows in zip(writers, filled):
            if rows == 0:
                writer.write_table(schema.empty_table())  # no rows fell in this bucket: still a valid file
    return paths


def split_by_bucket(rows: pa.Table, key: str, buckets: int) -> list[pa.Table]:
    """``rows`` split by ``bucket_of`` their key, each part in the order ``rows`` had; pure."""
    if buckets == 1:
        return [rows]
    distinct = pc.unique(rows[key])
    of_value = pa.array([bucket_of(v, buckets) for v in distinct.to_pylist()], pa.int32())
    of_row = pc.take(of_value, pc.index_in(rows[key], value_set=distinct))
    return [rows.filter(pc.equal(of_row, b)) for b in range(buckets)]


def key_ranges(keys: pa.ChunkedArray, chunk_rows: int) -> list[tuple[str, str]]:
    """Consecutive, inclusive ranges of key values, each covering about ``chunk_rows`` rows."""
    counts = pc.value_counts(keys).flatten()
    order = pc.sort_indices(counts[0])
    values, sizes = counts[0].take(order).to_pylist(), counts[1].take(order).to_pylist()
    ranges, start, filled = [], None, 0
    for value, size in zip(values, sizes):
        start = value if start is None else start
        filled += size
        if filled >= chunk_rows:
            ranges.append((start, value))
            start, filled = None, 0
    if start is not None:
        ranges.append((start, values[-1]))
    return ranges

