"""``minerwatch demo``: its farm line (the hashrate of each algorithm apart, never a sum across them),
and the demo as a user runs it: alerts by its second cycle, its state kept or removed, what next."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from appliance.demo import farm_text
from collectors.model import MinerSnapshot
from tests.conftest import wait_until
from tests.web.conftest import csrf_token


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
                           "--rounds", "2", "--keep"], capture_output=True, text=True, timeout=180)
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
                           "--rounds", "1"], capture_output=True, text=True, timeout=180)
    state = Path(re.search(r"state in (\S+)", gone.stdout)[1])
    assert gone.returncode == 0 and not state.parent.exists() and "DEMO_KEEP=1 make demo" in gone.stdout


def test_the_demo_serves_the_web_and_says_how_to_sign_in():
    demo = subprocess.Popen([sys.executable, "-m", "appliance.cli", "demo", "--miners", "6", "--interval", "2",
                             "--rounds", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in demo.stdout:
            found = re.search(r"the web UI is at (http://127\.0\.0\.1:\d+/) - sign in as admin with the password "
                              r"(\S+) ", line)
            if found:
                break
        else:
            raise AssertionError(f"no web line; stderr: {demo.stderr.read()}")
        url, password = found.groups()
        with httpx.Client(base_url=url, timeout=10) as browser:
            token = csrf_token(browser.get("/login").text)
            assert browser.post("/login", data={"username": "admin", "password": password,
                                                "csrf_token": token}).status_code == 302
            wait_until(lambda: browser.get("/api/v1/farm").status_code == 200, "the farm after the first cycle")
            assert browser.get("/api/v1/farm").json()["miners_total"] == 6
            assert "Dashboard" in browser.get("/").text
        rest = demo.stdout.read()
        assert demo.wait(timeout=120) == 0 and "demo: stopping" in rest
    finally:
        demo.kill()
    with pytest.raises(httpx.TransportError):  # the web stopped with the demo
        httpx.get(f"{url}healthz", timeout=2)
