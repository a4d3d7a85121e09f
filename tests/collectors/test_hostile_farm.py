"""One bad miner must never blind the farm (issue 9): ``minerwatch poll`` and ``minerwatch scan``, run
as the real CLI process, against an emulated farm of every make where a third of the miners attack
their monitor (simfarm's ``hostile`` fault, every attack in turn), over real sockets.

Every address is reported as one strict JSON object, every good miner as the farm has it, and the
process stays within bounds of time and memory whatever the hostile ones send.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collectors.asic import DRIVERS
from collectors.asic.models import lookup_model
from simfarm.asic import MAKES
from simfarm.faults import ATTACKS
from simfarm.farm import Farm
from tests.simfarm.conftest import free_base

pytestmark = pytest.mark.slow

TIMEOUT_S = 5  # per device, as the CLI takes it
MAX_WALL_S = 60.0  # not a benchmark: an unbounded parse takes minutes, an exhausted memory never ends
MAX_RSS_MB = 300  # the CLI's peak: 150 MB polling nothing, 180 MB here; a trusted fan_num of 1e11 takes it all
ADDRESS_SPACE = 4 << 30  # while the collectors are wrong, the CLI may not take the test machine with it
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # what a Parquet int64 column holds


@dataclass
class Finished:
    returncode: int
    lines: list[str]
    stderr: str
    wall_s: float
    max_rss_mb: float


# Runs the command and writes its peak RSS (KiB) where told: the kernel counts in a process's peak
# the memory of the process it was forked from, so the command is forked from this small one, not
# from the test's (which holds the farm).
_MEASURE = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(code)")


def run_measured(argv: list[str], workdir: Path, limit_s: float) -> Finished:
    """``argv`` as a process of its own, with its wall time and its peak RSS."""
    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    peak = workdir / "peak-rss-kib"
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", _MEASURE, str(peak), *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=bounded)
    try:
        out, err = process.communicate(timeout=2 * limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its session: the command too; the wall time says why
        out, err = process.communicate()
    wall_s = time.monotonic() - started
    return Finished(process.returncode, out.splitlines(), err, wall_s,
                    int(peak.read_text()) / 1024 if peak.exists() else float("inf"))


def strict(line: str) -> dict[str, Any]:
    """A line of ``--json`` output, read as strictly as the JSON standard: no NaN, no Infinity."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    document = json.loads(line, parse_constant=refuse)
    assert isinstance(document, dict), line[:200]
    return document


def integers(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in integers(v)]
    if isinstance(value, list):
        return [n for v in value for n in integers(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


@pytest.fixture
async def hostile_farm(tmp_path: Path) -> AsyncIterator[tuple[Farm, Path]]:
    """Three miners of every make, a third of them hostile, and the credentials file of the farm."""
    async with Farm(miners=3 * len(MAKES), mix={name: 1.0 for name in MAKES}, base=free_base(), seed=11,
                    web_port=8080, hostile_rate=1 / 3) as farm:
        logins = {row["driver"]: (row["web_user"], row["web_password"] or "") for row in farm.inventory()
                  if row.get("web_user")}
        credentials = tmp_path / "credentials.toml"
        credentials.write_text("".join(f'[{driver}]\nusername = "{user}"\npassword = "{password}"\n'
                                       for driver, (user, password) in sorted(logins.items())))
        credentials.chmod(0o600)
        yield farm, credentials


def hostile(farm: Farm) -> dict[str, str]:
    return {row["ip"]: row["faults"]["hostile"]["attack"] for row in farm.inventory() if "hostile" in row["faults"]}


async def minerwatch(command: str, farm: Farm, credentials: Path, workdir: Path, *targets: str) -> Finished:
    argv = [sys.executable, "-m", "appliance.cli", command, *targets, "--json", "--timeout", str(TIMEOUT_S),
            "--web-port", str(farm.web_port), "--credentials", str(credentials)]
    return await asyncio.to_thread(run_measured, argv, workdir, MAX_WALL_S)


def within_bounds(done: Finished) -> None:
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.wall_s < MAX_WALL_S, f"took {done.wall_s:.0f} s"
    assert done.max_rss_mb < MAX_RSS_MB, f"peak RSS {done.max_rss_mb:.0f} MB"


async def test_poll_reports_every_miner_and_every_good_one_right(hostile_farm, tmp_path):
    farm, credentials = hostile_farm
    bad = hostile(farm)
    assert len(bad) == len(farm.miners) // 3 and set(bad.values()) == set(ATTACKS)
    ips = list(farm.miners)
    done = await minerwatch("poll", farm, credentials, tmp_path, *ips)
    within_bounds(done)
    snapshots = [strict(line) for line in done.lines]
    assert [s["ip"] for s in snapshots] == ips
    for snap in snapshots:
        assert all(INT64_MIN <= n <= INT64_MAX for n in integers(snap)), snap["ip"]
        row, attack = farm.row(snap["ip"]), bad.get(snap["ip"])
        where = f"{snap['ip']} ({row['driver']}{', ' + attack if attack else ''})"
        if snap["reachable"]:
            assert snap["error"] is None, where
        else:
            assert snap["ip"] in snap["error"] and "\n" not in snap["error"] and len(snap["error"]) < 300, where
        if attack:
            continue
        state = farm.miners[snap["ip"]].state
        assert snap["reachable"], f"{where}: {snap['error']}"
        assert (snap["make"], snap["firmware"]) == (row["make"], DRIVERS[row["driver"]].firmware), where
        assert lookup_model(snap["model"]) == lookup_model(row["model"]), where  # "DG1+" is "Elphapex DG1+"
        assert len(snap["boards"]) == row["boards"] and snap["dropped_fields"] == [], where
        assert snap["hashrate_hs"] == pytest.approx(state.hashrate_hs, rel=0.05), where


async def test_scan_reports_every_address_and_identifies_every_good_miner(hostile_farm, tmp_path):
    farm, credentials = hostile_farm
    bad = hostile(farm)
    network = next(iter(farm.miners)).rsplit(".", 1)[0] + ".0/24"
    done = await minerwatch("scan", farm, credentials, tmp_path, network)
    within_bounds(done)
    found = {row["ip"]: row for row in map(strict, done.lines)}
    assert set(found) == set(farm.miners)  # every miner listens, hostile or not
    for ip, row in found.items():
        if ip in bad:
            assert row["driver"] is not None or (ip in row["error"] and "\n" not in row["error"]), row
        else:
            assert row["driver"] == farm.row(ip)["driver"], row
