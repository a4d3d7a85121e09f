"""``minerwatch demo``: a simulated farm on loopback and a real commander watching it, zero questions.

The farm runs as ``python -m simfarm`` in a process of its own (the commander never imports the
emulator); the commander gets a generated configuration and state directory under a temporary
folder, discovers the farm, and polls it on a short interval. Each cycle prints the farm, the
miners, and the alerts that fired or resolved. Some miners start with faults, and more are injected
while it runs, so the alerts have something to say.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appliance.config import load
from collectors import algorithms
from collectors.cli import poll_table
from collectors.model import MinerSnapshot

BASE = "127.77.0.1"
# The demo's alerts wait seconds, not minutes, so that they show within a few cycles.
DEMO_RULES = """
[alerts.rules.hashrate_low]
hold_s = 20
[alerts.rules.board_dead]
hold_s = 10
[alerts.rules.temp_chip]
hold_s = 10
[alerts.rules.temp_board]
hold_s = 10
[alerts.rules.pool_dead]
hold_s = 10
[alerts.rules.chips_missing]
hold_s = 10
"""


async def demo(miners: int = 60, interval_s: float = 10, rounds: int | None = None) -> int:
    from appliance.commander import Commander
    from appliance.snmp.farm_file import farm_path

    with tempfile.TemporaryDirectory(prefix="minerwatch-demo-") as folder:
        root = Path(folder)
        farm, inventory = await _start_farm(root, miners)
        try:
            last = _last_address(inventory)
            config = _write_config(root, interval_s, last)
            print(f"demo: {miners} emulated miners on {BASE} .. {last}; state in {config.state_dir}")
            print("demo: discovering the farm, then polling it every "
                  f"{interval_s:g} s; press Ctrl-C to stop\n")
            async with Commander(config, web_port=inventory.get("web_port", 80)) as commander:
                await commander.scheduler.run_now("discovery", commander.discover)
                found = len(commander.inventory.devices())
                print(f"demo: discovery found {found} miners")
                print(f"demo: the farm for an NMS is rewritten each cycle in {farm_path(config.state_dir)}; "
                      "`minerwatch snmpd-conf` prints the snmpd lines that serve it\n")
                commander.schedule()
                stop = asyncio.Event()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    asyncio.get_running_loop().add_signal_handler(signum, stop.set)
                watching = asyncio.create_task(_watch(commander, rounds, farm_control=_control_url(root)))
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({watching, stopping}, return_when=asyncio.FIRST_COMPLETED)
                for task in (watching, stopping):
                    task.cancel()
                print("demo: stopping")
        finally:
            farm.terminate()
            try:
                farm.wait(timeout=10)
            except subprocess.TimeoutExpired:
                farm.kill()
    return 0


async def _start_farm(root: Path, miners: int) -> tuple[subprocess.Popen, dict]:
    inventory_path = root / "farm.json"
    log = (root / "farm.log").open("w")
    farm = subprocess.Popen([sys.executable, "-m", "simfarm", "--miners", str(miners), "--base", BASE,
                             "--seed", "7", "--faults", "0.1", "--inventory", str(inventory_path)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not inventory_path.exists():
        if farm.poll() is not None or time.monotonic() > deadline:
            farm.kill()
            raise SystemExit(f"demo: the simulated farm did not start; see {root / 'farm.log'}:\n"
                             + (root / "farm.log").read_text()[-2000:])
        await asyncio.sleep(0.1)
    return farm, json.loads(inventory_path.read_text())


def _last_address(inventory: dict) -> str:
    return inventory["miners"][-1]["ip"]


def _control_url(root: Path) -> str | None:
    for line in (root / "farm.log").read_text().splitlines():
        if "control http://" in line:
            return line.split("control ", 1)[1].split()[0]
    return None


def _write_config(root: Path, interval_s: float, last: str):
    state = root / "state"
    path = root / "commander.toml"
    path.write_text(f"""
[commander]
state_dir = "{state}"

[discovery]
subnets = ["{BASE}-{last}"]
timeout_s = 3.0

[intervals]
poll_s = {interval_s}
discovery_s = 0
{DEMO_RULES}
""")
    secrets = root / "secrets.toml"
    secrets.write_text("")
    os.chmod(secrets, 0o600)
    return load(path, secrets)


async def _watch(commander, rounds: int | None, farm_control: str | None) -> None:
    job = commander.scheduler.health.jobs["poll"]
    seen = 0
    while rounds is None or seen < rounds:
        await asyncio.sleep(0.2)
        if job.runs == seen or job.last_duration_s is None or job.last_started_at is None:
            continue
        if job.runs > seen and commander.last_snapshots:
            seen = job.runs
            _print_cycle(commander, job)
            if seen == 2 and farm_control:
                await _inject(farm_control, commander)


def farm_text(snapshots: list[MinerSnapshot]) -> str:
    """The farm's hashrate per algorithm, each in its own unit: ``SHA256 4,604.12 TH/s, Scrypt 9.51 GH/s``.
    Hashrates of different algorithms have no sum, so none is shown."""
    up = [s for s in snapshots if s.reachable]
    parts = [f"{name} {algorithms.text(total, name)}"
             for name, total in algorithms.totals((s.algorithm, s.hashrate_hs) for s in up).items()]
    unknown = sum(1 for s in up if algorithms.canonical(s.algorithm) is None)
    if unknown:
        parts.append(f"{unknown} {'miner' if unknown == 1 else 'miners'} of unknown algorithm")
    return ", ".join(parts) or "no hashrate"


def _print_cycle(commander, job) -> None:
    snapshots = commander.last_snapshots
    up = [s for s in snapshots if s.reachable]
    firing = commander.alerts.engine.firing()
    print(time.strftime("%H:%M:%S"), f"cycle {job.runs}: {len(up)} of {len(snapshots)} miners answered in "
          f"{job.last_duration_s:.2f} s, farm {farm_text(snapshots)}; {len(firing)} alerts firing, "
          f"{job.skipped} cycles skipped")
    print(poll_table(snapshots))
    for transition in commander.last_transitions:
        print(f"  ALERT {transition.kind.upper():8} {transition.alert.id}: {transition.alert.message}")
    print()


async def _inject(control: str, commander) -> None:
    """Make something happen while the operator watches: a board dies, a fan stops."""
    import httpx

    healthy = [s.ip for s in commander.last_snapshots if s.reachable and s.boards][:2]
    async with httpx.AsyncClient(timeout=5) as client:
        for ip, fault in zip(healthy, ("dead_board", "overheating"), strict=False):
            await client.post(f"{control}/faults", json={"ip": ip, "fault": fault})
            print(f"demo: injected {fault} on {ip}\n")
