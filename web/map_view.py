"""The farm map's cells: every miner of the latest cycle, placed site -> room -> rack -> row and
column (``appliance.placement``: the inventory's rack and location, else its site's ``place_by``
rule), coloured by one metric in ten classes ``c0``..``c9`` (``cx``: no reading) and bordered by
its state. Classes, not styles: the CSP allows no style attribute, and a class per cell keeps
10,000 of them one compact page the browser lays out at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from appliance.config import Site
from appliance.inventory import INVENTORY_FILE, InventoryError, Place, read_places
from appliance.placement import Spot, room_and_rack, spot
from appliance.store.schema import TABLES
from web import display, farm_view

BUCKETS = 10


@dataclass(frozen=True)
class Metric:
    label: str
    bucket: Callable[[float], int] | None  # a reading -> its class, 0 (best or least) to 9; None: by status
    legend: tuple[str, ...] = ()  # what each class means, c0 first


def _steps(first: float, step: float, unit: str) -> tuple[str, ...]:
    edges = [first + step * n for n in range(BUCKETS - 1)]
    return (f"< {edges[0]:g}{unit}", *(f"{low:g}-{high:g}{unit}" for low, high in zip(edges, edges[1:])),
            f"≥ {edges[-1]:g}{unit}")


def _clamp(n: float) -> int:
    return max(0, min(BUCKETS - 1, int(n)))


METRICS = {
    # 5 °C a class from 50 °C: chips run 60-80 °C, and firmwares cut out around 90-95.
    "temp": Metric("chip temperature", lambda c: _clamp((c - 45) // 5), _steps(50, 5, " °C")),
    # 10 % a class below the rating; c0 is at or above it.
    "hashrate": Metric("hashrate, % of rated", lambda pct: _clamp((100 - pct) // 10 + 1 if pct < 100 else 0),
                       ("≥ 100 %", *(f"{high - 10}-{high} %" for high in range(100, 20, -10)), "< 20 %")),
    # 500 W a class: a hobby board to a 5 kW hydro unit.
    "power": Metric("power", lambda w: _clamp(w // 500), _steps(500, 500, " W")),
    "status": Metric("status", None),
}
BORDERS = {"offline": "b-off", "critical": "b-alert", "warning": "b-alert", "not_hashing": "b-sleep"}


@dataclass
class Rack:
    name: str
    grid: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)  # (row, column) -> cells
    slots: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    loose: list[dict[str, Any]] = field(default_factory=list)  # in the rack, nobody said where

    def shelves(self) -> list[list[list[dict[str, Any]]]]:
        """Rows from the top, each a list of columns from the left (an empty list: a free place)."""
        if not self.grid:
            return []
        rows = max(r for r, _ in self.grid)
        columns = max(c for _, c in self.grid)
        return [[self.grid.get((r, c), []) for c in range(1, columns + 1)] for r in range(1, rows + 1)]

    def in_order(self) -> list[dict[str, Any]]:
        return [cell for _, cell in sorted(self.slots, key=lambda s: s[0])] + self.loose


def _natural(text: str | None) -> tuple:
    """R2 before R10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text or "") if part)


def farm_map(state_dir: Path, sites: tuple[Site, ...], metric: str, only_site: str | None = None) -> dict[str, Any]:
    """Every miner as a cell: ``{"metric", "legend", "sites": [{"site", "rooms": [{"room", "racks"}],
    "unplaced"}], "cells", "problems"}``. Raises ``farm_view.Unavailable`` as the latest rows do."""
    problems: list[str] = []
    rows = farm_view.with_statuses(state_dir, problems)
    if only_site:
        rows = rows.filter(pc.fill_null(pc.equal(rows["site"], only_site), False))
    places = _places(state_dir, problems)
    rules = {site.name: site.place_by for site in sites if site.place_by is not None}
    chip = _chip_temps(state_dir, rows, problems)
    chosen = METRICS[metric]
    tree: dict[str, tuple[dict[str | None, dict[str, Rack]], list[dict[str, Any]]]] = {}
    columns = rows.select(["device", "ip", "site", "model", "status", "hashrate_hs", "hashrate_nominal_hs",
                           "power_w"]).to_pydict()
    for n, key in enumerate(columns["device"]):
        cell = _cell(key, {name: values[n] for name, values in columns.items()}, chip[n], chosen, metric)
        place = places.get(key)
        site = (place.site if place else None) or columns["site"][n] or "default"
        rack_text, location = (place.rack, place.location) if place and place.rack else (None, None)
        if rack_text is None and (rule := rules.get(site)) is not None:
            rack_text, location = rule.place(columns["ip"][n], place.hostname if place else None) or (None, None)
        rooms, unplaced = tree.setdefault(site, ({}, []))
        if rack_text is None:
            unplaced.append(cell)
            continue
        room, rack_name = room_and_rack(rack_text)
        rack = rooms.setdefault(room, {}).setdefault(rack_name, Rack(rack_name))
        _put(rack, spot(location), cell)
    return {
        "metric": metric, "label": chosen.label,
        "legend": list(zip((f"c{n}" for n in range(BUCKETS)), chosen.legend, strict=False)),
        "cells": rows.num_rows,
        "sites": [{"site": site, "unplaced": sorted(unplaced, key=lambda c: farm_view._address(c["ip"])),
                   "rooms": [{"room": room, "racks": [racks[name] for name in sorted(racks, key=_natural)]}
                             for room, racks in sorted(rooms.items(), key=lambda r: _natural(r[0]))]}
                  for site, (rooms, unplaced) in sorted(tree.items())],
        "problems": problems,
    }


