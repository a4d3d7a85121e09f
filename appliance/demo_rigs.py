"""The demo's rigs, and the processes the demo runs beside its commander.

For each rig simfarm emulates, what a real rig runs beside its mining programs: the rig sentry
(``python -m sentry_light.cli run``) writing the rig's snapshot, and an unprivileged snmpd on the
rig's address, on a free UDP port, serving that snapshot through the sentry's pass_persist
responder. Each rig has a folder of its own, ``<root>/rigs/<n>/``: sentry.toml, snmpd.conf, the
snapshot, a fake amdgpu sysfs tree (simfarm serves only the programs) and the logs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.mib import dotted, oid
from sentry_light.snmp import snmpd_conf
from simfarm.rigs.sentry import sentry_programs, write_amd_sysfs

SENTRY_INTERVAL_S = 5  # the sentry's collections; a real rig's default is 15
START_S = 30  # how long a rig's sentry and snmpd may take to start, all rigs together
STOP_S = 10  # how long a child may take to stop before it is killed


class RigsLeftOut(Exception):
    """The rigs cannot run here; the demo goes on with the miners. The message is one sentence."""


@dataclass(frozen=True)
class Rig:
    hostname: str
    host: str  # the rig's address, where its snmpd listens
    port: int  # snmpd's UDP port
    folder: Path


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    """A child in a session of its own: a Ctrl-C reaches only the demo, which stops each child itself
    (snmpd with the responder it forked)."""
    with log.open("w") as out:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Terminate every child (each with its process group), wait a while, kill what is left."""
    for process in reversed(processes):
        _signal(process, signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL)
            process.wait(timeout=STOP_S)
    processes.clear()


def _signal(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:  # it ended between the two calls
            pass


def find_snmpd() -> str | None:
    # Debian keeps snmpd in /usr/sbin, which is not on a user's PATH.
    return shutil.which("snmpd") or shutil.which("snmpd", path="/usr/sbin:/usr/bin")


async def start_rigs(root: Path, rows: list[dict[str, Any]], community: str,
                     processes: list[subprocess.Popen]) -> list[Rig]:
    """A sentry and an snmpd for each rig of the farm's inventory, once each sentry has written its
    snapshot and each snmpd listens. They join ``processes`` only when every rig started; else
    what started is stopped and RigsLeftOut says why."""
    snmpd = find_snmpd()
    if snmpd is None:
        raise RigsLeftOut("snmpd is not installed, so the rigs are left out (`sudo apt-get install snmpd` "
                          "brings them in)")
    started: list[subprocess.Popen] = []
    try:
        rigs = [_start_rig(root / "rigs" / str(n), row, community, snmpd, started) for n, row in enumerate(rows)]
        await _until_started(rigs, started)
    except BaseException:
        stop_all(started)
        raise
    processes.extend(started)
    return rigs


def _start_rig(folder: Path, row: dict[str, Any], community: str, snmpd: str,
               started: list[subprocess.Popen]) -> Rig:
    folder.mkdir(parents=True)
    rig = Rig(row["hostname"], row["ip"], _free_udp_port(row["ip"]), folder)
    (folder / "sentry.toml").write_text(_sentry_toml(rig, row))
    started.append(spawn([sys.executable, "-m", "sentry_light.cli", "-c", str(folder / "sentry.toml"), "run"],
                         folder / "sentry.log"))
    (folder / "snmpd.conf").write_text(_snmpd_conf(rig, community))
    persistent = folder / "snmpd-state"
    persistent.mkdir()
    started.append(spawn([snmpd, "-f", "-Lf", str(folder / "snmpd.log"), "-C", "-c", str(folder / "snmpd.conf"),
                          "-p", str(folder / "snmpd.pid"), "-I", "-smux", f"--persistentDir={persistent}",
                          f"udp:{rig.host}:{rig.port}"], folder / "snmpd.out"))
    return rig


def _sentry_toml(rig: Rig, row: dict[str, Any]) -> str:
    programs = sentry_programs(row)
    look_for = ", ".join(f'"{name}"' for name, _ in programs)
    ports = "\n".join(f"{name} = {port}" for name, port in programs)
    # Its own sysfs tree: the AMD cards the rig would have, and none of the host's.
    sysfs = write_amd_sysfs(rig.folder / "sys", row["gpus"])
    return f"""interval_s = {SENTRY_INTERVAL_S}
timeout_s = 2
hostname = "{rig.hostname}"
snapshot_path = "{rig.folder / 'rig.json'}"
sysfs_root = "{sysfs}"

[programs]
host = "{rig.host}"
look_for = [{look_for}]

[programs.ports]
{ports}
"""


def _snmpd_conf(rig: Rig, community: str) -> str:
    """Read-only v2c on the rig's subtree for loopback (where the commander's requests come from),
    then the sentry's own pass_persist block."""
    command = f"{snmpd_conf.responder_command(rig.folder / 'rig.json')} --log-file {rig.folder / 'responder.log'}"
    return (f"rocommunity {community} 127.0.0.1 {dotted(oid('mwRigObjects'))}\n"
            + snmpd_conf.block(rig.folder / "rig.json", command=command))


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


async def _until_started(rigs: list[Rig], started: list[subprocess.Popen]) -> None:
    """Each sentry has written its snapshot, each snmpd its pid file (it does so once it listens)."""
    deadline = time.monotonic() + START_S
    for rig, sentry, snmpd in zip(rigs, started[0::2], started[1::2], strict=True):
        for process, ready, log in ((sentry, rig.folder / "rig.json", rig.folder / "sentry.log"),
                                    (snmpd, rig.folder / "snmpd.pid", rig.folder / "snmpd.log")):
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    name = "sentry" if process is sentry else "snmpd"
                    raise RigsLeftOut(f"the {name} of {rig.hostname} did not start, so the rigs are left out "
                                      f"(see {log})")
                await asyncio.sleep(0.1)
