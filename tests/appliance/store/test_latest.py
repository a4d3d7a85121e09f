"""latest/: the newest rows of every device, replaced per device, forgotten after a day of silence."""

from __future__ import annotations

from datetime import timedelta

from appliance.store.jobs import store_cycle
from appliance.store.latest import keys_by_address, read_latest
from appliance.store.query import latest

from .helpers import CYCLE, T0, key, snapshot


def test_each_cycle_replaces_its_devices_rows_and_keeps_the_others(state):
    store_cycle(state, [snapshot(i, T0) for i in range(4)], T0)
    store_cycle(state, [snapshot(i, T0 + CYCLE) for i in range(2)], T0 + CYCLE)
    frame = latest(state)
    assert len(frame) == 4
    times = dict(zip(frame["device"], frame["time"]))
    assert times[key(0)] == T0 + CYCLE and times[key(3)] == T0
    assert read_latest(state, "boards").num_rows == 4 * 3


def test_a_device_silent_for_a_day_is_forgotten(state):
    store_cycle(state, [snapshot(i, T0) for i in range(3)], T0)
    later = T0 + timedelta(days=1, minutes=1)
    store_cycle(state, [snapshot(0, later)], later)
    assert list(latest(state)["device"]) == [key(0)]


def test_an_unreachable_miner_keeps_the_key_it_had(state):
    store_cycle(state, [snapshot(0, T0)], T0)
    assert keys_by_address(state, T0 + CYCLE) == {"10.0.0.0": key(0)}
    down = snapshot(6, T0 + CYCLE)  # only an address...
    down.ip = "10.0.0.0"  # ...the address of miner 0
    store_cycle(state, [down], T0 + CYCLE)
    frame = latest(state)
    assert list(frame["device"]) == [key(0)] and not frame["reachable"].iloc[0]


def test_latest_is_empty_before_the_first_cycle(state):
    assert latest(state).empty and list(latest(state, "gpus").columns)[:3] == ["site", "rig", "time"]
