"""A process for the kill -9 tests: ``write``, ``compact`` or ``read`` in a loop until killed.

    python crash_worker.py write STATE     # reads the first cycle's number, then prints "begin N" and
                                           # "done N" around each cycle
    python crash_worker.py compact STATE   # reads a line, then compacts miners and boards, over and over
    python crash_worker.py read STATE OUT_JSON   # reads the dataset as the store's readers do, checks it

Each prints "ready" once its imports are done, then (write, compact) waits for its line on stdin: the
test starts the next round's processes while this round runs, and kills them at work, not starting.
"""

from __future__ import annotations

import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.store.compaction import compact
from appliance.store.layout import dataset
from appliance.store.query import read_range
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


def go() -> str | None:
    """The test's signal to start (None: the test is gone, so is this process)."""
    say("ready")
    line = sys.stdin.readline()
    return line.strip() if line else None


def write(state: Path) -> None:
    if (first := go()) is None:
        return
    number = int(first)
    while True:
        moment, tables = cycle(number)
        say(f"begin {number}")
        write_cycle(state, tables, moment)
        say(f"done {number}")
        number += 1


def compact_forever(state: Path) -> None:
    if go() is None:
        return
    later = T0 + timedelta(days=30)  # every span closed: merges race the writer in the same partitions
    while True:
        for name in ("miners", "boards"):
            compact(state, dataset(name), later)


def read(state: Path, out: Path) -> None:
    """Read as the web, alerts and export do (``read_range``: files listed by name, a read that met a
    swap read again); record duplicates, cycles seen then gone, partial cycles, errors.

    Not ``pd.read_parquet(directory)``: pyarrow's discovery lists a directory, then stats each name
    by path and silently leaves out the names gone by then, so a swap in between loses the merged
    files' rows without any error (see the README, Crash safety)."""
    report = {"reads": 0, "retries": 0, "duplicates": 0, "vanished": 0, "partial": 0, "errors": []}

    def finish(*_):
        out.write_text(json.dumps(report))
        sys.exit(0)

    signal.signal(signal.SIGTERM, finish)
    say("ready")
    seen: set = set()
    while True:
        try:
            frame = read_range(state, "miners", T0, T0 + timedelta(days=1), columns=["device", "time"]).to_pandas()
        except FileNotFoundError:
            report["retries"] += 1  # every attempt met a swap (the compactor never stops here): read again
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
        write(state)
    elif mode == "compact":
        compact_forever(state)
    else:
        read(state, Path(sys.argv[3]))
