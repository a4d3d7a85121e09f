"""``GET /metrics`` for a 10,000-miner farm: what one Prometheus scrape costs the web.

    .venv/bin/python -m bench.web_metrics [--miners N] [--keep]     (BENCH_QUICK=1: 1,000 miners)

The state directory is built as the commander builds it, by its own writers: synthetic snapshots
(``bench.store``'s farm: 3 boards, 4 fans, 3 pools each, 1 % of miners not answering) stored by
``store_cycle``, the inventory filled by ``upsert_discovered`` (four sites), the farm document,
the alert engine's state after two cycles, and the health file. Then it times the whole request
through Flask's test client after each commander cycle (read every file, write the text; median of
5, page cache warm; goal < 1 s), and a scrape again before the next cycle, which is served the same
text.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from flask import Flask

from appliance.alerts.engine import AlertEngine
from appliance.alerts.settings import AlertSettings
from appliance.health import HEALTH_FILE, Health, JobHealth
from appliance.inventory import Inventory
from appliance.snmp import farm_file
from appliance.store.jobs import store_cycle
from bench.store import CYCLE, START, advance, farm, median_ms, say, scratch
from collectors.model import MinerSnapshot
from web.metrics import StateCollector, metrics_blueprint
from web.metrics.sources import scrape

SITES = ("north", "south", "east", "west")


def site_for(ip: str) -> str:
    return SITES[int(ip.rsplit(".", 1)[1]) % len(SITES)]


def build_state(state: Path, miners: int, rng: random.Random,
                until: datetime = START + 2 * CYCLE) -> tuple[list[MinerSnapshot], list[str]]:
    """Two commander cycles, the last at ``until``; returns the farm's snapshots and their keys."""
    snaps = farm(miners, rng)
    engine = AlertEngine(AlertSettings.from_mapping({}, "bench").rules, state / "alerts.json")
    with Inventory.open(state) as inventory:
        inventory.upsert_discovered(snaps, at=(until - 2 * CYCLE).timestamp(), site_for=site_for)  # all answer
        known = {d.ip: d.key for d in inventory.devices()}
        for moment in (until - CYCLE, until):
            advance(snaps, moment, rng)
            found = inventory.upsert_discovered(snaps, at=moment.timestamp(), site_for=site_for)
            keys = [key or known[s.ip] for key, s in zip(found, snaps)]  # one that did not answer: as known
            store_cycle(state, snaps, moment, site_for, keys=keys)
            engine.evaluate(moment.timestamp(), snaps)
        devices = inventory.devices()
    farm_state = farm_file.FarmState(name="bench", ha_role="standalone", alerts_active=len(engine.firing()),
                                     poll_duration_ms=4200.0, polled_at=until.timestamp())
    farm_file.write(state, farm_file.document(farm_state, devices, {s.ip: s for s in snaps}, {},
                                              until.astimezone(UTC).timestamp()))
    Health(jobs={"poll": JobHealth(interval_s=30, runs=2, last_started_at=until.timestamp(),
                                   last_duration_s=4.2)}).save(state)
    return snaps, keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.web_metrics", description=__doc__.splitlines()[0])
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser.add_argument("--miners", type=int, default=1_000 if quick else 10_000)
    parser.add_argument("--keep", action="store_true", help="leave the state directory in place")
    args = parser.parse_args(argv)
    with scratch("metrics", args.keep) as state:
        say(f"bench.web_metrics: {args.miners:,} miners in {state}")
        started = time.perf_counter()
        build_state(state, args.miners, random.Random(11))
        say(f"  state built by the commander's writers in {time.perf_counter() - started:.1f} s")
        app = Flask(__name__)
        app.register_blueprint(metrics_blueprint(state))
        client = app.test_client()
        body = client.get("/metrics").get_data()
        series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        cycles = itertools.count(1)

        def after_a_cycle() -> None:
            os.utime(state / HEALTH_FILE, ns=(next(cycles),) * 2)  # as the commander rewrites it
            client.get("/metrics").get_data()

        ms = median_ms(after_a_cycle, 5)
        say(f"/metrics for {args.miners:,} miners: {ms:6.1f} ms  ({series:,} series, {len(body) / 1e6:.1f} MB; "
            f"goal < 1,000 ms)")
        collector = StateCollector(state)
        read_ms = median_ms(lambda: scrape(state), 5)
        text_ms = median_ms(lambda: "".join(collector.collect()).encode(), 5)
        say(f"  of which: reading the files {read_ms:.0f} ms, writing the text {text_ms - read_ms:.0f} ms")
        ms = median_ms(lambda: client.get("/metrics").get_data(), 10)
        say(f"  again, no file changed since:  {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
