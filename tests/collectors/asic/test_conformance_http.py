"""The HTTP drivers on the real captures in ../shared/fixtures/asic: the values each one holds."""

from __future__ import annotations

import pytest

from collectors.asic import antminer, bitmain_web, epic, espminer
from collectors.model import ErrorCode
from tests.collectors.asic.conformance import asic_capture

IP = "192.0.2.10"


def elphapex_replies() -> dict:
    files = {"stats": "stats", "summary": "summary", "pools": "pools", "system_info": "get_system_info",
             "blink": "get_blink_status"}
    return {name: asic_capture(f"elphapex_dg1plus_web_{file}.txt") for name, file in files.items()}


def test_epic_s19xp_summary_and_capabilities():
    snap = epic.DRIVER.parse({"summary": asic_capture("epic_s19xp_summary.json"),
                              "capabilities": asic_capture("epic_s19xp_capabilities.json")}, IP)
    assert (snap.make, snap.model, snap.firmware, snap.firmware_version) == (
        "Bitmain", "AntMiner S19 XP", "ePIC", "1.5.13")
    # "Hashrate"[0] per board is MH/s: 49440724.0 + 49925124.0 MH/s
    assert snap.hashrate_hs == pytest.approx((49440724.0 + 49925124.0) * 1e6)
    assert snap.hashrate_avg_hs == pytest.approx(90071990.0 * 1e6)
    assert snap.hashrate_nominal_hs == pytest.approx(143e12)  # "Default Hashrate": 143 (TH/s)
    assert (snap.power_w, snap.power_limit_w, snap.uptime_s) == (pytest.approx(2166.6174), 3000, 23170)
    assert (snap.accepted, snap.rejected, snap.hostname, snap.fault_light) == (1862, 2, "cminer32092035", False)
    assert [(b.index, b.status) for b in snap.boards] == [(0, "disabled"), (1, "ok"), (2, "ok")]
    assert [b.temp_board_c for b in snap.boards] == [None, 67.0, 64.312]
    assert [b.frequency_mhz for b in snap.boards[1:]] == [487.5, 487.5]
    assert {b.chips_expected for b in snap.boards} == {110}  # "Performance Estimator" "Chip Count"
    assert [(f.index, f.rpm) for f in snap.fans] == [(0, 5971), (1, 0), (2, 5942), (3, 5745)]
    [pool] = snap.pools
    assert (pool.url, pool.user, pool.active, pool.status, pool.accepted) == (
        "stratum+tcp://mine.ocean.xyz:3334", "randomuser.randomworker", True, "alive", 1862)
    assert snap.errors == [] and snap.temp_max_c == 67.0


def test_elphapex_dg1plus_web_set():
    snap = bitmain_web.ELPHAPEX.parse(elphapex_replies(), IP)
    assert (snap.make, snap.model, snap.algorithm, snap.firmware_version) == (
        "Elphapex", "DG1+", "Scrypt", "DG1+_SW_V1.0.2")
    # summary rate_unit "MH/s": rate_5s 14920.94, rate_avg 14199.04, rate_ideal 14229
    assert snap.hashrate_hs == pytest.approx(14920.94e6)
    assert snap.hashrate_avg_hs == pytest.approx(14199.04e6)
    assert snap.hashrate_nominal_hs == pytest.approx(14229e6)
    assert snap.uptime_s == 357357
    assert (snap.mac, snap.hostname, snap.serial, snap.fault_light) == (
        "12:34:56:78:90:12", "DG1+", "28HY245192N000245C23B", False)
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([3553.5e6, 3550.11e6, 3551.8e6, 3543.63e6])
    assert [b.chips for b in snap.boards] == [204] * 4
    # temp_chip are m°C strings with "" for absent sensors: ["47125", "50500", "", ""] -> 50.5
    assert [b.temp_chip_c for b in snap.boards] == [50.5, 56.937, 51.687, 49.062]
    assert [b.temp_board_c for b in snap.boards] == [67.0] * 4
    assert [b.frequency_mhz for b in snap.boards] == [620.0] * 4  # freq_avg 62000
    assert [f.rpm for f in snap.fans] == [5340, 5400, 5400, 5400]
    assert [(p.url, p.status, p.accepted, p.rejected) for p in snap.pools] == [
        ("stratum+tcp://stratum.pool.io:3333", "dead", 798704, 3320),
        ("stratum+tcp://stratum.pool.io:3334", "alive", 604803, 2492),
        ("stratum+tcp://stratum.pool.io:3335", "dead", 691522, 3076)]
    assert snap.errors == []


