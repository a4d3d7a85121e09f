"""The farm as a whole: totals per algorithm for the farm and for each site (taken from the farm
document the commander writes for its snmpd, so Prometheus and the NMS read the same figures),
alerts firing, the commander's own health, and which state files this scrape could read.

Hashrates of different algorithms are never added: every hashrate total is per ``algorithm``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from appliance.alerts.engine import Alert
from appliance.alerts.settings import SEVERITIES
from appliance.health import Health
from appliance.snmp.farm_file import AlgorithmRow, FarmDocument, Totals
from web.metrics.text import COUNTER, GAUGE, escape, family

# (name after the scope's prefix, key in the document's totals, help)
_TOTALS = (
    ("asics", "asics", "ASIC miners the commander polls"),
    ("asics_up", "asics_up", "ASIC miners that answered their last poll"),
    ("rigs", "rigs", "GPU/CPU rigs the commander reads through their sentries"),
    ("rigs_up", "rigs_up", "Rigs whose sentry answered its last read"),
    ("power_watts", "power_w", "Power drawn by the devices that answered"),
)
_PER_ALGORITHM = (
    ("hashrate_hashes_per_second", "hashrate_hs", "Hashrate of the devices that answered, per algorithm"),
    ("algorithm_miners", "miners", "Devices that mine this algorithm, answering or not"),
    ("algorithm_miners_up", "miners_up", "Devices that mine this algorithm and answered"),
    ("algorithm_power_watts", "power_w", "Power drawn by the devices that mine this algorithm and answered"),
)


def farm_families(doc: FarmDocument) -> Iterator[str]:
    yield from _scope("minerwatch_farm_", [("", doc["farm"], doc["algorithms"])])
    # A document from before per-site rows has none; an empty family then says so.
    yield from _scope("minerwatch_site_", [(_pair("site", site["site"]), site, site["algorithms"])
                                           for site in doc.get("sites", [])])


def _pair(name: str, value: str) -> str:
    return f'{name}="{escape(value)}"'


def _scope(prefix: str, rows: Sequence[tuple[str, Totals, list[AlgorithmRow]]]) -> Iterator[str]:
    """Each row: its label pairs ("" for the farm's), its totals, its per-algorithm rows."""
    for suffix, key, documentation in _TOTALS:
        yield family(prefix + suffix, GAUGE, documentation, [(pairs, totals[key]) for pairs, totals, _ in rows])
    for suffix, key, documentation in _PER_ALGORITHM:
        yield family(prefix + suffix, GAUGE, documentation,
                     [(",".join(filter(None, (pairs, _pair("algorithm", row["algorithm"])))), row[key])
                      for pairs, _, per_algorithm in rows for row in per_algorithm])


def alert_families(firing: Iterable[Alert]) -> Iterator[str]:
    counts = dict.fromkeys(SEVERITIES, 0)  # a severity with none firing is 0, not absent
    for alert in firing:
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    yield family("minerwatch_alerts_firing", GAUGE, "Alerts firing now, by severity",
                 [(_pair("severity", severity), count) for severity, count in counts.items()])


def commander_families(health: Health) -> Iterator[str]:
    poll = health.jobs.get("poll")
    if poll is not None and poll.last_started_at is not None:
        yield family("minerwatch_commander_last_poll_timestamp_seconds", GAUGE,
                     "When the commander's last poll cycle started (Unix time)", [("", poll.last_started_at)])
    if poll is not None and poll.last_duration_s is not None:
        yield family("minerwatch_commander_last_poll_duration_seconds", GAUGE,
                     "How long the commander's last poll cycle took", [("", poll.last_duration_s)])
    for name, attribute, documentation in (
            ("runs", "runs", "Runs of each commander job since it started"),
            ("skipped", "skipped", "Runs skipped because the previous one still ran"),
            ("failures", "failures", "Runs that ended in an error")):
        yield family(f"minerwatch_commander_job_{name}_total", COUNTER, documentation,
                     [(_pair("job", job), getattr(state, attribute)) for job, state in health.jobs.items()])


def state_file_families(read: Iterable[str], problems: Iterable[str]) -> Iterator[str]:
    yield family("minerwatch_state_file_ok", GAUGE,
                 "1 when this scrape could use the commander's state file, 0 when it is damaged "
                 "or unreadable (its metrics are left out); absent while the file does not exist",
                 [*((_pair("file", name), 1) for name in read), *((_pair("file", name), 0) for name in problems)])
