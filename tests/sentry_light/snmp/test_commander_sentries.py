"""The commander's sentries job against a real snmpd serving a 12-GPU rig: read, stored, evaluated."""

from __future__ import annotations

import os

import pandas as pd

from appliance.commander import Commander
from appliance.config import load
from tests.sentry_light.snmp.conftest import COMMUNITY


async def test_the_commander_reads_a_rig_through_its_snmpd_and_stores_its_gpus(tmp_path, agent, rig):
    (tmp_path / "commander.toml").write_text(f"""
[commander]
state_dir = "{tmp_path / 'state'}"

[[sentries]]
host = "127.0.0.1"
port = {agent.port}
version = "v2c"
""")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[snmp]\ncommunity = "{COMMUNITY}"\n')
    os.chmod(secrets, 0o600)
    config = load(tmp_path / "commander.toml", secrets)
    async with Commander(config) as commander:
        await commander.scheduler.run_now("sentries", commander.sentries_cycle)
        [got] = commander.last_rigs
    assert got.reachable, got.error
    assert sorted(g.bus_id for g in got.gpus) == sorted(g["bus_id"] for g in rig["gpus"])
    gpus = pd.read_parquet(tmp_path / "state" / "metrics" / "gpus")
    assert len(gpus) == len(rig["gpus"]) == 12
    assert set(gpus["bus_id"]) == {g["bus_id"] for g in rig["gpus"]}
