"""The newest rows of every device, kept apart for the dashboard: ``latest/<table>.parquet``.

Each cycle's rows replace those of the same devices; a device missing from a cycle keeps its last
rows (its ``time`` says how old they are) until it has been silent for ``forget_after``. The file
is rewritten atomically, so the dashboard reads one small file, never a partial one.

A damaged file is set aside by the commander's next cycle (or its start) and rebuilt from the last
``REBUILD_SPAN`` of ``metrics/``: each device's newest rows there. That costs, once, a read of the
hour's keys and times and of the newest cycles (0.7 s for 10,000 miners, 1.2-2 s for their boards
or pools), and keeps what the dashboard shows of a miner that is down now (its last boards and
pools), which starting over from the next cycle would lose until it answers again. A device silent
for longer than that, but less than ``FORGET_AFTER``, is back once it answers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from appliance.damaged import set_aside, skip
from appliance.store.durable import store_lock
from appliance.store.files import OnDamaged, read_files, read_range, write_table
from appliance.store.schema import TABLES

FORGET_AFTER = timedelta(days=1)
REBUILD_SPAN = timedelta(hours=1)


def latest_path(state_dir: Path, table: str) -> Path:
    return Path(state_dir) / "latest" / f"{table}.parquet"


def merge_latest(previous: pa.Table, new: pa.Table, key: str, forget_after: timedelta) -> pa.Table:
    """``new``, plus the rows of ``previous`` whose device is not in ``new`` and was seen within
    ``forget_after`` of the newest row."""
    if previous.num_rows == 0:
        return new
    keep = pc.invert(pc.is_in(previous[key], value_set=new[key]))
    if new.num_rows:
        newest = pc.max(new["time"]).as_py()
        keep = pc.and_(keep, pc.greater_equal(previous["time"], pa.scalar(newest - forget_after, new["time"].type)))
    return pa.concat_tables([previous.filter(keep), new])


def update_latest(state_dir: Path, tables: Mapping[str, pa.Table], forget_after: timedelta = FORGET_AFTER) -> None:
    """Fold one cycle's tables into ``latest/``."""
    with store_lock(state_dir):
        for name, table in tables.items():
            spec = TABLES[name]
            newest = pc.max(table["time"]).as_py() if table.num_rows else datetime.now(UTC)
            merged = merge_latest(_load(state_dir, name, newest), table, spec.key, forget_after)
            _write(state_dir, name, merged)


def load_latest(state_dir: Path, table: str, now: datetime) -> pa.Table:
    """``read_latest`` as the commander reads its own files: a damaged one is set aside, rebuilt
    from the ``REBUILD_SPAN`` of ``metrics/`` before ``now``, and written back."""
    with store_lock(state_dir):
        return _load(state_dir, table, now)


def _load(state_dir: Path, name: str, now: datetime) -> pa.Table:
    """``load_latest``, the lock held by the caller."""
    wrong: list[str] = []
    rows = read_latest(state_dir, name, on_damaged=lambda path, reason: wrong.append(reason))
    if not wrong:
        return rows
    set_aside(latest_path(state_dir, name), wrong[0], then=f"rebuilding it from the last hour of metrics/{name}")
    rows = rebuild_latest(state_dir, name, now)
    _write(state_dir, name, rows)
    return rows


def rebuild_latest(state_dir: Path, table: str, now: datetime) -> pa.Table:
    """Each device's newest rows in the ``REBUILD_SPAN`` of ``metrics/<table>`` before ``now``; a
    damaged file met on the way is set aside.

    Two reads: the keys and times of the span, then every column only from the oldest of the
    devices' newest times. The commander stores every polled miner each cycle, so that is mostly
    the last cycle's file: 10,000 miners in a fraction of the time all columns of the hour take."""
    key = TABLES[table].key
    put_aside = functools.partial(set_aside, then=f"rebuilding latest/{table} without it")
    seen = read_range(state_dir, table, now - REBUILD_SPAN, now, columns=[key, "time"], on_damaged=put_aside)
    if seen.num_rows == 0:
        return TABLES[table].schema.empty_table()
    since = pc.min(seen.group_by(key).aggregate([("time", "max")])["time_max"]).as_py()
    return newest_rows(read_range(state_dir, table, since, now, on_damaged=put_aside), key)


def newest_rows(rows: pa.Table, key: str) -> pa.Table:
    """The rows of each device (``key``) at its newest ``time`` in ``rows``: all its boards, pools or
    GPUs of that time; pure."""
    newest = rows.group_by(key).aggregate([("time", "max")])
    newest_of_row = pc.take(newest["time_max"], pc.index_in(rows[key], value_set=newest[key]))
    return rows.filter(pc.equal(rows["time"], newest_of_row))


def _write(state_dir: Path, name: str, rows: pa.Table) -> None:
    write_table(rows.sort_by(TABLES[name].sort_keys), latest_path(state_dir, name),
                row_group_size=max(rows.num_rows, 1))


def read_latest(state_dir: Path, table: str = "miners", on_damaged: OnDamaged = skip) -> pa.Table:
    """The newest rows of every device of ``table`` (empty before the first cycle, and while the
    file is damaged: ``on_damaged`` is told)."""
    spec = TABLES[table]
    path = latest_path(state_dir, table)
    if not path.exists():
        return spec.schema.empty_table()
    return read_files([path], spec.schema, on_damaged=on_damaged, required=[name for name, _ in spec.sort_keys])


def keys_by_address(state_dir: Path, now: datetime) -> dict[str, str]:
    """Each known miner's address and key, for ``rows_from_snapshots(known_keys=...)``: a miner that
    stops answering keeps the key (MAC, serial) it had when it last answered. The writer's read
    (``load_latest``)."""
    rows = load_latest(state_dir, "miners", now).select(["ip", "device"]).to_pydict()
    return {ip: key for ip, key in zip(rows["ip"], rows["device"]) if ip}
