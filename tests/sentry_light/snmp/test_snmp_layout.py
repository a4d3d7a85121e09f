"""The snapshot -> MINERWATCH-MIB mapping, without snmpd."""

from __future__ import annotations

import json
import zlib

from collectors.mib import BASE, SENTRY_STATUS, oid
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot
from sentry_light.snmp import layout
from simfarm.samples.rig import BUSES, twelve_gpu_rig
from snmp_agent.cells import hashrate


def cells(snapshot) -> dict:
    return {key: (kind, value) for key, kind, value in layout.rows(snapshot)}


def test_rows_are_sorted_by_oid_and_unique():
    rows = layout.rows(twelve_gpu_rig(collected_at=1.7e9))
    keys = [row[0] for row in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(key[:len(BASE)] == BASE for key in keys)


def test_gpu_rows_are_indexed_by_bus_id_and_keep_their_index_when_a_card_is_lost():
    rig = twelve_gpu_rig(collected_at=1.7e9)
    before = cells(rig)
    assert before[oid("mwGpuBusId") + (0x0A01,)] == ("string", "0000:0a:00.0")  # 1 + bus 10 * 256
    rig.gpus = [gpu for gpu in rig.gpus if gpu.bus_id != "0000:05:00.0"]
    after = cells(rig)
    assert oid("mwGpuBusId") + (0x0501,) not in after
    for bus in BUSES:
        if bus != 0x05:
            key = oid("mwGpuHashrate") + (1 + bus * 256,)
            assert after[key] == before[key]
    assert after[oid("mwRigGpuCount") + (0,)] == ("gauge", 11)


def test_gpu_index_follows_the_pci_address():
    assert layout.gpu_index("0000:01:00.0") == 257
    assert layout.gpu_index("0001:01:1f.7") == 1 + 65536 + 256 + 31 * 8 + 7
    assert layout.gpu_index("not a bus id") == layout.gpu_index("not a bus id") > 2**30
    # Domains 32768 apart share an index; the later one in bus id order takes the next free one.
    assert layout.gpu_indexes(["0000:01:00.0", "8000:01:00.0"]) == {"0000:01:00.0": 257, "8000:01:00.0": 258}


def test_hashrate_takes_the_smallest_unit_that_fits_a_gauge32():
    assert hashrate(55.0) == (55, 1)  # Equihash, Sol/s
    assert hashrate(34_500_000.0) == (34_500_000, 1)
    assert hashrate(4_294_967_295.0) == (4_294_967_295, 1)
    assert hashrate(13_000_000_000.0) == (13_000_000, 2)
    assert hashrate(140e12) == (140_000_000, 3)  # an S21 in MH/s
    assert hashrate(5e21) == (5_000_000, 6)
    assert hashrate(None) is None and hashrate(-1.0) is None and hashrate(float("nan")) is None


def test_units_counters_and_absent_values():
    rig = twelve_gpu_rig(collected_at=1.7e9)
    rig.gpus[0].accepted = 2**32 + 5
    got = cells(rig)
    index = (257,)
    assert got[oid("mwGpuTemp") + index] == ("integer", 600)  # tenths of a degree
    assert got[oid("mwGpuFanPercent") + index] == ("integer", 5525)  # hundredths of a percent
    assert got[oid("mwGpuPower") + index] == ("integer", 2254)
    assert got[oid("mwGpuAccepted") + index] == ("counter", 5)  # Counter32 wraps
    assert got[oid("mwGpuHashrateUnit") + index] == ("integer", 1)
    assert got[oid("mwRigLoad1m") + (0,)] == ("integer", 325)
    assert oid("mwGpuMemTemp") + (1 + 0x05 * 256,) not in got  # GPU 3 has no memory sensor: no cell
    assert got[oid("mwProgramApiUp") + (1,)] == ("integer", 1)  # trex before xmrig
    assert got[oid("mwProgramApiUp") + (2,)] == ("integer", 2)
    assert oid("mwProgramHashrate") + (2,) not in got


def test_a_rig_mining_two_algorithms_has_a_row_for_each_and_no_sum():
    rig = RigSnapshot(hostname="rig-dual", hashrate_by_algorithm_hs={"KawPow": 244.48e6, "RandomX": 18_920.0},
                      cpu=Cpu(hashrate_hs=18_920.0, algorithm="randomx"),
                      gpus=[Gpu("0000:01:00.0", hashrate_hs=244.48e6, algorithm="kawpow")],
                      programs=[MinerProgram("srbminer", api_up=True, algorithm="kawpow", hashrate_hs=244.48e6,
                                             port=21550),
                                MinerProgram("srbminer", api_up=True, algorithm="randomx", hashrate_hs=18_920.0,
                                             port=21550)])
    got = cells(rig)
    assert {key: value for key, value in got.items() if key[:-2] == oid("mwRigAlgoEntry")} == {
        oid("mwRigAlgoName") + (8,): ("string", "KawPow"),
        oid("mwRigAlgoHashrate") + (8,): ("gauge", 244_480_000),
        oid("mwRigAlgoHashrateUnit") + (8,): ("integer", 1),
        oid("mwRigAlgoHashrateFixed") + (8,): ("gauge", 24_448),  # 244.48 MH/s, KawPow's unit
        oid("mwRigAlgoHashrateFixedUnit") + (8,): ("integer", 3),
        oid("mwRigAlgoName") + (12,): ("string", "RandomX"),
        oid("mwRigAlgoHashrate") + (12,): ("gauge", 18_920),
        oid("mwRigAlgoHashrateUnit") + (12,): ("integer", 1),
        oid("mwRigAlgoHashrateFixed") + (12,): ("gauge", 1_892),  # 18.92 kH/s, RandomX's unit
        oid("mwRigAlgoHashrateFixedUnit") + (12,): ("integer", 2),
    }
    assert got[oid("mwRigAlgoCount") + (0,)] == ("gauge", 2)
    assert oid("mwRigHashrate") + (0,) not in got and oid("mwRigHashrateUnit") + (0,) not in got
    # One program, two rows: each with its algorithm and that algorithm's hashrate alone.
    assert [got[oid(name) + (row,)] for row in (1, 2) for name in (
        "mwProgramAlgorithm", "mwProgramHashrate", "mwProgramHashrateFixed", "mwProgramHashrateFixedUnit")] == [
        ("string", "kawpow"), ("gauge", 244_480_000), ("gauge", 24_448), ("integer", 3),
        ("string", "randomx"), ("gauge", 18_920), ("gauge", 1_892), ("integer", 2)]
    assert got[oid("mwCpuAlgorithm") + (0,)] == ("string", "randomx")
    assert got[oid("mwGpuAlgorithm") + (257,)] == ("string", "kawpow")


def test_strings_are_one_line_of_at_most_255_octets():
    rig = RigSnapshot(hostname="rig\nwith\x00controls", gpus=[Gpu(bus_id="0000:01:00.0", name="é" * 200)])
    got = cells(rig)
    assert got[oid("mwRigHostname") + (0,)] == ("string", "rig with controls")
    name = got[oid("mwGpuName") + (257,)][1]
    assert len(name.encode()) <= 255 and name == "é" * 127


def test_a_dict_with_wrong_types_loses_only_the_bad_values():
    data = twelve_gpu_rig(collected_at=1.7e9).to_dict()
    data["uptime_s"] = "soon"
    data["gpus"][0]["temp_c"] = True
    data["gpus"].append("not a gpu")
    data["programs"] = {"not": "a list"}
    got = cells(data)
    assert oid("mwRigUptime") + (0,) not in got
    assert oid("mwGpuTemp") + (257,) not in got
    assert got[oid("mwGpuTemp") + (513,)] == ("integer", 605)
    assert got[oid("mwRigProgramCount") + (0,)] == ("gauge", 0)


def test_the_snapshot_json_is_served_in_chunks_that_join_to_the_snapshot():
    rig = twelve_gpu_rig(collected_at=1.7e9)
    got = cells(rig)
    count = got[oid("mwRigSnapshotChunks") + (0,)][1]
    parts = [got[oid("mwRigSnapshotJson") + (n,)][1] for n in range(1, count + 1)]
    assert count >= 2 and all(len(part) <= layout.CHUNK_OCTETS for part in parts)
    text = "".join(parts)
    assert text.isascii() and "\n" not in text
    assert json.loads(text) == json.loads(json.dumps(rig.to_dict()))
    assert got[oid("mwRigSnapshotLength") + (0,)] == ("gauge", len(text))
    assert got[oid("mwRigSnapshotChecksum") + (0,)] == ("gauge", zlib.crc32(text.encode()))


def test_sentry_rows():
    assert layout.sentry_rows("down", None) == [(oid("mwSentryStatus") + (0,), "integer", SENTRY_STATUS["down"])]
    assert layout.sentry_rows("ok", 12.6)[1] == (oid("mwSentrySnapshotAge") + (0,), "gauge", 13)


def test_another_base():
    base = (1, 3, 6, 1, 4, 1, 99999, 1)
    rows = layout.rows(twelve_gpu_rig(collected_at=1.7e9), base)
    assert all(row[0][:len(base)] == base for row in rows)
