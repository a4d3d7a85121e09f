"""The farm document -> mwFarmObjects mapping, without snmpd."""

from __future__ import annotations

import random

import pytest

from appliance.snmp import layout
from collectors.mib import BASE, oid
from simfarm.samples.farm_document import DOWN, KAWPOW, RIG, S19, SHA256, big_farm, farm_document


def cells(document) -> dict:
    return {key: (kind, value) for key, kind, value in layout.rows(document)}


def scalar(name: str) -> tuple[int, ...]:
    return oid(name) + (0,)


def column(name: str, index: int) -> tuple[int, ...]:
    return oid(name) + (index,)


def test_the_farm_scalars():
    got = cells(farm_document())
    assert {key: value for key, value in got.items() if key[-1] == 0} == {
        scalar("mwFarmName"): ("string", "north-farm"),
        scalar("mwFarmHaRole"): ("integer", 1),
        scalar("mwFarmAsics"): ("gauge", 3),
        scalar("mwFarmAsicsUp"): ("gauge", 2),
        scalar("mwFarmRigs"): ("gauge", 1),
        scalar("mwFarmRigsUp"): ("gauge", 1),
        # No mwFarmHashrate: obsolete, a sum over algorithms (mwFarmAlgoTable has each).
        scalar("mwFarmPower"): ("gauge", 360_000),
        scalar("mwFarmAlertsActive"): ("gauge", 3),
        scalar("mwFarmPollDuration"): ("gauge", 2345),
        scalar("mwFarmPolledAt"): ("gauge", 1_764_230_400),
    }


@pytest.mark.parametrize(("role", "number"), [("master", 1), ("backup", 2), ("fault", 3), ("standalone", 4)])
def test_the_ha_role_numbers_as_the_mib_does(role, number):
    assert cells(farm_document(ha_role=role))[scalar("mwFarmHaRole")] == ("integer", number)


def test_every_column_of_an_asic_row():
    got = cells(farm_document())
    assert {name: got.get(column(name, 1)) for name, *_ in layout.MINER} | {
        name: got.get(column(name, 1)) for name in ("mwMinerHashrateUnit", "mwMinerHashrateFixedUnit")} == {
        "mwMinerAddress": ("string", S19["address"]),
        "mwMinerKind": ("integer", 1),
        "mwMinerHostname": ("string", "s19-a1"),
        "mwMinerMake": ("string", "Bitmain"),
        "mwMinerModel": ("string", "Antminer S19 Pro"),
        "mwMinerFirmware": ("string", "stock 2023-03-01"),
        "mwMinerReachable": ("integer", 1),
        "mwMinerHashrate": ("gauge", 110_000_000),  # 110 TH/s in MH/s
        "mwMinerHashrateUnit": ("integer", 3),
        "mwMinerPower": ("gauge", 3250),
        "mwMinerTempMax": ("integer", 715),  # tenths of a degree
        "mwMinerUptime": ("gauge", 86_400),
        "mwMinerAccepted": ("counter", 1234),
        "mwMinerRejected": ("counter", 5),
        "mwMinerError": None,  # null: the poll went well
        "mwMinerPolledAt": ("gauge", 1_764_230_400),
        "mwMinerAlgorithm": ("string", "SHA256"),
        "mwMinerHashrateFixed": ("gauge", 11_000),  # 110.00 TH/s: SHA256 in hundredths of TH/s
        "mwMinerHashrateFixedUnit": ("integer", 5),
        "mwMinerSentry": ("string", "north"),
    }


def test_a_row_per_algorithm_under_its_number_never_a_sum_across_them():
    got = cells(farm_document())
    table = {key: value for key, value in got.items() if key[:-2] == oid("mwFarmAlgoEntry")}
    assert table == {
        column("mwFarmAlgoName", 1): ("string", "SHA256"),
        column("mwFarmAlgoMiners", 1): ("gauge", SHA256["miners"]),
        column("mwFarmAlgoMinersUp", 1): ("gauge", SHA256["miners_up"]),
        column("mwFarmAlgoHashrate", 1): ("gauge", 110_000_000),  # 110 TH/s in MH/s
        column("mwFarmAlgoHashrateUnit", 1): ("integer", 3),
        column("mwFarmAlgoHashrateFixed", 1): ("gauge", 11_000),  # 110.00 TH/s
        column("mwFarmAlgoHashrateFixedUnit", 1): ("integer", 5),
        column("mwFarmAlgoPower", 1): ("gauge", 3250),
        column("mwFarmAlgoName", 8): ("string", "KawPow"),
        column("mwFarmAlgoMiners", 8): ("gauge", 1),
        column("mwFarmAlgoMinersUp", 8): ("gauge", 1),
        column("mwFarmAlgoHashrate", 8): ("gauge", 62_000_000),
        column("mwFarmAlgoHashrateUnit", 8): ("integer", 1),
        column("mwFarmAlgoHashrateFixed", 8): ("gauge", 6_200),  # 62.00 MH/s
        column("mwFarmAlgoHashrateFixedUnit", 8): ("integer", 3),
        column("mwFarmAlgoPower", 8): ("gauge", round(KAWPOW["power_w"])),
    }
    assert scalar("mwFarmHashrate") not in got and scalar("mwFarmHashrateUnit") not in got


