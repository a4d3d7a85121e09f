"""Real testdata with one value a device chose to make absurd: the snapshot still comes, at once,
with that value dropped and named, and everything else as the folder's expected.json says.

The hostile sizes here are just large enough that a parser which trusts them takes seconds (the
same attacks at full size, a megabyte, are in test_properties.py and over sockets in
tests/collectors/test_hostile_farm.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from collectors.asic import DRIVERS
from collectors.limits import INT64_MAX, INT64_MIN, MAX_ERROR_CODES, MAX_HASHRATE_HS, MAX_TEXT
from collectors.model import MinerSnapshot
from tests.collectors.asic.driver_cases import HERE, assert_matches, load_expected, load_replies

FAST_S = 0.5  # a whole parse takes about a millisecond; a trusted count or a backtracking regex takes seconds


def parsed(folder: str, endpoint: str, change: Any) -> MinerSnapshot:
    """The folder's snapshot with ``change(reply)`` applied to one endpoint's decoded reply first."""
    path = HERE / folder
    replies = load_replies(path)
    change(replies[endpoint])
    started = time.perf_counter()
    snapshot = DRIVERS[load_expected(path)["driver"]].parse(replies, "192.0.2.10")
    took = time.perf_counter() - started
    assert took < FAST_S, f"parsing took {took:.1f} s"
    return snapshot


def strict_json(snapshot: MinerSnapshot) -> dict:
    """The snapshot as ``poll --json`` prints it, which must be JSON a strict reader accepts."""
    return json.loads(json.dumps(snapshot.to_dict(), allow_nan=False))


def unchanged_except(snapshot: MinerSnapshot, folder: str, *keys: str) -> None:
    expected = {k: v for k, v in load_expected(HERE / folder)["snapshot"].items() if k not in keys}
    assert_matches(snapshot.to_dict(), expected)


def stats_record(reply: dict) -> dict:
    return reply["STATS"][1]


@pytest.mark.parametrize("value", [10**400, 1e305, 1e15, -1, "1e400", [1, 2], {"GHS": 1}])
def test_an_absurd_hashrate_drops_only_itself(value):
    def change(reply):
        stats_record(reply)["GHS 5s"] = value

    snapshot = parsed("antminer/s19pro-stock", "stats", change)
    # the miner's own total is unusable: it is its boards' total, as for a firmware that gives none
    assert snapshot.reachable
    assert snapshot.hashrate_hs == pytest.approx(sum(board.hashrate_hs for board in snapshot.boards))
    unchanged_except(snapshot, "antminer/s19pro-stock", "hashrate_hs", "efficiency_jth")
    assert strict_json(snapshot)["hashrate_hs"] == snapshot.hashrate_hs


@pytest.mark.parametrize("value, named", [
    (1e305, []),  # MH/s: no float holds it in H/s, so it reads as "inf" does, as nothing said
    (1e18, ["hashrate_hs"]),  # 1e24 H/s: a float, but a thousand times the Bitcoin network
])
def test_a_hashrate_that_cannot_be_true_is_named(value, named):
    def change(reply):
        reply["SUMMARY"][0].update({"MHS 1m": value, "MHS 5s": value})

    snapshot = parsed("whatsminer/m30splus-stock", "summary", change)
    assert snapshot.reachable and snapshot.dropped_fields == named
    assert snapshot.hashrate_hs == pytest.approx(sum(board.hashrate_hs for board in snapshot.boards))
    unchanged_except(snapshot, "whatsminer/m30splus-stock", "hashrate_hs", "efficiency_jth")


def test_a_counter_no_integer_column_holds_is_dropped():
    def change(reply):
        reply["SUMMARY"][0]["Accepted"] = 1e300
        reply["SUMMARY"][0]["Rejected"] = 2**63

    snapshot = parsed("antminer/s19pro-stock", "summary", change)
    # the pools' own counters stand in for the miner's, as where a firmware gives none
    assert snapshot.accepted == sum(pool.accepted for pool in snapshot.pools)
    assert snapshot.rejected == sum(pool.rejected for pool in snapshot.pools)
    unchanged_except(snapshot, "antminer/s19pro-stock", "accepted", "rejected")


def test_a_huge_board_figure_is_dropped_from_its_board_not_the_miner():
    def change(reply):
        stats_record(reply)["chain_rate2"] = 1e305  # GH/s: infinite in H/s
        stats_record(reply)["chain_hw3"] = 10**30

    snapshot = parsed("antminer/s19pro-stock", "stats", change)
    assert snapshot.boards[1].hashrate_hs is None and snapshot.boards[2].hw_errors is None
    assert snapshot.boards[0].hashrate_hs is not None and len(snapshot.boards) == 3
    document = strict_json(snapshot)
    for board in document["boards"]:
        assert all(INT64_MIN <= v <= INT64_MAX for v in board.values() if isinstance(v, int))
        assert board["hashrate_hs"] is None or board["hashrate_hs"] <= MAX_HASHRATE_HS


def test_fan_num_never_builds_more_fans_than_the_model_has():
    def change(reply):
        stats_record(reply)["fan_num"] = 10**7
        for n in range(1, 5):
            stats_record(reply)[f"fan{n}"] = 0

    snapshot = parsed("antminer/s19pro-stock", "stats", change)
    assert [fan.rpm for fan in snapshot.fans] == [0, 0, 0, 0]  # an S19 Pro has 4


@pytest.mark.parametrize("key", ["Board Count", "Fan Count"])
def test_sealminer_counts_are_the_models_at_most(key):
    def change(reply):
        reply["STATS"][0][key] = 5 * 10**6

    snapshot = parsed("sealminer/a2-stock", "stats", change)
    assert len(snapshot.boards) == 3 and len(snapshot.fans) <= 4


def test_whatsminer_error_code_count_does_not_drive_a_loop():
    def change(reply):
        reply["SUMMARY"][0]["Error Code Count"] = 1e10
        for n in range(200):
            reply["SUMMARY"][0][f"Error Code {n}"] = 100 + n

    snapshot = parsed("whatsminer/m30splus-stock", "summary", change)
    assert len(snapshot.errors) == MAX_ERROR_CODES
    assert snapshot.errors[0].code == "100"


def test_a_list_of_a_million_records_builds_a_few():
    def change(reply):
        reply["POOLS"] = [dict(reply["POOLS"][0], POOL=n % 3) for n in range(10**6)]

    snapshot = parsed("antminer/s19pro-stock", "pools", change)
    assert 0 < len(snapshot.pools) <= 32 and "pools" in snapshot.dropped_fields


@pytest.mark.parametrize("folder, endpoint, change", [
    # Avalon's MM ID string: a run of word characters with no bracket
    ("avalon/a1246-stock", "stats", lambda r: r["STATS"][0].update({"MM ID0": "Ver" + "a" * 15_000})),
    # ePIC's fan keys end with the fan's number: a run of digits that is not at the end
    ("epic/s19xp-epic", "summary", lambda r: r.update({"Fans Rpm": {"1" * 15_000 + "x": 5000}})),
    # a model name: Whatsminer's "M30S+V40" pattern, made to backtrack
    ("whatsminer/m30splus-stock", "devdetails",
     lambda r: r["DEVDETAILS"][0].update({"Model": "M1" + "V" * 15_000 + "!"})),
])
def test_a_long_string_costs_no_more_than_its_length(folder, endpoint, change):
    snapshot = parsed(folder, endpoint, change)
    assert snapshot.reachable
    assert all(len(value) <= MAX_TEXT for value in strict_json(snapshot).values() if isinstance(value, str))


def test_a_value_function_that_raises_anything_drops_its_field_and_says_so():
    # A model name no JSON type has: a dict where a string belongs makes the model lookup raise.
    def change(reply):
        reply["STATS"][0]["Type"] = {"Antminer": "S19 Pro"}

    snapshot = parsed("antminer/s19pro-stock", "stats", change)
    assert snapshot.reachable and snapshot.model == "Antminer S19 Pro"  # from get_system_info
    assert snapshot.dropped_fields == []


def test_dropped_fields_are_named_once_and_in_order():
    def change(reply):
        stats_record(reply)["GHS 5s"] = 1e305
        stats_record(reply)["GHS av"] = 1e305
        stats_record(reply)["chain_rate1"] = 1e305

    snapshot = parsed("antminer/s19pro-stock", "stats", change)
    assert snapshot.dropped_fields == ["boards.hashrate_hs", "hashrate_avg_hs", "hashrate_hs"]


def test_every_folder_parses_without_dropping_anything():
    # The bounds are for what cannot be true: no real capture loses a value to them.
    for folder in sorted(p.parent for p in Path(HERE).glob("*/*/expected.json")):
        snapshot = DRIVERS[load_expected(folder)["driver"]].parse(load_replies(folder), "192.0.2.10")
        assert snapshot.dropped_fields == [], f"{folder.name}: {snapshot.dropped_fields}"