def _put(rack: Rack, where: Spot, cell: dict[str, Any]) -> None:
    cell.update(row=where.row, column=where.column, slot=where.slot)
    if where.row is not None and where.column is not None:
        rack.grid.setdefault((where.row, where.column), []).append(cell)
    elif where.slot is not None:
        rack.slots.append((where.slot, cell))
    else:
        rack.loose.append(cell)


def _cell(key: str, row: dict[str, Any], temp_c: float | None, chosen: Metric, metric: str) -> dict[str, Any]:
    if row["status"] == "offline":
        temp_c = None  # its boards' last readings, from before it went quiet: not how it is now
    share = (100.0 * (row["hashrate_hs"] or 0.0) / row["hashrate_nominal_hs"]
             if row["hashrate_nominal_hs"] and row["status"] != "offline" else None)
    reading = {"temp": temp_c, "hashrate": share, "power": row["power_w"]}.get(metric)
    if chosen.bucket is None:
        colour = f"s-{row['status']}"
    else:
        colour = "cx" if reading is None else f"c{chosen.bucket(reading)}"
    border = BORDERS.get(row["status"], "")
    title = " · ".join((row["ip"] or key, row["model"] or "?", display.number(temp_c, 0, " °C"),
                        display.hashrate(row["hashrate_hs"]), display.number(share, 0, " % of rated"),
                        display.power(row["power_w"]), row["status"].replace("_", " ")))
    return {"key": key, "ip": row["ip"], "classes": f"{colour} {border}".strip(), "title": title,
            "row": None, "column": None, "slot": None}


def _places(state_dir: Path, problems: list[str]) -> dict[str, Place]:
    if not (Path(state_dir) / INVENTORY_FILE).exists():
        return {}
    try:
        return read_places(state_dir)
    except InventoryError as exc:
        problems.append(f"{exc}; every miner is drawn as not placed")
        return {}


def _chip_temps(state_dir: Path, rows: pa.Table, problems: list[str]) -> list[float | None]:
    """Each row's hottest chip from its latest boards, else its own hottest reading (``temp_max_c``)."""
    try:
        boards = farm_view.latest_rows(state_dir, "boards")
    except farm_view.Unavailable as exc:
        problems.append(f"{exc}; temperatures are the miners' own meanwhile")
        boards = TABLES["boards"].schema.empty_table()
    hottest = boards.group_by("device").aggregate([("temp_chip_c", "max")])
    at = pc.index_in(rows["device"], value_set=hottest["device"])
    chip = pc.take(hottest["temp_chip_c_max"], at)
    return pc.coalesce(chip, rows["temp_max_c"]).to_pylist()


def as_json(farm: dict[str, Any]) -> dict[str, Any]:
    """``GET /api/v1/map``: ``farm_map``'s answer with each rack's cells in one list, top left first."""
    def rack(r: Rack) -> dict[str, Any]:
        placed = [cell for shelf in r.shelves() for place in shelf for cell in place]
        return {"rack": r.name, "cells": placed + r.in_order()}

    return {"metric": farm["metric"], "legend": [{"class": css, "label": label} for css, label in farm["legend"]],
            "cells": farm["cells"],
            "sites": [{"site": site["site"], "unplaced": site["unplaced"],
                       "rooms": [{"room": room["room"], "racks": [rack(r) for r in room["racks"]]}
                                 for room in site["rooms"]]} for site in farm["sites"]],
            "problems": farm["problems"]}
