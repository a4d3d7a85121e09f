"""The read side: one device's history across files of every kind, farm totals, ranges."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest

from appliance.store.compaction import compact
from appliance.store.jobs import store_backlog, store_cycle
from appliance.store.layout import dataset
from appliance.store.query import farm_history, farm_totals, miner_history, read_range
from appliance.store.rollup import rollup
from collectors.model import Gpu, MinerSnapshot, RigSnapshot

from .helpers import CYCLE, T0, key, snapshot

MINERS = 20
pytestmark = pytest.mark.slow  # builds a 2-hour farm through store_cycle


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    """2 h 10 min of cycles, compacted as the commander would have by then: hour 00 merged,
    hour 01 in 5-minute files, 02:00 onwards as cycle files. Built once: the tests only read it."""
    state = tmp_path_factory.mktemp("farm") / "state"
    for c in range(260):
        moment = T0 + c * CYCLE
        store_cycle(state, [snapshot(i, moment) for i in range(MINERS)], moment,
                    rigs=[RigSnapshot(hostname="rig-1", gpus=[Gpu(bus_id=f"0000:0{g}:00.0", hashrate_hs=1e6 * c)
                                                              for g in range(2)])])
    now = T0 + timedelta(hours=2, minutes=10)
    for name in ("miners", "gpus"):
        compact(state, dataset(name), now - timedelta(hours=1) + timedelta(minutes=3))
        compact(state, dataset(name), now - timedelta(minutes=9))
        rollup(state, name, now)
    return state


def test_the_farm_has_files_of_every_kind(farm):
    kinds = {p.name.split("-")[0] for p in (farm / "metrics" / "miners").rglob("*.parquet")}
    assert kinds == {"hour", "min5", "cycle"}


def test_miner_history_is_every_row_of_one_device_in_order(farm):
    frame = miner_history(farm, key(3), T0, T0 + timedelta(hours=3))
    assert len(frame) == 260 and frame["time"].is_monotonic_increasing and set(frame["device"]) == {key(3)}
    assert frame["time"].iloc[0] == pd.Timestamp(T0) and (frame["hashrate_hs"] == 110e12 + 3).all()
    part = miner_history(farm, key(3), T0 + timedelta(minutes=59), T0 + timedelta(hours=1, minutes=1),
                         columns=["time", "hashrate_hs"])
    assert list(part.columns) == ["time", "hashrate_hs"] and len(part) == 4  # [since, until)


def test_history_of_an_unknown_device_or_an_empty_range_is_empty(farm):
    assert miner_history(farm, "nobody", T0, T0 + timedelta(hours=3)).empty
    assert miner_history(farm, key(3), T0 - timedelta(days=3), T0 - timedelta(days=2)).empty


def test_history_of_a_rig_and_from_a_rollup(farm):
    gpus = miner_history(farm, "rig-1", T0, T0 + timedelta(hours=3), table="gpus")
    assert len(gpus) == 2 * 260 and set(gpus["bus_id"]) == {"0000:00:00.0", "0000:01:00.0"}
    hourly = miner_history(farm, key(3), T0, T0 + timedelta(hours=3), table="miners_1h")
    assert list(hourly["samples"]) == [120, 120]


def test_history_agrees_with_read_range(farm):
    everything = read_range(farm, "miners", T0, T0 + timedelta(hours=3)).to_pandas()
    assert len(everything) == 260 * MINERS
    one = everything[everything["device"] == key(5)].sort_values("time").reset_index(drop=True)
    # dtypes may differ: pandas makes an int column float where the rows it holds have a null
    pd.testing.assert_frame_equal(miner_history(farm, key(5), T0, T0 + timedelta(hours=3)), one, check_dtype=False)


def test_farm_totals_sum_the_devices_per_bucket(farm):
    hourly = farm_totals(farm, T0, T0 + timedelta(days=1))
    assert list(hourly["time"]) == [pd.Timestamp(T0), pd.Timestamp(T0 + timedelta(hours=1))]
    assert list(hourly["algorithm"]) == ["SHA256"] * 2
    reachable = [i for i in range(MINERS) if i % 7 != 6]
    assert list(hourly["miners"]) == [len(reachable)] * 2
    assert hourly["hashrate_hs"].iloc[0] == pytest.approx(sum(110e12 + i for i in reachable))
    assert hourly["power_w"].iloc[0] == pytest.approx(3250.0 * len(reachable))
    assert len(farm_totals(farm, T0, T0 + timedelta(days=1), step="5m")) == 24
    with pytest.raises(ValueError, match="step"):
        farm_totals(farm, T0, T0 + timedelta(days=1), step="1d")


def test_farm_history_fills_the_hours_not_rolled_up_yet_from_the_raw_rows(farm):
    history = farm_history(farm, T0, T0 + timedelta(hours=3))
    hours = [pd.Timestamp(T0 + timedelta(hours=h)) for h in range(2)]
    tail = [pd.Timestamp(T0 + timedelta(hours=2, minutes=m)) for m in (0, 5)]  # 02:00-02:10, raw only
    assert list(history["time"]) == hours + tail
    reachable = [i for i in range(MINERS) if i % 7 != 6]
    assert list(history["miners"]) == [len(reachable)] * 4
    assert history["hashrate_hs"].iloc[-1] == pytest.approx(sum(110e12 + i for i in reachable))
    assert history["power_w"].iloc[-1] == pytest.approx(3250.0 * len(reachable))
    recent = farm_history(farm, T0 + timedelta(hours=2), T0 + timedelta(hours=3), step="5m")
    assert list(recent["time"]) == tail
    # Asked long after, the raw hours are too far behind "until" to be read: only the rollups.
    assert list(farm_history(farm, T0, T0 + timedelta(days=1))["time"]) == hours


def test_history_still_right_after_the_files_it_cached_were_merged(farm, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(farm, copy)
    before = miner_history(copy, key(1), T0, T0 + timedelta(hours=3))
    compact(copy, dataset("miners"), T0 + timedelta(days=1))  # hours 01 and 02 merged now
    after = miner_history(copy, key(1), T0, T0 + timedelta(hours=3))
    pd.testing.assert_frame_equal(before, after)


def test_farm_totals_are_per_algorithm_and_never_added_across_them(tmp_path):
    state = tmp_path / "state"

    def miner(i: int, model: str | None, algorithm: str | None, hashrate_hs: float, power_w: float):
        return MinerSnapshot(ip=f"10.1.0.{i}", port=4028, mac=f"aa:bb:cc:01:00:{i:02x}", model=model,
                             algorithm=algorithm, reachable=True, hashrate_hs=hashrate_hs, power_w=power_w)

    farm = [miner(1, "Antminer S21 Pro", "SHA256", 234e12, 3510.0), miner(2, "BitAxe Gamma", "sha256d", 1.2e12, 18.0),
            miner(3, "Antminer L7", "Scrypt", 9.5e9, 3425.0), miner(4, "IceRiver KS3", "kHeavyHash", 8e12, 3200.0),
            # Rows from before the rollup kept the algorithm, or a driver that did not say: the model's.
            miner(5, "Antminer L7", None, 9.3e9, 3400.0),
            miner(6, "Mystery Box", None, 5e12, 1000.0)]  # an algorithm nobody knows: in no total
    for c in range(2):
        store_cycle(state, farm, T0 + c * CYCLE)
    rollup(state, "miners", T0 + timedelta(hours=1, minutes=5))
    hourly = farm_totals(state, T0, T0 + timedelta(hours=1))
    assert hourly.to_dict("records") == [
        {"time": pd.Timestamp(T0), "algorithm": "SHA256", "miners": 2, "hashrate_hs": 235.2e12, "power_w": 3528.0},
        {"time": pd.Timestamp(T0), "algorithm": "Scrypt", "miners": 2, "hashrate_hs": 18.8e9, "power_w": 6825.0},
        {"time": pd.Timestamp(T0), "algorithm": "kHeavyHash", "miners": 1, "hashrate_hs": 8e12, "power_w": 3200.0},
    ]


def test_farm_history_adds_each_sources_cycles_once_per_bucket(tmp_path):
    """The commander polls at :00 and :30, an ASIC sentry at :10 and :40 of each minute: the chart's
    bucket holds each source's average, added, not their cycles counted twice or half."""
    state = tmp_path / "state"
    for c in range(10):
        moment = T0 + c * CYCLE
        store_cycle(state, [snapshot(i, moment) for i in range(3)], moment)
        late = moment + timedelta(seconds=10)
        store_backlog(state, [(late, [snapshot(i, late) for i in range(7, 11)], [key(i) for i in range(7, 11)])],
                      lambda ip: "north", "north")
    [row] = farm_history(state, T0, T0 + timedelta(minutes=5), step="5m").to_dict("records")
    assert (row["algorithm"], row["miners"]) == ("SHA256", 3 + 4)
    assert row["hashrate_hs"] == pytest.approx(sum(110e12 + i for i in (0, 1, 2, 7, 8, 9, 10)))
    assert row["power_w"] == pytest.approx(3250.0 * 7)
    stored = read_range(state, "farm", T0, T0 + timedelta(minutes=5)).to_pandas()
    assert set(stored["source"]) == {"commander", "north"} and len(stored) == 20  # a row per cycle and algorithm
