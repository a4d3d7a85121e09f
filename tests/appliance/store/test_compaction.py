"""Compaction: what is due when, row counts kept, sorted output, late cycles, the swap's leftovers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from appliance.store.compaction import FIVE_MINUTES, HOUR, compact, plan
from appliance.store.durable import recover
from appliance.store.layout import Part, dataset, parts, span
from appliance.store.schema import MINERS, rows_from_snapshots
from appliance.store.writer import write_cycle

from .helpers import CYCLE, T0, snapshot


def write(state, first: int, count: int, miners: int = 14) -> None:
    for c in range(first, first + count):
        moment = T0 + c * CYCLE
        write_cycle(state, rows_from_snapshots([snapshot(i, moment) for i in range(miners)], moment), moment)


def names(state, table="miners") -> list[str]:
    return sorted(p.name for p in (state / "metrics" / table / "date=2026-11-01").iterdir())


def part(name: str) -> Part:
    start, end = span(name, T0.date())
    return Part(start, end, Path(name))


def test_plan_merges_only_closed_spans_after_the_grace():
    found = [part(f"cycle-20261101T00{m:02d}{s:02d}.000Z.parquet") for m in range(7) for s in (0, 30)]
    due = plan(T0.date(), found, T0 + timedelta(minutes=6), FIVE_MINUTES, grace=timedelta(minutes=2))
    assert due == []  # 00:00-00:05 closes at 00:05, plus 2 minutes of grace
    due = plan(T0.date(), found, T0 + timedelta(minutes=7), FIVE_MINUTES, grace=timedelta(minutes=2))
    assert [(m.target, len(m.sources)) for m in due] == [("min5-0000.parquet", 10)]


def test_plan_leaves_a_merged_file_alone_and_takes_late_cycles_into_it():
    later = T0 + timedelta(days=1)
    assert plan(T0.date(), [part("min5-0000.parquet")], later, FIVE_MINUTES) == []
    late = [part("min5-0000.parquet"), part("cycle-20261101T000100.000Z.parquet")]
    assert [m.target for m in plan(T0.date(), late, later, FIVE_MINUTES)] == ["min5-0000.parquet"]
    hours = [part("min5-0000.parquet"), part("min5-0055.parquet"), part("hour-01.parquet")]
    assert [(m.target, len(m.sources)) for m in plan(T0.date(), hours, later, HOUR)] == [("hour-00.parquet", 2)]
    assert plan(T0.date(), [part("day.parquet")], later, HOUR) == []  # coarser than the level


def test_compaction_keeps_every_row_once_sorted_by_device_and_time(state):
    write(state, 0, 130)  # an hour and 5 minutes of cycles
    before = pd.read_parquet(state / "metrics" / "miners")
    merged = compact(state, dataset("miners"), T0 + timedelta(hours=1, minutes=8))
    assert [p.name for p in merged][-1] == "hour-00.parquet"
    assert names(state) == ["hour-00.parquet", "min5-0100.parquet"]
    after = pd.read_parquet(state / "metrics" / "miners")
    key = ["device", "time"]
    assert len(after) == len(before) == 130 * 14
    assert not after.duplicated(key).any()
    pd.testing.assert_frame_equal(before.sort_values(key).reset_index(drop=True),
                                  after.sort_values(key).reset_index(drop=True))
    hour = pq.ParquetFile(state / "metrics" / "miners" / "date=2026-11-01" / "hour-00.parquet").read().to_pandas()
    assert hour[key].equals(hour.sort_values(key)[key])
    assert not list((state / ".staging").glob("[!r]*"))  # only retired partitions wait there


def test_boards_compact_too_and_a_late_cycle_joins_its_hour(state):
    write(state, 0, 12)
    compact(state, dataset("boards"), T0 + timedelta(hours=2))
    assert names(state, "boards") == ["hour-00.parquet"]
    write(state, 20, 1)  # a cycle of 00:10 arriving after its hour was compacted
    compact(state, dataset("boards"), T0 + timedelta(hours=2))
    assert names(state, "boards") == ["hour-00.parquet"]
    assert len(pd.read_parquet(state / "metrics" / "boards")) == 13 * 12 * 3


def test_the_open_span_is_left_to_the_writer(state):
    write(state, 0, 12)
    assert compact(state, dataset("miners"), T0 + timedelta(minutes=4)) == []
    assert len(names(state)) == 12


def test_leftovers_of_a_compaction_killed_before_its_swap_are_swept(state):
    write(state, 0, 10)
    debris = state / ".staging" / "0123abcd" / "date=2026-11-01"
    debris.mkdir(parents=True)
    (debris / "min5-0000.parquet").write_bytes(b"PAR1 half")
    assert recover(state) == 1
    assert not list((state / ".staging").iterdir())
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 10 * 14


def test_parts_ignores_hidden_and_foreign_files(state):
    write(state, 0, 1)
    partition = state / "metrics" / "miners" / "date=2026-11-01"
    (partition / "_SUCCESS").write_text("")
    (partition / "notes.txt").write_text("")
    assert [p.name for p in parts(partition, T0.date())] == ["cycle-20261101T000000.000Z.parquet"]


def test_a_big_span_is_split_into_buckets_each_device_in_one(state, monkeypatch):
    monkeypatch.setattr("appliance.store.compaction.BUCKET_CELLS", 300 * len(MINERS))  # 300 rows of miners
    write(state, 0, 120, miners=10)  # 1,200 rows in the hour: 4 buckets
    compact(state, dataset("miners"), T0 + timedelta(hours=2))
    files = names(state)
    assert files == [f"hour-00.b{b:02d}of04.parquet" for b in range(4)]
    partition = state / "metrics" / "miners" / "date=2026-11-01"
    devices = [set(pq.ParquetFile(partition / f).read(columns=["device"])["device"].to_pylist()) for f in files]
    assert sum(len(d) for d in devices) == 10  # no device in two buckets
    assert all(part.may_hold(device) for part, held in zip(parts(partition, T0.date()), devices) for device in held)
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 1200
    late = T0 + timedelta(minutes=30, seconds=15)  # a cycle of the merged hour, arriving late
    write_cycle(state, rows_from_snapshots([snapshot(i, late) for i in range(10)], late), late)
    compact(state, dataset("miners"), T0 + timedelta(hours=3))
    assert names(state) == [f"hour-00.b{b:02d}of05.parquet" for b in range(5)]  # 1,210 rows now
    frame = pd.read_parquet(state / "metrics" / "miners")
    assert len(frame) == 1210 and not frame.duplicated(["device", "time"]).any()
