"""One cycle's tables written as one new file per table, each appearing whole by atomic rename.

A crash (``kill -9``, power cut) mid-cycle leaves each table's file of that cycle either whole or
absent, and every earlier cycle untouched: at most the cycle in flight is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from appliance.store.durable import store_lock
from appliance.store.files import write_table
from appliance.store.layout import cycle_name, dataset, partition_dir
from appliance.store.schema import TABLES, utc

# Small row groups of rows sorted by device: a history read of the hour not yet compacted opens
# each cycle file and, by the statistics, decodes only the one group holding the device.
CYCLE_ROW_GROUP = 2048


def write_cycle(state_dir: Path, tables: Mapping[str, pa.Table], cycle_time: datetime,
                source: str | None = None) -> list[Path]:
    """Write each non-empty table to ``metrics/<table>/date=<day>/cycle-<time>[-<source>].parquet``.

    Writing the same cycle of the same source again replaces its files (the same rows), so an ASIC
    sentry's cycle ingested twice (a crash before the cursor was saved) is stored once. Returns the
    files written.
    """
    moment = utc(cycle_time, "cycle_time")
    for name, table in tables.items():
        if name not in TABLES:
            raise ValueError(f"there is no table {name!r}; the tables are {', '.join(TABLES)}")
        if not table.schema.equals(TABLES[name].schema):
            raise ValueError(f"the {name} table of this cycle does not have the {name} schema")
    written = []
    with store_lock(state_dir):
        for name, table in tables.items():
            if table.num_rows == 0:
                continue
            path = partition_dir(dataset(name).root(state_dir), moment.date()) / cycle_name(moment, source)
            write_table(table.sort_by(TABLES[name].sort_keys), path, row_group_size=CYCLE_ROW_GROUP)
            written.append(path)
    return written
