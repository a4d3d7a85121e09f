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
ROUNDS = 10
EARLIEST, LATEST = 0.05, 1.5  # seconds after a round starts at which its writer and compactor die


class Worker:
    """A crash_worker process, started ahead (its imports take seconds) and set to work by ``go``."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, str(WORKER), *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def go(self, line: str = "go") -> None:
        assert self.process.stdout.readline().strip() == "ready"
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> list[str]:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        return self.process.stdout.read().split()  # not communicate(): it skips what readline buffered


def kill_times(rng: random.Random, round_: int) -> list[tuple[str, float]]:
    """When the writer and the compactor die in round ``round_``: the compactor's moment is spread
    over the rounds (its early, mid-merge and late phases are each hit), the order of the two kills
    alternates, the rest is random."""
    width = (LATEST - EARLIEST) / ROUNDS
    compactor = EARLIEST + width * round_ + rng.uniform(0, width)
    writer = rng.uniform(max(0.2, EARLIEST), compactor) if round_ % 2 else rng.uniform(compactor, LATEST)
    return sorted([("writer", writer), ("compactor", compactor)], key=lambda pair: pair[1])


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
    ahead = (Worker("write", str(state)), Worker("compact", str(state)))
    for round_ in range(ROUNDS):
        writer, compactor = ahead
        writer.go(str(next_cycle))
        compactor.go()
        started = time.monotonic()
        ahead = (Worker("write", str(state)), Worker("compact", str(state))) if round_ + 1 < ROUNDS else None
        for name, at in kill_times(rng, round_):
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
    # a retired partition is a live one as it was, with the temp file of a writer killed before that
    # swap; it is deleted whole once no reader can be listing it
    assert not [p for p in state.rglob("*.tmp") if not p.relative_to(state).parts[1].startswith("retired-")]
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
