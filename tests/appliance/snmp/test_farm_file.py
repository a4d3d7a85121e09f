"""The farm document the commander writes for its snmpd: every device it reads, under its
inventory number, with nothing made up for what a device did not report."""

from __future__ import annotations

import json
import math

from appliance.inventory import Device
from appliance.snmp.farm_file import FarmState, document, farm_path, write
from collectors.mib import oid
from collectors.model import Board, Cpu, Gpu, MinerProgram, MinerSnapshot, RigSnapshot, unreachable

STATE = FarmState(name="north", ha_role="backup", alerts_active=2, poll_duration_ms=812.5, polled_at=1_764_230_400.0)


def device(number: int, key: str, ip: str | None, kind: str = "asic", source: str = "discovered",
           port: int | None = None, model: str | None = None) -> Device:
    return Device(key=key, ip=ip, port=port, driver=None, make="Bitmain" if kind == "asic" else None, model=model,
                  mac=None, serial=None, hostname=None, site="default", rack=None, location=None, tags=(),
                  first_seen=None, last_seen=None, source=source, kind=kind, number=number)


def asic(ip: str, model: str, algorithm: str, hashrate_hs: float, power_w: float) -> MinerSnapshot:
    return MinerSnapshot(ip, 4028, make="Bitmain", model=model, algorithm=algorithm, reachable=True,
                         hashrate_hs=hashrate_hs, power_w=power_w)


def test_asics_and_rigs_under_their_numbers_with_a_total_per_algorithm():
    devices = [device(1, "AA:00:00:00:00:01", "10.0.0.1"),
               device(2, "AA:00:00:00:00:02", "10.0.0.2", model="Antminer S19"),  # down: still an S19
               device(3, "AA:00:00:00:00:03", None),  # its address went to another device: not polled
               device(4, "10.0.5.7", "10.0.5.7", "rig", "configured", 161),
               device(5, "10.0.5.8", "10.0.5.8", "rig", "discovered", 161),  # no longer configured
               device(6, "10.0.5.9:1161", "10.0.5.9", "rig", "configured", 1161),
               device(7, "AA:00:00:00:00:07", "10.0.0.7"), device(8, "AA:00:00:00:00:08", "10.0.0.8"),
               device(9, "AA:00:00:00:00:09", "10.0.0.9")]
    miners = {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028, make="Bitmain", model="Antminer S19", firmware="stock",
                                        firmware_version="2023-03-01", algorithm="SHA256", reachable=True,
                                        hashrate_hs=110e12, power_w=3250.0, temp_max_c=71.5, uptime_s=600, accepted=10,
                                        rejected=1, boards=[Board(0)], polled_at=1_764_230_400.2),
              "10.0.0.2": unreachable("10.0.0.2", 4028, "no answer on 10.0.0.2:4028 within 3 s"),
              "10.0.0.7": asic("10.0.0.7", "Antminer L7", "Scrypt", 9.5e9, 3425.0),
              "10.0.0.8": asic("10.0.0.8", "Antminer KS3", "kHeavyHash", 9.4e12, 3500.0),
              "10.0.0.9": MinerSnapshot("10.0.0.9", 4028, make="Goldshell", reachable=True, hashrate_hs=29e12,
                                        power_w=2630.0)}  # a model nobody knows: no algorithm
    rigs = {"10.0.5.7": RigSnapshot("rig-07", ip="10.0.5.7", port=161, uptime_s=9000,
                                    hashrate_by_algorithm_hs={"KawPow": 62e6, "RandomX": 15e3},
                                    cpu=Cpu(temp_c=55.0, hashrate_hs=15e3, algorithm="rx/0"),
                                    gpus=[Gpu("0000:01:00.0", name="RTX 3080", temp_c=61.0, power_w=220.0,
                                              hashrate_hs=62e6, algorithm="kawpow"),
                                          Gpu("0000:02:00.0", name="RTX 3070", temp_c=66.0, power_w=None)],
                                    programs=[MinerProgram("trex", api_up=True, version="0.26.8", accepted=5,
                                                           rejected=0, algorithm="kawpow", hashrate_hs=62e6),
                                              MinerProgram("xmrig", api_up=True, version="6.21.0", accepted=2,
                                                           rejected=0, algorithm="rx/0", hashrate_hs=15e3),
                                              MinerProgram("lolminer", error="nothing listens")]),
            "10.0.5.9:1161": RigSnapshot("10.0.5.9", reachable=False, error="no answer", ip="10.0.5.9", port=1161)}
    doc = document(STATE, devices, miners, rigs, now=1_764_230_410.0)
    assert doc["farm"] == {"name": "north", "ha_role": "backup", "asics": 5, "asics_up": 4, "rigs": 2, "rigs_up": 1,
                           "power_w": 3250.0 + 3425.0 + 3500.0 + 2630.0 + 220.0, "alerts_active": 2,
                           "poll_duration_ms": 812.5, "polled_at": 1_764_230_400.0}
    # No sum across algorithms: a row each, in the table's order; the Goldshell, of no known algorithm, in none.
    # The rating counts the S19 that is down (its model's); rigs have none.
    assert doc["algorithms"] == [
        {"index": 1, "algorithm": "SHA256", "miners": 2, "miners_up": 1, "hashrate_hs": 110e12, "power_w": 3250.0,
         "hashrate_nominal_hs": 2 * 95e12},
        {"index": 2, "algorithm": "Scrypt", "miners": 1, "miners_up": 1, "hashrate_hs": 9.5e9, "power_w": 3425.0,
         "hashrate_nominal_hs": 9.5e9},
        {"index": 4, "algorithm": "kHeavyHash", "miners": 1, "miners_up": 1, "hashrate_hs": 9.4e12,
         "power_w": 3500.0, "hashrate_nominal_hs": 9.4e12},
        {"index": 8, "algorithm": "KawPow", "miners": 1, "miners_up": 1, "hashrate_hs": 62e6, "power_w": 220.0,
         "hashrate_nominal_hs": None},
        {"index": 12, "algorithm": "RandomX", "miners": 1, "miners_up": 1, "hashrate_hs": 15e3, "power_w": None,
         "hashrate_nominal_hs": None},
    ]
    records = {r["index"]: r for r in doc["miners"]}
    assert sorted(records) == [1, 2, 4, 6, 7, 8, 9]
    assert records[1] | {"index": 1} == {
        "index": 1, "address": "10.0.0.1:4028", "kind": "asic", "hostname": None, "make": "Bitmain",
        "model": "Antminer S19", "firmware": "stock 2023-03-01", "algorithm": "SHA256", "reachable": True,
        "hashrate_hs": 110e12, "power_w": 3250.0, "temp_max_c": 71.5, "uptime_s": 600, "accepted": 10, "rejected": 1,
        "error": None, "polled_at": 1_764_230_400.2, "sentry": None}
    assert (records[2]["reachable"], records[2]["hashrate_hs"], records[2]["algorithm"], records[2]["error"]) == (
        False, None, "SHA256", "no answer on 10.0.0.2:4028 within 3 s")
    assert (records[9]["algorithm"], records[9]["hashrate_hs"]) == (None, 29e12)
    rig = records[4]
    assert (rig["address"], rig["kind"], rig["hostname"], rig["model"], rig["firmware"]) == (
        "10.0.5.7:161", "rig", "rig-07", "2 GPU (RTX 3070, RTX 3080)", "trex 0.26.8, xmrig 6.21.0")
    assert (rig["temp_max_c"], rig["power_w"], rig["accepted"], rig["uptime_s"]) == (66.0, 220.0, 7, 9000)
    assert (rig["algorithm"], rig["hashrate_hs"]) == ("KawPow+RandomX", None)  # two algorithms: no one figure
    assert (records[6]["reachable"], records[6]["error"], records[6]["uptime_s"]) == (False, "no answer", None)


