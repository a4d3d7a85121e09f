"""Cycles written as real Parquet files that pandas, pyarrow datasets and DuckDB read as they are."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from appliance.store.compaction import compact
from appliance.store.durable import recover
from appliance.store.layout import cycle_name, dataset
from appliance.store.query import miner_history
from appliance.store.schema import rows_from_snapshots
from appliance.store.writer import write_cycle

from .helpers import CYCLE, T0, key, snapshot



def write(state, cycles: int, miners: int = 14):
    for c in range(cycles):
        moment = T0 + c * CYCLE
        write_cycle(state, rows_from_snapshots([snapshot(i, moment) for i in range(miners)], moment, "north"), moment)


def test_files_are_hive_partitioned_by_day_one_per_table_per_cycle(state):
    write(state, 2)
    files = sorted(p.relative_to(state).as_posix() for p in state.rglob("*.parquet"))
    assert files == [f"metrics/{t}/date=2026-11-01/{cycle_name(T0 + c * CYCLE)}"
                     for t in ("boards", "miners", "pools") for c in range(2)]


def test_pandas_reads_the_dataset_back_with_the_same_values(state):
    write(state, 3)
    frame = pd.read_parquet(state / "metrics" / "miners")
    assert len(frame) == 3 * 14
    assert set(frame["date"].astype(str)) == {"2026-11-01"}  # the hive partition column
    row = frame[(frame["device"] == key(5)) & (frame["time"] == pd.Timestamp(T0))].iloc[0]
    assert row["hashrate_hs"] == 110e12 + 5 and row["power_w"] == 3250.0 and row["site"] == "north"
    assert pd.isna(row["hw_errors"]) and row["rejected"] == 0
    unreachable = frame[frame["device"] == key(6)].iloc[0]
    assert not unreachable["reachable"] and pd.isna(unreachable["hashrate_hs"])
    assert unreachable["error"] == "no answer on 10.0.0.6:4028 within 3 s"


def test_pyarrow_dataset_and_duckdb_read_it_as_it_is(state):
    write(state, 3)
    table = ds.dataset(state / "metrics" / "boards", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 3 * 12 * 3 and "date" in table.column_names
    con = duckdb.connect()
    glob = f"{state}/metrics/miners/*/*.parquet"
    count, total, nulls = con.execute(
        "select count(*), sum(hashrate_hs), count(*) - count(hashrate_hs) "
        f"from read_parquet('{glob}', hive_partitioning = true) where date = '2026-11-01'").fetchone()
    assert count == 3 * 14 and nulls == 3 * 2
    assert total == pytest.approx(3 * sum(110e12 + i for i in range(14) if i % 7 != 6))


def test_leftovers_of_an_interrupted_write_are_invisible_to_every_reader_and_swept(state):
    write(state, 1)
    partition = state / "metrics" / "miners" / "date=2026-11-01"
    (partition / f".{cycle_name(T0 + CYCLE)}.tmp").write_bytes(b"PAR1 half a file")
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 14
    assert ds.dataset(state / "metrics" / "miners", partitioning="hive").count_rows() == 14
    assert duckdb.connect().execute(
        f"select count(*) from read_parquet('{state}/metrics/miners/*/*.parquet')").fetchone()[0] == 14
    assert recover(state) == 1
    assert [p.name for p in partition.iterdir()] == [cycle_name(T0)]


def test_writing_a_cycle_again_replaces_it(state):
    write(state, 1)
    write(state, 1)
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 14


def test_a_table_of_another_schema_is_refused(state):
    with pytest.raises(ValueError, match="miners schema"):
        write_cycle(state, {"miners": pa.table({"device": ["x"]})}, T0)
    with pytest.raises(ValueError, match="no table 'fans'"):
        write_cycle(state, {"fans": pa.table({"device": ["x"]})}, T0)


def test_each_miner_is_stored_under_its_own_site(tmp_path):
    snaps = [snapshot(0, T0), snapshot(1, T0)]
    sites = {snaps[0].ip: "north", snaps[1].ip: "south"}
    tables = rows_from_snapshots(snaps, T0, sites.get)
    assert tables["miners"].column("site").to_pylist() == ["north", "south"]
    assert set(tables["boards"].column("site").to_pylist()) == {"north", "south"}


def test_a_sentrys_cycle_is_its_own_file_and_storing_it_again_stores_it_once(state):
    ours = rows_from_snapshots([snapshot(i, T0) for i in range(3)], T0, "north")
    theirs = rows_from_snapshots([snapshot(i, T0) for i in range(3, 6)], T0, "south")
    write_cycle(state, ours, T0)
    write_cycle(state, theirs, T0, source="site-south")
    write_cycle(state, theirs, T0, source="site-south")  # a crash before the cursor was saved
    names = [p.name for p in (state / "metrics" / "miners").rglob("*.parquet")]
    assert sorted(names) == sorted([cycle_name(T0), cycle_name(T0, "site-south")])
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 6
    compact(state, dataset("miners"), T0 + timedelta(hours=2))
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 6
    assert len(miner_history(state, key(4), T0, T0 + CYCLE)) == 1
