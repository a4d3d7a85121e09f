"""The read side, for the web and the alerts: one device's history, the farm's totals, the latest rows.

Readers take no lock. Files are chosen by their names (partition dates, the span each file holds,
and for a bucketed span the one bucket that can hold the device). Every file is sorted by device,
so one device's rows lie in one or two row groups of each: ``miner_history`` reads the footer,
picks the groups from the device column's min/max, and decodes only those. Footers are not cached:
a parsed footer of a big file takes megabytes, which is why big spans are split into buckets.

Readers never rename a file: a damaged one is skipped and named in the log once
(``appliance.damaged.skip``); the commander sets it aside when one of its jobs reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from appliance.damaged import skip
from appliance.store.farm import per_algorithm
from appliance.store.files import OnDamaged, each_sound, read_range, reread_on_swap
from appliance.store.latest import read_latest
from appliance.store.layout import HOUR, STEPS, dataset, parts_between
from appliance.store.schema import TIME, utc
from collectors import algorithms

__all__ = ["farm_history", "farm_totals", "latest", "miner_history", "read_range"]

READERS = 4  # files a history read decodes at once


def miner_history(state_dir: Path, device: str, since: datetime, until: datetime, *, table: str = "miners",
                  columns: Sequence[str] | None = None, on_damaged: OnDamaged = skip) -> pd.DataFrame:
    """Every row of one device in [since, until), oldest first. ``table`` may be a rollup
    (``miners_5m``) for long ranges; for ``gpus`` the device is the rig's key."""
    data = dataset(table)
    since, until = utc(since, "since"), utc(until, "until")
    wanted = list(columns) if columns is not None else data.schema.names
    needed = list(dict.fromkeys(wanted + [data.table.key, "time"]))

    def read() -> list[pa.Table]:
        paths = [part.path for part in parts_between(data.root(state_dir), since, until) if part.may_hold(device)]
        # Files read side by side: a day is some 30 files of a few ms each, mostly decoding, which
        # pyarrow does without the GIL (the miners table of a day: 113 to 71 ms on 2 busy cores).
        with ThreadPoolExecutor(READERS) as pool:
            reads = {path: pool.submit(_device_rows, path, data.schema, data.table.key, device, needed)
                     for path in paths}
            return list(each_sound(paths, lambda path: reads[path].result(), data.schema, on_damaged))

    pieces = reread_on_swap(read, data.root(state_dir))
    rows = pa.concat_tables(pieces) if pieces else data.schema.empty_table().select(needed)
    keep = pc.and_(pc.equal(rows[data.table.key], device),
                   pc.and_(pc.greater_equal(rows["time"], pa.scalar(since, TIME)),
                           pc.less(rows["time"], pa.scalar(until, TIME))))
    rows = rows.filter(keep).sort_by([("time", "ascending")])
    return rows.select(wanted).to_pandas()


def _device_rows(path: Path, schema: pa.Schema, key: str, device: str, columns: list[str]) -> pa.Table:
    """The row groups of one file that may hold ``device``, in ``schema``'s types (columns the file
    predates come back null)."""
    with pq.ParquetFile(path) as file:  # footer and rows from one open file, even if swapped meanwhile
        metadata = file.metadata
        names = file.schema_arrow.names
        index = names.index(key) if key in names else -1
        groups = []
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(index).statistics if index >= 0 else None
            if stats is None or not stats.has_min_max or stats.min <= device <= stats.max:
                groups.append(group)
        table = file.read_row_groups(groups, columns=[c for c in columns if c in names], use_threads=False)
    wanted = pa.schema([schema.field(c) for c in columns])
    if table.schema.equals(wanted, check_metadata=False):
        return table.replace_schema_metadata(None)
    arrays = [table[c].cast(schema.field(c).type) if c in names else pa.nulls(table.num_rows, schema.field(c).type)
              for c in columns]
    return pa.Table.from_arrays(arrays, schema=wanted)


def farm_totals(state_dir: Path, since: datetime, until: datetime, step: str = "1h") -> pd.DataFrame:
    """The farm's miners per bucket of ``step`` ("5m" or "1h") and per algorithm in [since, until),
    from the miners rollup: ``time``, ``algorithm`` (its one name, ``collectors.algorithms``),
    ``miners`` (devices with a hashrate that bucket), ``hashrate_hs`` and ``power_w`` (sums of the
    devices' averages), by time and then in the table's order of algorithms. Hashrates of two
    algorithms are never added, so there is no row for the farm as a whole. A miner's algorithm is
    the one it reported, else its model's (rollups written before the algorithm was kept have only
    the model); a miner of an algorithm nobody knows is in no row. Hours not yet rolled up are absent."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, not {step!r}")
    return _ordered(per_algorithm(read_range(state_dir, f"miners_{step}", since, until, columns=_ROLLED),
                                  "hashrate_hs_avg", "power_w_avg"))


def farm_history(state_dir: Path, since: datetime, until: datetime, step: str = "1h") -> pd.DataFrame:
    """``farm_totals``, and after its last rolled-up hour 5-minute buckets of the ``farm`` table (each
    cycle's totals, a few rows a cycle): the hour in progress, and the closed one waiting for the
    commander's next upkeep, which a chart of the last day must not show as a gap. Same columns and
    order. At most ``RAW_TAIL`` before ``until`` is read so: hours whose rollup waits longer (for an
    ASIC sentry's backlog) are a gap until it is written."""
    rolled = farm_totals(state_dir, since, until, step)
    tail = max(since, until - RAW_TAIL)
    if not rolled.empty:
        tail = max(tail, rolled["time"].max().to_pydatetime().replace(minute=0, second=0, microsecond=0) + HOUR)
    if tail >= until:
        return rolled
    cycles = read_range(state_dir, "farm", tail, until,
                        columns=["source", "time", "algorithm", "miners", "hashrate_hs", "power_w"])
    bucket = pc.floor_temporal(cycles["time"], multiple=5, unit="minute")
    # Each source's cycles averaged over the bucket, then the sources added: a sentry polling at its
    # own times counts once per bucket, however its cycles fall against the commander's.
    per_source = cycles.append_column("bucket", bucket).group_by(["bucket", "source", "algorithm"]).aggregate(
        [("miners", "mean"), ("hashrate_hs", "mean"), ("power_w", "mean")])
    totals = per_source.group_by(["bucket", "algorithm"]).aggregate(
        [("miners_mean", "sum"), ("hashrate_hs_mean", "sum"), ("power_w_mean", "sum")])
    recent = pa.table({"time": totals["bucket"], "algorithm": totals["algorithm"],
                       "miners": pc.cast(pc.round(totals["miners_mean_sum"]), pa.int64()),
                       "hashrate_hs": totals["hashrate_hs_mean_sum"], "power_w": totals["power_w_mean_sum"]})
    frames = [frame for frame in (rolled, _ordered(recent)) if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else rolled


RAW_TAIL = timedelta(hours=2)
_ROLLED = ["time", "algorithm", "model", "hashrate_hs_avg", "power_w_avg"]


def _ordered(totals: pa.Table) -> pd.DataFrame:
    """By time, then in the table's order of algorithms."""
    return totals.to_pandas().sort_values(
        ["time", "algorithm"], ignore_index=True,
        key=lambda column: column.map(algorithms.order) if column.name == "algorithm" else column)


def latest(state_dir: Path, table: str = "miners") -> pd.DataFrame:
    """The newest rows of every device, for the dashboard (none while latest/ is damaged: the
    commander rebuilds it at its next cycle)."""
    return read_latest(state_dir, table).to_pandas()
