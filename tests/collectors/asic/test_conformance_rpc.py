"""Our RPC drivers over real captures (../shared/fixtures/asic): the values each capture holds.

A device's capture may be split over several files; they are combined into one replies dict.
Not covered here: braiinsos_*.json are Braiins OS's gRPC and GraphQL answers, which the braiins
driver does not read (it reads BOSminer's cgminer API); auradine_at1500_devs.json is checked
against the auradine driver, which another module owns.
"""

from __future__ import annotations

import pytest

from collectors.asic import antminer, auradine, avalon, braiins, hammer, luxos, mskminer, sealminer, whatsminer
from tests.collectors.asic.conformance import asic_capture

T, G, M = 1e12, 1e9, 1e6

# the drivers by name, straight from their modules, so that this test does not wait on the registry
DRIVERS = {d.name: d for d in (antminer.DRIVER, auradine.DRIVER, avalon.DRIVER, braiins.DRIVER, hammer.DRIVER,
                               luxos.DRIVER, mskminer.DRIVER, sealminer.DRIVER, whatsminer.DRIVER,
                               whatsminer.DRIVER_V3)}


def poll(driver: str, **files: str):
    return DRIVERS[driver].parse({name: asic_capture(f) for name, f in files.items()}, "192.0.2.1")


def test_stock_s19pro_legacy_stats_and_summary():
    snap = poll("antminer", stats="antminer_s19pro_stats.json", summary="antminer_s19pro_summary.json")
    assert snap.model == "Antminer S19 Pro"
    assert [b.chips for b in snap.boards] == [114, 114, 114]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([37603.30 * G, 35536.22 * G, 37427.38 * G])
    assert [(b.temp_board_c, b.temp_chip_c) for b in snap.boards] == [(73, 78), (66, 71), (64, 69)]
    assert [b.hw_errors for b in snap.boards] == [183, 195, 184]
    assert [f.rpm for f in snap.fans] == [6000, 5880, 5040, 5040]
    assert snap.hashrate_hs == pytest.approx(110566.89 * G)
    assert snap.hashrate_nominal_hs == pytest.approx(110000.0 * G)
    assert (snap.accepted, snap.rejected, snap.hw_errors, snap.uptime_s) == (4057, 11, 562, 50474)


def test_stock_s19pro_version_is_claimed_by_the_stock_signature_only():
    replies = {"version": asic_capture("antminer_s19pro_version.json"), "devdetails": None}
    assert antminer.rpc_signature(replies)
    assert not any(m.rpc_signature(replies) for m in (avalon, braiins, hammer, luxos, mskminer, sealminer, whatsminer))


def test_stock_s9_with_the_missing_comma_and_the_two_line_type():
    snap = poll("antminer", stats="antminer_s9_stats.txt")
    assert snap.model == "Antminer S9"
    assert [b.chips for b in snap.boards] == [63, 63, 63]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([4618.85 * G, 4624.55 * G, 4640.41 * G])
    assert [b.temp_board_c for b in snap.boards] == [75, None, 73]  # chain 7 reads 0 and -83: no sensor
    assert [b.frequency_mhz for b in snap.boards] == pytest.approx([649.10, 650.40, 647.00])
    assert [f.rpm for f in snap.fans] == [3720, 2400]
    assert snap.hw_errors == 3085 + 289 + 175165


def test_stock_l3plus_counts_mhs_under_its_ghs_keys():
    snap = poll("antminer", stats="antminer_l3plus_stats.txt")
    assert (snap.model, snap.algorithm) == ("Antminer L3+", "Scrypt")
    assert snap.hashrate_hs == pytest.approx(504.56 * M)
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([126.12 * M, 125.79 * M, 126.06 * M, 126.59 * M])
    assert [b.chips for b in snap.boards] == [72] * 4
    assert [f.rpm for f in snap.fans] == [3840, 3810]


def test_luxos_s19kpro_stats():
    snap = poll("luxos", stats="luxos_s19kpro_stats.json")
    assert (snap.make, snap.model, snap.firmware) == ("Bitmain", "Antminer S19k Pro", "LuxOS")
    assert len(snap.boards) == 3  # the fourth slot's "0" rate is an empty slot
    assert [b.chips for b in snap.boards] == [77, 77, 77]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([18910.28 * G, 18939.95 * G, 19067.67 * G])
    assert [f.rpm for f in snap.fans] == [1920, 1920, 2340, 2340]
    assert snap.hashrate_hs == pytest.approx(59756.06 * G)
    assert snap.hashrate_nominal_hs == pytest.approx(61954.2 * G)