def test_a_rig_an_unreachable_asic_and_a_device_that_said_almost_nothing():
    got = cells(farm_document())
    assert got[column("mwMinerKind", 2)] == ("integer", 2)
    assert got[column("mwMinerHashrate", 2)] == ("gauge", 62_000_000)
    assert got[column("mwMinerHashrateUnit", 2)] == ("integer", 1)
    assert got[column("mwMinerPower", 2)] == ("gauge", round(RIG["power_w"]))
    assert column("mwMinerMake", 2) not in got

    assert got[column("mwMinerReachable", 3)] == ("integer", 2)
    assert got[column("mwMinerError", 3)] == ("string", DOWN["error"])
    assert {key[-2] for key in got if key[-1] == 3} == {
        oid(name)[-1] for name in ("mwMinerAddress", "mwMinerKind", "mwMinerMake", "mwMinerModel", "mwMinerReachable",
                                   "mwMinerError", "mwMinerPolledAt", "mwMinerAlgorithm")}

    assert {key: value for key, value in got.items() if key[-1] == 7} == {
        column("mwMinerKind", 7): ("integer", 1), column("mwMinerReachable", 7): ("integer", 1)}


@pytest.mark.parametrize("absurd", [None, "3250", True, float("nan"), float("inf"), -1, -0.5, [1], {"w": 1},
                                    10**400])
def test_a_missing_or_absurd_value_has_no_cell_never_a_made_up_zero(absurd):
    document = farm_document(power_w=absurd, asics=absurd, polled_at=absurd)
    document["miners"][0].update(power_w=absurd, uptime_s=absurd, accepted=absurd, hashrate_hs=absurd,
                                 polled_at=absurd)
    document["algorithms"][0].update(miners=absurd, hashrate_hs=absurd, power_w=absurd)
    got = cells(document)
    for key in (scalar("mwFarmPower"), scalar("mwFarmAsics"), scalar("mwFarmPolledAt"),
                column("mwMinerPower", 1), column("mwMinerUptime", 1),
                column("mwMinerAccepted", 1), column("mwMinerHashrate", 1), column("mwMinerHashrateUnit", 1),
                column("mwMinerPolledAt", 1), column("mwMinerHashrateFixed", 1), column("mwMinerHashrateFixedUnit", 1),
                column("mwFarmAlgoMiners", 1), column("mwFarmAlgoHashrate", 1), column("mwFarmAlgoHashrateUnit", 1),
                column("mwFarmAlgoHashrateFixed", 1), column("mwFarmAlgoPower", 1)):
        assert key not in got
    assert got[scalar("mwFarmName")] == ("string", "north-farm")  # the rest is served
    assert got[column("mwMinerModel", 1)] == ("string", "Antminer S19 Pro")
    assert got[column("mwFarmAlgoName", 1)] == ("string", "SHA256")


def test_unknown_enumerations_text_and_counters():
    document = farm_document(ha_role="leader", name="north\nfarm\x00")
    document["miners"][0].update(kind="fpga", error="line one\nline two", model="é" * 200, accepted=2**32 + 5,
                                 temp_max_c=-12.25, firmware="   ", reachable=1)
    got = cells(document)
    assert scalar("mwFarmHaRole") not in got and column("mwMinerKind", 1) not in got
    assert got[scalar("mwFarmName")] == ("string", "north farm")
    assert got[column("mwMinerError", 1)] == ("string", "line one line two")
    model = got[column("mwMinerModel", 1)][1]
    assert len(model.encode()) <= 255 and model == "é" * 127
    assert got[column("mwMinerAccepted", 1)] == ("counter", 5)  # Counter32 wraps
    assert got[column("mwMinerTempMax", 1)] == ("integer", -122)  # a temperature may be below zero
    assert column("mwMinerFirmware", 1) not in got
    assert column("mwMinerReachable", 1) not in got  # TruthValue from a JSON boolean only


def test_hashrate_units_scale_with_the_value():
    document = farm_document()
    document["algorithms"][0]["hashrate_hs"] = 5e21
    document["miners"][0]["hashrate_hs"] = 4_294_967_295.0
    document["miners"][1]["hashrate_hs"] = 13e9
    document["miners"][3]["hashrate_hs"] = 0.0
    got = cells(document)
    assert (got[column("mwFarmAlgoHashrate", 1)], got[column("mwFarmAlgoHashrateUnit", 1)]) == (
        ("gauge", 5_000_000), ("integer", 6))
    assert got[column("mwMinerHashrate", 1)] == ("gauge", 4_294_967_295)
    assert got[column("mwMinerHashrateUnit", 1)] == ("integer", 1)
    assert got[column("mwMinerHashrate", 2)] == ("gauge", 13_000_000)
    assert got[column("mwMinerHashrateUnit", 2)] == ("integer", 2)
    assert got[column("mwMinerHashrate", 7)] == ("gauge", 0)  # a real zero stays a zero


