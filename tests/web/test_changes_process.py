"""A person's change reaches the commander across the two processes: an operator acknowledges a
firing alert through the API of a running ``minerwatch web``; the running ``minerwatch serve``
applies it within seconds; after both restart, the acknowledgement and its outcome are still
there, and it is applied once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from appliance.alerts.history import read_history
from simfarm.farm import Farm
from tests.appliance.test_commander import write_config
from tests.conftest import until
from tests.simfarm.conftest import free_base
from tests.web.test_web_process import MINERWATCH, answers, free_port


def start(path: Path, log: Path, farm: Farm) -> list[subprocess.Popen]:
    out = log.open("a")
    return [subprocess.Popen([*MINERWATCH, "serve", "--config", str(path), "--web-port", str(farm.web_port)],
                             stdout=out, stderr=subprocess.STDOUT),
            subprocess.Popen([*MINERWATCH, "web", "--config", str(path)], stdout=out, stderr=subprocess.STDOUT)]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        assert process.wait(timeout=30) == 0


async def test_an_acknowledgement_made_in_the_web_is_applied_by_the_commander_and_survives_restarts(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "processes.log"
    async with Farm(miners=3, mix={"antminer": 1}, base=free_base(), seed=5, web_port=8080) as farm:
        ips = list(farm.miners)
        await farm.inject(ips[0], "overheating")
        path = write_config(tmp_path, f"{ips[0]}-{ips[-1]}", poll_s=1, discovery_s=3600,
                            extra=f'[web]\nlisten = "127.0.0.1:{port}"\n')
        token = subprocess.run([*MINERWATCH, "token", "create", "noc", "--role", "operator", "--config", str(path)],
                               capture_output=True, text=True, check=True).stdout.strip()
        api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10)

        def firing() -> list[dict]:
            answer = api.get("/alerts")  # 503 until the commander has evaluated alerts once
            return [a for a in answer.json()["items"] if a["state"] == "firing"] if answer.status_code == 200 else []

        processes = start(path, log, farm)
        try:
            await until(lambda: answers(f"{base}/healthz") and firing(), "an alert firing", limit_s=60)
            alert = firing()[0]
            assert alert["acked_by"] is None
            viewer = subprocess.run([*MINERWATCH, "token", "create", "wall", "--role", "viewer", "--config",
                                     str(path)], capture_output=True, text=True, check=True).stdout.strip()
            refused = httpx.post(f"{base}/api/v1/alerts/{alert['id']}/ack", timeout=10,
                                 headers={"Authorization": f"Bearer {viewer}"})
            assert refused.status_code == 403
            assert api.post("/alerts/10.9.9.9/temp_chip/board:0/ack").status_code == 404

            answer = api.post(f"/alerts/{alert['id']}/ack")
            assert answer.status_code == 202
            change = answer.json()["change"]
            await until(lambda: api.get(f"/changes/{change}").json()["outcome"] is not None,
                        "the commander applying the change", limit_s=30)
            outcome = api.get(f"/changes/{change}").json()["outcome"]
            assert (outcome["outcome"], outcome["by"]) == ("applied", "token:noc")
            assert firing()[0]["acked_by"] == "token:noc"
        finally:
            stop(processes)

        processes = start(path, log, farm)
        try:
            await until(lambda: answers(f"{base}/healthz") and log.read_text().count("commander running") == 2,
                        "the web and the commander again", limit_s=60)
            assert firing()[0]["acked_by"] == "token:noc"
            assert api.get(f"/changes/{change}").json()["outcome"] == outcome
        finally:
            stop(processes)
    acknowledged = [e for e in read_history(tmp_path / "state" / "alerts.json") if e["event"] == "acknowledged"]
    assert [(e["id"], e["by"]) for e in acknowledged] == [(alert["id"], "token:noc")]
    assert "Traceback" not in log.read_text()
