"""The snapshot's boundary (``collectors.limits.enforce``): whatever a driver computed from whatever a
device sent, the snapshot holds values of their type, finite, within bounds, in lists no longer
than a miner has parts, and names what it dropped."""

from __future__ import annotations

import json

from collectors.limits import INT64_MAX, MAX_BOARDS, MAX_ERROR_CODES, MAX_FANS, MAX_POOLS, MAX_TEXT, enforce
from collectors.model import Board, ErrorCode, Fan, MinerSnapshot, Pool


def snapshot(**values) -> MinerSnapshot:
    return MinerSnapshot(ip="192.0.2.10", port=4028, reachable=True, **values)


def test_what_cannot_be_true_is_dropped_and_named():
    snap = snapshot(hashrate_hs=float("inf"), hashrate_avg_hs=float("nan"), hashrate_nominal_hs=1e25,
                    power_w=-5.0, power_limit_w=3e6, uptime_s=2**64, accepted=-1, rejected=7,
                    temp_max_c=900.0, efficiency_jth=float("inf"), hw_errors=3.0)
    enforce(snap)
    assert snap.dropped_fields == ["hashrate_hs", "hashrate_avg_hs", "hashrate_nominal_hs", "power_w",
                                   "power_limit_w", "efficiency_jth", "uptime_s", "temp_max_c", "accepted"]
    assert (snap.rejected, snap.hw_errors) == (7, 3)
    assert all(getattr(snap, name) is None for name in snap.dropped_fields)


def test_a_value_of_the_wrong_type_is_dropped():
    snap = snapshot(hashrate_hs="13.5T", uptime_s=12.5, model=["S19"], fault_light="yes", mac=42,
                    power_w=True)
    enforce(snap)
    assert snap.dropped_fields == ["model", "hashrate_hs", "power_w", "uptime_s", "fault_light", "mac"]


def test_whole_numbers_and_ints_become_the_fields_types():
    snap = snapshot(hashrate_hs=5, uptime_s=60.0, boards=[Board(index=0, chips=114.0, temp_chip_c=70)])
    enforce(snap)
    assert snap.hashrate_hs == 5.0 and isinstance(snap.hashrate_hs, float)
    assert snap.uptime_s == 60 and isinstance(snap.uptime_s, int)
    assert snap.boards[0].chips == 114 and isinstance(snap.boards[0].chips, int)
    assert snap.dropped_fields == []


def test_parts_beyond_what_a_miner_has_are_cut_and_named():
    snap = snapshot(boards=[Board(index=n % 3) for n in range(10_000)],
                    fans=[Fan(index=n % 4, rpm=6000) for n in range(10_000)],
                    pools=[Pool(index=n % 3) for n in range(10_000)],
                    errors=[ErrorCode(code=str(n)) for n in range(10_000)])
    enforce(snap)
    assert (len(snap.boards), len(snap.fans), len(snap.pools), len(snap.errors)) == (
        MAX_BOARDS, MAX_FANS, MAX_POOLS, MAX_ERROR_CODES)
    assert snap.dropped_fields == ["boards", "fans", "pools", "errors"]


def test_a_part_with_no_sound_key_is_left_out():
    snap = snapshot(boards=[Board(index=0), Board(index=10**12), Board(index=-1), "board", Board(index=True)],
                    fans=[Fan(index=1, rpm=10**9)], errors=[ErrorCode(code=""), ErrorCode(code="E" * 10_000)],
                    pools=[Pool(index=0, url="stratum+tcp://" + "p" * 10_000, accepted=2**70)])
    enforce(snap)
    assert [board.index for board in snap.boards] == [0]
    assert snap.fans[0].rpm is None
    assert [len(error.code) for error in snap.errors] == [MAX_TEXT]
    assert len(snap.pools[0].url) == MAX_TEXT and snap.pools[0].accepted is None
    assert snap.dropped_fields == ["boards", "fans.rpm", "pools.accepted", "errors"]


def test_a_list_that_is_not_a_list_is_emptied():
    snap = snapshot(boards={"0": Board(index=0)}, fans=None)
    enforce(snap)
    assert snap.boards == [] and snap.fans == []
    assert snap.dropped_fields == ["boards", "fans"]


def test_the_result_is_strict_json_whose_integers_fit_64_bits():
    snap = snapshot(hashrate_hs=float("inf"), accepted=10**400, uptime_s=INT64_MAX,
                    boards=[Board(index=0, hashrate_hs=float("-inf"), hw_errors=10**30, temp_chip_c=float("nan"))])
    enforce(snap)
    document = json.loads(json.dumps(snap.to_dict(), allow_nan=False))
    assert document["uptime_s"] == INT64_MAX and document["accepted"] is None
    assert document["boards"][0] == {**document["boards"][0], "hashrate_hs": None, "hw_errors": None,
                                     "temp_chip_c": None}
