"""``GET /metrics``: the farm in the Prometheus text format, for a Prometheus server to scrape.

Read from the commander's state directory when one of its files has changed since the last scrape
(the store's latest rows, the inventory, the farm document, the alert state, the health file), and
written in the text format by ``web.metrics.text``. The blueprint does no authentication: the app
factory mounts it behind the API's tokens or open, as configured.

A damaged or unreadable state file costs only its own series: ``minerwatch_state_file_ok{file}`` is
0 for it, and the log says so once when it starts and once when it ends, never once per scrape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response

from web.metrics.devices import miner_families, rig_families
from web.metrics.farm import alert_families, commander_families, farm_families, state_file_families
from web.metrics.sources import Scrape, fingerprint, scrape

log = logging.getLogger(__name__)

# The classic text format, not the newest (1.0.0): Debian 12's Prometheus (2.42) predates that one.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StateCollector:
    """Every series, from the state directory as it is at the scrape."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self._problems: dict[str, str] = {}  # as the last scrape found them, to log changes only
        self._lock = threading.Lock()

    def collect(self) -> Iterator[str]:
        """The text of each metric family in turn."""
        found = scrape(self.state_dir)
        self._log_changes(found)
        if found.miners is not None:
            yield from miner_families(found.miners, found.devices)
        yield from rig_families(found.rigs, found.gpus, found.devices)
        if found.farm is not None:
            yield from farm_families(found.farm)
        if found.firing is not None:
            yield from alert_families(found.firing)
        if found.health is not None:
            yield from commander_families(found.health)
        yield from state_file_families(found.read, found.problems)

    def _log_changes(self, found: Scrape) -> None:
        with self._lock:
            before, self._problems = self._problems, dict(found.problems)
        for name, problem in found.problems.items():
            if before.get(name) != problem:
                log.warning("/metrics: %s; its series are left out until it can be read", problem)
        for name in before.keys() & set(found.read):
            log.info("/metrics: %s can be read again", self.state_dir / name)


class Exposition:
    """The text of the last scrape, served again while no file it read has changed. The commander
    rewrites them once a cycle (30 s); Prometheus scrapes more often, twice over for an HA pair of
    servers, and 10,000 miners take a few hundred milliseconds to read and write out."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.collector = StateCollector(self.state_dir)
        self._lock = threading.Lock()  # one render at a time; a scrape meanwhile waits for its text
        self._last: tuple[object, bytes] | None = None

    def text(self) -> bytes:
        with self._lock:
            seen = fingerprint(self.state_dir)
            if self._last is None or self._last[0] != seen:
                self._last = seen, "".join(self.collector.collect()).encode()
            return self._last[1]


def metrics_blueprint(state_dir: Path) -> Blueprint:
    """``GET /metrics`` over the state directory ``state_dir``."""
    exposition = Exposition(state_dir)
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get("/metrics")
    def metrics() -> Response:
        return Response(exposition.text(), content_type=CONTENT_TYPE)

    return blueprint
