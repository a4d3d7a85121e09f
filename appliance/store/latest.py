"""The newest rows of every device, kept apart for the dashboard: ``latest/<table>.parquet``.

Each cycle's rows replace those of the same devices; a device missing from a cycle keeps its last
rows (its ``time`` says how old they are) until it has been silent for ``forget_after``. The file
is rewritten atomically, so the dashboard reads one small file, never a partial one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from appliance.store.durable import store_lock
from appliance.store.files import read_files, write_table
from appliance.store.schema import TABLES

FORGET_AFTER = timedelta(days=1)


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
            path = latest_path(state_dir, name)
            previous = read_files([path], spec.schema) if path.exists() else spec.schema.empty_table()
            merged = merge_latest(previous, table, spec.key, forget_after)
            write_table(merged.sort_by(spec.sort_keys), path, row_group_size=max(merged.num_rows, 1))


def read_latest(state_dir: Path, table: str = "miners") -> pa.Table:
    """The newest rows of every device of ``table`` (empty before the first cycle)."""
    spec = TABLES[table]
    path = latest_path(state_dir, table)
    return read_files([path], spec.schema) if path.exists() else spec.schema.empty_table()


def keys_by_address(state_dir: Path) -> dict[str, str]:
    """Each known miner's address and key, for ``rows_from_snapshots(known_keys=...)``: a miner that
    stops answering keeps the key (MAC, serial) it had when it last answered."""
    rows = read_latest(state_dir, "miners").select(["ip", "device"]).to_pydict()
    return {ip: key for ip, key in zip(rows["ip"], rows["device"]) if ip}
