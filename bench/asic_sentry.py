"""The ASIC sentry tier (issue 12): what a sentry costs to poll its site, what the commander costs to
ingest four of them, and how fast it catches up after a link outage.

Goals: a sentry polls 5,000 miners at 30 s with < 50 % of a core; the commander ingests 4 sentries
of 5,000 miners each at 30 s with < 1 core; after a 1-hour outage of a 5,000-miner site the
commander has caught up in < 60 s. Run: ``.venv-bench/bin/python -m bench.asic_sentry``
(``BENCH_QUICK=1``: 500 miners).

- The sentry: ``AsicSentryService`` here, polling a simfarm farm (its own processes on the other
  CPU) with every miner configured; the first cycle fetches identities, the next two are timed.
- The backlog and the four sentries are synthetic, built from the sentry's last real cycle: each
  of the four gets its own addresses and MACs (so 20,000 distinct miners), and the outage is 120
  copies of that cycle under consecutive times, served by the sentry's real API over mutual TLS
  on loopback. The commander is the real ``Commander`` pulling, storing and judging them.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path

import uvloop

from appliance.commander import Commander
from appliance.config import load
from appliance.pki import init, issue, issued, pki_dir
from appliance.tls import server_context
from asic_sentry.api import Api
from asic_sentry.buffer import Buffer, listing, read_cycle
from asic_sentry.service import AsicSentryService
from bench.procs import cpu_plan, farm_capacity, start_farms

QUICK = bool(os.environ.get("BENCH_QUICK"))
MINERS = 500 if QUICK else 5000
SENTRIES = 4
INTERVAL_S = 30
OUTAGE_CYCLES = 120  # one hour at 30 s
MIX = "antminer=25,whatsminer=25,braiins=25,avalon=25"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    secrets = path.parent / "secrets.toml"
    secrets.write_text("")
    secrets.chmod(0o600)
    return path


def sentry_config(root: Path, miners: list[dict], pki: Path, name: str) -> Path:
    issued_dir = pki / "issued"
    lines = [f'[commander]\nstate_dir = "{root / "state"}"\n', "[discovery]\nconcurrency = 200\ntimeout_s = 5.0\n",
             f"[intervals]\npoll_s = {INTERVAL_S}\ndiscovery_s = 0\n",
             f'[asic_sentry]\nname = "{name}"\nlisten = "127.0.0.1:{free_port()}"\ntls_cert = "{issued_dir / f"{name}.crt"}"\n'
             f'tls_key = "{issued_dir / f"{name}.key"}"\ntls_ca = "{pki / "ca.crt"}"\n']
    lines += [f'[[miners]]\nip = "{m["ip"]}"\ndriver = "{m["driver"]}"\n' for m in miners]
    return write(root / "asic-sentry.toml", "\n".join(lines))


async def poll_site(config_path: Path, web_port: int) -> dict:
    """Three cycles of the sentry; CPU and wall of the last two."""
    async with AsicSentryService(load(config_path), web_port=web_port) as sentry:
        await sentry.poll_cycle()  # identities (MAC, serial) are fetched once
        spent, took = [], []
        for _ in range(2):
            cpu, wall = cpu_s(), time.perf_counter()
            await sentry.poll_cycle()
            spent.append(cpu_s() - cpu)
            took.append(time.perf_counter() - wall)
        newest = listing(sentry.buffer.directory)[-1]
    return {"cpu_s": max(spent), "wall_s": max(took), "cycle": newest.path.read_bytes(), "bytes": newest.size}


def synthetic_sentry(root: Path, name: str, number: int, base_cycle: bytes, cycles: int, start: float) -> Buffer:
    """A sentry's buffer of ``cycles`` copies of ``base_cycle`` with its own addresses and MACs."""
    records = read_cycle(base_cycle)
    for i, record in enumerate(records):
        record["ip"] = f"10.{100 + number}.{i // 250}.{i % 250 + 1}"
        record["mac"] = f"02:{number:02X}:{i >> 16 & 255:02X}:{i >> 8 & 255:02X}:{i & 255:02X}:00"
        record["key"] = record["mac"]
    buffer = Buffer(root / name / "buffer", max_bytes=10**12, reserve_bytes=0)
    for c in range(cycles):
        buffer.append(start + c * INTERVAL_S, records)
    return buffer


def commander_config(root: Path, links: list[tuple[str, int, str]]) -> Path:
    text = f'[commander]\nstate_dir = "{root / "state"}"\n[intervals]\npoll_s = {INTERVAL_S}\ndiscovery_s = 0\n'
    for name, port, fingerprint in links:
        text += f'[[asic_sentries]]\nname = "{name}"\nurl = "https://127.0.0.1:{port}"\nfingerprint = "{fingerprint}"\n'
    return write(root / "commander.toml", text)


async def ingest(config_path: Path, pki_from: Path) -> dict:
    """The commander pulling until caught up: each run's CPU and wall."""
    config = load(config_path)
    config.state_dir.mkdir(parents=True)
    (config.state_dir / "pki").symlink_to(pki_from)
    runs = []
    async with Commander(config) as commander:
        while True:
            cpu, wall = cpu_s(), time.perf_counter()
            await commander.pull_asic_sentries()
            runs.append((cpu_s() - cpu, time.perf_counter() - wall))
            if all(c.behind == 0 for c in commander.asic_cursors.values()) or len(runs) > 50:
                break
        cursors = {name: c.seq for name, c in commander.asic_cursors.items()}
    return {"runs": runs, "cursors": cursors}


