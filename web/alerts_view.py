"""The alerts as the Alerts page shows them: what fires, waits, was acknowledged or silenced, and
the history, each with the site of its device, filtered by site, rule and severity. Read from the
commander's alert state and history; what a person does to an alert goes through ``web.changes``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from appliance.alerts.engine import STATE_FILE, Silence, StateError
from appliance.alerts.history import read_history
from appliance.alerts.rules import RULES
from web.farm_view import Unavailable, alert_state, latest_rows

HISTORY_S = 86400.0  # the history the page lists: the last day
SEVERITIES = ("critical", "warning", "info")


@dataclass
class Filters:
    site: str | None = None
    rule: str | None = None
    severity: str | None = None

    def keeps(self, row: dict[str, Any]) -> bool:
        return all(wanted is None or row.get(name) == wanted
                   for name, wanted in (("site", self.site), ("rule", self.rule), ("severity", self.severity)))


@dataclass
class AlertsPage:
    firing: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def page(state_dir: Path, filters: Filters, now: float | None = None) -> AlertsPage:
    now = time.time() if now is None else now
    result = AlertsPage()
    try:
        alerts, silences = alert_state(state_dir)
    except StateError as exc:
        raise Unavailable(str(exc)) from exc
    site_of = _sites(state_dir, result.problems)
    for alert in alerts:
        row = _row(vars(alert), site_of, silences.get(alert.id), now)
        if filters.keeps(row):
            (result.firing if alert.state == "firing" else result.pending).append(row)
    result.firing.sort(key=lambda r: (SEVERITIES.index(r["severity"]) if r["severity"] in SEVERITIES else 9,
                                      -(r["fired_at"] or 0)))
    events = read_history(Path(state_dir) / STATE_FILE, now - HISTORY_S)
    result.history = [row for row in (_row(dict(event), site_of, None, now) for event in reversed(events))
                      if filters.keeps(row)]
    result.sites = sorted(set(site_of.values()))
    return result


def _row(alert: dict[str, Any], site_of: dict[str, str], silence: Silence | None, now: float) -> dict[str, Any]:
    rule = RULES.get(alert["rule"])
    silenced = silence if silence is not None and silence.until > now else None
    return alert | {"site": site_of.get(alert["device"]), "title": rule.title if rule else alert["rule"],
                    "silenced_until": silenced.until if silenced else None,
                    "silenced_by": silenced.by if silenced else None,
                    "silence_reason": silenced.reason if silenced else None}


def _sites(state_dir: Path, problems: list[str]) -> dict[str, str]:
    """The site of each device address an alert may be filed under (a miner's IP)."""
    try:
        rows = latest_rows(state_dir, "miners")
    except Unavailable as exc:
        problems.append(f"{exc}; alerts are shown without their site")
        return {}
    keep = pc.is_valid(rows["ip"])
    rows = rows.filter(keep)
    return dict(zip(rows["ip"].to_pylist(), rows["site"].to_pylist(), strict=True))
