"""The commander's cycle while 20 browsers keep the dashboard open (issue 11: it must not slow down).

    .venv-bench/bin/python -m bench.web_load        (BENCH_QUICK=1: 1,000 miners, 2 cycles each)

A simfarm farm of 10,000 miners (``bench.commander``'s) on the first CPU; the commander in this
process on the second, as ``minerwatch serve`` runs it. After the first cycle (which fetches
identities), ``CYCLES`` cycles are timed alone; then a real ``minerwatch web`` process starts on the
commander's CPU (on an appliance the two share the machine), and a client process on the farm's
CPU (the browsers are elsewhere) runs 20 clients, each asking every 2 s for what an open dashboard
polls (``/api/v1/farm``, and ``/api/v1/dashboard`` once it exists) with an API token over
keep-alive HTTP on loopback; ``CYCLES`` cycles are timed again. Cycles run back to back, with
the clients polling throughout. The figures: the median cycle alone and with the clients, their
ratio, and what the clients saw (requests, errors, p50/p95 of the answers).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
MINERS = 1_000 if QUICK else 10_000
CYCLES = 2 if QUICK else 3
CLIENTS = 20
POLL_S = 2.0
POLLED = ("/api/v1/farm", "/api/v1/dashboard")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(connection: http.client.HTTPConnection, path: str, token: str) -> int:
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    answer = connection.getresponse()
    answer.read()
    return answer.status


def poll(port: int, token: str, clients: int) -> None:
    """The clients, until stdin closes; then one JSON line: requests, errors, latencies."""
    stop = threading.Event()
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    paths = [path for path in POLLED if _get(probe, path, token) == 200]  # a route not built yet is left out
    latencies: list[float] = []
    errors: list[str] = []

    def client(offset: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stop.wait(offset)  # browsers opened at different moments
        while not stop.is_set():
            started = time.perf_counter()
            for path in paths:
                try:
                    status = _get(connection, path, token)
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(f"{path}: {exc}")
                    connection.close()
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors.append(f"{path}: {status}")
            stop.wait(max(0.0, POLL_S - (time.perf_counter() - started)))

    threads = [threading.Thread(target=client, args=(POLL_S * i / clients,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies) or [math.nan]
    print(json.dumps({"paths": paths, "requests": len(latencies), "errors": len(errors), "first_error": errors[:1],
                      "p50_ms": statistics.median(ordered),
                      "p95_ms": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]}), flush=True)


async def _cycles(commander, count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        await commander.scheduler.run_now("poll", commander.poll_cycle)
        seconds.append(time.perf_counter() - started)
    return seconds


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return True
    except OSError:
        return False


async def _measure(config_path: Path, web_port: int, web_cpu: int | None, client_cpu: int | None) -> dict:
    # Imported here and in main(), not at the top: the clients' process needs the standard library only.
    from appliance.commander import Commander
    from appliance.config import load
    from bench.procs import reap, spawn
    from web.users import Users

    config = load(config_path)
    port = config.web.listen[1]
    async with Commander(config, web_port=web_port) as commander:
        await commander.scheduler.run_now("poll", commander.poll_cycle)  # identities, untimed
        alone = await _cycles(commander, CYCLES)
        token = Users(config.state_dir).create_token("bench", "viewer")
        web = spawn([sys.executable, "-m", "appliance.cli", "web", "--config", str(config_path)], web_cpu,
                     stderr=subprocess.DEVNULL)
        clients = None
        try:
            deadline = time.monotonic() + 60
            while not _answers(port):
                if web.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"bench.web_load: minerwatch web did not answer on port {port}")
                await asyncio.sleep(0.2)
            clients = spawn([sys.executable, "-m", "bench.web_load", "poll", "--port", str(port), "--token", token],
                             client_cpu, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            await asyncio.sleep(2 * POLL_S)  # every client polling before the first timed cycle
            loaded = await _cycles(commander, CYCLES)
            out, _ = clients.communicate("", timeout=120)
            seen = json.loads(out.strip().splitlines()[-1])
        finally:
            for process in (clients, web):
                if process is not None:
                    reap(process, 10)
    return {"alone_s": alone, "loaded_s": loaded, "clients": seen}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.web_load", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    poller = sub.add_parser("poll", help="(internal) the clients, until stdin closes")
    poller.add_argument("--port", type=int, required=True)
    poller.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    if args.command == "poll":
        poll(args.port, args.token, CLIENTS)
        return 0

    import uvloop

    from bench.commander import MIX, commander_config
    from bench.procs import cpu_plan, farm_capacity, start_farms

    farm_cpu, commander_cpu, plan = cpu_plan()
    _, why = farm_capacity()
    with tempfile.TemporaryDirectory(prefix="minerwatch-bench-web-load-") as folder:
        root = Path(folder)
        farms, miners = start_farms(MINERS, 93, MIX, farm_cpu, root)
        try:
            config = commander_config(root, miners)
            with open(config, "a") as file:
                file.write(f'\n[web]\nlisten = "127.0.0.1:{_free_port()}"\n')
            if commander_cpu is not None:
                os.sched_setaffinity(0, {commander_cpu})
            result = uvloop.run(_measure(config, farms[0].inventory.get("web_port", 80), commander_cpu, farm_cpu))
        finally:
            for farm in farms:
                farm.stop()
    alone, loaded, seen = (statistics.median(result["alone_s"]), statistics.median(result["loaded_s"]),
                           result["clients"])
    print(f"commander cycle alone              {alone:6.2f} s  (median of {CYCLES}, {MINERS:,} miners)")
    print(f"  with {CLIENTS} dashboards open      {loaded:6.2f} s  x{loaded / alone:.2f} of alone  "
          f"goal no slower: {'met' if loaded <= alone * 1.05 else 'NOT met'} (5 % allowed for noise)")
    print(f"  the clients: {seen['requests']:,} answers of {', '.join(seen['paths'])}, {seen['errors']} errors"
          f"{' (' + seen['first_error'][0] + ')' if seen['errors'] else ''}, p50 {seen['p50_ms']:.0f} ms, "
          f"p95 {seen['p95_ms']:.0f} ms")
    print(f"  {plan}; the web on the commander's CPU, the clients on the farm's; {len(farms)} farm process(es) "
          f"({why})")
    print(json.dumps({"miners": MINERS, **result}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