def test_avalon_1566_from_its_mm_id_string():
    snap = poll("avalon", stats="avalon_a1566_rpc_stats.txt", pools="avalon_a1566_rpc_pools.txt",
                version="avalon_a1566_rpc_version.txt")
    assert (snap.make, snap.model) == ("Canaan", "AvalonMiner 15-194")
    assert snap.firmware_version == "24102401_25462b2_9ddf522"
    assert snap.mac == "12:34:56:78:90:12"
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([59459.52 * G, 61407.83 * G, 63139.66 * G])
    assert [b.chips for b in snap.boards] == [160, 160, 160]
    assert [b.temp_chip_c for b in snap.boards] == [77, 78, 77]
    assert [f.rpm for f in snap.fans] == [4275, 4282]
    assert snap.hashrate_hs == pytest.approx((59459.52 + 61407.83 + 63139.66) * G)
    assert (snap.power_w, snap.temp_max_c, snap.uptime_s) == (3731, 78, 975)
    assert [p.accepted for p in snap.pools] == [148, 0, 0] and snap.pools[0].active
    assert snap.errors == []
    assert avalon.rpc_signature({"version": asic_capture("avalon_a1566_rpc_version.txt")})


def test_avalon_1246_four_fans_and_power_from_ps():
    snap = poll("avalon", stats="avalon_a1246_stats.json")
    assert snap.model == "AvalonMiner 1246"
    assert [b.chips for b in snap.boards] == [120, 120, 120]
    assert [b.chips_expected for b in snap.boards] == [120, 120, 120]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([26907.01 * G, 26025.06 * G, 26724.56 * G])
    assert [f.rpm for f in snap.fans] == [5344, 5392, 5349, 5309]
    assert (snap.power_w, snap.temp_max_c) == (3504, 77)


def test_avalon_10xx_multi_reply_with_a_bare_nan():
    multi = asic_capture("avalon_a10xx_pools+summary+stats.txt")
    replies = {name: answer[0] for name, answer in multi.items() if name != "id"}
    snap = DRIVERS["avalon"].parse(replies, "192.0.2.1")
    assert snap.model == "AvalonMiner 1047"
    assert snap.hashrate_avg_hs is None  # "MHS av":nan
    assert snap.hashrate_hs == 0.0  # "MHS 1m":0, 155 s after start
    assert (snap.uptime_s, snap.accepted, snap.rejected) == (155, 6, 0)
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([12362.61 * G, 12812.16 * G])
    assert [b.temp_chip_c for b in snap.boards] == [61, 64]
    assert snap.power_w is None  # PS[0 0 0 0 0 0] with POW_I2C[FAILED]
    assert [e.code for e in snap.errors] == ["512", "512"]
    assert [p.url for p in snap.pools][1] == "stratum+tcp://sha256.antpool.com:3333"


def test_whatsminer_m20s_summary_with_the_escaped_quotes():
    snap = poll("whatsminer", summary="whatsminer_m20s_summary.txt")
    assert snap.firmware_version == "20200917.22.REL"
    assert snap.hashrate_hs == pytest.approx(67266447.69 * M)
    assert snap.hashrate_nominal_hs == pytest.approx(67051 * G)
    assert (snap.power_w, snap.power_limit_w, snap.temp_max_c) == (3491, 3500, 87.7)
    assert [f.rpm for f in snap.fans] == [4950, 4920]
    assert snap.mac == "C4:11:04:01:3C:75"
    assert (snap.accepted, snap.rejected, snap.hw_errors, snap.uptime_s) == (5018, 29, 912, 66295)
    assert snap.errors == []


def test_whatsminer_m20s_error_codes():
    snap = poll("whatsminer", summary="whatsminer_m20s_summary_with_errors.json")
    assert [e.code for e in snap.errors] == ["110", "600"]
    assert snap.firmware_version == "20210322.22.REL"
    assert [f.rpm for f in snap.fans] == [6450, 6480]
    assert snap.power_w == 3417