@pytest.mark.parametrize("index", [None, 0, -1, True, "4", 4.0, 2**31, [4]])
def test_a_miner_without_a_valid_index_has_no_row(index):
    document = farm_document()
    document["miners"].append({**S19, "index": index, "hostname": "no-index"})
    got = cells(document)
    assert ("string", "no-index") not in got.values()
    assert got[column("mwMinerHostname", 1)] == ("string", "s19-a1")


def test_the_largest_index_and_a_duplicate_index():
    document = farm_document()
    document["miners"] += [{**S19, "index": 2**31 - 1, "hostname": "last"}, {**S19, "index": 1, "hostname": "twin"}]
    got = cells(document)
    assert got[column("mwMinerHostname", 2**31 - 1)] == ("string", "last")
    assert got[column("mwMinerHostname", 1)] == ("string", "s19-a1")  # the first listed keeps the row
    assert ("string", "twin") not in got.values()


@pytest.mark.parametrize("broken", [{"farm": "north", "miners": {"1": S19}, "algorithms": SHA256},
                                    {"farm": None, "miners": [1, "x", None],
                                     "algorithms": [None, {**SHA256, "index": 0}]},
                                    {}])
def test_a_document_of_the_wrong_shape_gives_what_it_can_and_never_fails(broken):
    assert layout.rows({"version": 1, **broken}) == []


def test_rows_are_sorted_by_oid_and_unique_whatever_the_order_of_the_miners():
    document = big_farm(300)
    random.Random(7).shuffle(document["miners"])
    document["miners"] += farm_document()["miners"]  # indexes 1, 2, 3, 7 again: duplicates
    rows = layout.rows(document)
    keys = [row[0] for row in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(key[:len(BASE) + 1] == oid("mwFarmObjects") for key in keys)
    assert sum(key[:-1] == oid("mwMinerAddress") for key in keys) == 300


def test_another_base():
    base = (1, 3, 6, 1, 4, 1, 99999, 1)
    rows = layout.rows(farm_document(), base)
    assert rows[0] == (oid("mwFarmName", base) + (0,), "string", "north-farm")
    assert all(row[0][:len(base)] == base for row in rows)


def fixed(document, index: int) -> tuple[int, int]:
    got = cells(document)
    return got[column("mwMinerHashrateFixed", index)][1], got[column("mwMinerHashrateFixedUnit", index)][1]


def test_a_hashrate_crossing_a_unit_boundary_stays_monotonic_in_the_fixed_unit():
    # A SHA256 miner slowing from 4.4 to 4.2 TH/s crosses 4,294,967,295 kH/s: the adaptive column goes
    # from MH/s to kH/s and its value jumps 1000 times up, as if the miner had sped up; the fixed one
    # only falls with the hashrate.
    document = farm_document()
    readings = []
    for hashrate_hs in (4.4e12, 4.3e12, 4_294_967_296e3, 4_294_967_295e3, 4.2e12, 1.2e12, 0.0):
        document["miners"][0]["hashrate_hs"] = hashrate_hs
        got = cells(document)
        adaptive = got[column("mwMinerHashrate", 1)][1]
        readings.append((adaptive, fixed(document, 1)))
    adaptive = [a for a, _ in readings]
    assert (adaptive[2], adaptive[3]) == (4_294_967, 4_294_967_295)  # slower, and read 1000 times higher
    assert [f for _, f in readings] == [(440, 5), (430, 5), (429, 5), (429, 5), (420, 5), (120, 5), (0, 5)]


@pytest.mark.parametrize(("algorithm", "hashrate_hs", "expected"), [
    ("SHA256", 1.2e12, (120, 5)),  # a BitAxe: hundredths of TH/s
    ("SHA256", 234e12, (23_400, 5)),  # an S21 Pro
    ("SHA256", 20_000 * 234e12, (468_000_000, 5)),  # 20,000 of them: a ninth of Gauge32
    ("SHA256", 1e21, (4_294_967_295, 5)),  # a zettahash latches at the top, as a gauge does
    ("Scrypt", 9.5e9, (950, 4)), ("kHeavyHash", 9.4e12, (940, 5)), ("KawPow", 244.48e6, (24_448, 3)),
    ("RandomX", 18_920.0, (1_892, 2)), ("Equihash 125,4", 55.0, (5_500, 1)), ("xelishashv3", 5e5, (50, 3)),
])
def test_the_fixed_unit_is_the_algorithms_own(algorithm, hashrate_hs, expected):
    document = farm_document()
    document["miners"][0].update(algorithm=algorithm, hashrate_hs=hashrate_hs)
    assert fixed(document, 1) == expected
