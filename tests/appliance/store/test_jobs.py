"""store_cycle and maintain, as the scheduler runs them."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from appliance.store.jobs import maintain, store_cycle
from appliance.store.settings import StorageSettings
from collectors.model import Gpu, MinerProgram, RigSnapshot

from .helpers import CYCLE, T0, snapshot


def test_a_day_of_maintenance_rolls_up_compacts_and_expires(state):
    old = T0 - timedelta(days=20)
    store_cycle(state, [snapshot(i, old) for i in range(3)], old)
    for c in range(125):
        moment = T0 + c * CYCLE
        store_cycle(state, [snapshot(i, moment) for i in range(3)], moment,
                    rigs=[RigSnapshot(hostname="rig-1", ip="10.0.5.1", uptime_s=60 * c,
                                      gpus=[Gpu(bus_id="0000:01:00.0", hashrate_hs=1.0)],
                                      programs=[MinerProgram("trex", api_up=True, hashrate_hs=100.0 + c % 2)])])
    settings = StorageSettings.from_mapping({"state_dir": str(state)}, "test")
    done = maintain(settings, T0 + timedelta(hours=1, minutes=3))
    names = {p.relative_to(state).as_posix() for p in done.rolled_up + done.compacted + done.removed}
    assert {f"rollups/{t}_1h/date=2026-11-01/hour-00.parquet" for t in ("gpus", "rigs", "programs")} <= names
    [program] = pd.read_parquet(state / "rollups" / "programs_1h").to_dict("records")
    assert (program["rig"], program["program"], program["hashrate_hs_min"], program["hashrate_hs_max"]) == (
        "10.0.5.1", "trex", 100.0, 101.0)
    assert program["samples"] == 120  # the hour's cycles, 30 s apart
    assert "metrics/miners/date=2026-11-01/hour-00.parquet" in names
    assert "metrics/miners/date=2026-10-12" in names  # 20 days old, raw kept 14
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 125 * 3
    again = maintain(settings, T0 + timedelta(hours=1, minutes=4))
    assert (again.rolled_up, again.compacted, again.removed) == ([], [], [])


def test_an_hour_an_asic_sentrys_backlog_still_owes_is_rolled_up_once_the_backlog_is_in(state):
    """The sentry's link is cut from 00:40: its cycles of 00:40-01:00 arrive at 01:30. The hour is
    rolled up then, with them, and not before without them."""
    settings = StorageSettings.from_mapping({"state_dir": str(state)}, "test")
    for c in range(80):
        moment = T0 + c * CYCLE
        store_cycle(state, [snapshot(0, moment)], moment, source="north")
    cut_at = T0 + 80 * CYCLE
    held = maintain(settings, T0 + timedelta(hours=1, minutes=10), complete_until=cut_at)
    assert held.rolled_up == [] and held.compacted  # compaction need not wait: late files are merged later
    for c in range(80, 120):
        moment = T0 + c * CYCLE
        store_cycle(state, [snapshot(0, moment)], moment, source="north")
    done = maintain(settings, T0 + timedelta(hours=1, minutes=30))
    assert done.rolled_up
    [hour] = pd.read_parquet(state / "rollups" / "miners_1h").to_dict("records")
    assert hour["samples"] == 120
    assert len(pd.read_parquet(state / "metrics" / "miners")) == 120
