"""The rigs as the web shows them, from the latest rows of the rigs, gpus and programs tables and
the inventory (rack, tags): ``GET /api/v1/rigs`` and ``/rigs/<key>``. A rig has no single
hashrate: its programs may mine several algorithms, so its total is per algorithm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from collectors import algorithms
from web.farm_view import Page, Unavailable, firing_alerts, latest_rows, places, worst_severity

_CPU = ("model", "threads", "load_pct", "temp_c", "frequency_mhz", "hashrate_hs", "algorithm")
_GPU = ("bus_id", "name", "vendor", "hashrate_hs", "algorithm", "temp_c", "mem_temp_c", "fan_pct", "fan_rpm",
        "power_w", "core_clock_mhz", "mem_clock_mhz", "accepted", "rejected")
_PROGRAM = ("program", "name", "version", "algorithm", "pool", "user", "api_up", "port", "error", "hashrate_hs",
            "accepted", "rejected", "uptime_s")


def _rows_of(state_dir: Path, table: str, keys: list[str], problems: list[str]) -> list[dict[str, Any]]:
    try:
        rows = latest_rows(state_dir, table)
    except Unavailable as exc:  # the rig stands without these parts
        problems.append(f"{exc}; its {table} are left out")
        return []
    return rows.filter(pc.is_in(rows["rig"], value_set=pa.array(keys, pa.string()))).to_pylist()


def _items(state_dir: Path, rows: pa.Table, problems: list[str], parts: bool) -> list[dict[str, Any]]:
    keys = rows["rig"].to_pylist()
    worst = worst_severity(firing_alerts(state_dir, problems))
    placed = places(state_dir, keys, problems)
    programs: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for row in sorted(_rows_of(state_dir, "programs", keys, problems), key=lambda r: r["program"]):
        programs[row["rig"]].append({name: row[name] for name in _PROGRAM})
    gpus: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    if parts:
        for row in sorted(_rows_of(state_dir, "gpus", keys, problems), key=lambda r: r["bus_id"]):
            gpus[row["rig"]].append({name: row[name] for name in _GPU})
    items = []
    for row in rows.to_pylist():
        key = row["rig"]
        mine = programs[key]
        totals = algorithms.totals((p["algorithm"], p["hashrate_hs"]) for p in mine if p["api_up"])
        item = {
            "key": key, "site": row["site"], "rack": placed[key].rack if key in placed else None,
            "tags": list(placed[key].tags) if key in placed else [],
            "status": "offline" if not row["reachable"] else worst.get(key, "ok"),
            "hostname": row["hostname"], "reachable": row["reachable"], "error": row["error"],
            "uptime_s": row["uptime_s"], "load_1m": row["load_1m"], "memory_used_pct": row["memory_used_pct"],
            "disk_used_pct": row["disk_used_pct"], "gpu_count": row["gpus"],
            "hashrates": [{"algorithm": name, "hashrate_hs": rate} for name, rate in totals.items()],
            "cpu": {name: row[f"cpu_{name}"] for name in _CPU},
            "faults": row["faults"] or [],
            "polled_at": row["time"].timestamp(),
        }
        if parts:
            item |= {"gpus": gpus[key], "programs": mine}
        items.append(item)
    return items


def rigs(state_dir: Path, site: str | None = None, q: str | None = None) -> Page:
    """Every rig (by key), of ``site`` and with ``q`` in its key or host name when given."""
    problems: list[str] = []
    rows = latest_rows(state_dir, "rigs")
    if site:
        rows = rows.filter(pc.fill_null(pc.equal(rows["site"], site), False))
    if q:
        found = [pc.fill_null(pc.match_substring(rows[c], q, ignore_case=True), False) for c in ("rig", "hostname")]
        rows = rows.filter(pc.or_(*found))
    rows = rows.sort_by([("rig", "ascending")])
    return Page(rows.num_rows, _items(state_dir, rows, problems, parts=False), problems)


def rig(state_dir: Path, key: str) -> dict[str, Any] | None:
    """One rig with its GPUs (by PCI bus id) and programs; None when none is known."""
    problems: list[str] = []
    rows = latest_rows(state_dir, "rigs")
    rows = rows.filter(pc.equal(rows["rig"], key))
    if rows.num_rows == 0:
        return None
    return _items(state_dir, rows, problems, parts=True)[0] | {"problems": problems}
