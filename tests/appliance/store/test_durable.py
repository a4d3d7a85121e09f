"""The atomic pieces: directory swap, the lock, and the sweep after a crash."""

from __future__ import annotations

import os
import time

from appliance.store.durable import (
    exchange,
    recover,
    retire,
    staging,
    store_lock,
    sweep_retired,
)


def test_exchange_swaps_two_directories(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "one").write_text("1")
    (tmp_path / "b" / "two").write_text("2")
    exchange(tmp_path / "a", tmp_path / "b")
    assert os.listdir(tmp_path / "a") == ["two"] and os.listdir(tmp_path / "b") == ["one"]


def test_retired_partitions_wait_then_go(state):
    work = staging(state)
    (work / "date=2026-11-01").mkdir()
    retire(state, work)
    sweep_retired(state)
    assert len(list((state / ".staging").iterdir())) == 1  # a reader may still be listing it
    time.sleep(0.01)
    sweep_retired(state, keep_s=0)
    assert not list((state / ".staging").iterdir())


def test_recover_removes_work_areas_and_temporary_files_only(state):
    staging(state)
    retire(state, staging(state))  # left for sweep_retired
    partition = state / "metrics" / "miners" / "date=2026-11-01"
    partition.mkdir(parents=True)
    (partition / ".cycle-20261101T000000.000Z.parquet.tmp").write_bytes(b"half")
    (partition / "cycle-20261101T000000.000Z.parquet").write_bytes(b"kept")
    (state / "latest").mkdir()
    (state / "latest" / ".miners.parquet.tmp").write_bytes(b"half")
    assert recover(state) == 3
    assert [p.name for p in partition.iterdir()] == ["cycle-20261101T000000.000Z.parquet"]
    assert [p.name.split("-")[0] for p in (state / ".staging").iterdir()] == ["retired"]


def test_the_lock_is_reentrant_across_opens_in_sequence(state):
    with store_lock(state):
        pass
    with store_lock(state):
        assert (state / ".lock").exists()
