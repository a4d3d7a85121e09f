"""/metrics against a real commander over simfarm (loopback): what Prometheus scrapes matches what the
farm is and what the store holds, passes promtool, and survives damaged state files."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from appliance.store.jobs import store_cycle
from appliance.store.latest import latest_path, read_latest
from collectors import algorithms
from simfarm.samples.rig import twelve_gpu_rig
from tests.appliance.test_commander import discovered_farm
from tests.conftest import require
from web.metrics import metrics_blueprint

MIX = {"antminer": 1, "whatsminer": 1, "avalon": 1}
DASHBOARD = Path(__file__).resolve().parents[2] / "packaging" / "grafana" / "minerwatch.json"


def client(state_dir: Path) -> FlaskClient:
    """A minimal app with the blueprint, as the app factory mounts it."""
    app = Flask(__name__)
    app.register_blueprint(metrics_blueprint(state_dir))
    return app.test_client()


def scrape(state_dir: Path | FlaskClient) -> str:
    response = (client(state_dir) if isinstance(state_dir, Path) else state_dir).get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


def promtool_passes(text: str) -> None:
    promtool = shutil.which("promtool")
    require(promtool is not None, "promtool (Debian's prometheus package)")
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Each sample name's (labels, value) pairs, as prometheus_client's own parser reads them."""
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((sample.labels, sample.value))
    return found


def by(series: list[tuple[dict[str, str], float]], *names: str) -> dict[tuple[str, ...] | str, float]:
    return {labels[names[0]] if len(names) == 1 else tuple(labels[n] for n in names): value
            for labels, value in series}


def north(ips: list[str]) -> str:
    """The first four miners are site "north"; the others are in the default site."""
    return f'[[sites]]\nname = "north"\nsubnets = ["{ips[0]}-{ips[3]}"]\n'


async def test_metrics_of_a_polled_farm_match_the_farm_and_the_store(tmp_path, caplog):
    state = tmp_path / "state"
    async with discovered_farm(tmp_path, 9, MIX, 11, extra=north) as (farm, ips, commander):
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        offline = ips[2]
        await farm.inject(offline, "offline")
        await farm.inject(ips[0], "overheating")  # fires at once: the test config holds it 0 s
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        snapshots = commander.last_snapshots
        firing = [a.severity for a in commander.alerts.engine.firing()]
        keys = {d.ip: d.key for d in commander.inventory.devices()}
        expected = {row["ip"]: row for row in farm.inventory()}
    web = client(state)
    text = scrape(web)
    promtool_passes(text)
    found = samples(text)

    stored = read_latest(state).to_pylist()
    up = by(found["minerwatch_miner_up"], "key")
    assert up == {row["device"]: float(row["reachable"]) for row in stored}
    assert up[keys[offline]] == 0 and sum(up.values()) == len(ips) - 1
    hashrate = by(found["minerwatch_miner_hashrate_hashes_per_second"], "key", "algorithm")
    assert hashrate == {(row["device"], algorithms.canonical(row["algorithm"])): row["hashrate_hs"]
                        for row in stored if row["hashrate_hs"] is not None}
    assert keys[offline] not in {key for key, _ in hashrate}  # down: no hashrate, not a 0
    assert keys[offline] not in by(found["minerwatch_miner_power_watts"], "key")

    info = {labels["key"]: labels for labels, _ in found["minerwatch_miner_info"]}
    nominal = by(found["minerwatch_miner_hashrate_nominal_hashes_per_second"], "key")
    for ip, row in expected.items():  # what simfarm says each miner is
        assert (info[keys[ip]]["make"], info[keys[ip]]["model"], info[keys[ip]]["site"]) == (
            row["make"], row["model"], "north" if ip in ips[:4] else "default")
        if ip != offline:
            assert nominal[keys[ip]] == row["hashrate_nominal_hs"]

    farm_hashrate = by(found["minerwatch_farm_hashrate_hashes_per_second"], "algorithm")
    assert farm_hashrate == algorithms.totals((s.algorithm, s.hashrate_hs) for s in snapshots if s.reachable)
    per_site: dict[tuple[str, str], float] = defaultdict(float)
    for labels, value in found["minerwatch_miner_hashrate_hashes_per_second"]:
        per_site[labels["site"], labels["algorithm"]] += value
    site_hashrate = by(found["minerwatch_site_hashrate_hashes_per_second"], "site", "algorithm")
    assert site_hashrate == pytest.approx(per_site) and {site for site, _ in site_hashrate} == {"north", "default"}
    for algorithm, total in farm_hashrate.items():
        assert total == pytest.approx(sum(v for (_, a), v in site_hashrate.items() if a == algorithm))
    assert by(found["minerwatch_site_asics"], "site") == {"north": 4, "default": len(ips) - 4}
    assert found["minerwatch_farm_asics_up"] == [({}, len(ips) - 1)]
    assert firing and by(found["minerwatch_alerts_firing"], "severity") == {
        severity: firing.count(severity) for severity in ("critical", "warning", "info")}
    poll = json.loads((state / "health.json").read_text())["jobs"]["poll"]
    [(_, polled_at)] = found["minerwatch_commander_last_poll_timestamp_seconds"]
    assert (polled_at, found["minerwatch_commander_last_poll_duration_seconds"]) == (
        poll["last_started_at"], [({}, poll["last_duration_s"])])
    assert by(found["minerwatch_commander_job_runs_total"], "job")["poll"] == poll["runs"] == 2
    assert set(by(found["minerwatch_state_file_ok"], "file").values()) == {1.0}
    assert not any(name.startswith("minerwatch_") for name in _default_registry_names())

    # A rig's GPUs, once its sentry's read is stored: the scrape after a change reads the files again.
    assert scrape(web) == text
    rig = replace(twelve_gpu_rig(polled_at), ip="127.0.0.1", port=161)
    store_cycle(state, [], datetime.fromtimestamp(polled_at + 1, UTC), "default", [rig])
    found = samples(with_promtool(web))
    temperatures = by(found["minerwatch_gpu_temperature_celsius"], "rig", "bus_id")
    assert temperatures == {("127.0.0.1", gpu.bus_id): gpu.temp_c for gpu in rig.gpus}
    assert len(found["minerwatch_gpu_memory_temperature_celsius"]) == len(rig.gpus) - 1  # one not reported
    assert by(found["minerwatch_rig_up"], "rig") == {"127.0.0.1": 1.0}
    # Every series the Grafana dashboard queries is there, now that every kind of device is.
    assert dashboard_metrics() - set(found) == set()

    # A damaged latest file costs its own series, said once in the log (not at every scrape while
    # the commander's other files change), and nothing else.
    latest_path(state, "miners").write_bytes(b"PAR1 cut short")
    with caplog.at_level(logging.WARNING, logger="web.metrics"):
        scrape(web)
        os.utime(state / "health.json", ns=(0, 0))
        text = with_promtool(web)
    found = samples(text)
    assert "minerwatch_miner_up" not in found and "minerwatch_miner_info" not in found
    assert by(found["minerwatch_state_file_ok"], "file")["latest/miners.parquet"] == 0
    assert by(found["minerwatch_farm_hashrate_hashes_per_second"], "algorithm") == farm_hashrate
    assert len([m for m in caplog.messages if "latest/miners.parquet" in m]) == 1


