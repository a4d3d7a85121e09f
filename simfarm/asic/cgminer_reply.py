"""The cgminer reply frame and records every cgminer-derived emulation shares (BOSminer, LUXminer,
btminer, Canaan's cgminer): ``{"STATUS":[...],"<SECTION>":[...],"id":1}`` and the POOLS record."""

from __future__ import annotations

import json
from typing import Any

from simfarm.device import MinerState

_encode = json.JSONEncoder(separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    return _encode(value).encode()


def reply(code: int, msg: str, description: str, section: str, items: list[dict[str, Any]], now: float) -> bytes:
    return dumps({"STATUS": [{"STATUS": "S", "When": int(now), "Code": code, "Msg": msg,
                              "Description": description}], section: items, "id": 1})


def pools(state: MinerState, description: str, now: float, extra: dict[str, Any] | None = None) -> bytes:
    """cgminer's POOLS records, each with the fork's ``extra`` keys; the first live pool is the one hashing."""
    items = []
    for pool in state.pools:
        items.append({
            "POOL": pool.index, "URL": pool.url, "Status": "Alive" if pool.alive else "Dead",
            "Priority": pool.index, "Quota": 1, "Long Poll": "N", "Getworks": pool.accepted + pool.rejected,
            "Accepted": pool.accepted, "Rejected": pool.rejected, "Works": pool.accepted * 3, "Discarded": 0,
            "Stale": pool.stale, "Get Failures": 0 if pool.alive else 1, "Remote Failures": 0,
            "User": pool.user, "Last Share Time": int(now) if pool.accepted else 0,
            "Diff1 Shares": pool.accepted * 65536, "Proxy Type": "", "Proxy": "",
            "Difficulty Accepted": pool.accepted * 65536.0, "Difficulty Rejected": pool.rejected * 65536.0,
            "Difficulty Stale": pool.stale * 65536.0, "Last Share Difficulty": 65536.0,
            "Has Stratum": True, "Stratum Active": pool.index == 0 and pool.alive,
            "Stratum URL": pool.url.split("//")[-1].split(":")[0], "Has GBT": False, "Best Share": 0,
            "Pool Rejected%": 0.0, "Pool Stale%": 0.0, **(extra or {})})
    return reply(7, f"{len(items)} Pool(s)", description, "POOLS", items, now)


def counters(state: MinerState, now: float) -> dict[str, Any]:
    """The summary counters every fork keeps: uptime and shares."""
    return {"Elapsed": state.uptime_s(now), "Found Blocks": 0, "Getworks": state.accepted + state.rejected,
            "Accepted": state.accepted, "Rejected": state.rejected, "Hardware Errors": state.hw_errors,
            "Stale": state.stale, "Get Failures": 0, "Remote Failures": 0}
