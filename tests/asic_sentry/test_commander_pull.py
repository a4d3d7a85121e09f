"""The commander and an ASIC sentry as real processes over real mutual TLS, the sentry polling
its own simfarm site. Its link is cut (iptables rejects the commander's connections to the
sentry's port) for several cycles while the sentry keeps polling, then restored: every cycle the
sentry polled lands in the commander's store once, under the time it was polled; "ASIC sentry
unreachable" fires and resolves once; none of the miners behind it is called offline."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from appliance.alerts.history import read_history
from appliance.inventory import read_devices
from appliance.pki import init, issue, issued, pki_dir
from asic_sentry.buffer import listing, read_cycle
from simfarm.farm import Farm
from tests.appliance.test_commander import write_config
from tests.asic_sentry.test_service import MINERWATCH, link_section, sentry_section
from tests.conftest import until
from tests.simfarm.conftest import free_base
from tests.web.test_web_process import free_port

UNREACHABLE = "asic-sentry:north/asic_sentry_unreachable"


@pytest.fixture
def iptables():
    if shutil.which("iptables") is None or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("cutting the link needs iptables and root (scripts/setup-system installs iptables)")
        pytest.skip("cutting the link needs iptables and root")
    rules = []

    def cut(port: int) -> None:
        rule = ["INPUT", "-i", "lo", "-p", "tcp", "--dport", str(port), "-j", "REJECT", "--reject-with", "tcp-reset"]
        subprocess.run(["iptables", "-I", *rule], check=True)
        rules.append(rule)

    def restore() -> None:
        while rules:
            subprocess.run(["iptables", "-D", *rules.pop()], check=True)

    cut.restore = restore
    yield cut
    restore()


def stored_times(state: Path) -> pd.DataFrame:
    files = sorted((state / "metrics" / "miners").rglob("*.parquet"))
    if not files:
        return pd.DataFrame({"device": [], "time": [], "site": []})
    frame = pd.concat(pd.read_parquet(f, columns=["device", "time", "site"]) for f in files)
    return frame[frame["site"] == "north"]


async def test_a_cut_link_loses_no_cycle_doubles_none_and_fires_one_alert(tmp_path, iptables):
    port = free_port()
    commander_dir, sentry_dir = tmp_path / "commander", tmp_path / "sentry"
    commander_dir.mkdir()
    sentry_dir.mkdir()
    init(commander_dir / "state", "test")
    issue(commander_dir / "state", "north", "sentry", ["127.0.0.1"])
    issue(commander_dir / "state", "commander", "commander", [])
    pki = pki_dir(commander_dir / "state")
    pinned = next(made for made in issued(commander_dir / "state") if made.name == "north").fingerprint
    async with Farm(miners=5, mix={"antminer": 1, "whatsminer": 1}, base=free_base(), seed=13,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        await farm.inject(ips[0], "overheating")
        sentry_config = write_config(sentry_dir, f"{ips[0]}-{ips[-1]}", poll_s=1, discovery_s=3600,
                                     extra=sentry_section("north", port, pki))
        commander_config = write_config(commander_dir, "127.0.0.1", poll_s=1, extra=(
            "[alerts.rules.asic_sentry_unreachable]\nthreshold = 2\n" + link_section("north", port, pinned, "north")))
        log = tmp_path / "processes.log"
        processes = [
            subprocess.Popen([*MINERWATCH, "asic-sentry", "--config", str(sentry_config), "--web-port", "8080"],
                             stdout=log.open("a"), stderr=subprocess.STDOUT),
            subprocess.Popen([*MINERWATCH, "serve", "--config", str(commander_config)], stdout=log.open("a"),
                             stderr=subprocess.STDOUT)]
        state = commander_dir / "state"
        try:
            await until(lambda: stored_times(state)["time"].nunique() >= 3,
                        "three of the sentry's cycles stored by the commander", limit_s=60)
            iptables(port)
            alerts = state / "alerts.json"
            await until(lambda: UNREACHABLE in json.loads(alerts.read_text())["alerts"]
                        and json.loads(alerts.read_text())["alerts"][UNREACHABLE]["state"] == "firing",
                        "the sentry's alert firing", limit_s=60)
            cut_at = len(list((sentry_dir / "state" / "buffer").glob("*.cycle")))
            await until(lambda: len(list((sentry_dir / "state" / "buffer").glob("*.cycle"))) >= cut_at + 4,
                        "the sentry polling on through the outage", limit_s=60)
            iptables.restore()
            await until(lambda: UNREACHABLE not in json.loads(alerts.read_text())["alerts"],
                        "the sentry's alert resolving", limit_s=60)
            # Caught up: every cycle the sentry holds up to the newest pulled.
            await until(lambda: json.loads((state / "asic-sentries.json").read_text())["north"]["seq"] >= cut_at + 4,
                        "the backlog ingested", limit_s=60)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                assert process.wait(timeout=30) == 0
    cursor = json.loads((state / "asic-sentries.json").read_text())["north"]
    polled = sorted(int(path.name.split("-")[1].split(".")[0]) / 1000
                    for path in (sentry_dir / "state" / "buffer").glob("*.cycle")
                    if int(path.name[:12]) <= cursor["seq"] and read_cycle(path.read_bytes()))  # not before discovery
    stored = stored_times(state)
    times = sorted(t.timestamp() for t in stored["time"].unique())
    assert times == pytest.approx(polled, abs=0.002)  # every cycle, under the time it was polled (to the ms)
    assert not stored.duplicated(["device", "time"]).any()  # none twice
    history = read_history(state / "alerts.json")
    sentry_events = [e["event"] for e in history if e["id"] == UNREACHABLE]
    assert sentry_events == ["fired", "resolved"]
    assert not [e for e in history if e["rule"] == "offline"]
    hot = [(e["id"], e["event"]) for e in history if e["device"] == ips[0] and e["rule"] == "temp_chip"]
    assert hot and sorted(hot) == sorted({(alert, "fired") for alert, _ in hot})  # each board's alert fired once
    devices = {d.ip: d for d in read_devices(state)}
    assert all(devices[ip].sentry == "north" and devices[ip].site == "north" for ip in ips)
    farm_doc = json.loads((state / "snmp" / "farm.json").read_text())  # what the NMS sees (mwMinerSentry)
    assert sorted(r["address"].split(":")[0] for r in farm_doc["miners"] if r["sentry"] == "north") == sorted(ips)
    assert "Traceback" not in log.read_text()
    said = subprocess.run([*MINERWATCH, "status", "--config", str(commander_config)], capture_output=True, text=True)
    row = next(line.split() for line in said.stdout.splitlines() if line.startswith("north "))
    assert row[2:5] == ["0", "cycles,", "0"] and row[-1] == "ok"  # caught up when it stopped
    said = subprocess.run([*MINERWATCH, "status", "--config", str(sentry_config)], capture_output=True, text=True)
    assert f"buffer: {len(list((sentry_dir / 'state' / 'buffer').glob('*.cycle')))} cycles" in said.stdout


def test_rollups_wait_for_a_sentry_that_is_behind_but_not_for_ever(tmp_path):
    from datetime import UTC, datetime

    from appliance.asic_sentries import MAX_BACKLOG_S, Cursor
    from appliance.commander import Commander
    from appliance.config import load

    path = write_config(tmp_path, "127.0.0.1", extra=link_section("north", 1, f"sha256:{'ab' * 32}")
                        + link_section("south", 2, f"sha256:{'cd' * 32}"))
    commander = Commander(load(path))
    now = datetime.now(UTC).timestamp()
    commander.asic_cursors = {"north": Cursor(polled_at=now - 10, behind=0),
                              "south": Cursor(polled_at=now - 3600, error="cannot be reached")}
    assert commander._complete_until().timestamp() == pytest.approx(now - 3600)
    commander.asic_cursors["south"] = Cursor(polled_at=now - 30 * 86400, error="cannot be reached")
    assert commander._complete_until().timestamp() == pytest.approx(now - MAX_BACKLOG_S, abs=5)
    commander.asic_cursors["south"] = Cursor(polled_at=now - 10, behind=0)
    assert commander._complete_until() is None


def test_a_backlog_is_judged_every_two_minutes_of_its_samples_and_at_its_newest():
    from appliance.asic_sentries import Cycle, to_judge

    hour = [Cycle(seq, 1_800_000_000 + 30 * seq, []) for seq in range(121)]
    judged = [c.seq for c in to_judge(hour)]
    assert judged[:3] == [0, 4, 8] and judged[-1] == 120 and len(judged) == 31
    late = hour[:3]  # a pull that came a minute late: every cycle
    assert to_judge(late) == late


def sentry_cycles(state: Path, upto: int | None = None) -> list[float]:
    """The poll times of a sentry's cycles that hold miners (the first, before discovery, holds none)."""
    return sorted(cycle.polled_at for cycle in listing(state / "buffer")
                  if (upto is None or cycle.seq <= upto) and read_cycle(cycle.path.read_bytes()))


