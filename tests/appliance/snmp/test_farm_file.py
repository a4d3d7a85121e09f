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
           port: int | None = None) -> Device:
    return Device(key=key, ip=ip, port=port, driver=None, make="Bitmain" if kind == "asic" else None, model=None,
                  mac=None, serial=None, hostname=None, site="default", rack=None, location=None, tags=(),
                  first_seen=None, last_seen=None, source=source, kind=kind, number=number)


def test_asics_and_rigs_under_their_numbers_with_farm_totals():
    devices = [device(1, "AA:00:00:00:00:01", "10.0.0.1"), device(2, "AA:00:00:00:00:02", "10.0.0.2"),
               device(3, "AA:00:00:00:00:03", None),  # its address went to another device: not polled
               device(4, "10.0.5.7", "10.0.5.7", "rig", "configured", 161),
               device(5, "10.0.5.8", "10.0.5.8", "rig", "discovered", 161),  # no longer configured
               device(6, "10.0.5.9:1161", "10.0.5.9", "rig", "configured", 1161)]
    miners = {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028, make="Bitmain", model="Antminer S19", firmware="stock",
                                        firmware_version="2023-03-01", reachable=True, hashrate_hs=110e12,
                                        power_w=3250.0, temp_max_c=71.5, uptime_s=600, accepted=10, rejected=1,
                                        boards=[Board(0)], polled_at=1_764_230_400.2),
              "10.0.0.2": unreachable("10.0.0.2", 4028, "no answer on 10.0.0.2:4028 within 3 s")}
    rigs = {"10.0.5.7": RigSnapshot("rig-07", ip="10.0.5.7", port=161, uptime_s=9000, hashrate_hs=62e6,
                                    cpu=Cpu(temp_c=55.0),
                                    gpus=[Gpu("0000:01:00.0", name="RTX 3080", temp_c=61.0, power_w=220.0),
                                          Gpu("0000:02:00.0", name="RTX 3070", temp_c=66.0, power_w=None)],
                                    programs=[MinerProgram("trex", api_up=True, version="0.26.8", accepted=5,
                                                           rejected=0),
                                              MinerProgram("lolminer", error="nothing listens")]),
            "10.0.5.9:1161": RigSnapshot("10.0.5.9", reachable=False, error="no answer", ip="10.0.5.9", port=1161)}
    doc = document(STATE, devices, miners, rigs, now=1_764_230_410.0)
    assert doc["farm"] == {"name": "north", "ha_role": "backup", "asics": 2, "asics_up": 1, "rigs": 2, "rigs_up": 1,
                           "hashrate_hs": 110e12 + 62e6, "power_w": 3250.0 + 220.0, "alerts_active": 2,
                           "poll_duration_ms": 812.5, "polled_at": 1_764_230_400.0}
    records = {r["index"]: r for r in doc["miners"]}
    assert sorted(records) == [1, 2, 4, 6]
    assert records[1] | {"index": 1} == {
        "index": 1, "address": "10.0.0.1:4028", "kind": "asic", "hostname": None, "make": "Bitmain",
        "model": "Antminer S19", "firmware": "stock 2023-03-01", "reachable": True, "hashrate_hs": 110e12,
        "power_w": 3250.0, "temp_max_c": 71.5, "uptime_s": 600, "accepted": 10, "rejected": 1, "error": None,
        "polled_at": 1_764_230_400.2}
    assert (records[2]["reachable"], records[2]["hashrate_hs"], records[2]["error"]) == (
        False, None, "no answer on 10.0.0.2:4028 within 3 s")
    rig = records[4]
    assert (rig["address"], rig["kind"], rig["hostname"], rig["model"], rig["firmware"]) == (
        "10.0.5.7:161", "rig", "rig-07", "2 GPU (RTX 3070, RTX 3080)", "trex 0.26.8")
    assert (rig["temp_max_c"], rig["power_w"], rig["accepted"], rig["uptime_s"]) == (66.0, 220.0, 5, 9000)
    assert (records[6]["reachable"], records[6]["error"], records[6]["uptime_s"]) == (False, "no answer", None)


def test_absurd_numbers_become_null_and_the_file_is_strict_json(tmp_path):
    miners = {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028, reachable=True, hashrate_hs=math.nan,
                                        efficiency_jth=math.inf, temp_max_c=-math.inf, power_w=3000.0)}
    doc = document(STATE, [device(1, "k", "10.0.0.1")], miners, {}, now=0.0)
    path = write(tmp_path, doc)
    assert path == farm_path(tmp_path)
    parsed = json.loads(path.read_text(), parse_constant=_refuse)
    [record] = parsed["miners"]
    assert (record["hashrate_hs"], record["temp_max_c"], record["power_w"]) == (None, None, 3000.0)
    assert parsed["farm"]["hashrate_hs"] is None  # no device reported a usable one
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

    doc = document(STATE, [device(1, "k", "10.0.0.1")], {"10.0.0.1": MinerSnapshot("10.0.0.1", 4028)}, {}, now=0.0)
    assert set(doc["farm"]) == {key for _, key, _ in layout.FARM}
    assert set(doc["miners"][0]) == {key for _, key, _ in layout.MINER} | {"index"}
    assert doc["version"] == layout.VERSION
    served = {row[0] for row in layout.rows(doc)}
    assert {oid("mwFarmName") + (0,), oid("mwMinerMake") + (1,), oid("mwMinerReachable") + (1,)} <= served
