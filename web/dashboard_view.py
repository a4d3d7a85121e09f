"""The dashboard's figures, for its page and ``GET /api/v1/dashboard`` alike: the farm document's
totals (``farm_view.farm``), each status counted over the latest rows, rigs and GPUs, open alerts by
severity, the hottest and the worst-performing miners; and the farm's history for its chart.
Units stay base units here (H/s, W); only the templates scale them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from appliance.alerts.settings import SEVERITIES
from appliance.alerts.engine import STATE_FILE as ALERTS_FILE
from appliance.snmp.farm_file import farm_path
from appliance.store.latest import latest_path
from appliance.store.schema import TABLES
from appliance.store.query import farm_history
from web import farm_view
from web.file_memo import MEMO
from web.farm_view import STATUSES, Unavailable

TOP = 5  # miners in each of the hottest and the worst-performing lists
FINE_SPAN = timedelta(hours=6)  # ranges up to this read the 5-minute rollup; longer ones the hourly


def summary(state_dir: Path) -> dict[str, Any]:
    """The dashboard's figures, made once per version of the files they come from (a commander
    cycle rewrites them): every open dashboard asks every few seconds."""
    files = [farm_path(state_dir), latest_path(state_dir, "miners"), latest_path(state_dir, "rigs"),
             latest_path(state_dir, "gpus"), Path(state_dir) / ALERTS_FILE]
    return MEMO.read(files, "dashboard", lambda: _summary(state_dir))


def _summary(state_dir: Path) -> dict[str, Any]:
    problems: list[str] = []
    farm = farm_view.farm(state_dir)
    rows = farm_view.with_statuses(state_dir, problems)
    statuses = Counter(rows["status"].to_pylist())
    rigs = _latest(state_dir, "rigs", problems)
    firing: Counter[str] = Counter()
    try:
        firing.update(alert.severity for alert in farm_view.alerts(state_dir) if alert.state == "firing")
    except Unavailable as exc:
        problems.append(f"{exc}; alerts are not counted")
    return {
        "farm": farm,
        "statuses": {status: statuses[status] for status in STATUSES},
        "rigs_online": pc.sum(pc.fill_null(rigs["reachable"], False)).as_py() or 0,
        "gpus_total": _latest(state_dir, "gpus", problems).num_rows,
        "alerts_by_severity": {severity: firing[severity] for severity in SEVERITIES},
        "hottest": _top(rows.filter(pc.is_valid(rows["temp_max_c"])), "temp_max_c", "descending"),
        "worst": _top(_with_share(rows), "hashrate_pct", "ascending"),
        "problems": problems,
    }


def _latest(state_dir: Path, table: str, problems: list[str]) -> pa.Table:
    try:
        return farm_view.latest_rows(state_dir, table)
    except farm_view.Unavailable as exc:
        problems.append(f"{exc}; its {table} are not counted meanwhile")
        return TABLES[table].schema.empty_table()


def _with_share(rows: pa.Table) -> pa.Table:
    """The miners that answer and have a rating, with their hashrate as a % of it: one that is
    offline is counted apart, and its hashrate is unknown rather than zero."""
    rated = rows.filter(pc.and_(pc.fill_null(rows["reachable"], False),
                                pc.fill_null(pc.greater(rows["hashrate_nominal_hs"], 0), False)))
    share = pc.multiply(pc.divide(pc.fill_null(rated["hashrate_hs"], 0.0), rated["hashrate_nominal_hs"]), 100.0)
    return rated.append_column("hashrate_pct", share)


def _top(rows: pa.Table, column: str, order: str) -> list[dict[str, Any]]:
    picked = rows.sort_by([(column, order), ("ip", "ascending")]).slice(0, TOP).to_pylist()
    return [{"key": row["device"], "ip": row["ip"], "site": row["site"], "model": row["model"],
             "status": row["status"], "temp_max_c": row["temp_max_c"], "hashrate_hs": row["hashrate_hs"],
             "hashrate_nominal_hs": row["hashrate_nominal_hs"], "hashrate_pct": _share(row)} for row in picked]


def _share(row: dict[str, Any]) -> float | None:
    if not row["hashrate_nominal_hs"] or row["hashrate_hs"] is None:
        return None
    return 100.0 * row["hashrate_hs"] / row["hashrate_nominal_hs"]


def history(state_dir: Path, since: datetime, until: datetime) -> dict[str, Any]:
    """``GET /api/v1/farm/history``: per algorithm, columns of equal length (time, hashrate, power,
    miners), as a chart draws them; never one hashrate for two algorithms."""
    step = "5m" if until - since <= FINE_SPAN else "1h"
    frame = farm_history(state_dir, since, until, step)
    algorithms = []
    for name, rows in frame.groupby("algorithm", sort=False):
        algorithms.append({
            "algorithm": name,
            "time": [moment.timestamp() for moment in rows["time"]],
            "hashrate_hs": _numbers(rows["hashrate_hs"]),
            "power_w": _numbers(rows["power_w"]),
            "miners": [int(n) for n in rows["miners"]],
        })
    return {"from": since.timestamp(), "to": until.timestamp(), "step": step, "algorithms": algorithms}


def _numbers(column) -> list[float | None]:
    return [None if value != value else float(value) for value in column]  # NaN: nobody reported it