def test_whatsminer_v3_device_info_with_errors():
    info = asic_capture("whatsminer_m60s_get.device.info_with_errors.json")
    assert whatsminer.v3_signature(info)
    snap = DRIVERS["whatsminer_v3"].parse({"get.device.info": info}, "192.0.2.1")
    assert (snap.make, snap.model) == ("MicroBT", "Whatsminer M60S")
    assert (snap.firmware_version, snap.mac, snap.hostname) == ("20251209.16.Rel2", "CE:02:01:00:8C:36", "WhatsMiner")
    assert snap.serial == "BTM3CS40HD24083100000000000000000"
    assert [e.code for e in snap.errors] == ["264", "265", "266", "267", "270"]
    assert snap.errors[0].message == "Power xfer error. code: 0xffffffffc0000000"
    assert snap.fault_light is False


def test_hammer_d10_scrypt_with_repeated_temperature_keys():
    snap = poll("hammer", stats="hammer_d10_rpc_stats.txt", summary="hammer_d10_rpc_summary.txt",
                pools="hammer_d10_rpc_pools.txt", version="hammer_d10_rpc_version.txt")
    assert (snap.make, snap.model, snap.algorithm) == ("Hammer", "Hammer D10", "Scrypt")
    assert snap.hashrate_hs == pytest.approx(4885.0813 * M)
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([1578.2742 * M, 1594.3646 * M, 1513.8498 * M])
    assert [b.chips for b in snap.boards] == [108, 108, 108]
    assert [b.temp_board_c for b in snap.boards] == [45, 42, 40]  # the last of each repeated tempN
    assert [f.rpm for f in snap.fans] == [4650, 4500, 3870, 3930]
    assert (snap.accepted, snap.rejected, snap.hw_errors) == (156, 156, 7977)
    assert hammer.rpc_signature({"version": asic_capture("hammer_d10_rpc_version.txt")})


def test_mskminer_s19_nopic():
    snap = poll("mskminer", stats="mskminer_s19nopic_rpc_stats.txt")
    assert (snap.make, snap.model, snap.firmware, snap.firmware_version) == (
        "Bitmain", "Antminer S19 NoPIC", "MSKMiner", "2.6.0.39")
    assert [b.chips for b in snap.boards] == [88, 88, 88]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([34084.86 * G, 32303.65 * G, 33601.08 * G])
    assert [(b.temp_board_c, b.temp_chip_c) for b in snap.boards] == [(45, 59), (45, 57), (47, 58)]
    assert [f.rpm for f in snap.fans] == [5010, 5160, 5070, 5040]
    assert snap.power_w == 3358
    version = {"version": asic_capture("mskminer_s19nopic_rpc_version.txt")}
    assert mskminer.rpc_signature(version) and not antminer.rpc_signature(version)


def test_auradine_gcminer_devs():
    snap = poll("auradine", devs="auradine_at1500_devs.json")
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx([6.8 * T, 6.9 * T, 7.0 * T])
    assert [b.temp_board_c for b in snap.boards] == [28.25, 29.06, 30.12]


def test_sealminer_a2_stats():
    snap = poll("sealminer", stats="sealminer_a2_stats.json")
    assert (snap.make, snap.model) == ("Bitdeer", "SealMiner A2")
    assert [b.chips for b in snap.boards] == [153, 153, 153]
    assert [b.hashrate_hs for b in snap.boards] == pytest.approx(
        [73905832.003432 * M, 73626639.194207 * M, 72846394.903347 * M])
    assert [b.temp_board_c for b in snap.boards] == [70, 70, 70]
    assert [b.frequency_mhz for b in snap.boards] == [349, 347, 344]
    assert [f.rpm for f in snap.fans] == [3723, 3723, 3753, 3723]
    assert snap.hashrate_hs == pytest.approx(220315525.22617 * M)
    assert snap.hashrate_nominal_hs == pytest.approx(230839407.28559 * M)
    assert (snap.power_w, snap.power_limit_w, snap.uptime_s) == (3504, 3500, 2481)
    assert (snap.mac, snap.firmware_version) == ("50:D4:48:4B:86:78", "2025091001")
    assert snap.errors == []
