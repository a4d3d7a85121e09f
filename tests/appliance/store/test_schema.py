"""Snapshots into Arrow tables: one row per miner, board, pool and GPU; nulls stay null; keys are stable."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from appliance.store.schema import (
    GPUS,
    MINERS,
    PROGRAMS,
    RIGS,
    TABLES,
    device_key,
    rollup_schema,
    rows_from_rigs,
    rows_from_snapshots,
)
from collectors.model import Cpu, Gpu, MinerProgram, MinerSnapshot, RigSnapshot

from .helpers import T0, key, snapshot


def test_one_row_per_miner_board_and_pool_with_the_cycle_time_and_site():
    tables = rows_from_snapshots([snapshot(i, T0) for i in range(14)], T0, "north")
    assert tables["miners"].schema == MINERS
    assert tables["miners"].num_rows == 14
    assert tables["boards"].num_rows == 12 * 3  # two of the 14 are unreachable: no boards
    assert tables["pools"].num_rows == 12
    for table in tables.values():
        assert set(table["site"].to_pylist()) == {"north"}
        assert set(table["time"].to_pylist()) == {T0}
    assert tables["boards"]["device"].to_pylist()[:3] == [key(0)] * 3


def test_values_keep_their_units_and_none_stays_null():
    row = rows_from_snapshots([snapshot(5, T0)], T0)["miners"].to_pylist()[0]
    assert row["hashrate_hs"] == 110e12 + 5
    assert row["power_w"] == 3250.0
    assert row["hw_errors"] is None  # the device did not say: null, not 0
    assert row["rejected"] == 0  # a real zero stays zero
    assert row["site"] is None
    assert row["polled_at"] == T0
    assert row["fan_rpm"] == [5400, None]  # in the fans' index order
    assert (row["error_codes"], row["error_messages"]) == (["R:1"], ["fan slow"])
    board = rows_from_snapshots([snapshot(5, T0)], T0)["boards"].to_pylist()[0]
    assert board["temp_chip_c"] is None and board["chips"] == 76


def test_device_key_prefers_mac_then_serial_then_the_known_key_of_the_address():
    assert device_key(MinerSnapshot(ip="10.0.0.1", port=4028, mac="aa:bb:cc:dd:ee:ff", serial="S1")) == "AA:BB:CC:DD:EE:FF"
    assert device_key(MinerSnapshot(ip="10.0.0.1", port=4028, serial="S1")) == "S1"
    lost = MinerSnapshot(ip="10.0.0.1", port=4028)
    assert device_key(lost) == "10.0.0.1"
    assert device_key(lost, {"10.0.0.1": "AA:BB:CC:DD:EE:FF"}) == "AA:BB:CC:DD:EE:FF"


def test_an_empty_cycle_gives_empty_tables_of_the_right_schema():
    tables = rows_from_snapshots([], T0)
    assert {name: t.num_rows for name, t in tables.items()} == {"miners": 0, "boards": 0, "pools": 0}
    assert all(t.schema == TABLES[name].schema for name, t in tables.items())


def test_rigs_gpus_and_programs_are_keyed_by_the_sentry_address_answering_or_not():
    rigs = [RigSnapshot(hostname="rig-1", ip="10.0.5.1", port=161, uptime_s=3600, cpu=Cpu(model="Ryzen 9", temp_c=61.5),
                        faults=["GPU 0000:03:00.0 lost"],
                        gpus=[Gpu(bus_id="0000:01:00.0", hashrate_hs=62e6, temp_c=61.0),
                              Gpu(bus_id="0000:02:00.0", core_clock_mhz=1500.0)],
                        programs=[MinerProgram("trex", api_up=True, hashrate_hs=124e6, port=4067),
                                  MinerProgram("xmrig", api_up=True, hashrate_hs=15e3, port=18088),
                                  MinerProgram("xmrig", port=18089, error="nothing listens")]),
            RigSnapshot(hostname="10.0.5.2", reachable=False, error="no answer", ip="10.0.5.2", port=1161)]
    tables = rows_from_rigs(rigs, T0, "north")
    assert {name: t.schema for name, t in tables.items()} == {"rigs": RIGS, "gpus": GPUS, "programs": PROGRAMS}
    rows = tables["rigs"].to_pylist()
    assert [(r["rig"], r["hostname"], r["reachable"], r["gpus"]) for r in rows] == [
        ("10.0.5.1", "rig-1", True, 2), ("10.0.5.2:1161", "10.0.5.2", False, None)]
    assert (rows[0]["cpu_model"], rows[0]["cpu_temp_c"], rows[0]["faults"]) == ("Ryzen 9", 61.5, ["GPU 0000:03:00.0 lost"])
    assert rows[1]["uptime_s"] is None and rows[1]["error"] == "no answer"  # null, never 0
    gpus = tables["gpus"].to_pylist()
    assert [(r["rig"], r["hostname"], r["bus_id"]) for r in gpus] == [
        ("10.0.5.1", "rig-1", "0000:01:00.0"), ("10.0.5.1", "rig-1", "0000:02:00.0")]
    assert gpus[0]["hashrate_hs"] == 62e6 and gpus[1]["hashrate_hs"] is None and gpus[1]["core_clock_mhz"] == 1500.0
    programs = tables["programs"].to_pylist()
    assert [(r["program"], r["api_up"], r["hashrate_hs"]) for r in programs] == [
        ("trex", True, 124e6), ("xmrig:18088", True, 15e3), ("xmrig:18089", False, None)]


def test_a_naive_cycle_time_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        rows_from_snapshots([snapshot(0, T0)], datetime(2026, 11, 1))


def test_a_value_of_the_wrong_type_is_one_sentence_naming_the_column():
    bad = snapshot(0, T0)
    bad.hashrate_hs = "fast"
    with pytest.raises(ValueError, match="hashrate_hs"):
        rows_from_snapshots([bad], T0)


def test_rollup_schema_has_min_avg_max_per_gauge_and_last_counters():
    schema = rollup_schema(TABLES["miners"])
    assert schema.field("hashrate_hs_avg").type == pa.float64()
    assert schema.field("uptime_s").type == pa.int64()
    assert {"device", "time", "temp_max_c_min", "temp_max_c_max", "accepted", "samples"} <= set(schema.names)
