"""The farm as the web shows it, read from what the commander writes: the farm document
(``snmp/farm.json``, its totals per algorithm), the latest rows (``latest/*.parquet``), the
inventory (site, rack) and the alert state (``alerts.json``). Nothing here writes.

A file that is missing, unreadable or damaged costs what it holds: the reader raises
``Unavailable`` with one sentence naming the file (the API answers it as a 503), or, for what only
adds to a view (the inventory's racks, the alerts' statuses), the view goes on without it and
carries the sentence in its ``problems``.
"""

from __future__ import annotations

import functools
import math
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ConfigDict, with_config
from typing_extensions import NotRequired, TypedDict  # pydantic reads typing's only from Python 3.12

from appliance.alerts.engine import STATE_FILE as ALERTS_FILE, Alert, Silence, StateError, read_alert_state
from appliance.damaged import parsed, read_state
from appliance.inventory import INVENTORY_FILE, Device, InventoryError, Place, read_device, read_places
from appliance.snmp.farm_file import farm_path
from appliance.store.latest import latest_path, read_latest
from web.file_memo import MEMO

# A newer commander may add keys to the farm document: read those this view uses, strictly typed.
_OPEN = ConfigDict(strict=True)
STATUSES = ("offline", "not_hashing", "critical", "warning", "ok")
# What ?sort= takes (the API's names), and the column each sorts on.
SORTABLE = {name: name for name in ("ip", "site", "make", "model", "status", "hashrate_hs", "power_w", "temp_max_c",
                                    "uptime_s", "efficiency_jth")} | {"key": "device"}
TH = 1e12


class Unavailable(Exception):
    """What a view needs cannot be read; the message says which file and why."""


@with_config(_OPEN)
class _AlgorithmRow(TypedDict):
    algorithm: str
    miners: int
    hashrate_hs: float | None
    power_w: float | None
    hashrate_nominal_hs: NotRequired[float | None]  # absent from documents of older commanders


@with_config(_OPEN)
class _FarmRow(TypedDict):
    asics: int
    asics_up: int
    rigs: int
    power_w: float | None
    alerts_active: int
    polled_at: float | None


@with_config(_OPEN)
class _SiteRow(TypedDict):
    site: str
    asics: int
    asics_up: int
    rigs: int
    power_w: float | None
    algorithms: list[_AlgorithmRow]


@with_config(_OPEN)
class _FarmDocument(TypedDict):
    written_at: float
    farm: _FarmRow
    algorithms: list[_AlgorithmRow]
    sites: NotRequired[list[_SiteRow]]  # absent from documents of older commanders


def efficiency_jth(power_w: float | None, hashrate_hs: float | None) -> float | None:
    """J/TH: watts over terahashes per second; None unless both are known and hashing."""
    if power_w is None or not hashrate_hs or not math.isfinite(power_w):
        return None
    return power_w / (hashrate_hs / TH)


def farm(state_dir: Path) -> dict[str, Any]:
    """``GET /api/v1/farm``: the totals the commander wrote after its last cycle, per algorithm
    (made once per version of the farm document)."""
    return MEMO.read(farm_path(state_dir), "farm", lambda: _farm(state_dir))


def _farm(state_dir: Path) -> dict[str, Any]:
    doc = read_state(farm_path(state_dir), functools.partial(parsed, _FarmDocument), Unavailable,
                     missing="the commander has not finished a poll cycle with this state directory",
                     then="the commander rewrites it after its next cycle")
    totals = doc["farm"]
    return {
        "algorithms": _algorithms(doc["algorithms"]),
        "power_w": totals["power_w"],
        "miners_total": totals["asics"], "miners_online": totals["asics_up"],
        "miners_offline": totals["asics"] - totals["asics_up"],
        "rigs_total": totals["rigs"], "alerts_firing": totals["alerts_active"],
        "polled_at": totals["polled_at"], "written_at": doc["written_at"],
        "sites": [{"site": row["site"], "algorithms": _algorithms(row["algorithms"]), "power_w": row["power_w"],
                   "miners_total": row["asics"], "miners_online": row["asics_up"], "rigs_total": row["rigs"]}
                  for row in doc.get("sites", [])],
    }


