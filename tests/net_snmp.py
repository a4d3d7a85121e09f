"""Real net-snmp for the SNMP tests: an snmpd on a free loopback port, with a v2c community and a v3
user, running the pass_persist lines a test gives it; and the options that make net-snmp's tools
load MINERWATCH-MIB. The rig's and the commander's tests both start theirs from here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, require

MIB_DIR = REPO / "packaging" / "mibs"
COMMUNITY = "public"
WRITE_COMMUNITY = "private"
V3_USER, V3_AUTH, V3_PRIV = "mwtest", "auth-passphrase-1", "priv-passphrase-1"


def shared_mibs() -> Path:
    """The IETF base MIBs Debian's main archive lacks: ../shared/mibs, or MINERWATCH_SHARED_MIBS."""
    return Path(os.environ.get("MINERWATCH_SHARED_MIBS", REPO.parent / "shared" / "mibs"))


def tool(name: str) -> str:
    """A net-snmp or libsmi program; skipped here, failed in CI, when it is not installed."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    require(path is not None, f"{name} (Debian: snmpd snmp snmptrapd smitools)")
    assert path is not None
    return path


def mib_args() -> list[str]:
    """Options that make net-snmp's tools load MINERWATCH-MIB and the base MIBs it imports."""
    require(shared_mibs().is_dir(), f"the shared IETF MIBs ({shared_mibs()})")
    return ["-M", f"+{MIB_DIR}:{shared_mibs()}", "-m", "+MINERWATCH-MIB"]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path: Path, data: dict) -> None:
    """Replace ``path`` atomically, as the sentry and the commander write theirs."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


@dataclass
class Agent:
    port: int
    file: Path  # what the responder serves
    responder_log: Path
    snmpd_log: Path
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def query(self, program: str, *oids: str, options: Sequence[str] = (),
              auth: Sequence[str] = ("-v2c", "-c", COMMUNITY), timeout: float = 20) -> subprocess.CompletedProcess:
        """A net-snmp client (snmpget, snmpwalk, ...) against this agent; stdout and stderr as text."""
        return subprocess.run([tool(program), *auth, "-t", "2", "-r", "1", *options, self.address, *oids],
                              capture_output=True, check=False, text=True, timeout=timeout)

    def responder_pids(self) -> list[int]:
        """The responders snmpd runs now: its children (snmpd forks nothing else here)."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids += [int(pid) for pid in children]
        return pids


def start_snmpd(directory: Path, conf_lines: Sequence[str], file: Path, responder_log: Path, probe: str) -> Agent:
    """snmpd with ``conf_lines`` (the pass_persist lines) after the test's access lines, once it
    answers a GET of ``probe`` (a dotted OID the responder serves)."""
    snmpd = tool("snmpd")
    port = free_udp_port()
    persistent = directory / "persistent"
    persistent.mkdir(exist_ok=True)
    conf = directory / "snmpd.conf"
    conf.write_text("\n".join((
        f"rocommunity {COMMUNITY} 127.0.0.1",
        f"rwcommunity {WRITE_COMMUNITY} 127.0.0.1",
        f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"',
        f"rouser {V3_USER} priv",
        *conf_lines,
    )) + "\n")
    snmpd_log = directory / "snmpd.log"
    process = subprocess.Popen(
        [snmpd, "-f", "-Lf", str(snmpd_log), "-C", "-c", str(conf), "-p", str(directory / "snmpd.pid"),
         "-I", "-smux", f"--persistentDir={persistent}", f"udp:127.0.0.1:{port}"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    agent = Agent(port, file, responder_log, snmpd_log, process)
    deadline = time.monotonic() + 15
    while True:
        answer = subprocess.run([tool("snmpget"), "-v2c", "-c", COMMUNITY, "-t", "0.5", "-r", "0", "-On",
                                 agent.address, probe], capture_output=True, check=False, text=True)
        if answer.returncode == 0 and "No Such" not in answer.stdout:
            return agent
        if process.poll() is not None or time.monotonic() > deadline:
            stop_snmpd(agent)
            log = snmpd_log.read_text() if snmpd_log.exists() else ""
            raise RuntimeError(f"snmpd did not serve {probe} on {agent.address}: {answer.stdout}"
                               f"{answer.stderr}\n{log[-2000:]}")
        time.sleep(0.1)


def stop_snmpd(agent: Agent) -> None:
    if agent.process.poll() is None:
        os.killpg(agent.process.pid, signal.SIGTERM)
        try:
            agent.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(agent.process.pid, signal.SIGKILL)
            agent.process.wait(timeout=5)
