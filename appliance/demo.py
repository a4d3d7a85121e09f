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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from appliance.config import load
from collectors import algorithms
from collectors.display import poll_table
from collectors.model import MinerSnapshot

BASE = "127.77.0.1"
# The demo's alerts wait seconds, not minutes, so that they show within a few cycles: a fault there
# from the start fires on the second cycle, one injected after the first cycle on the third, so that
# `DEMO_ROUNDS=3 make demo` shows both.
DEMO_RULES = """
[alerts.rules.hashrate_low]
hold_s = 5
[alerts.rules.board_dead]
hold_s = 5
[alerts.rules.temp_chip]
hold_s = 5
[alerts.rules.temp_board]
hold_s = 5
[alerts.rules.pool_dead]
hold_s = 5
[alerts.rules.chips_missing]
hold_s = 5
"""


async def demo(miners: int = 60, interval_s: float = 10, rounds: int | None = None, keep: bool = False) -> int:
    """``keep``: leave the state directory (Parquet, inventory, alerts) for the commands that read it."""
    from appliance.commander import Commander
    from appliance.snmp.farm_file import farm_path

    root = Path(tempfile.mkdtemp(prefix="minerwatch-demo-"))
    try:
        farm, inventory = await _start_farm(root, miners)
        web = None
        try:
            last = _last_address(inventory)
            config = _write_config(root, interval_s, last, _web_port())
            print(f"demo: {miners} emulated miners on {BASE} .. {last}; state in {config.state_dir}")
            web = await _start_web(root, config)
            print("demo: discovering the farm, then polling it every "
                  f"{interval_s:g} s; press Ctrl-C to stop\n")
            async with Commander(config, web_port=inventory.get("web_port", 80)) as commander:
                await commander.scheduler.run_now("discovery", commander.discover)
                print(f"demo: {commander.last_discovery.summary()}")
                print(f"demo: the farm for an NMS is rewritten each cycle in {farm_path(config.state_dir)}; "
                      "`minerwatch snmpd-conf` prints the snmpd lines that serve it\n")
                control = _control_url(root)
                if control:  # before the first poll: its alerts fire within the first three cycles
                    await _inject(control, inventory)
                stop = asyncio.Event()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    asyncio.get_running_loop().add_signal_handler(signum, stop.set)

                def cycle_done(commander: Commander) -> None:
                    job = commander.scheduler.health.jobs["poll"]
                    _print_cycle(commander, job)
                    if rounds is not None and job.runs >= rounds:
                        stop.set()

                commander.on_cycle = cycle_done
                commander.schedule()
                await stop.wait()
                print("demo: stopping")
        finally:
            for process in (web, farm):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        print(next_steps(config.state_dir, keep))
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def next_steps(state_dir: Path, kept: bool) -> str:
    """What to run after the demo: on what it kept, or how to keep it."""
    if not kept:
        return ("\ndemo: its state directory is gone; `DEMO_KEEP=1 make demo` (or `minerwatch demo --keep`) "
                "keeps it for\n      `minerwatch status`, `devices`, `alerts` and `export`. To watch your own "
                "miners, see README.md,\n      'Run the commander' (packaging/commander.toml is the sample "
                "configuration).")
    state = f"--state-dir {state_dir}"
    return "\n".join([
        f"\ndemo: the state directory is kept: {state_dir}. Read it with:",
        f"  minerwatch status {state}     # the commander's jobs as they last ran (stopped now)",
        f"  minerwatch devices {state}    # the inventory, under the numbers an NMS sees",
        f"  minerwatch alerts {state}     # what fired and resolved",
        f"  minerwatch export {state} --table miners --from {date.today()} --to {date.today()} "
        "--format csv --out -",
        "Then watch your own miners: README.md, 'Run the commander'.",
    ])


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


def _web_port() -> int:
    """8080 when it is free on loopback, else any free port."""
    for port in (8080, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SystemExit("demo: no free port on 127.0.0.1 for the web")


async def _start_web(root: Path, config) -> subprocess.Popen:
    """``minerwatch web`` beside the commander, as an appliance runs it; says where and how to sign in."""
    import httpx

    host, port = config.web.listen
    log = (root / "web.log").open("w")
    web = subprocess.Popen([sys.executable, "-m", "appliance.cli", "web", "--config", str(root / "commander.toml")],
                           stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}healthz", timeout=2)
            break
        except httpx.TransportError:
            if web.poll() is not None or time.monotonic() > deadline:
                web.kill()
                raise SystemExit(f"demo: the web did not start; see {root / 'web.log'}:\n"
                                 + (root / "web.log").read_text()[-2000:]) from None
            await asyncio.sleep(0.2)
    secret = config.state_dir / "web" / "initial-admin-password"
    print(f"demo: the web UI is at {url} - sign in as admin with the password {secret.read_text().strip()} "
          f"(also in {secret})")
    return web


def _write_config(root: Path, interval_s: float, last: str, web_port: int):
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

[web]
listen = "127.0.0.1:{web_port}"
{DEMO_RULES}
""")
    secrets = root / "secrets.toml"
    secrets.write_text("")
    os.chmod(secrets, 0o600)
    return load(path, secrets)


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
    took_s = commander.last_poll[1] / 1000  # the scheduler times the run only once it has returned
    print(time.strftime("%H:%M:%S"), f"cycle {job.runs}: {len(up)} of {len(snapshots)} miners answered in "
          f"{took_s:.2f} s, farm {farm_text(snapshots)}; {len(firing)} alerts firing, "
          f"{job.skipped} cycles skipped")
    print(poll_table(snapshots))
    for transition in commander.last_transitions:
        print(f"  ALERT {transition.kind.upper():8} {transition.alert.id}: {transition.alert.message}")
    print()


async def _inject(control: str, inventory: dict) -> None:
    """Make something happen while the operator watches: a board dies, a miner overheats."""
    import httpx

    healthy = [row["ip"] for row in inventory["miners"] if not row.get("faults") and row.get("boards", 0) > 1][:2]
    async with httpx.AsyncClient(timeout=5) as client:
        for ip, fault in zip(healthy, ("dead_board", "overheating"), strict=False):
            await client.post(f"{control}/faults", json={"ip": ip, "fault": fault})
            print(f"demo: injected {fault} on {ip}")
    print()