def _algorithms(rows: list[_AlgorithmRow]) -> list[dict[str, Any]]:
    return [{"algorithm": row["algorithm"], "hashrate_hs": row["hashrate_hs"],
             "hashrate_nominal_hs": row.get("hashrate_nominal_hs"), "power_w": row["power_w"],
             "efficiency_jth": efficiency_jth(row["power_w"], row["hashrate_hs"]), "miners": row["miners"]}
            for row in rows]


def alerts(state_dir: Path) -> list[Alert]:
    """Every alert pending or firing, as the commander's last cycle left them."""
    try:
        return list(alert_state(state_dir)[0])
    except StateError as exc:
        raise Unavailable(str(exc)) from exc


def alert_state(state_dir: Path) -> tuple[list[Alert], dict[str, Silence]]:
    """``read_alert_state``, parsed once per version of alerts.json; StateError as it raises."""
    return MEMO.read(Path(state_dir) / ALERTS_FILE, "alert_state", lambda: read_alert_state(state_dir))


def alert_json(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "device": alert.device, "rule": alert.rule, "part": alert.part,
            "severity": alert.severity, "state": alert.state, "since": alert.since, "fired_at": alert.fired_at,
            "value": alert.value, "threshold": alert.threshold, "message": alert.message,
            "acked_by": alert.acked_by, "acked_at": alert.acked_at}


@dataclass
class Query:
    site: str | None = None
    rack: str | None = None  # the inventory's
    tag: str | None = None  # one of the device's tags in the inventory
    make: str | None = None
    model: str | None = None
    firmware: str | None = None
    status: str | None = None
    alerting: bool | None = None  # an alert firing on it (any severity), or none
    q: str | None = None  # part of an address, MAC, serial, hostname, pool worker or key, any case
    sort: str = "ip"  # a SORTABLE column, "-" before it for descending
    page: int = 1
    per_page: int = 50


@dataclass
class Page:
    total: int
    items: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)


def latest_rows(state_dir: Path, table: str) -> pa.Table:
    def read() -> pa.Table:
        wrong: list[str] = []
        rows = read_latest(state_dir, table,
                           on_damaged=lambda path, reason: wrong.append(f"{path} is damaged ({reason})"))
        if wrong:
            raise Unavailable(f"{wrong[0]}; the commander rebuilds it at its next cycle")
        return rows

    return MEMO.read(latest_path(state_dir, table), "latest", read)


def _statuses(rows: pa.Table, firing: dict[str, str]) -> pa.Array:
    """Each row's status: offline (the commander cannot reach it), not_hashing (it answers, with
    no hashrate), critical or warning (an alert firing on it), else ok."""
    reachable = rows["reachable"].to_pylist()
    hashing = pc.fill_null(pc.greater(rows["hashrate_hs"], 0), False).to_pylist()
    return pa.array([("offline" if not up else "not_hashing" if not hashes else firing.get(ip, "ok"))
                     for up, hashes, ip in zip(reachable, hashing, rows["ip"].to_pylist(), strict=True)],
                    pa.string())


def firing_alerts(state_dir: Path, problems: list[str]) -> list[Alert]:
    try:
        found = alerts(state_dir)
    except Unavailable as exc:
        problems.append(f"{exc}; statuses leave alerts out")
        return []
    return [alert for alert in found if alert.state == "firing"]


def worst_severity(firing: list[Alert]) -> dict[str, str]:
    """The worst severity firing on each device address."""
    worst: dict[str, str] = {}
    for alert in firing:
        if alert.severity in ("critical", "warning") and worst.get(alert.device) != "critical":
            worst[alert.device] = alert.severity
    return worst