async def test_two_sentries_and_kill_9_on_both_sides_lose_nothing_and_double_nothing(tmp_path):
    commander_dir = tmp_path / "commander"
    commander_dir.mkdir()
    state = commander_dir / "state"
    init(state, "test")
    issue(state, "commander", "commander", [])
    pki = pki_dir(state)
    log = tmp_path / "processes.log"
    sites, links = {}, ""
    async with Farm(miners=3, mix={"antminer": 1}, base=free_base(), seed=17, web_port=8080) as north, \
            Farm(miners=3, mix={"whatsminer": 1}, base=free_base(), seed=19, web_port=8080) as south:
        for name, farm in (("north", north), ("south", south)):
            issue(state, name, "sentry", ["127.0.0.1"])
            port = free_port()
            ips = list(farm.miners)
            (tmp_path / name).mkdir()
            sites[name] = write_config(tmp_path / name, f"{ips[0]}-{ips[-1]}", poll_s=1, discovery_s=3600,
                                       extra=sentry_section(name, port, pki))
            fingerprint = next(made for made in issued(state) if made.name == name).fingerprint
            links += link_section(name, port, fingerprint, name)
        config = write_config(commander_dir, "127.0.0.1", poll_s=1, extra=links)

        def start(*argv: str) -> subprocess.Popen:
            return subprocess.Popen([*MINERWATCH, *argv], stdout=log.open("a"), stderr=subprocess.STDOUT)

        sentries = {name: start("asic-sentry", "--config", str(path), "--web-port", "8080")
                    for name, path in sites.items()}
        commander = start("serve", "--config", str(config))
        cursors = state / "asic-sentries.json"

        def seq(name: str) -> int:
            try:
                return json.loads(cursors.read_text()).get(name, {}).get("seq", 0)
            except (OSError, ValueError):
                return 0

        try:
            await until(lambda: seq("north") >= 3 and seq("south") >= 3, "both sentries pulled", limit_s=60)
            sentries["north"].send_signal(signal.SIGKILL)  # in the middle of whatever it was doing
            sentries["north"].wait()
            sentries["north"] = start("asic-sentry", "--config", str(sites["north"]), "--web-port", "8080")
            commander.send_signal(signal.SIGKILL)
            commander.wait()
            # Down for a while: a backlog builds on both sentries; then killed again mid-ingest.
            await until(lambda: len(listing(tmp_path / "south" / "state" / "buffer")) >= seq("south") + 6,
                        "a backlog on the south sentry", limit_s=60)
            commander = start("serve", "--config", str(config))
            await until(lambda: seq("south") > 3, "the commander ingesting again", limit_s=60)
            commander.send_signal(signal.SIGKILL)
            commander.wait()
            commander = start("serve", "--config", str(config))
            await until(lambda: all(seq(n) >= len(listing(tmp_path / n / "state" / "buffer")) - 1 for n in sites),
                        "the commander caught up", limit_s=60)
        finally:
            for process in [*sentries.values(), commander]:
                process.send_signal(signal.SIGTERM)
            for process in [*sentries.values(), commander]:
                process.wait(timeout=30)
    stored = pd.concat(pd.read_parquet(f, columns=["device", "time", "site"])
                       for f in (state / "metrics" / "miners").rglob("*.parquet"))
    assert not stored.duplicated(["device", "time"]).any()  # nothing twice
    for name in sites:
        times = sorted(t.timestamp() for t in stored[stored["site"] == name]["time"].unique())
        assert times == pytest.approx(sentry_cycles(tmp_path / name / "state", seq(name)), abs=0.002)  # nothing lost
    assert "Traceback" not in log.read_text()
