"""``minerwatch demo``: its farm line (the hashrate of each algorithm apart, never a sum across them),
and the demo as a user runs it: alerts by its second cycle, its state kept or removed, what next; its
rigs behind their own sentries and snmpd, and the faults it makes as it runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from appliance import demo_rigs
from appliance.demo import farm_text
from appliance.demo_rigs import RigsLeftOut, find_snmpd, start_rigs
from appliance.inventory import Inventory
from collectors.model import MinerSnapshot
from tests.conftest import require, wait_until
from tests.web.conftest import csrf_token


# A rig's inventory row as simfarm writes it, with what start_rigs reads.
RIG = {"hostname": "rig-000", "ip": "127.0.0.1", "programs": [{"name": "trex", "port": 4067}], "gpus": []}


def miner(ip: str, algorithm: str | None, hashrate_hs: float | None, reachable: bool = True) -> MinerSnapshot:
    return MinerSnapshot(ip, 4028, algorithm=algorithm, reachable=reachable, hashrate_hs=hashrate_hs)


def test_a_farm_of_mixed_algorithms_gives_one_total_per_algorithm():
    farm = [miner("10.0.0.1", "SHA256", 234e12), miner("10.0.0.2", "SHA256", 110e12),
            miner("10.0.0.3", "Scrypt", 9.5e9), miner("10.0.0.4", "kHeavyHash", 9.4e12),
            miner("10.0.0.5", "SHA256", None, reachable=False), miner("10.0.0.6", None, 29e12)]
    assert farm_text(farm) == ("SHA256 344.00 TH/s, Scrypt 9.50 GH/s, kHeavyHash 9.40 TH/s, "
                               "1 miner of unknown algorithm")


def test_a_farm_with_nothing_hashing_says_so():
    assert farm_text([miner("10.0.0.1", "SHA256", None, reachable=False)]) == "no hashrate"


def test_the_demo_shows_alerts_by_its_second_cycle_and_says_what_to_run_next():
    # As `DEMO_ROUNDS=2 DEMO_KEEP=1 make demo` runs it, on a smaller farm.
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "demo", "--miners", "12", "--interval", "6",
                           "--rounds", "2", "--keep", "--rigs", "0"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    second = out[out.index("cycle 2:"):]
    assert "ALERT FIRED" in second and "ALERT FIRED" not in out[:out.index("cycle 2:")]
    kept = Path(re.search(r"the state directory is kept: (\S+)\. Read it with:", out)[1])
    try:
        assert (kept / "metrics" / "miners").is_dir() and (kept / "alerts.json").exists()
        assert f"minerwatch alerts --state-dir {kept}" in out
    finally:
        shutil.rmtree(kept.parent)
    gone = subprocess.run([sys.executable, "-m", "appliance.cli", "demo", "--miners", "4", "--interval", "1",
                           "--rounds", "1", "--rigs", "0"], capture_output=True, text=True, timeout=180)
    state = Path(re.search(r"state in (\S+)", gone.stdout)[1])
    assert gone.returncode == 0 and not state.parent.exists() and "DEMO_KEEP=1 make demo" in gone.stdout


def sign_in(demo: subprocess.Popen, browser: httpx.Client) -> tuple[str, str]:
    """Sign ``browser`` in to the demo's web as admin with the password the demo printed; the web's URL
    and the output up to that line."""
    head = []
    for line in demo.stdout:
        head.append(line)
        found = re.search(r"the web UI is at (http://127\.0\.0\.1:\d+/) - sign in as admin with the password "
                          r"(\S+) ", line)
        if found:
            break
    else:
        raise AssertionError(f"no web line; stderr: {demo.stderr.read()}")
    url, password = found.groups()
    browser.base_url = url
    token = csrf_token(browser.get("/login").text)
    assert browser.post("/login", data={"username": "admin", "password": password,
                                        "csrf_token": token}).status_code == 302
    return url, "".join(head)


def test_the_demo_serves_the_web_and_says_how_to_sign_in():
    demo = subprocess.Popen([sys.executable, "-m", "appliance.cli", "demo", "--miners", "6", "--interval", "2",
                             "--rounds", "4", "--rigs", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(timeout=10) as browser:
            url, _ = sign_in(demo, browser)
            wait_until(lambda: browser.get("/api/v1/farm").status_code == 200, "the farm after the first cycle")
            assert browser.get("/api/v1/farm").json()["miners_total"] == 6
            assert "Dashboard" in browser.get("/").text
        rest = demo.stdout.read()
        assert demo.wait(timeout=120) == 0 and "demo: stopping" in rest
    finally:
        demo.kill()
    with pytest.raises(httpx.TransportError):  # the web stopped with the demo
        httpx.get(f"{url}healthz", timeout=2)


def test_the_demo_watches_rigs_through_their_sentries_and_makes_faults_as_it_runs():
    # Each rig's snmpd comes and goes with the demo; so do the faults, after its first cycle.
    require(find_snmpd() is not None, "snmpd (Debian: snmpd)")
    demo = subprocess.Popen([sys.executable, "-m", "appliance.cli", "demo", "--miners", "4", "--rigs", "4",
                             "--interval", "2", "--rounds", "10", "--keep"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(timeout=10) as browser:
            _, head = sign_in(demo, browser)
            wait_until(lambda: browser.get("/api/v1/rigs").json()["total"] == 4, "the rigs in the web")
            rigs = browser.get("/api/v1/rigs").json()["items"]
        out = head + demo.stdout.read()
        assert demo.wait(timeout=120) == 0, demo.stderr.read()
    finally:  # SIGTERM, so that the demo stops the processes it started
        demo.terminate()
        demo.wait(timeout=60)
    assert "4 emulated rigs on 127.78.0.1 .. 127.78.0.4" in head
    assert all(r["reachable"] and r["key"].startswith("127.78.0.") for r in rigs)
    assert sorted(r["hostname"] for r in rigs) == [f"rig-{n:03d}" for n in range(4)]  # each sentry's hostname
    assert sum(r["gpu_count"] for r in rigs) > 0  # no NVML here: the GPUs the programs report

    running = out[out.index("cycle 1:"):]
    pool_down = re.search(r"demo: injected pool_down on (\S+)", running)
    assert pool_down and re.search(rf"ALERT FIRED +{re.escape(pool_down[1])}/pool_dead", running)
    assert "demo: injected api_down (trex) on 127.78.0.1" in running
    assert re.search(r"ALERT FIRED +127\.78\.0\.1:\d+/program_down/program:trex", running)
    assert "demo: cleared dead_board on" in running

    kept = Path(re.search(r"the state directory is kept: (\S+)\. Read it with:", out)[1])
    try:
        inventory = Inventory.open(kept)
        assert sorted(d.key.split(":")[0] for d in inventory.devices() if d.kind == "rig") == [
            f"127.78.0.{n}" for n in range(1, 5)]
        stored = pd.read_parquet(kept / "metrics" / "rigs")
        assert stored[stored["reachable"]]["rig"].nunique() == 4
    finally:
        shutil.rmtree(kept.parent)


async def test_without_snmpd_the_rigs_are_left_out_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_rigs.shutil, "which", lambda *args, **kwargs: None)
    processes: list[subprocess.Popen] = []
    with pytest.raises(RigsLeftOut, match=r"^snmpd is not installed, so the rigs are left out "
                                          r"\(`sudo apt-get install snmpd` brings them in\)$"):
        await start_rigs(tmp_path, [RIG], "community", processes)
    assert processes == [] and not (tmp_path / "rigs").exists()


async def test_a_sentry_that_does_not_start_leaves_the_rigs_out_and_names_its_log(tmp_path):
    require(find_snmpd() is not None, "snmpd (Debian: snmpd)")
    processes: list[subprocess.Popen] = []
    broken = {**RIG, "programs": [{"name": "no-such-miner", "port": 4067}]}  # a configuration error
    with pytest.raises(RigsLeftOut, match=r"^the sentry of rig-000 did not start, so the rigs are left out "
                                          rf"\(see {re.escape(str(tmp_path / 'rigs' / '0' / 'sentry.log'))}\)$"):
        await start_rigs(tmp_path, [broken], "community", processes)
    assert processes == []
    assert "no-such-miner" in (tmp_path / "rigs" / "0" / "sentry.log").read_text()
