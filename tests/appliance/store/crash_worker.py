"""A process for the kill -9 tests: ``write``, ``compact`` or ``read`` in a loop until killed.

    python crash_worker.py write STATE FIRST_CYCLE   # prints "begin N" and "done N" around each cycle
    python crash_worker.py compact STATE              # compacts miners and boards, over and over
    python crash_worker.py read STATE OUT_JSON        # reads the dataset as pandas would, checks it

Each prints "ready" once its imports are done, so the test kills it at work, not while starting.
"""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from appliance.store.compaction import compact
from appliance.store.layout import dataset
from appliance.store.schema import rows_from_snapshots
from appliance.store.writer import write_cycle
from collectors.model import Board, MinerSnapshot

T0 = datetime(2026, 11, 1, 23, 40, tzinfo=UTC)  # cycles cross midnight: two partitions
CYCLE = timedelta(seconds=30)
MINERS = 40


def cycle(number: int) -> tuple[datetime, dict]:
    moment = T0 + number * CYCLE
    snaps = [MinerSnapshot(ip=f"10.0.0.{i}", port=4028, reachable=True, mac=f"AA:00:00:00:00:{i:02X}",
                           hashrate_hs=float(number * 1000 + i), uptime_s=number,
                           boards=[Board(index=b, hashrate_hs=1.0) for b in range(3)])
             for i in range(MINERS)]
    tables = rows_from_snapshots(snaps, moment)
    return moment, {"miners": tables["miners"], "boards": tables["boards"]}


def say(line: str) -> None:
    print(line, flush=True)


def write(state: Path, first: int) -> None:
    say("ready")
    number = first
    while True:
        moment, tables = cycle(number)
        say(f"begin {number}")
        write_cycle(state, tables, moment)
        say(f"done {number}")
        number += 1


def compact_forever(state: Path) -> None:
    say("ready")
    later = T0 + timedelta(days=30)  # every span closed: merges race the writer in the same partitions
    while True:
        for name in ("miners", "boards"):
            compact(state, dataset(name), later)


def read(state: Path, out: Path) -> None:
    """Read like pandas users do; record duplicates, cycles seen then gone, partial cycles, errors."""
    report = {"reads": 0, "retries": 0, "duplicates": 0, "vanished": 0, "partial": 0, "errors": []}

    def finish(*_):
        out.write_text(json.dumps(report))
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    say("ready")
    while not any((state / "metrics" / "miners").glob("*/*.parquet")):
        pass  # before the first file, the dataset has no columns to read
    seen: set = set()
    while True:
        try:
            frame = pd.read_parquet(state / "metrics" / "miners", columns=["device", "time"])
        except FileNotFoundError:
            report["retries"] += 1  # a partition was swapped between listing and opening: read again
            continue
        except Exception as exc:  # anything else is what the test is for
            report["errors"].append(f"{type(exc).__name__}: {exc}")
            continue
        report["reads"] += 1
        report["duplicates"] += int(frame.duplicated().sum())
        counts = frame.groupby("time").size()
        report["partial"] += int((counts != MINERS).sum())
        times = set(counts.index)
        report["vanished"] += len(seen - times)
        seen = times


if __name__ == "__main__":
    mode, state = sys.argv[1], Path(sys.argv[2])
    if mode == "write":
        write(state, int(sys.argv[3]))
    elif mode == "compact":
        compact_forever(state)
    else:
        read(state, Path(sys.argv[3]))
