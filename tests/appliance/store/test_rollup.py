"""Rollups on hand-made rows: min, average and max of gauges, last counters, nulls ignored."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pyarrow as pa

from appliance.store.compaction import compact
from appliance.store.layout import dataset
from appliance.store.rollup import rollup, rollup_table
from appliance.store.schema import TABLES, rows_from_snapshots
from appliance.store.writer import write_cycle

from .helpers import CYCLE, T0, snapshot


def cycles(hashrates: list[float | None], miners: int = 2) -> list:
    """One snapshot list per cycle: miner i at hashrates[c] + i (None: the miner did not say)."""
    per_cycle = []
    for c, value in enumerate(hashrates):
        snaps = [snapshot(i, T0 + c * CYCLE) for i in range(miners)]
        for i, snap in enumerate(snaps):
            snap.hashrate_hs = None if value is None else value + i
        per_cycle.append(snaps)
    return per_cycle


def write(state, per_cycle) -> None:
    for c, snaps in enumerate(per_cycle):
        moment = T0 + c * CYCLE
        write_cycle(state, rows_from_snapshots(snaps, moment), moment)


def test_five_minute_buckets_have_min_avg_max_last_and_samples():
    values = [10.0, 30.0, None, 20.0] + [100.0] * 10  # 10 cycles per 5 minutes
    snaps = cycles(values, miners=1)
    raw = pa.concat_tables([rows_from_snapshots(s, T0 + c * CYCLE)["miners"] for c, s in enumerate(snaps)])
    table = TABLES["miners"]
    rows = rollup_table(raw.sort_by(table.sort_keys), table, "5m").to_pylist()
    assert [r["time"] for r in rows] == [T0, T0 + timedelta(minutes=5)]
    first, second = rows
    assert (first["hashrate_hs_min"], first["hashrate_hs_max"]) == (10.0, 100.0)
    assert first["hashrate_hs_avg"] == (10 + 30 + 20 + 6 * 100) / 9  # the null is left out of the average
    assert first["samples"] == 10  # but counted as a sample
    assert second["hashrate_hs_min"] == second["hashrate_hs_max"] == 100.0 and second["samples"] == 4
    assert first["uptime_s"] == 3600  # the last value of a counter
    assert first["model"] == "Antminer S19 Pro"


def test_a_bucket_without_any_value_is_null_not_zero():
    raw = pa.concat_tables([rows_from_snapshots(s, T0 + c * CYCLE)["miners"] for c, s in enumerate(cycles([None] * 3, 1))])
    row = rollup_table(raw, TABLES["miners"], "1h").to_pylist()[0]
    assert row["hashrate_hs_avg"] is None and row["hashrate_hs_min"] is None and row["samples"] == 3


def test_boards_roll_up_per_board(state):
    write(state, cycles([1.0] * 4))
    rollup(state, "boards", T0 + timedelta(hours=2))
    frame = pd.read_parquet(state / "rollups" / "boards_1h")
    assert len(frame) == 2 * 3 and set(frame["board"]) == {0, 1, 2} and set(frame["samples"]) == {4}


def test_rollup_writes_each_closed_hour_once_and_day_compaction_keeps_it_once(state):
    write(state, cycles([5.0] * 150))  # 00:00 to 01:15
    assert rollup(state, "miners", T0 + timedelta(minutes=50)) == []  # hour 00 not closed yet
    written = rollup(state, "miners", T0 + timedelta(hours=1, minutes=10))
    assert sorted(p.relative_to(state).as_posix() for p in written) == [
        "rollups/miners_1h/date=2026-11-01/hour-00.parquet", "rollups/miners_5m/date=2026-11-01/hour-00.parquet"]
    assert rollup(state, "miners", T0 + timedelta(hours=1, minutes=20)) == []  # done, and 01 is open
    assert len(pd.read_parquet(state / "rollups" / "miners_5m")) == 12 * 2
    compact(state, dataset("miners_1h"), T0 + timedelta(days=2))
    assert [p.name for p in (state / "rollups" / "miners_1h" / "date=2026-11-01").iterdir()] == ["day.parquet"]
    assert rollup(state, "miners", T0 + timedelta(days=2)) != []  # hour 01 now
    assert len(pd.read_parquet(state / "rollups" / "miners_1h")) == 2 * 2
