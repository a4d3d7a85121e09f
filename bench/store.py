"""The storage's speed on a synthetic 10,000-miner farm at a 30 s cycle.

    .venv/bin/python -m bench.store [--dir DIR] [--miners N] [--keep]

What it builds, and why this way (a real day of raw rows is 28.8 M miner rows, hours to write):

1. one real hour: 120 cycles of 10,000 miners (3 boards, 4 fans, 3 pools each) through
   ``store_cycle``, timed per cycle; then that hour compacted and rolled up, timed;
2. the other 23 hours of a 24-hour window: the compacted hour's files again with their times
   shifted, written as compaction writes them, plus the current half hour as 60 cycle files;
3. 30 days of 1-hour rollups, one compacted file per day, from the real hour's rollup, shifted.

Then it times a miner's 24-hour history (median over 20 miners, page cache warm; no other cache
exists) and the farm's 30-day hourly totals, and prints sizes on disk. Goals: history < 200 ms,
totals < 1 s. Each figure is wall time of one process on one core's worth of work.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from appliance.store import farm_totals, miner_history
from appliance.store.compaction import ROW_GROUP, compact, merge_sorted
from appliance.store.files import write_table
from appliance.store.latest import update_latest
from appliance.store.layout import (
    DAY,
    HOUR,
    dataset,
    day_name,
    hour_name,
    partition_dir,
    parts,
    parts_between,
)
from appliance.store.rollup import rollup
from appliance.store.schema import rows_from_snapshots
from appliance.store.writer import write_cycle
from collectors.model import Board, Fan, MinerSnapshot, Pool

START = datetime(2026, 11, 1, tzinfo=UTC)
CYCLE = timedelta(seconds=30)
MODELS = [("Bitmain", "Antminer S19 Pro", 110e12, 3250.0), ("Bitmain", "Antminer S21", 200e12, 3500.0),
          ("MicroBT", "WhatsMiner M50S", 126e12, 3276.0), ("Canaan", "AvalonMiner 1366", 130e12, 3400.0)]


def say(line: str) -> None:
    print(line, flush=True)


def farm(miners: int, rng: random.Random) -> list[MinerSnapshot]:
    snaps = []
    for i in range(miners):
        make, model, nominal, power = MODELS[i % len(MODELS)]
        snaps.append(MinerSnapshot(
            ip=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", port=4028, make=make, model=model, firmware="stock",
            firmware_version="2024.03", algorithm="SHA256", reachable=True, hashrate_nominal_hs=nominal,
            power_limit_w=power, mac=f"02:00:00:{i >> 16 & 255:02X}:{i >> 8 & 255:02X}:{i & 255:02X}",
            serial=f"SN{i:08d}", hostname=f"miner-{i}", uptime_s=rng.randrange(3600, 10**6),
            accepted=rng.randrange(10**5), rejected=rng.randrange(100), hw_errors=rng.randrange(1000),
            boards=[Board(index=b, chips=76, chips_expected=76, status="ok") for b in range(3)],
            fans=[Fan(index=f) for f in range(4)],
            pools=[Pool(index=p, url=f"stratum+tcp://pool{p}.example:3333", user=f"farm.w{i}", status="alive",
                        active=p == 0, accepted=0, rejected=0, stale=0) for p in range(3)]))
    return snaps


def advance(snaps: list[MinerSnapshot], moment: datetime, rng: random.Random) -> None:
    """One cycle's new readings, in place: what a poll would change."""
    for s in snaps:
        if rng.random() < 0.01:
            s.reachable, s.hashrate_hs, s.power_w, s.temp_max_c = False, None, None, None
            s.error = f"no answer on {s.ip}:4028 within 3 s"
            continue
        s.reachable, s.error = True, None
        s.hashrate_hs = s.hashrate_nominal_hs * rng.uniform(0.93, 1.04)
        s.hashrate_avg_hs = s.hashrate_nominal_hs * 0.99
        s.power_w = s.power_limit_w * rng.uniform(0.95, 1.0)
        s.efficiency_jth = s.power_w / (s.hashrate_hs / 1e12)
        s.temp_max_c = round(rng.uniform(60, 80), 1)
        s.uptime_s += 30
        s.accepted += rng.randrange(3)
        s.polled_at, s.latency_ms = moment.timestamp(), rng.uniform(20, 400)
        for b in s.boards:
            b.hashrate_hs, b.temp_board_c, b.temp_chip_c = s.hashrate_hs / 3, s.temp_max_c - 8, s.temp_max_c
            b.frequency_mhz, b.hw_errors = 525.0, s.hw_errors // 3
        for f in s.fans:
            f.rpm = rng.randrange(4000, 6000)
        s.pools[0].accepted = s.accepted