def places(state_dir: Path, keys: Iterable[str] | None, problems: list[str]) -> dict[str, Place]:
    """Each device's rack, location and tags, read from the inventory without writing to it
    (``keys=None``: every device's)."""
    keys = None if keys is None else list(keys)
    if keys == [] or not (Path(state_dir) / INVENTORY_FILE).exists():
        return {}
    try:
        return read_places(state_dir, keys)
    except InventoryError as exc:
        problems.append(f"{exc}; racks and tags are unknown")
        return {}


def _equal(rows: pa.Table, column: str, wanted: str) -> pa.Array:
    return pc.fill_null(pc.equal(rows[column], wanted), False)


def _in(rows: pa.Table, column: str, keys: Iterable[str]) -> pa.Array:
    return pc.is_in(rows[column], value_set=pa.array(list(keys), pa.string()))


def device(state_dir: Path, key: str, problems: list[str]) -> Device | None:
    """The inventory's record of one device (place, tags, first and last seen), or None."""
    if not (Path(state_dir) / INVENTORY_FILE).exists():
        return None
    try:
        return read_device(state_dir, key)
    except InventoryError as exc:
        problems.append(f"{exc}; its place and first sighting are unknown")
        return None


def _workers(state_dir: Path, text: str, problems: list[str]) -> list[str]:
    """The devices with a pool worker (the pool's user) containing ``text``."""
    try:
        pools = latest_rows(state_dir, "pools")
    except Unavailable as exc:
        problems.append(f"{exc}; workers are not searched")
        return []
    found = pc.fill_null(pc.match_substring(pools["user"], text, ignore_case=True), False)
    return pc.unique(pools.filter(found)["device"]).to_pylist()


def select(state_dir: Path, query: Query, problems: list[str]) -> pa.Table:
    """The latest row of every miner that ``query`` keeps, with its ``status``, sorted, all pages:
    the filters and sort run in Arrow, so 10,000 miners cost one pass (the inventory is read only
    for a rack or tag filter)."""
    firing = firing_alerts(state_dir, problems)
    rows = latest_rows(state_dir, "miners")
    rows = rows.append_column("status", _statuses(rows, worst_severity(firing)))
    tests = [_equal(rows, column, wanted) for column, wanted in
             (("site", query.site), ("make", query.make), ("model", query.model), ("firmware", query.firmware),
              ("status", query.status)) if wanted]
    if query.alerting is not None:
        alerting = _in(rows, "ip", {alert.device for alert in firing})
        tests.append(alerting if query.alerting else pc.invert(alerting))
    if query.rack or query.tag:
        placed = places(state_dir, None, problems)
        tests.append(_in(rows, "device", [key for key, place in placed.items()
                                          if (not query.rack or place.rack == query.rack)
                                          and (not query.tag or query.tag in place.tags)]))
    if query.q:
        found = _in(rows, "device", _workers(state_dir, query.q, problems))
        for column in ("ip", "mac", "serial", "hostname", "device"):
            found = pc.or_(found, pc.fill_null(pc.match_substring(rows[column], query.q, ignore_case=True), False))
        tests.append(found)
    if tests:
        rows = rows.filter(functools.reduce(pc.and_, tests))
    column = query.sort.lstrip("-")
    order = "descending" if query.sort.startswith("-") else "ascending"
    if column == "ip":  # as numbers: 10.0.0.9 before 10.0.0.10
        rows = rows.append_column("_address", pa.array(map(_address, rows["ip"].to_pylist()), pa.int64()))
        column = "_address"
    return rows.sort_by([(SORTABLE.get(column, column), order)])


def miners(state_dir: Path, query: Query) -> Page:
    """``GET /api/v1/miners``: the latest row of every miner, filtered, sorted and cut to a page
    before any row becomes Python."""
    problems: list[str] = []
    rows = select(state_dir, query, problems)
    start = (query.page - 1) * query.per_page
    items = snapshot_items(state_dir, rows.slice(start, query.per_page), problems)
    return Page(rows.num_rows, items, problems)


