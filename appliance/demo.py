"""``minerwatch demo``: a simulated farm on loopback and a real commander watching it, zero questions.

The farm runs as ``python -m simfarm`` in a process of its own (the commander never imports the
emulator): miners, and CPU/GPU rigs each behind what a real rig runs, its sentry and an snmpd
(``appliance.demo_rigs``). The commander gets a generated configuration and state directory under a
temporary folder, discovers the miners, polls them and reads the rigs' sentries on a short interval.
Each cycle prints the farm, the miners, the rigs and the alerts that fired or resolved. Some miners
start with faults, and more come and go while it runs, so the alerts have something to say.
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
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from secrets import token_hex

from appliance.config import load
from appliance.demo_rigs import Rig, RigsLeftOut, spawn, start_rigs, stop_all
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
[alerts.rules.program_down]
hold_s = 5
"""


async def demo(miners: int = 60, interval_s: float = 10, rounds: int | None = None, keep: bool = False,
               rigs: int = 4) -> int:
    """``keep``: leave the state directory (Parquet, inventory, alerts) for the commands that read it."""
    sys.stdout.reconfigure(line_buffering=True)  # a live report, also through a pipe (tee, a test)
    root = Path(tempfile.mkdtemp(prefix="minerwatch-demo-"))
    processes: list[subprocess.Popen] = []
    main = asyncio.current_task()
    assert main is not None
    _on_signals(main.cancel)  # start-up is cut short; the children it started are stopped on the way out
    try:
        inventory = await _start_farm(root, miners, rigs, processes)
        sentries, community = await _start_rigs(root, inventory["rigs"], processes)
        config = _write_config(root, interval_s, _last_address(inventory), _web_port(), sentries, community)
        print(f"demo: {miners} emulated miners on {BASE} .. {_last_address(inventory)}; state in {config.state_dir}")
        await _start_web(root, config, processes)
        await _watch(config, inventory, Faults(_control_url(root), inventory), rounds)
        print("demo: stopping")
    except asyncio.CancelledError:  # a signal while it started: nothing to report but that
        print("demo: stopped while starting")
        return 130
    finally:
        stop_all(processes)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    print(next_steps(config.state_dir, keep))
    return 0


async def _watch(config, inventory: dict, faults: Faults, rounds: int | None) -> None:
    """The commander on the farm until a signal or ``rounds`` polls, a report each cycle, faults as it goes."""
    from appliance.commander import Commander
    from appliance.snmp.farm_file import farm_path

    print("demo: discovering the farm, then polling it every "
          f"{config.intervals.poll_s:g} s; press Ctrl-C to stop\n")
    async with Commander(config, web_port=inventory.get("web_port", 80)) as commander:
        await commander.scheduler.run_now("discovery", commander.discover)
        print(f"demo: {commander.last_discovery.summary()}")
        print(f"demo: the farm for an NMS is rewritten each cycle in {farm_path(config.state_dir)}; "
              "`minerwatch snmpd-conf` prints the snmpd lines that serve it\n")
        await faults.before_first_poll()
        stop = asyncio.Event()
        _on_signals(stop.set)

        def cycle_done(commander: Commander) -> None:
            job = commander.scheduler.health.jobs["poll"]
            _print_cycle(commander, job)
            faults.after_cycle(job.runs)
            if rounds is not None and job.runs >= rounds:
                stop.set()

        commander.on_cycle = cycle_done
        commander.on_rigs = _print_rigs
        commander.schedule()
        await stop.wait()
        await faults.close()


def _on_signals(handler: Callable[[], object]) -> None:
    """Ctrl-C and SIGTERM call ``handler`` (the latest one given)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, handler)


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


async def _start_farm(root: Path, miners: int, rigs: int, processes: list[subprocess.Popen]) -> dict:
    """simfarm's miners and rigs; its inventory once it listens."""
    inventory_path = root / "farm.json"
    farm = spawn([sys.executable, "-m", "simfarm", "--miners", str(miners), "--base", BASE, "--rigs", str(rigs),
                  "--seed", "7", "--faults", "0.1", "--inventory", str(inventory_path)], root / "farm.log")
    processes.append(farm)
    deadline = time.monotonic() + 30
    while not inventory_path.exists():
        if farm.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"demo: the simulated farm did not start; see {root / 'farm.log'}:\n"
                             + (root / "farm.log").read_text()[-2000:])
        await asyncio.sleep(0.1)
    return json.loads(inventory_path.read_text())


