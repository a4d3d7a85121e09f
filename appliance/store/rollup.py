"""5-minute and 1-hour rollups of the raw tables, for history longer than raw samples are kept.

Each closed hour of raw rows becomes one file in each rollup, ``rollups/<table>_5m/date=.../hour-HH.parquet``
and ``rollups/<table>_1h/...``: per device (and board, pool, GPU) and bucket, the min, average and max
of each gauge, the last value of each counter and label, and the number of samples. Both come
straight from the raw rows, so an average ignores exactly the nulls it should.

What is done is read from the file names (and a day's compacted file from its footer): an hour is
rolled up when its hour file exists or its day's file holds it. A crash loses at most the file being
written, which the next run rewrites under the same name.

A damaged raw file is set aside and its hour rolled up without it. A damaged day file is set aside
when its footer is read here (or by compaction when an hour file is): its hours count as not rolled
up, and are rolled up again from the raw rows still kept.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from appliance.damaged import set_aside
from appliance.store.durable import store_lock
from appliance.store.files import read_range, why_damaged, write_table
from appliance.store.layout import (
    HOUR,
    STEPS,
    Dataset,
    dataset,
    hour_name,
    partition_dir,
    partitions,
    parts,
)
from appliance.store.schema import Table, rollup_schema

GRACE = timedelta(minutes=2)  # late cycles of an hour are waited for this long
_UNITS = {"5m": (5, "minute"), "1h": (1, "hour")}


def source_columns(table: Table) -> list[str]:
    """The raw columns a rollup of ``table`` reads."""
    keys = [table.key] + ([table.member] if table.member else [])
    return list(dict.fromkeys(keys + ["time", *table.labels, *table.gauges, *table.counters]))


def rollup_table(rows: pa.Table, table: Table, step: str) -> pa.Table:
    """The rollup at ``step`` of ``rows``, raw rows of ``table`` already in its sort order (device,
    part, time: so each bucket's rows are in time order, as "last" needs); pure."""
    multiple, unit = _UNITS[step]
    groups = [table.key] + ([table.member] if table.member else []) + ["bucket"]
    rows = rows.append_column("bucket", pc.floor_temporal(rows["time"], multiple=multiple, unit=unit))
    aggregations = [(g, fn) for g in table.gauges for fn in ("min", "mean", "max")]
    aggregations += [(name, "last") for name in table.labels + table.counters]
    # Single-threaded: "last" follows the input order.
    result = rows.group_by(groups, use_threads=False).aggregate(aggregations + [([], "count_all")])
    schema = rollup_schema(table)
    source_of = {"time": "bucket", "samples": "count_all"}
    source_of |= {f"{g}_avg": f"{g}_mean" for g in table.gauges}
    source_of |= {name: f"{name}_last" for name in table.labels + table.counters}
    columns = [result[source_of.get(field.name, field.name)].cast(field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema).sort_by(table.sort_keys)


def rolled_up_hours(root: Path, days: set[date]) -> set[datetime]:
    """The hours of ``days`` a rollup dataset already holds: an hour file's hour, and for a day's
    compacted file the hours from its first bucket to its last (its footer's statistics; a late
    hour after them is rolled up into an hour file beside it and merged the next night)."""
    done = set()
    for day, directory in partitions(root).items():
        if day not in days:
            continue
        for part in parts(directory, day):
            covered = (part.start, part.end - HOUR) if part.end - part.start <= HOUR else _time_range(part.path)
            if covered is None:
                continue
            first, last = covered
            while first <= last:
                done.add(first)
                first += HOUR
    return done


def _time_range(path: Path) -> tuple[datetime, datetime] | None:
    """The first and last hour of ``time`` in a file, from its row groups' statistics (None: empty,
    or damaged: then it is set aside)."""
    if (wrong := why_damaged(path, None, ["time"])) is not None:
        set_aside(path, wrong, then="rolling up its hours again from the raw rows still kept")
        return None
    metadata = pq.read_metadata(path)
    column = metadata.schema.to_arrow_schema().get_field_index("time")
    stats = [metadata.row_group(g).column(column).statistics for g in range(metadata.num_row_groups)]
    lows = [s.min for s in stats if s is not None and s.has_min_max]
    highs = [s.max for s in stats if s is not None and s.has_min_max]
    if not lows:
        return None
    return _hour(min(lows)), _hour(max(highs))


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_with_data(root: Path) -> set[datetime]:
    """The hours a raw dataset holds rows of, from its file names."""
    return {_hour(part.start) for day, directory in partitions(root).items() for part in parts(directory, day)}


def rollup(state_dir: Path, table: str, now: datetime, grace: timedelta = GRACE) -> list[Path]:
    """Roll up every closed hour of ``table`` not rolled up yet; returns the files written."""
    raw = dataset(table)
    targets = [dataset(f"{table}_{step}") for step in STEPS]
    hours = hours_with_data(raw.root(state_dir))
    days = {hour.date() for hour in hours}
    done = {t.name: rolled_up_hours(t.root(state_dir), days) for t in targets}
    written = []
    for hour in sorted(hours):
        if hour + HOUR + grace > now:
            continue
        missing = [t for t in targets if hour not in done[t.name]]
        if missing:
            rows = read_range(state_dir, raw.name, hour, hour + HOUR, columns=source_columns(raw.table),
                              on_damaged=functools.partial(set_aside, then=f"rolling up {hour:%H}:00 without it"))
            rows = rows.sort_by(raw.table.sort_keys)
            written += [_write(state_dir, t, hour, rollup_table(rows, raw.table, t.step)) for t in missing]
    return written


def _write(state_dir: Path, target: Dataset, hour: datetime, rows: pa.Table) -> Path:
    path = partition_dir(target.root(state_dir), hour.date()) / hour_name(hour.hour)
    with store_lock(state_dir):
        write_table(rows, path, row_group_size=32_768)
    return path