def with_statuses(state_dir: Path, problems: list[str]) -> pa.Table:
    """The latest row of every miner, with its ``status`` (``STATUSES``) as the last column."""
    rows = latest_rows(state_dir, "miners")
    return rows.append_column("status", _statuses(rows, worst_severity(firing_alerts(state_dir, problems))))


def choices(state_dir: Path, problems: list[str]) -> dict[str, list[str]]:
    """What each filter can be set to now: the values the latest rows and the inventory hold."""
    rows = latest_rows(state_dir, "miners")
    found = {column: sorted(v for v in pc.unique(rows[column]).to_pylist() if v)
             for column in ("site", "make", "model", "firmware")}
    placed = places(state_dir, None, problems).values()
    found["rack"] = sorted({place.rack for place in placed if place.rack})
    found["tag"] = sorted({tag for place in placed for tag in place.tags})
    return found


def _address(ip: str | None) -> int:
    try:
        return int.from_bytes(socket.inet_aton(ip or ""), "big")
    except OSError:
        return 1 << 32


def miner(state_dir: Path, key: str) -> dict[str, Any] | None:
    """``GET /api/v1/miners/<key>``: one miner's latest snapshot, or None when none is known."""
    problems: list[str] = []
    rows = latest_rows(state_dir, "miners")
    rows = rows.filter(pc.equal(rows["device"], key))
    if rows.num_rows == 0:
        return None
    rows = rows.append_column("status", _statuses(rows, worst_severity(firing_alerts(state_dir, problems))))
    item = snapshot_items(state_dir, rows.slice(0, 1), problems)[0]
    return item | {"problems": problems}


def _unix(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def snapshot_items(state_dir: Path, rows: pa.Table, problems: list[str]) -> list[dict[str, Any]]:
    """The snapshot's JSON keys (``collectors.model.MinerSnapshot``, as ``minerwatch poll --json``
    prints them) for each of ``rows``, with its boards and pools from their latest tables, plus
    ``key``, ``site``, ``rack``, ``tags``, ``status`` and ``sentry`` (the ASIC sentry that polls it)."""
    keys = rows["device"].to_pylist()
    parts: dict[str, dict[str, list[dict[str, Any]]]] = {key: {"boards": [], "pools": []} for key in keys}
    for table, member in (("boards", "board"), ("pools", "pool")):
        if not keys:
            break
        try:
            found = latest_rows(state_dir, table)
        except Unavailable as exc:
            problems.append(f"{exc}; {table} are left out")
            continue
        found = found.filter(pc.is_in(found["device"], value_set=pa.array(keys, pa.string())))
        for part in found.sort_by([("device", "ascending"), (member, "ascending")]).to_pylist():
            device = part.pop("device")
            for name in ("site", "time"):
                part.pop(name)
            part["index"] = part.pop(member)
            parts[device][table].append(part)
    placed = places(state_dir, keys, problems)
    items = []
    for row in rows.to_pylist():
        key = row["device"]
        codes, messages = row.pop("error_codes") or [], row.pop("error_messages") or []
        fans = row.pop("fan_rpm") or []
        items.append({
            "key": key, "site": row["site"], "rack": placed[key].rack if key in placed else None,
            "tags": list(placed[key].tags) if key in placed else [], "status": row["status"],
            "sentry": placed[key].sentry if key in placed else None,
            **{name: row[name] for name in _SCALARS},
            "polled_at": _unix(row["polled_at"]),
            "boards": parts[key]["boards"], "pools": parts[key]["pools"],
            "fans": [{"index": i, "rpm": rpm} for i, rpm in enumerate(fans)],
            "errors": [{"code": c, "message": m} for c, m in zip(codes, messages, strict=False)],
        })
    return items


_SCALARS = ("ip", "port", "make", "model", "firmware", "firmware_version", "algorithm", "reachable", "error",
            "hashrate_hs", "hashrate_avg_hs", "hashrate_nominal_hs", "power_w", "power_limit_w", "efficiency_jth",
            "uptime_s", "temp_max_c", "accepted", "rejected", "hw_errors", "fault_light", "mac", "serial",
            "hostname", "latency_ms")
