"""The bench's child processes: simfarm farms and client workers, pinned, bounded, always reaped.

Every child starts in a session of its own, so stopping it reaches whatever it started too, and
only what this bench started is ever signalled. The farm gets one CPU and the client under test
the other, so neither steals the other's time and the figures mean the same from run to run.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FARM_STOP_S = 30  # a farm of 10,000 closes 25,000 listeners; then it is killed
PORTS_PER_MINER = 3  # at most: RPC, web, Whatsminer's 4433
FARM_FD_HEADROOM = 1024 + 100  # what simfarm keeps for connections, and what Python itself opens


def cpu_plan() -> tuple[int | None, int | None, str]:
    """(farm CPU, client CPU, sentence): one each where there are two, else no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"only {len(cpus)} CPU available: farm and client share it (figures are lower)"
    return cpus[0], cpus[1], f"farm on CPU {cpus[0]}, client on CPU {cpus[1]}"


def farm_capacity() -> tuple[int | None, str]:
    """The most miners one farm process can serve here, and why; None: no limit that matters.

    simfarm raises its own open-files limit, past the hard limit too where it may (root with
    CAP_SYS_RESOURCE); whether it may is tried in a throwaway child, never in the bench itself.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return None, "no open-files hard limit"
    wanted = 1 << 20
    probe = subprocess.run([sys.executable, "-c", "import resource, sys; n = int(sys.argv[1]); "
                            "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))", str(wanted)],
                           capture_output=True, timeout=30)
    if probe.returncode == 0:
        return None, f"a farm may raise its open-files limit to {wanted:,}"
    return ((hard - FARM_FD_HEADROOM) // PORTS_PER_MINER,
            f"the open-files hard limit is {hard:,} and cannot be raised here")


def _environment() -> dict[str, str]:
    # The tree under test comes first, whatever the editable install last saw.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn(argv: list[str], cpu: int | None, **kwargs: Any) -> subprocess.Popen:
    # preexec_fn is safe here: the bench's own process runs no threads.
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    return subprocess.Popen(argv, cwd=ROOT, env=_environment(), start_new_session=True,
                            preexec_fn=pin, **kwargs)


def _kill(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)  # its own session: the farm or worker and nothing else


def reap(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM, ``grace_s`` to exit, then SIGKILL; returns once the process is gone."""
    if process.poll() is None:
        _kill(process, signal.SIGTERM)
        try:
            process.wait(grace_s)
            return
        except subprocess.TimeoutExpired:
            pass
    _kill(process, signal.SIGKILL)  # also reaches any child left in the session
    process.wait()


class FarmError(RuntimeError):
    """A farm that did not start; the message is one sentence for the report."""


class Farm:
    """``python -m simfarm`` in its own process: ``with Farm(...) as farm:`` waits for its inventory."""

    def __init__(self, miners: int, base: str, mix: str, cpu: int | None, workdir: Path, seed: int = 1,
                 hostile: float = 0.0) -> None:
        self.miners, self.base = miners, base
        name = f"{base}-hostile" if hostile else base
        self.inventory_path = workdir / f"inventory-{name}.json"
        self.log_path = workdir / f"farm-{name}.log"
        self.argv = [sys.executable, "-m", "simfarm", "--miners", str(miners), "--mix", mix, "--base", base,
                     "--seed", str(seed), "--hostile", str(hostile), "--inventory", str(self.inventory_path)]
        self.cpu = cpu
        self.process: subprocess.Popen | None = None
        self.inventory: dict[str, Any] = {}
        self.started_s = 0.0
        self.leftover: str | None = None  # a sentence if a listener outlived the farm

    def __enter__(self) -> Farm:
        clock = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = spawn(self.argv, self.cpu, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(60 + self.miners / 100)  # building and binding: ~1 s per 1,000 miners
        except BaseException:
            self.stop()
            raise
        self.started_s = time.perf_counter() - clock
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, limit_s: float) -> None:
        # The farm writes its inventory (by atomic rename) once every listener is bound.
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.inventory_path.exists():
                self.inventory = json.loads(self.inventory_path.read_text())
                return
            if self.process.poll() is not None:
                raise FarmError(f"the farm of {self.miners:,} miners exited at start: {self.log_tail()}")
            time.sleep(0.2)
        raise FarmError(f"the farm of {self.miners:,} miners did not write its inventory within {limit_s:.0f} s")

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines() if self.log_path.exists() else []
        return lines[-1] if lines else "(no output)"

    def stop(self) -> None:
        if self.process is None:
            return
        reap(self.process, FARM_STOP_S)
        self.process = None
        miners = self.inventory.get("miners") or []
        first = next((row for row in miners if row.get("ports", {}).get("rpc")), None)
        if first and _accepts(first["ip"], first["ports"]["rpc"]):
            self.leftover = f"{first['ip']}:{first['ports']['rpc']} still accepts connections after the farm stopped"


def start_farms(miners: int, first_octet: int, mix: str, cpu: int | None, root: Path) -> tuple[list[Farm], list[dict]]:
    """``miners`` in as many farm processes as the open-files limit asks, the n-th from
    127.<first_octet + n>.0.1; the farms (stop each) and every miner's inventory row."""
    capacity, _ = farm_capacity()
    per_farm = min(miners, capacity or miners)
    farms, rows = [], []
    try:
        for index, start in enumerate(range(0, miners, per_farm)):
            (root / f"farm{index}").mkdir()
            farm = Farm(min(per_farm, miners - start), f"127.{first_octet + index}.0.1", mix, cpu, root / f"farm{index}")
            farm.__enter__()
            farms.append(farm)
            rows += farm.inventory["miners"]
    except BaseException:
        for farm in farms:
            farm.stop()
        raise
    return farms, rows


def _accepts(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=1):
            return True
    except OSError:
        return False


def run_worker(module: str, args: list[str], cpu: int | None, limit_s: float) -> dict[str, Any]:
    """``python -m module args`` pinned to ``cpu``; its JSON result, or ``{"error": sentence}``."""
    with tempfile.TemporaryFile() as err:
        process = spawn([sys.executable, "-m", module, *args], cpu, stdout=subprocess.PIPE, stderr=err)
        try:
            out, _ = process.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish within {limit_s:.0f} s (stopped)"}
        finally:
            reap(process, 5)
        err.seek(0)
        stderr = err.read().decode(errors="replace").strip().splitlines()
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        why = stderr[-1] if stderr else "no output"
        return {"error": f"exited with status {process.returncode} and no result ({why})"}
    if "error" in result and stderr:
        result["stderr_tail"] = stderr[-5:]
    return result
