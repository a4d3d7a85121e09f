"""The ASIC sentry's buffer on a real file system: cycles survive a restart and a kill -9 in the
middle of writing; the oldest go, said once, when the buffer reaches its size or its disk fills
(a real 4 MiB tmpfs); the commander reads them back in order from any cursor."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asic_sentry.buffer import MAX_CYCLE_BYTES, BadCycle, Buffer, read_cycle
from tests.conftest import wait_until


def snapshots(cycle: int, miners: int = 50, noise: int = 0) -> list[dict]:
    """``noise``: random bytes per miner that no compression shrinks, to fill a disk."""
    return [{"ip": f"10.1.0.{i}", "port": 4028, "reachable": True, "hashrate_hs": 110e12 + cycle,
             "serial": secrets.token_hex(noise) if noise else None,
             "boards": [{"index": b, "temp_chip_c": 70.0 + b} for b in range(3)]} for i in range(miners)]


def test_cycles_come_back_in_order_from_any_cursor_and_survive_a_restart(tmp_path):
    buffer = Buffer(tmp_path / "buffer", max_bytes=10**9, reserve_bytes=0)
    for cycle in range(5):
        buffer.append(1_800_000_000 + 30 * cycle, snapshots(cycle))
    again = Buffer(tmp_path / "buffer", max_bytes=10**9, reserve_bytes=0)
    assert again.id == buffer.id
    assert again.append(1_800_000_150, snapshots(5)).seq == 6
    got = again.after(2, max_bytes=10**9)
    assert [(c.seq, c.polled_at) for c in got] == [(s, 1_800_000_000 + 30 * (s - 1)) for s in range(3, 7)]
    assert read_cycle(got[0].path.read_bytes()) == snapshots(2)
    # A pull of a few bytes still makes progress: one cycle at least.
    assert [c.seq for c in again.after(0, max_bytes=1)] == [1]
    assert again.after(6, max_bytes=10**9) == []


def test_a_wiped_buffer_gets_a_new_id_so_the_commander_starts_over(tmp_path):
    first = Buffer(tmp_path / "buffer", max_bytes=10**9, reserve_bytes=0)
    first.append(1.0, snapshots(0))
    for path in (tmp_path / "buffer").iterdir():
        path.unlink()
    assert Buffer(tmp_path / "buffer", max_bytes=10**9, reserve_bytes=0).id != first.id


def test_the_oldest_cycles_go_at_the_size_limit_said_once_per_drop(tmp_path, caplog):
    probe = Buffer(tmp_path / "probe", max_bytes=10**9, reserve_bytes=0).append(0, snapshots(0))
    buffer = Buffer(tmp_path / "buffer", max_bytes=probe.size * 10, reserve_bytes=0)
    for cycle in range(25):
        buffer.append(1_800_000_000 + 30 * cycle, snapshots(cycle))
    stats = buffer.stats()
    assert stats["bytes"] <= probe.size * 10 and stats["newest_seq"] == 25
    assert stats["dropped_cycles"] == 25 - stats["cycles"] and stats["oldest_seq"] == 26 - stats["cycles"]
    assert "the buffer is at its size limit: dropped the 1 oldest cycle(s), polled from 2027-01-15 08:00:00 UTC" \
        in caplog.text
    assert caplog.text.count("dropped the") == stats["dropped_cycles"]


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A real 4 MiB file system (tmpfs), for the full disk."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the full-disk test mounts a tmpfs: it needs root, which CI has")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_drops_the_oldest_and_polling_goes_on(small_disk, caplog):
    buffer = Buffer(small_disk / "buffer", max_bytes=10**9, reserve_bytes=0)
    filler = small_disk / "someone-elses-file"
    kept = 0
    for cycle in range(200):  # ~26 KB a cycle after compression: the 4 MiB fill up
        if cycle == 40:
            filler.write_bytes(os.urandom(1_500_000))  # another program takes a part of the disk
        cycle_file = buffer.append(1_800_000_000 + 30 * cycle, snapshots(cycle, miners=400, noise=32))
        kept += 1
        assert read_cycle(cycle_file.path.read_bytes())[0]["hashrate_hs"] == 110e12 + cycle
    stats = buffer.stats()
    assert kept == 200 and stats["newest_seq"] == 200 and stats["dropped_cycles"] > 0
    assert "MiB free and the buffer leaves 0 MiB to the rest of the system: dropped the" in caplog.text
    survivors = sorted(small_disk.joinpath("buffer").glob("*.cycle"))
    assert [int(p.name[:12]) for p in survivors] == list(range(stats["oldest_seq"], 201))
    assert not list(small_disk.joinpath("buffer").glob(".*.tmp"))


WRITER = """
import sys, time
from asic_sentry.buffer import Buffer
from tests.asic_sentry.test_buffer import snapshots
buffer = Buffer(sys.argv[1], max_bytes=10**9, reserve_bytes=0)
print("ready", flush=True)
cycle = 0
while True:
    buffer.append(1_800_000_000 + 30 * cycle, snapshots(cycle, miners=2000))
    cycle += 1
"""


def test_kill_9_while_writing_leaves_only_whole_cycles(tmp_path):
    directory = tmp_path / "buffer"
    for attempt in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], stdout=subprocess.PIPE,
                                  cwd=Path(__file__).resolve().parents[2])
        assert writer.stdout.readline() == b"ready\n"
        before = len(list(directory.glob("*.cycle")))
        wait_until(lambda: len(list(directory.glob("*.cycle"))) >= before + 3, "three cycles written")
        time.sleep(0.05 * attempt)  # somewhere else in the write each time
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    buffer = Buffer(directory, max_bytes=10**9, reserve_bytes=0)
    cycles = buffer.after(0, max_bytes=10**12)
    assert [c.seq for c in cycles] == list(range(1, len(cycles) + 1))
    for cycle in cycles:
        assert len(read_cycle(cycle.path.read_bytes())) == 2000
    assert buffer.append(0, snapshots(0)).seq == len(cycles) + 1


def test_a_cycle_that_is_not_one_is_refused_in_one_sentence():
    with pytest.raises(BadCycle, match="too short"):
        read_cycle(b"abc")
    with pytest.raises(BadCycle, match="more than the"):
        read_cycle((MAX_CYCLE_BYTES + 1).to_bytes(8, "big") + b"x")
    with pytest.raises(BadCycle, match="cannot be read"):
        read_cycle((100).to_bytes(8, "big") + b"not zstd at all")
