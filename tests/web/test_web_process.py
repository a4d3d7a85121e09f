"""``minerwatch web`` as a process, beside a real commander polling simfarm on loopback: the first
admin password from its file, a login over HTTP with the CSRF token, the farm's hashrate per
algorithm as the commander stored it, /healthz while the commander runs and once it has stopped;
and the user and token commands beside it."""

from __future__ import annotations

import json
import math
import signal
import socket
import subprocess
import sys

import httpx
import pandas as pd

from appliance.commander import Commander
from appliance.config import load
from collectors import algorithms
from simfarm.farm import Farm
from tests.appliance.test_commander import write_config
from tests.conftest import until
from tests.simfarm.conftest import free_base
from tests.web.conftest import csrf_token

MINERWATCH = [sys.executable, "-m", "appliance.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return True


async def test_the_web_process_serves_what_the_commander_wrote(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with Farm(miners=6, mix={"antminer": 1, "whatsminer": 1, "avalon": 1}, base=free_base(), seed=21,
                    web_port=8080) as farm:
        ips = list(farm.miners)
        path = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", extra=f'[web]\nlisten = "127.0.0.1:{port}"\n')
        state = tmp_path / "state"
        web = subprocess.Popen([*MINERWATCH, "web", "--config", str(path)], stderr=subprocess.PIPE, text=True)
        try:
            async with Commander(load(path), web_port=farm.web_port) as commander:
                await commander.scheduler.run_now("discovery", commander.discover)
                await commander.scheduler.run_now("poll", commander.poll_cycle)
                await until(lambda: answers(f"{base}/healthz"), "the web answering")

                password = (state / "web" / "initial-admin-password").read_text().strip()
                with httpx.Client(base_url=base, timeout=10) as browser:
                    assert browser.get("/api/v1/farm").status_code == 401
                    token = csrf_token(browser.get("/login").text)
                    signed = browser.post("/login", data={"username": "admin", "password": password,
                                                          "csrf_token": token})
                    assert (signed.status_code, signed.headers["location"]) == (302, "/")
                    farm_now = browser.get("/api/v1/farm").json()
                stored = pd.read_parquet(state / "latest" / "miners.parquet")
                stored = stored[stored["reachable"]]
                expected = stored.groupby(stored["algorithm"].map(algorithms.canonical))["hashrate_hs"].sum()
                assert {row["algorithm"] for row in farm_now["algorithms"]} == set(expected.index)
                for row in farm_now["algorithms"]:
                    assert math.isclose(row["hashrate_hs"], expected[row["algorithm"]])
                assert farm_now["miners_online"] == len(ips)

                healthy = httpx.get(f"{base}/healthz", timeout=10)
                assert healthy.status_code == 200 and healthy.text.startswith("commander running")
            # No cycle since (the commander is gone without a word): once its last one is stale, 503.
            await until(lambda: httpx.get(f"{base}/healthz", timeout=10).status_code == 503, "/healthz saying 503",
                        limit_s=60)
            assert httpx.get(f"{base}/healthz", timeout=10).text.startswith("commander NOT POLLING")
        finally:
            web.send_signal(signal.SIGTERM)
            _, err = web.communicate(timeout=30)
    assert web.returncode == 0, err
    assert f"the password of web user admin was written to {state / 'web' / 'initial-admin-password'}" in err
    assert f"minerwatch web: serving http://127.0.0.1:{port}/" in err and "Traceback" not in err


def test_user_and_token_commands_print_a_secret_once_and_audit_it(tmp_path):
    state = tmp_path / "state"

    def minerwatch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*MINERWATCH, *args, "--state-dir", str(state)], capture_output=True, text=True,
                              timeout=60)

    added = minerwatch("user", "add", "night-shift", "--role", "viewer")
    assert added.returncode == 0 and len(added.stdout.strip()) >= 20
    again = minerwatch("user", "add", "night-shift", "--role", "admin")
    assert (again.returncode, again.stderr) == (1, "minerwatch: user night-shift already exists; "
                                                   "`minerwatch user passwd night-shift` gives a new password\n")
    new = minerwatch("user", "passwd", "night-shift")
    assert new.returncode == 0 and new.stdout != added.stdout
    assert minerwatch("user", "passwd", "nobody").returncode == 1
    token = minerwatch("token", "create", "grafana", "--role", "viewer")
    assert token.returncode == 0 and token.stdout.startswith("mw_")
    kept = (state / "web" / "users.json").read_text() + (state / "web" / "tokens.json").read_text()
    for secret in (added.stdout.strip(), new.stdout.strip(), token.stdout.strip()):
        assert secret not in kept
    audit = [json.loads(line) for line in (state / "web" / "audit.jsonl").read_text().splitlines()]
    assert [(e["what"], e["name"], e["from"]) for e in audit] == [
        ("user_added", "night-shift", "cli"), ("password_changed", "night-shift", "cli"),
        ("token_created", "grafana", "cli")]
    assert all(e["who"].startswith("cli:") for e in audit)
