"""SNMP bench: the sentry's responder under real snmpd, and the commander's collector on 1,000 rigs.

1. **walk**: one snmpd with the pass_persist responder serving a 12-GPU rig; a full walk of
   MINERWATCH-MIB by net-snmp's ``snmpbulkwalk`` (a process per walk, start-up included) and by
   pysnmp (``collectors.transport.snmp.bulk_walk``, in process). Goal: < 100 ms through snmpd.
2. **poll**: 1,000 rigs polled by ``collectors.rig.poll_rigs`` (one GET per rig: the snapshot JSON).
   The 1,000 rigs are 1,000 agent addresses (127.78.x.y:16100), served by a few snmpd instances,
   each listening on its share of the addresses with its own responder. So the commander does all
   its per-rig work as on a farm (1,000 targets, one request and one 2-chunk answer each, its
   per-target state); only the serving side is pooled. Here that side shares this machine's CPUs
   with the commander, which a farm's 1,000 rigs do not: the wall time is pessimistic, and the
   commander's own CPU time is the figure that scales. Goal: < 10 s.
   v3 authPriv is timed too; there the instances' engine IDs are shared by their addresses, so
   USM key localisation runs once per instance rather than once per rig (first round only).
3. **farm rebuild**: the commander's responder reading a new farm document of 10,000 miners
   (about 150,000 cells): JSON, layout and the sorted rows, which snmpd waits for at the first
   request after each poll cycle. Goal: < 500 ms.
4. **farm walk**: a full ``snmpbulkwalk`` of mwMinerTable for 1,000 miners through snmpd and the
   commander's responder (a process per walk, start-up included), as an NMS polls the table.

Run: ``.venv/bin/python bench/snmp.py`` (or ``BENCH_QUICK=1`` for 200 rigs). It needs snmpd and
snmpbulkwalk (Debian: snmpd snmp). It prints one line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from appliance.snmp import cli as farm_cli
from appliance.snmp.responder import Farm
from collectors.mib import BASE, dotted, oid
from collectors.rig import poll_rigs
from collectors.transport.snmp import SnmpClient, SnmpTarget
from simfarm.samples.farm_document import big_farm
from simfarm.samples.rig import twelve_gpu_rig

ROOT = Path(__file__).resolve().parent.parent
PORT = 16100
V3_USER, V3_AUTH, V3_PRIV = "bench", "bench-auth-passphrase", "bench-priv-passphrase"
GOAL_WALK_MS = 100
GOAL_POLL_S = 10
GOAL_REBUILD_MS = 500


class SnmpdError(Exception):
    """One sentence on why an snmpd of the bench did not start."""


@contextmanager
def snmpd(directory: Path, addresses: list[str], conf_lines: list[str], probe: str) -> Iterator[None]:
    """An snmpd with ``conf_lines`` (its pass_persist lines) on every ``host:port`` of ``addresses``,
    once it answers a GET of ``probe``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "persistent").mkdir(exist_ok=True)
    conf = directory / "snmpd.conf"
    conf.write_text("\n".join((
        "rocommunity public 127.0.0.0/8",
        f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"',
        f"rouser {V3_USER} priv",
        *conf_lines,
    )) + "\n")
    process = subprocess.Popen(
        [shutil.which("snmpd") or "/usr/sbin/snmpd", "-f", "-Lf", str(directory / "snmpd.log"), "-C", "-c",
         str(conf), "-p", str(directory / "snmpd.pid"), "-I", "-smux",
         f"--persistentDir={directory / 'persistent'}", ",".join(f"udp:{a}" for a in addresses)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        _wait_until_serving(process, addresses[-1], probe)
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def sentry(directory: Path, snapshot: Path, addresses: list[str]) -> AbstractContextManager[None]:
    """An snmpd serving ``snapshot`` through the sentry's responder."""
    line = f"pass_persist .{dotted(BASE)} {sys.executable} -m sentry_light.snmp.pass_persist --snapshot {snapshot}"
    return snmpd(directory, addresses, [line], f".{dotted(oid('mwSentryStatus'))}.0")


def _wait_until_serving(process: subprocess.Popen, address: str, probe: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SnmpdError(f"snmpd exited at start (status {process.returncode}) for {address}")
        answer = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0", address, probe],
                                capture_output=True, check=False, text=True)
        if answer.returncode == 0 and "No Such" not in answer.stdout:
            return
        time.sleep(0.1)
    raise SnmpdError(f"snmpd did not serve MINERWATCH-MIB on {address} within 30 s")


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def bench_walk(work: Path, snapshot: Path, runs: int) -> dict:
    address = f"127.0.0.1:{PORT}"
    with sentry(work / "walk", snapshot, [address]):
        net_snmp, cells = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            walk = subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr25", address, f".{dotted(BASE)}"],
                                  capture_output=True, text=True, check=True)
            net_snmp.append(time.perf_counter() - started)
            cells = len(walk.stdout.splitlines())

        async def pysnmp_walks() -> tuple[list[float], int]:
            client, times, count = SnmpClient(), [], 0
            try:
                target = SnmpTarget("127.0.0.1", PORT)
                await client.bulk_walk(target, BASE)  # engine and transport set up, untimed
                for _ in range(runs):
                    started = time.perf_counter()
                    count = len(await client.bulk_walk(target, BASE))
                    times.append(time.perf_counter() - started)
            finally:
                client.close()
            return times, count

        pysnmp, pysnmp_cells = asyncio.run(pysnmp_walks())
    return {"cells": cells, "snmpbulkwalk_ms": _median_ms(net_snmp), "pysnmp_cells": pysnmp_cells,
            "pysnmp_ms": _median_ms(pysnmp)}


def bench_poll(work: Path, snapshot: Path, rigs: int, instances: int, rounds: int, concurrency: int,
               version: str) -> dict:
    addresses = [f"127.78.{n // 250}.{n % 250 + 1}:{PORT}" for n in range(rigs)]
    shares = [addresses[i::instances] for i in range(instances)]
    if version == "3":
        targets = [SnmpTarget(a.split(":")[0], PORT, version="3", user=V3_USER, auth_key=V3_AUTH, priv_key=V3_PRIV)
                   for a in addresses]
    else:
        targets = [SnmpTarget(a.split(":")[0], PORT) for a in addresses]

    async def rounds_of_polls() -> dict:
        client = SnmpClient()
        try:
            started = time.perf_counter()
            first = await poll_rigs(targets, concurrency, client=client)
            cold_s = time.perf_counter() - started
            walls, cpus, answered = [], [], []
            for _ in range(rounds):
                before = resource.getrusage(resource.RUSAGE_SELF)
                started = time.perf_counter()
                got = await poll_rigs(targets, concurrency, client=client)
                walls.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                answered.append(sum(s.reachable and len(s.gpus) == 12 for s in got))
        finally:
            client.close()
        errors = sorted({s.error for s in first if s.error})[:3]
        return {"cold_s": round(cold_s, 2), "wall_s": round(statistics.median(walls), 2),
                "commander_cpu_s": round(statistics.median(cpus), 2), "answered": min(answered),
                "first_round_errors": errors}

    with _all(work / f"poll-v{version}", snapshot, shares):
        result = asyncio.run(rounds_of_polls())
    return {"rigs": rigs, "instances": instances, "concurrency": concurrency, "version": version, **result}


@contextmanager
def _all(work: Path, snapshot: Path, shares: list[list[str]]) -> Iterator[None]:
    with ExitStack() as stack:
        for number, share in enumerate(shares):
            stack.enter_context(sentry(work / str(number), snapshot, share))
        yield


def bench_farm_rebuild(work: Path, miners: int, runs: int) -> dict:
    """The commander's responder re-reading a farm document that changed, as at each poll cycle."""
    path = work / "farm-rebuild.json"
    path.write_text(json.dumps(big_farm(miners, written_at=time.time())))
    farm = Farm(path)
    times = []
    for run in range(runs):
        os.utime(path, ns=(run, run))  # a new stat: the next refresh reads the file again
        started = time.perf_counter()
        farm.refresh()
        times.append(time.perf_counter() - started)
    return {"miners": miners, "cells": len(farm), "rebuild_ms": _median_ms(times)}


def bench_farm_walk(work: Path, miners: int, runs: int) -> dict:
    """A full GETBULK walk of mwMinerTable through snmpd and the commander's responder."""
    path = work / "farm-walk.json"
    path.write_text(json.dumps(big_farm(miners, written_at=time.time())))
    address = f"127.0.0.1:{PORT + 1}"
    table = f".{dotted(oid('mwMinerTable'))}"
    command = ["snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr25", address, table]
    with snmpd(work / "farm", [address], farm_cli.block(path).splitlines(), f".{dotted(oid('mwFarmHaRole'))}.0"):
        subprocess.run(command, capture_output=True, check=True)  # the responder's first read, untimed
        times, cells = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            walk = subprocess.run(command, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - started)
            cells = len(walk.stdout.splitlines())
    return {"miners": miners, "cells": cells, "snmpbulkwalk_ms": _median_ms(times)}


def main(argv: list[str] | None = None) -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rigs", type=int, default=200 if quick else 1000)
    parser.add_argument("--instances", type=int, default=4, help="snmpd processes serving the rigs")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2 if quick else 3)
    parser.add_argument("--json", action="store_true", help="also print every figure as one JSON line")
    args = parser.parse_args(argv)
    missing = [name for name in ("snmpd", "snmpbulkwalk", "snmpget") if not (shutil.which(name) or
                                                                          shutil.which(name, path="/usr/sbin"))]
    if missing:
        print(f"bench/snmp.py: {', '.join(missing)} not installed (Debian: apt-get install snmpd snmp)",
              file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    with tempfile.TemporaryDirectory(prefix="minerwatch-bench-snmp-") as temporary:
        work = Path(temporary)
        snapshot = work / "snapshot.json"
        snapshot.write_text(json.dumps(twelve_gpu_rig(collected_at=time.time()).to_dict()))
        try:
            walk = bench_walk(work, snapshot, runs=5)
            polls = [bench_poll(work, snapshot, args.rigs, args.instances, args.rounds, args.concurrency, version)
                     for version in ("2c", "3")]
            rebuild = bench_farm_rebuild(work, miners=10_000, runs=3 if quick else 7)
            farm_walk = bench_farm_walk(work, miners=1_000, runs=3 if quick else 5)
        except (SnmpdError, subprocess.CalledProcessError) as exc:
            print(f"bench/snmp.py: {exc}", file=sys.stderr)
            return 1
    verdict = "met" if walk["snmpbulkwalk_ms"] < GOAL_WALK_MS and walk["pysnmp_ms"] < GOAL_WALK_MS else "missed"
    print(f"full walk, 12-GPU rig ({walk['cells']} cells)  snmpbulkwalk {walk['snmpbulkwalk_ms']} ms "
          f"(process start included)  pysnmp {walk['pysnmp_ms']} ms "
          f"({round(walk['pysnmp_cells'] / walk['pysnmp_ms'] * 1000):,} cells/s)  goal < {GOAL_WALK_MS} ms: {verdict}")
    for poll in polls:
        verdict = "met" if poll["wall_s"] < GOAL_POLL_S and poll["answered"] == poll["rigs"] else "missed"
        print(f"poll {poll['rigs']:,} rigs, SNMPv{poll['version']}  {poll['wall_s']} s "
              f"({round(poll['rigs'] / poll['wall_s']):,} rigs/s, {poll['answered']}/{poll['rigs']} answered)  "
              f"commander CPU {poll['commander_cpu_s']} s  first round {poll['cold_s']} s  "
              f"({poll['instances']} snmpd, {poll['concurrency']} in flight)  goal < {GOAL_POLL_S} s: {verdict}")
        for error in poll["first_round_errors"]:
            print(f"    first round: {error}")
    verdict = "met" if rebuild["rebuild_ms"] < GOAL_REBUILD_MS else "missed"
    print(f"farm rebuild, {rebuild['miners']:,} miners ({rebuild['cells']:,} cells)  {rebuild['rebuild_ms']} ms  "
          f"goal < {GOAL_REBUILD_MS} ms: {verdict}")
    print(f"walk mwMinerTable, {farm_walk['miners']:,} miners ({farm_walk['cells']:,} cells)  snmpbulkwalk "
          f"{farm_walk['snmpbulkwalk_ms']} ms (process start included, "
          f"{round(farm_walk['cells'] / farm_walk['snmpbulkwalk_ms'] * 1000):,} cells/s)")
    if args.json:
        print(json.dumps({"walk": walk, "poll": polls, "farm_rebuild": rebuild, "farm_walk": farm_walk}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