def test_hammer_d10_web_set():
    replies = {"summary": asic_capture("hammer_d10_web_summary.txt"),
               "system_info": asic_capture("hammer_d10_web_get_system_info.txt"),
               "blink": asic_capture("hammer_d10_web_get_blink_status.json")}
    snap = bitmain_web.BLACKMINER.parse(replies, IP)
    assert (snap.make, snap.model, snap.algorithm) == ("Hammer", "Hammer D10", "Scrypt")
    # this summary names its unit "GH/s" (the capture's content is an S19j's): 102000 GH/s
    assert snap.hashrate_hs == pytest.approx(102000e9)
    assert snap.hashrate_nominal_hs == pytest.approx(102000e9)
    assert snap.uptime_s == 10023
    assert (snap.mac, snap.hostname, snap.firmware_version) == (
        "12:34:56:78:90:12", "Hammer", "2022-11-11 13-46-30 CST")
    assert snap.fault_light is True  # {"code": "B000"}: blinking
    assert snap.errors == [] and snap.boards == []


def test_hammer_summary_health_list_becomes_errors():
    summary = asic_capture("hammer_d10_web_summary.txt")
    summary["SUMMARY"][0]["status"][2] = {"type": "fans", "status": "e", "code": 7, "msg": "fan lost"}
    snap = bitmain_web.BLACKMINER.parse({"summary": summary}, IP)
    assert snap.errors == [ErrorCode(code="fans:7", message="fan lost")]


def test_bitaxe_supra_system_info():
    snap = espminer.DRIVER.parse({"system_info": asic_capture("bitaxe_supra-bm1368_api-system-info.json")}, IP)
    assert (snap.make, snap.model, snap.firmware_version) == ("BitAxe", "BitAxe Supra", "v2.4.5-3-gb5d1e36-dirty")
    assert snap.hashrate_hs == pytest.approx(1000e9)  # hashRate 1000 GH/s
    assert snap.power_w == pytest.approx(2.65)
    assert (snap.uptime_s, snap.hostname, snap.mac) == (4, "bitaxe", "AA:BB:CC:DD:EE:FF")
    [board] = snap.boards
    assert (board.chips, board.temp_chip_c, board.temp_board_c, board.frequency_mhz) == (1, 59.875, 78.0, 490.0)
    assert [f.rpm for f in snap.fans] == [3517]
    assert [(p.url, p.user, p.active) for p in snap.pools] == [
        ("btc.example.pool:3333", "asic-rs.test", True), ("btc2.example.pool:3333", "asic-rs.test", False)]
    assert (snap.accepted, snap.rejected) == (0, 0)


def test_antminer_s21_system_info_identity_rows():
    snap = antminer.DRIVER.parse({"system_info": asic_capture("antminer_s21_get_system_info.cgi.json")}, IP)
    assert (snap.model, snap.serial, snap.hostname, snap.firmware_version) == (
        "Antminer S21", "THQING0BDJAB024NF", "Antminer", "FR-1.12(251009-S21)")
    assert snap.mac is None  # "02:55:97:22:3M:72" is not a MAC ("3M"): dropped, not guessed
    assert snap.hashrate_nominal_hs == pytest.approx(200e12)  # from the model's facts