def shifted(table: pa.Table, by: timedelta) -> pa.Table:
    field = table.schema.field("time")
    times = pc.add(table["time"], pa.scalar(by)).cast(field.type)
    return table.set_column(table.schema.get_field_index("time"), field, times)


def size_mb(paths) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def tree_mb(root: Path) -> float:
    return size_mb(p for p in root.rglob("*") if p.is_file())


@contextmanager
def scratch(what: str, keep: bool, parent: Path | None = None) -> Iterator[Path]:
    """A temporary state directory for a bench, removed at the end unless ``keep``."""
    state = Path(tempfile.mkdtemp(prefix=f"minerwatch-bench-{what}-", dir=parent))
    try:
        yield state
    finally:
        if keep:
            say(f"{what} kept in {state}")
        else:
            shutil.rmtree(state)


def median_ms(fn, runs: int) -> float:
    fn()  # warm: imports, page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def real_hour(state: Path, snaps: list[MinerSnapshot], rng: random.Random) -> None:
    build, write, latest = [], [], []
    for k in range(120):
        moment = START + k * CYCLE
        advance(snaps, moment, rng)
        t0 = time.perf_counter()
        tables = rows_from_snapshots(snaps, moment, "bench")
        t1 = time.perf_counter()
        write_cycle(state, tables, moment)
        t2 = time.perf_counter()
        update_latest(state, tables)
        t3 = time.perf_counter()
        build.append(t1 - t0), write.append(t2 - t1), latest.append(t3 - t2)
    ms = {name: statistics.median(v) * 1000 for name, v in (("rows", build), ("write", write), ("latest", latest))}
    say(f"cycle of {len(snaps):,} miners: {sum(ms.values()):6.0f} ms  (rows_from_snapshots {ms['rows']:.0f}, "
        f"write_cycle {ms['write']:.0f}, update_latest {ms['latest']:.0f}; median of 120)")
    hour_files = {t: list(partition_dir(dataset(t).root(state), START.date()).iterdir())
                  for t in ("miners", "boards", "pools")}
    for table, files in hour_files.items():
        say(f"  {table:7} 1 hour as 120 cycle files: {size_mb(files):7.1f} MB")

    now = START + timedelta(hours=1, minutes=5)
    for table in ("miners", "boards", "pools"):
        started = time.perf_counter()
        compact(state, dataset(table), now)
        took = time.perf_counter() - started
        merged = list(partition_dir(dataset(table).root(state), START.date()).glob("hour-00*.parquet"))
        rows = sum(pq.ParquetFile(m).metadata.num_rows for m in merged)
        say(f"compaction of 1 hour of {table:7}: {took:5.1f} s  ({rows:,} rows in {len(merged)} files; "
            f"{size_mb(merged):.1f} MB, {size_mb(merged) * 24:.0f} MB a day)")
    started = time.perf_counter()
    rollup(state, "miners", now)
    say(f"rollup of 1 hour of miners (5 m and 1 h): {time.perf_counter() - started:.1f} s")


def repeat_hour0(state: Path, table: str) -> list[Path]:
    """Hours 1..23 of ``table`` as copies of hour 0, shifted in time; hour 0's files."""
    root = dataset(table).root(state)
    buckets = [p.path for p in parts(partition_dir(root, START.date()), START.date()) if p.name.startswith("hour-00")]
    for bucket in buckets:
        rows = pq.ParquetFile(bucket).read()
        for h in range(1, 24):
            moment = START + timedelta(hours=h)
            name = bucket.name.replace(hour_name(0).removesuffix(".parquet"), f"hour-{moment.hour:02d}")
            write_table(shifted(rows, timedelta(hours=h)), partition_dir(root, moment.date()) / name,
                        row_group_size=ROW_GROUP[HOUR])
    return buckets


