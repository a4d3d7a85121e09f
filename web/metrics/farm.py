"""The farm as a whole: totals per algorithm for the farm and for each site (taken from the farm
document the commander writes for its snmpd, so Prometheus and the NMS read the same figures),
alerts firing, the commander's own health, and which state files this scrape could read.

Hashrates of different algorithms are never added: every hashrate total is per ``algorithm``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from appliance.alerts.engine import Alert
from appliance.alerts.settings import SEVERITIES
from appliance.health import Health
from appliance.snmp.farm_file import AlgorithmRow, FarmDocument, Totals

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


def farm_families(doc: FarmDocument) -> Iterator[Metric]:
    yield from _scope("minerwatch_farm_", [], [((), doc["farm"], doc["algorithms"])])
    # A document from before per-site rows has none; an empty family then says so.
    yield from _scope("minerwatch_site_", ["site"],
                      [((site["site"],), site, site["algorithms"]) for site in doc.get("sites", [])])


def _scope(prefix: str, names: list[str],
           rows: Sequence[tuple[tuple[str, ...], Totals, list[AlgorithmRow]]]) -> Iterator[Metric]:
    for suffix, key, documentation in _TOTALS:
        family = GaugeMetricFamily(prefix + suffix, documentation, labels=names)
        for labels, totals, _ in rows:
            if totals[key] is not None:
                family.add_metric(labels, totals[key])
        yield family
    for suffix, key, documentation in _PER_ALGORITHM:
        family = GaugeMetricFamily(prefix + suffix, documentation, labels=[*names, "algorithm"])
        for labels, _, per_algorithm in rows:
            for row in per_algorithm:
                if row[key] is not None:
                    family.add_metric((*labels, row["algorithm"]), row[key])
        yield family


def alert_families(firing: Iterable[Alert]) -> Iterator[Metric]:
    counts = dict.fromkeys(SEVERITIES, 0)  # a severity with none firing is 0, not absent
    for alert in firing:
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    family = GaugeMetricFamily("minerwatch_alerts_firing", "Alerts firing now, by severity", labels=["severity"])
    for severity, count in counts.items():
        family.add_metric([severity], count)
    yield family


def commander_families(health: Health) -> Iterator[Metric]:
    poll = health.jobs.get("poll")
    if poll is not None and poll.last_started_at is not None:
        yield GaugeMetricFamily("minerwatch_commander_last_poll_timestamp_seconds",
                                "When the commander's last poll cycle started (Unix time)", value=poll.last_started_at)
    if poll is not None and poll.last_duration_s is not None:
        yield GaugeMetricFamily("minerwatch_commander_last_poll_duration_seconds",
                                "How long the commander's last poll cycle took", value=poll.last_duration_s)
    for name, attribute, documentation in (
            ("runs", "runs", "Runs of each commander job since it started"),
            ("skipped", "skipped", "Runs skipped because the previous one still ran"),
            ("failures", "failures", "Runs that ended in an error")):
        family = CounterMetricFamily(f"minerwatch_commander_job_{name}", documentation, labels=["job"])
        for job, state in health.jobs.items():
            family.add_metric([job], getattr(state, attribute))
        yield family


def state_file_families(read: Iterable[str], problems: Iterable[str]) -> Iterator[Metric]:
    family = GaugeMetricFamily("minerwatch_state_file_ok",
                               "1 when this scrape could use the commander's state file, 0 when it is damaged "
                               "or unreadable (its metrics are left out); absent while the file does not exist",
                               labels=["file"])
    for name in read:
        family.add_metric([name], 1)
    for name in problems:
        family.add_metric([name], 0)
    yield family