def serve(buffers: dict[str, Buffer], pki: Path) -> list[Api]:
    apis = []
    for name, buffer in buffers.items():
        context = server_context(str(pki / "issued" / f"{name}.crt"), str(pki / "issued" / f"{name}.key"),
                              str(pki / "ca.crt"))
        api = Api(("127.0.0.1", 0), context, buffer, lambda b=buffer: {"buffer": b.stats()})
        api.start()
        apis.append(api)
    return apis


def main() -> int:
    farm_cpu, client_cpu, plan = cpu_plan()
    _, why = farm_capacity()
    with tempfile.TemporaryDirectory(prefix="minerwatch-bench-asic-sentry-") as folder:
        root = Path(folder)
        init(root / "ca", "bench")
        names = [f"site{n}" for n in range(SENTRIES)]
        for name in names:
            issue(root / "ca", name, "sentry", ["127.0.0.1"])
        issue(root / "ca", "commander", "commander", [])
        pki = pki_dir(root / "ca")
        fingerprints = {made.name: made.fingerprint for made in issued(root / "ca")}
        farms, miners = start_farms(MINERS, 110, MIX, farm_cpu, root)
        try:
            if client_cpu is not None:
                os.sched_setaffinity(0, {client_cpu})
            (root / "sentry").mkdir()
            polled = uvloop.run(poll_site(sentry_config(root / "sentry", miners, pki, names[0]),
                                          farms[0].inventory.get("web_port", 80)))
        finally:
            for farm in farms:
                farm.stop()

        start = time.time() - (OUTAGE_CYCLES + 1) * INTERVAL_S
        one = {names[0]: synthetic_sentry(root / "synthetic", names[0], 0, polled["cycle"], OUTAGE_CYCLES + 1, start)}
        apis = serve(one, pki)
        (root / "catch-up").mkdir()
        try:
            caught = uvloop.run(ingest(commander_config(root / "catch-up", [
                (names[0], apis[0].port, fingerprints[names[0]])]), pki))
        finally:
            for api in apis:
                api.stop()

        four = {name: synthetic_sentry(root / "four", name, n, polled["cycle"], 1, time.time() - INTERVAL_S)
                for n, name in enumerate(names)}
        apis = serve(four, pki)
        (root / "four-commander").mkdir()
        try:
            path = commander_config(root / "four-commander",
                                    [(name, api.port, fingerprints[name]) for name, api in zip(names, apis)])
            steady = uvloop.run(ingest_steady(path, pki, four))
        finally:
            for api in apis:
                api.stop()

    sentry_pct = 100 * polled["cpu_s"] / INTERVAL_S
    print(f"sentry poll      {polled['wall_s']:6.2f} s and {polled['cpu_s']:5.2f} s CPU a cycle of {MINERS:,} miners: "
          f"{sentry_pct:5.1f} % of a core at {INTERVAL_S} s  goal < 50 %: {'met' if sentry_pct < 50 else 'NOT met'}")
    print(f"                 a cycle kept in {polled['bytes'] / 1024:,.0f} KiB ({polled['bytes'] / MINERS:.0f} bytes a "
          f"miner): 7 days of {MINERS:,} miners at {INTERVAL_S} s take "
          f"{polled['bytes'] * 7 * 86400 / INTERVAL_S / 1e9:,.1f} GB")
    catch_up_s = sum(wall for _, wall in caught["runs"])
    print(f"catch-up         {catch_up_s:6.1f} s wall, {sum(c for c, _ in caught['runs']):5.1f} s CPU for a 1-hour "
          f"outage ({OUTAGE_CYCLES + 1} cycles of {MINERS:,} miners, {len(caught['runs'])} pulls)  goal < 60 s: "
          f"{'met' if catch_up_s < 60 else 'NOT met'}")
    ingest_pct = 100 * steady["cpu_s"] / INTERVAL_S
    print(f"commander ingest {steady['wall_s']:6.2f} s and {steady['cpu_s']:5.2f} s CPU for one cycle of {SENTRIES} "
          f"sentries x {MINERS:,} miners: {ingest_pct:5.1f} % of a core at {INTERVAL_S} s  goal < 100 %: "
          f"{'met' if ingest_pct < 100 else 'NOT met'}")
    print(f"                 {plan}; {len(farms)} farm process(es) ({why})")
    print(json.dumps({"miners": MINERS, "sentry_cpu_s": polled["cpu_s"], "catch_up_s": catch_up_s,
                      "ingest_cpu_s": steady["cpu_s"]}), file=sys.stderr)
    return 0


async def ingest_steady(path: Path, pki: Path, buffers: dict[str, Buffer]) -> dict:
    """The four sentries' first cycles (their miners join the inventory), then one more cycle of
    each, timed: the steady state at 30 s."""
    config = load(path)
    config.state_dir.mkdir(parents=True)
    (config.state_dir / "pki").symlink_to(pki)
    async with Commander(config) as commander:
        await commander.pull_asic_sentries()
        for name, buffer in buffers.items():
            records = read_cycle(buffer.after(0, 10**12)[-1].path.read_bytes())
            buffer.append(time.time(), records)
        cpu, wall = cpu_s(), time.perf_counter()
        await commander.pull_asic_sentries()
        return {"cpu_s": cpu_s() - cpu, "wall_s": time.perf_counter() - wall}


if __name__ == "__main__":
    sys.exit(main())
