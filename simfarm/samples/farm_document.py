"""A small farm document, as the commander writes it, with every kind of row the NMS may meet; and a
big one for the bench and the large tests."""

from __future__ import annotations

import copy
from typing import Any

WRITTEN_AT = 1_764_230_400.5

S19 = {"index": 1, "address": "10.0.0.5:4028", "kind": "asic", "hostname": "s19-a1", "make": "Bitmain",
       "model": "Antminer S19 Pro", "firmware": "stock 2023-03-01", "algorithm": "SHA256", "reachable": True,
       "hashrate_hs": 1.1e14,
       "power_w": 3250.0, "temp_max_c": 71.5, "uptime_s": 86400, "accepted": 1234, "rejected": 5, "error": None,
       "polled_at": 1_764_230_400.1, "sentry": "north"}
RIG = {"index": 2, "address": "10.0.5.7", "kind": "rig", "hostname": "rig-07", "make": None,
       "model": "12 GPU (NVIDIA GeForce RTX 3080)", "firmware": "trex 0.26.8", "algorithm": "KawPow", "reachable": True,
       "hashrate_hs": 62e6, "power_w": 2704.8, "temp_max_c": 66.0, "uptime_s": 9000, "accepted": 12066,
       "rejected": 66, "error": None, "polled_at": 1_764_230_390.0}
DOWN = {"index": 3, "address": "10.0.0.6:4028", "kind": "asic", "hostname": None, "make": "MicroBT",
        "model": "WhatsMiner M30S", "firmware": None, "algorithm": "SHA256", "reachable": False, "hashrate_hs": None,
        "power_w": None,
        "temp_max_c": None, "uptime_s": None, "accepted": None, "rejected": None,
        "error": "no answer on 10.0.0.6:4028 within 3 s", "polled_at": 1_764_230_400.2}
SPARSE = {"index": 7, "kind": "asic", "reachable": True}  # a device that said almost nothing

FARM = {"name": "north-farm", "ha_role": "master", "asics": 3, "asics_up": 2, "rigs": 1, "rigs_up": 1,
        "power_w": 360000.0, "alerts_active": 3, "poll_duration_ms": 2345.0, "polled_at": 1_764_230_400.0}
# Per algorithm, as farm_file adds them up (SPARSE says no algorithm: it is under none).
SHA256 = {"index": 1, "algorithm": "SHA256", "miners": 2, "miners_up": 1, "hashrate_hs": 1.1e14, "power_w": 3250.0}
KAWPOW = {"index": 8, "algorithm": "KawPow", "miners": 1, "miners_up": 1, "hashrate_hs": 62e6, "power_w": 2704.8}


def farm_document(written_at: float = WRITTEN_AT, **farm: Any) -> dict[str, Any]:
    """The document, with ``farm`` values replaced; a fresh copy every call, for tests to break."""
    return copy.deepcopy({"version": 1, "written_at": written_at, "farm": {**FARM, **farm},
                          "algorithms": [SHA256, KAWPOW], "miners": [S19, RIG, DOWN, SPARSE]})


def big_farm(miners: int, written_at: float = WRITTEN_AT) -> dict[str, Any]:
    """A farm of ``miners`` S19s, every one with every field, for the bench and the large tests."""
    records = [{**S19, "index": n, "address": f"10.{n // 65536}.{n // 256 % 256}.{n % 256}:4028",
                "hostname": f"s19-{n}", "hashrate_hs": 1.1e14 + n} for n in range(1, miners + 1)]
    return {"version": 1, "written_at": written_at, "farm": {**FARM, "asics": miners, "asics_up": miners},
            "algorithms": [{**SHA256, "miners": miners, "miners_up": miners,
                            "hashrate_hs": sum(r["hashrate_hs"] for r in records)}], "miners": records}
