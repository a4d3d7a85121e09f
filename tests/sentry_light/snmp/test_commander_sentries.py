"""The commander's sentries job against a real snmpd serving a 12-GPU rig: read, kept in the
inventory, stored (rigs, gpus, programs), evaluated, and published in the farm document."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd

from appliance.commander import Commander
from appliance.config import Config, load
from appliance.snmp.farm_file import farm_path
from tests.net_snmp import COMMUNITY, write_json


def commander_config(tmp_path: Path, port: int, rules: str = "") -> Config:
    (tmp_path / "commander.toml").write_text(f"""
[commander]
state_dir = "{tmp_path / 'state'}"
name = "test-farm"

[[sentries]]
host = "127.0.0.1"
port = {port}
version = "v2c"
rack = "R7"
{rules}""")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[snmp]\ncommunity = "{COMMUNITY}"\n')
    os.chmod(secrets, 0o600)
    return load(tmp_path / "commander.toml", secrets)


async def test_the_commander_reads_a_rig_through_its_snmpd_and_stores_it(tmp_path, agent, rig):
    key = f"127.0.0.1:{agent.port}"
    async with Commander(commander_config(tmp_path, agent.port)) as commander:
        await commander.scheduler.run_now("sentries", commander.sentries_cycle)
        [got] = commander.last_rigs
        device = commander.inventory.get(key)
    assert got.reachable, got.error
    assert (device.kind, device.hostname, device.rack, device.number) == ("rig", "rig-012", "R7", 1)
    assert device.last_seen is not None

    metrics = tmp_path / "state" / "metrics"
    gpus = pd.read_parquet(metrics / "gpus")
    assert len(gpus) == len(rig["gpus"]) == 12
    assert set(gpus["bus_id"]) == {g["bus_id"] for g in rig["gpus"]} and set(gpus["rig"]) == {key}
    [row] = pd.read_parquet(metrics / "rigs").to_dict("records")
    assert (row["rig"], row["hostname"], row["reachable"], row["gpus"], row["cpu_temp_c"]) == (
        key, "rig-012", True, 12, 71.2)
    programs = pd.read_parquet(metrics / "programs").sort_values("program")
    assert list(programs["program"]) == ["trex", "xmrig"]
    assert list(programs["api_up"]) == [True, False] and programs["hashrate_hs"].iloc[0] == rig["programs"][0]["hashrate_hs"]

    farm = json.loads(farm_path(tmp_path / "state").read_text())
    assert (farm["farm"]["name"], farm["farm"]["rigs"], farm["farm"]["rigs_up"], farm["farm"]["ha_role"]) == (
        "test-farm", 1, 1, "standalone")
    [record] = farm["miners"]
    assert (record["index"], record["kind"], record["hostname"], record["reachable"]) == (1, "rig", "rig-012", True)
    assert record["model"] == "12 GPU (NVIDIA GeForce RTX 3080)" and record["firmware"] == "trex 0.26.8"
    assert record["temp_max_c"] == 71.2  # the CPU, hotter than every GPU
    assert abs(record["power_w"] - 12 * 225.4) < 1e-6 and record["accepted"] == 12_066


async def test_a_mining_program_that_stops_answering_fires_and_resolves(tmp_path, own_agent, rig):
    config = commander_config(tmp_path, own_agent.port, "[alerts.rules.program_down]\nhold_s = 0\n")
    down = json.loads(json.dumps(rig))
    down["programs"][0].update(api_up=False, hashrate_hs=None, error="no answer from trex on 127.0.0.1:4067")
    async with Commander(config) as commander:
        firing = []
        for snapshot in (rig, down, rig):
            write_json(own_agent.file, {**snapshot, "collected_at": time.time()})
            await commander.scheduler.run_now("sentries", commander.sentries_cycle)
            firing.append([(a.rule, a.part) for a in commander.alerts.engine.firing()])
    # xmrig never answered on this rig: it is not watched, and never alerts.
    assert firing == [[], [("program_down", "program:trex")], []]