async def _start_rigs(root: Path, rows: list[dict], processes: list[subprocess.Popen]) -> tuple[list[Rig], str]:
    """Each rig's sentry and snmpd, and the community they share; without them, no rig and one sentence."""
    community = token_hex(16)
    if not rows:
        return [], community
    started = time.monotonic()
    try:
        rigs = await start_rigs(root, rows, community, processes)
    except RigsLeftOut as why:
        print(f"demo: {why}")
        return [], community
    print(f"demo: {len(rigs)} emulated rigs on {rigs[0].host} .. {rigs[-1].host}, each with its sentry and an "
          f"snmpd on its own port (started in {time.monotonic() - started:.1f} s)")
    return rigs, community


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


async def _start_web(root: Path, config, processes: list[subprocess.Popen]) -> None:
    """``minerwatch web`` beside the commander, as an appliance runs it; says where and how to sign in."""
    import httpx

    host, port = config.web.listen
    web = spawn([sys.executable, "-m", "appliance.cli", "web", "--config", str(root / "commander.toml")],
                root / "web.log")
    processes.append(web)
    url = f"http://{host}:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}healthz", timeout=2)
            break
        except httpx.TransportError:
            if web.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"demo: the web did not start; see {root / 'web.log'}:\n"
                                 + (root / "web.log").read_text()[-2000:]) from None
            await asyncio.sleep(0.2)
    secret = config.state_dir / "web" / "initial-admin-password"
    print(f"demo: the web UI is at {url} - sign in as admin with the password {secret.read_text().strip()} "
          f"(also in {secret})")


def _write_config(root: Path, interval_s: float, last: str, web_port: int, rigs: list[Rig], community: str):
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
sentries_s = {interval_s}
discovery_s = 0

[web]
listen = "127.0.0.1:{web_port}"
{DEMO_RULES}
""" + "".join(f"""
[[sentries]]
host = "{rig.host}"
port = {rig.port}
version = "v2c"
""" for rig in rigs))
    secrets = root / "secrets.toml"
    secrets.write_text(f'[snmp]\ncommunity = "{community}"\n' if rigs else "")  # an unused secret is an error
    os.chmod(secrets, 0o600)
    return load(path, secrets)


def farm_text(snapshots: list[MinerSnapshot]) -> str:
    """The farm's hashrate per algorithm, each in its own unit: ``SHA256 4,604.12 TH/s, Scrypt 9.51 GH/s``.
    Hashrates of different algorithms have no sum, so none is shown."""
    up = [s for s in snapshots if s.reachable]
    parts = _hashrate_parts((s.algorithm, s.hashrate_hs) for s in up)
    unknown = sum(1 for s in up if algorithms.canonical(s.algorithm) is None)
    if unknown:
        parts.append(f"{unknown} {'miner' if unknown == 1 else 'miners'} of unknown algorithm")
    return ", ".join(parts) or "no hashrate"


def _hashrate_parts(rates: Iterable[tuple[str | None, float | None]]) -> list[str]:
    return [f"{name} {algorithms.text(total, name)}" for name, total in algorithms.totals(rates).items()]


def _print_cycle(commander, job) -> None:
    snapshots = commander.last_snapshots
    up = [s for s in snapshots if s.reachable]
    firing = commander.alerts.engine.firing()
    took_s = commander.last_poll[1] / 1000  # the scheduler times the run only once it has returned
    print(time.strftime("%H:%M:%S"), f"cycle {job.runs}: {len(up)} of {len(snapshots)} miners answered in "
          f"{took_s:.2f} s, farm {farm_text(snapshots)}; {len(firing)} alerts firing, "
          f"{job.skipped} cycles skipped")
    print(poll_table(snapshots))
    _print_transitions(commander.last_transitions)
    print()


def _print_rigs(commander) -> None:
    """One line per sentries cycle: the rigs' GPUs, hashrates, the programs not answering."""
    rigs = commander.last_rigs
    up = [r for r in rigs if r.reachable]
    hashrates = ", ".join(_hashrate_parts(pair for r in up for pair in r.hashrate_by_algorithm_hs.items()))
    down = [f"{p.name} on {r.address}" for r in up for p in r.programs if not p.api_up]
    print(time.strftime("%H:%M:%S"), f"rigs: {len(up)} of {len(rigs)} sentries answered, "
          f"{sum(len(r.gpus) for r in up)} GPUs, {hashrates or 'no hashrate'}"
          + (f"; not answering: {', '.join(down)}" if down else ""))
    _print_transitions(commander.last_rig_transitions)