def synthetic_history(state: Path) -> datetime:
    """Hours 1..23 as copies of hour 0, then half an hour of cycle files: 'now' is 24 h 30 min in."""
    buckets = repeat_hour0(state, "miners")
    hour0 = pa.concat_tables(pq.ParquetFile(b).read() for b in buckets)
    now = START + timedelta(hours=24, minutes=30)
    cycles = hour0.group_by("time").aggregate([]).column("time").to_pylist()[:60]
    for moment in cycles:
        rows = hour0.filter(pc.equal(hour0["time"], pa.scalar(moment, hour0["time"].type)))
        write_cycle(state, {"miners": shifted(rows, timedelta(hours=24))}, moment + timedelta(hours=24))
    started = time.perf_counter()
    merged = compact(state, dataset("miners"), now)
    say(f"compaction of 5 minutes of miners: {(time.perf_counter() - started) / len(merged):.2f} s "
        f"(each of {len(merged)})")
    return now


def synthetic_rollups(state: Path, days: int) -> Path:
    """``days`` days of 1-hour rollups, each day one compacted file, from the real hour's rollup."""
    root = dataset("miners_1h").root(state)
    hour0 = partition_dir(root, START.date()) / hour_name(0)
    one = pq.ParquetFile(hour0).read()
    hour0.unlink()  # replaced by the day's file
    for d in range(days):
        day = START + timedelta(days=d)
        merged = pa.concat_tables([shifted(one, timedelta(days=d, hours=h)) for h in range(24)])
        write_table(merged.sort_by(dataset("miners_1h").table.sort_keys),
                    partition_dir(root, day.date()) / day_name(), row_group_size=ROW_GROUP[DAY])
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.store", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where to build the store (default: a temporary directory)")
    parser.add_argument("--miners", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the store in place")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    with scratch("store", args.keep, args.dir) as state:
        say(f"bench.store: {args.miners:,} miners, 30 s cycle, store in {state}")
        snaps = farm(args.miners, rng)
        real_hour(state, snaps, rng)
        now = synthetic_history(state)
        devices = [s.mac for s in rng.sample(snaps, 20)]
        rows = len(miner_history(state, devices[0], now - timedelta(hours=24), now))
        files = sum(p.may_hold(devices[0])
                    for p in parts_between(dataset("miners").root(state), now - timedelta(hours=24), now))
        runs = iter(devices * 2)
        ms = median_ms(lambda: miner_history(state, next(runs), now - timedelta(hours=24), now), 20)
        say(f"24 h history of one miner:   {ms:6.1f} ms  ({rows:,} rows from {files} files, all columns; "
            f"goal < 200 ms)")
        runs = iter(devices * 2)
        ms = median_ms(lambda: miner_history(state, next(runs), now - timedelta(hours=24), now,
                                             columns=["time", "hashrate_hs", "power_w", "temp_max_c"]), 20)
        say(f"  the same, 4 columns (a chart): {ms:6.1f} ms")

        rollups = synthetic_rollups(state, 30)
        since, until = START, START + timedelta(days=30)
        hours = len(farm_totals(state, since, until))
        ms = median_ms(lambda: farm_totals(state, since, until), 5)
        say(f"30-day hourly farm totals:   {ms:6.1f} ms  ({hours} hours from 30 day files of 1 h rollups; "
            f"goal < 1,000 ms)")
        day_files = sorted(rollups.rglob(day_name()))
        started = time.perf_counter()
        merge_sorted(day_files[:1], dataset("miners_1h"), state, "bench-day.parquet", ROW_GROUP[DAY])
        say(f"  1 h rollups: {size_mb(day_files[:1]):.1f} MB a day, {size_mb(day_files) * 365 / 30:.0f} MB a year; "
            f"a day's merge {time.perf_counter() - started:.2f} s")
        say(f"on disk: metrics {tree_mb(state / 'metrics'):.0f} MB, rollups {tree_mb(state / 'rollups'):.0f} MB, "
            f"latest {tree_mb(state / 'latest'):.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
