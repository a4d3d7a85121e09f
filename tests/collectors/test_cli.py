"""``minerwatch poll`` and ``minerwatch scan`` as a user meets them: the real command, run as a process,
against an emulated farm over real sockets."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from simfarm.farm import Farm
from tests.simfarm.conftest import free_base

CLI = [sys.executable, "-m", "appliance.cli"]


def minerwatch(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.parametrize(("option", "sentence"), [
    (["--timeout", "0"], "argument --timeout: 0 is not a time limit: give a number of seconds above 0"),
    (["--timeout", "-1"], "argument --timeout: -1 is not a time limit: give a number of seconds above 0"),
    (["--concurrency", "0"], "argument --concurrency: 0 is not a number of devices at once: give 1 or more"),
])
@pytest.mark.parametrize("command", ["poll", "scan"])
def test_a_limit_that_would_fail_every_device_is_refused(command, option, sentence):
    done = minerwatch(command, "127.0.0.1", *option)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == f"minerwatch {command}: error: {sentence}"


def objects(done: subprocess.CompletedProcess) -> dict[str, dict]:
    """``--json`` output by target ("ip:port" as the snapshot says it answered)."""
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return {f"{o['ip']}:{o['port']}": o for o in map(json.loads, done.stdout.splitlines())}


async def test_a_target_given_with_its_port_is_identified_and_polled_there():
    farm = Farm(miners=2, mix={"antminer": 1, "goldshell": 1}, base=free_base(), seed=4, web_port=8081)
    rpc_miner = next(m for m in farm.miners.values() if m.driver == "antminer")
    rpc_miner.rpc_port = 4029  # its cgminer API moved off 4028, as a port forward or a firmware setting does
    web_miner = next(m for m in farm.miners.values() if m.driver == "goldshell")
    async with farm:
        done = await asyncio.to_thread(minerwatch, "poll", f"{rpc_miner.ip}:4029", f"{web_miner.ip}:8081",
                                       f"{web_miner.ip}:4029", "--json")
    polled = objects(done)
    assert polled[f"{rpc_miner.ip}:4029"]["make"] == "Bitmain", polled
    assert polled[f"{rpc_miner.ip}:4029"]["reachable"], polled[f"{rpc_miner.ip}:4029"]["error"]
    assert polled[f"{web_miner.ip}:8081"]["make"] == "Goldshell", polled
    assert polled[f"{web_miner.ip}:8081"]["reachable"], polled[f"{web_miner.ip}:8081"]["error"]
    wrong = polled[f"{web_miner.ip}:4029"]
    assert not wrong["reachable"] and f"{web_miner.ip}:4029" in wrong["error"], wrong["error"]
    assert ":80" not in wrong["error"], wrong["error"]  # not a port nobody asked about
