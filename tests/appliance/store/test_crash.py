"""kill -9 at random moments of writing and compacting: nothing written before is lost or doubled,
and every file left reads."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from appliance.store.durable import recover

from .crash_worker import CYCLE, MINERS, T0

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 12


class Worker:
    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> list[str]:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        return self.process.stdout.read().split()  # not communicate(): it skips what readline buffered


def cycles_by_count(state: Path, table: str) -> tuple[dict, int]:
    """Rows per cycle time, and how many (device, part, time) keys occur more than once."""
    data = ds.dataset(state / "metrics" / table, format="parquet", partitioning="hive")
    frame = data.to_table().to_pandas()
    keys = ["device", "time"] + (["board"] if table == "boards" else [])
    return frame.groupby("time").size().to_dict(), int(frame.duplicated(subset=keys).sum())


@pytest.mark.slow
def test_kill_9_while_writing_and_compacting_loses_and_doubles_nothing(state, tmp_path):
    rng = random.Random(20261101)
    recover(state)
    report = tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, str(WORKER), "read", str(state), str(report)],
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    done: set[int] = set()
    begun: set[int] = set()
    next_cycle = 0
    for _ in range(ROUNDS):
        writer = Worker("write", str(state), str(next_cycle))
        compactor = Worker("compact", str(state))
        deadlines = sorted([("writer", rng.uniform(0.2, 1.5)), ("compactor", rng.uniform(0.05, 1.5))],
                           key=lambda pair: pair[1])
        started = time.monotonic()
        for name, at in deadlines:
            time.sleep(max(0.0, started + at - time.monotonic()))
            lines = (writer if name == "writer" else compactor).kill()
            if name == "writer":
                begun |= {int(n) for word, n in zip(lines[::2], lines[1::2]) if word == "begin"}
                done |= {int(n) for word, n in zip(lines[::2], lines[1::2]) if word == "done"}
        next_cycle = max(begun, default=-1) + 1  # the cycle in flight is never written again
        recover(state)  # as the commander does at start
        for path in state.rglob("*"):
            if path.is_file() and path.suffix == ".parquet":
                pq.ParquetFile(path).read()  # every file left reads whole
    reader.send_signal(signal.SIGTERM)
    reader.wait(timeout=30)
    seen = json.loads(report.read_text())

    assert done, "the writer never finished a cycle: the test proved nothing"
    assert not list(state.rglob("*.tmp"))
    assert all(p.name.startswith("retired-") for p in (state / ".staging").iterdir())  # only what readers may need
    merged = [p.name for p in state.rglob("*.parquet") if not p.name.startswith("cycle-")]
    assert merged, "nothing was compacted: the test proved nothing"
    for table, per_cycle in (("miners", MINERS), ("boards", MINERS * 3)):
        counts, duplicates = cycles_by_count(state, table)
        assert duplicates == 0, table
        present = {int((t.to_pydatetime() - T0) / CYCLE) for t in counts}
        assert done <= present, f"{table} lost cycles {sorted(done - present)}"
        assert present <= begun, table
        assert set(counts.values()) == {per_cycle}, f"{table} has a partial cycle"
    assert seen["reads"] > 0 and seen["errors"] == [], seen["errors"][:3]
    assert (seen["duplicates"], seen["vanished"], seen["partial"]) == (0, 0, 0), seen