def with_promtool(state_dir: Path | FlaskClient) -> str:
    text = scrape(state_dir)
    promtool_passes(text)
    return text


def _default_registry_names() -> set[str]:
    return {family.name for family in REGISTRY.collect()}


def test_every_state_file_damaged_still_answers_with_what_it_can(tmp_path):
    for relative in ("latest/miners.parquet", "latest/rigs.parquet", "latest/gpus.parquet", "inventory.sqlite3",
                     "snmp/farm.json", "alerts.json", "health.json"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x00garbage\xff" * 100)
    text = with_promtool(tmp_path)
    found = samples(text)
    assert set(by(found["minerwatch_state_file_ok"], "file").values()) == {0.0}
    assert len(found["minerwatch_state_file_ok"]) == 7
    assert [name for name in found if name != "minerwatch_state_file_ok"] == []


def test_before_the_first_cycle_there_is_nothing_to_say_and_nothing_is_written(tmp_path):
    found = samples(with_promtool(tmp_path))
    assert found == {}
    assert list(tmp_path.iterdir()) == []  # the web only reads: no inventory created, no lock file


def panels(dashboard: dict) -> list[dict]:
    return [p for top in dashboard["panels"] for p in [top, *top.get("panels", [])]]


def dashboard_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return {name for panel in panels(dashboard) for target in panel.get("targets", [])
            for name in re.findall(r"\bminerwatch_[a-z0-9_]+", target["expr"])}


def test_the_grafana_dashboards_queries_are_promql(tmp_path):
    """promtool parses each query (the site variable as Grafana's "All" sends it) as a recording rule."""
    promtool = shutil.which("promtool")
    require(promtool is not None, "promtool (Debian's prometheus package)")
    queries = [t["expr"].replace("$site", ".*") for p in panels(json.loads(DASHBOARD.read_text()))
               for t in p.get("targets", [])]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query{n}", "expr": query}
                                                        for n, query in enumerate(queries)]}]}
    (tmp_path / "rules.yml").write_text(json.dumps(rules))  # JSON is YAML
    done = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_grafana_dashboard_asks_for_its_prometheus_on_import():
    dashboard = json.loads(DASHBOARD.read_text())
    assert [(i["name"], i["type"], i["pluginId"]) for i in dashboard["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")]
    queried = [p for p in panels(dashboard) if p["type"] != "row"]
    assert queried and all(p["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in queried)
    assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for p in queried for t in p["targets"])
    assert len({p["id"] for p in panels(dashboard)}) == len(panels(dashboard))
    # Hashrates are never added across algorithms: every hashrate query keeps the algorithm apart.
    for panel in queried:
        for target in panel["targets"]:
            if "sum" in target["expr"] and "hashrate" in target["expr"]:
                assert "by (algorithm)" in target["expr"], target["expr"]