def test_a_rig_mining_one_algorithm_has_its_hashrate_in_its_row():
    rig = RigSnapshot("rig-08", ip="10.0.5.8", hashrate_by_algorithm_hs={"Etchash": 580e6},
                      programs=[MinerProgram("lolminer", api_up=True, algorithm="ETCHASH", hashrate_hs=580e6)])
    doc = document(STATE, [device(1, "10.0.5.8", "10.0.5.8", "rig", "configured")], {}, {"10.0.5.8": rig}, now=0.0)
    assert (doc["miners"][0]["algorithm"], doc["miners"][0]["hashrate_hs"]) == ("Etchash", 580e6)
    assert [(a["index"], a["algorithm"], a["hashrate_hs"]) for a in doc["algorithms"]] == [(10, "Etchash", 580e6)]


def test_absurd_numbers_become_null_and_the_file_is_strict_json(tmp_path):
    miners = {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028, reachable=True, hashrate_hs=math.nan,
                                        efficiency_jth=math.inf, temp_max_c=-math.inf, power_w=3000.0)}
    doc = document(STATE, [device(1, "k", "10.0.0.1")], miners, {}, now=0.0)
    path = write(tmp_path, doc)
    assert path == farm_path(tmp_path)
    parsed = json.loads(path.read_text(), parse_constant=_refuse)
    [record] = parsed["miners"]
    assert (record["hashrate_hs"], record["temp_max_c"], record["power_w"]) == (None, None, 3000.0)
    assert parsed["algorithms"] == []  # nor an algorithm
    assert oct(path.stat().st_mode & 0o777) == "0o644"  # snmpd's responder may run as another user


def _refuse(word: str) -> None:
    raise AssertionError(f"{word} in the farm document")


def test_without_a_name_the_farm_is_named_after_the_host(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "appliance-1")
    doc = document(FarmState(None, "standalone", 0, None, None), [], {}, {}, now=0.0)
    assert doc["farm"]["name"] == "appliance-1" and doc["miners"] == []


def test_the_document_carries_exactly_what_the_responder_serves():
    # farm_file writes the document, layout reads it: the two must not drift apart.
    from appliance.snmp import layout

    doc = document(STATE, [device(1, "k", "10.0.0.1")],
                   {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028, algorithm="sha256d")}, {}, now=0.0)
    assert set(doc["farm"]) == {key for _, key, _ in layout.FARM}
    assert set(doc["miners"][0]) == {key for _, key, _ in layout.MINER} | {"index"}
    # The rating is the web's (its farm view), not in MINERWATCH-MIB.
    assert set(doc["algorithms"][0]) == {key for _, key, _ in layout.ALGORITHM} | {"index", "hashrate_nominal_hs"}
    assert doc["version"] == layout.VERSION
    served = {row[0] for row in layout.rows(doc)}
    assert {oid("mwFarmName") + (0,), oid("mwMinerMake") + (1,), oid("mwMinerReachable") + (1,),
            oid("mwMinerAlgorithm") + (1,), oid("mwFarmAlgoName") + (1,)} <= served