def _print_transitions(transitions) -> None:
    for transition in transitions:
        print(f"  ALERT {transition.kind.upper():8} {transition.alert.id}: {transition.alert.message}")


class Faults:
    """Something happens while the operator watches: two miners go wrong before the first poll; every
    EVERY cycles a healthy miner gets the next of FAULTS and the oldest fault is cleared, so alerts
    also resolve; once, a rig's mining program stops answering. Each request is a task of its own with
    a short timeout, so the commander's cycle never waits for the farm; a request that fails is one
    printed sentence."""

    FAULTS = ("dead_board", "overheating", "pool_down", "missing_chips")
    EVERY = 3
    RIG_CYCLE = 2  # the program stops after this cycle
    KEEP = 2  # faults the demo keeps in force; a new one clears the oldest beyond these
    TIMEOUT_S = 2.0

    def __init__(self, control: str | None, inventory: dict) -> None:
        self.control = control
        self.healthy = deque(row["ip"] for row in inventory["miners"]
                             if not row.get("faults") and row.get("boards", 0) > 1)
        self.rig = next(((row["ip"], row["programs"][0]["name"]) for row in inventory["rigs"]), None)
        self.injected: deque[tuple[str, str]] = deque()  # (address, fault), oldest first
        self.next_fault = 0
        self.tasks: set[asyncio.Task] = set()

    async def before_first_poll(self) -> None:
        """Its alerts fire within the first three cycles."""
        for _ in range(self.KEEP):
            await self._inject_next()
        print()

    def after_cycle(self, cycle: int) -> None:
        if self.control is None:
            return
        if cycle == self.RIG_CYCLE and self.rig is not None:
            ip, program = self.rig
            self._start(self._inject(ip, "api_down", {"program": program}))
        if cycle % self.EVERY == 0:
            self._start(self._rotate())

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _start(self, work) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _rotate(self) -> None:
        if len(self.injected) >= self.KEEP:
            ip, fault = self.injected.popleft()
            if await self._request("DELETE", f"/faults/{ip}", None, f"clear {fault} on {ip}"):
                print(f"demo: cleared {fault} on {ip}")
                if fault in self.FAULTS:  # a miner, healthy again (the rig's program fails once only)
                    self.healthy.append(ip)
        await self._inject_next()

    async def _inject_next(self) -> None:
        if self.control is None or not self.healthy:
            return
        fault = self.FAULTS[self.next_fault % len(self.FAULTS)]
        self.next_fault += 1
        await self._inject(self.healthy.popleft(), fault)

    async def _inject(self, ip: str, fault: str, params: dict | None = None) -> None:
        what = f"{fault} ({params['program']})" if params and "program" in params else fault
        if await self._request("POST", "/faults", {"ip": ip, "fault": fault, "params": params or {}},
                               f"inject {what} on {ip}"):
            print(f"demo: injected {what} on {ip}")
            self.injected.append((ip, what))

    async def _request(self, method: str, path: str, body: dict | None, doing: str) -> bool:
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.TIMEOUT_S) as client:
                answer = await client.request(method, f"{self.control}{path}", json=body)
        except httpx.HTTPError as exc:
            print(f"demo: could not {doing}: {str(exc) or type(exc).__name__}")
            return False
        if answer.status_code != 200:
            print(f"demo: could not {doing}: the farm answered {answer.status_code} {answer.text[:200]}")
            return False
        return True
