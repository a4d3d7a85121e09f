"""What every bench worker shares: its arguments, the farm's inventory, the tally, the result line.

A worker is one client under test in a process of its own (``python -m bench.ours``,
``bench.floor``, ``bench.peers``), so that no client warms a cache, a pool or a heap for another,
and a peer that crashes or leaks spoils only its own figures. It prints one JSON object as its last
line of stdout; ``bench/run.py`` reads it.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any


def arguments(modes: Iterable[str], peers: Iterable[str] = ()) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    if peers:
        parser.add_argument("peer", choices=list(peers))
    parser.add_argument("mode", choices=list(modes))
    parser.add_argument("--inventory", required=True, help="simfarm's inventory JSON")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per miner")
    parser.add_argument("--rounds", type=int, default=3, help="timed polls of known miners")
    parser.add_argument("--network", help="the network a scan sweeps, e.g. 127.91.0.0/16")
    return parser.parse_args()


def load_inventory(path: str) -> dict[str, Any]:
    with open(path) as file:
        return json.load(file)


def raise_open_files() -> dict[str, Any]:
    """Soft open-files limit up to the hard one (no root needed); what was done, for the report."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            return {"soft": soft, "hard": hard, "raised": False, "why": str(exc)}
        return {"soft": hard, "hard": hard, "raised": True, "was": soft}
    return {"soft": soft, "hard": hard, "raised": False}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


class Tally:
    """Per miner of the inventory: identified as what, answered with a hashrate or not.

    ``rate`` counts answered miners only, so a miner that failed fast cannot make a client look
    fast; ``polled_rate`` counts every miner the client tried, which is the fairer speed of a peer
    that cannot read some emulated make (ratios against the peers use it: they flatter the peer).
    """

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.make = {row["ip"]: row["emulator"] for row in rows}
        self.total = len(rows)
        self.hostile = {row["ip"] for row in rows if "hostile" in (row.get("faults") or {})}
        self.identified: dict[str, str | None] = {}
        self.answered: dict[str, bool] = {}
        self.errors: dict[str, str] = {}

    def record(self, ip: str, answered: bool, identified_as: str | None = None,
               error: str | None = None) -> None:
        self.answered[ip] = answered
        if identified_as is not None or ip not in self.identified:
            self.identified[ip] = identified_as
        if error and not answered:
            self.errors[ip] = error

    def result(self, elapsed_s: float) -> dict[str, Any]:
        answered = sum(self.answered.values())
        by_make: dict[str, dict[str, Any]] = {}
        for ip, make in self.make.items():
            entry = by_make.setdefault(make, {"total": 0, "answered": 0, "identified": 0, "as": {},
                                              "error": None})
            entry["total"] += 1
            entry["answered"] += bool(self.answered.get(ip))
            name = self.identified.get(ip)
            if name:
                entry["identified"] += 1
                entry["as"][name] = entry["as"].get(name, 0) + 1
            if ip in self.errors and entry["error"] is None:
                entry["error"] = self.errors[ip][:200]  # one example, for the report's sentence
        polled = len(self.answered)
        good = [ip for ip in self.make if ip not in self.hostile]
        return {"elapsed_s": round(elapsed_s, 3), "answered": answered, "polled": polled, "total": self.total,
                "rate": round(answered / elapsed_s, 1) if elapsed_s > 0 else 0.0,
                "polled_rate": round(polled / elapsed_s, 1) if elapsed_s > 0 else 0.0, "by_make": by_make,
                # with hostile miners in the farm (simfarm --hostile): how the others fared
                "hostile": len(self.hostile), "good_answered": sum(bool(self.answered.get(ip)) for ip in good),
                "good_total": len(good)}


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median rate, with every round's rate beside it."""
    ordered = sorted(rounds, key=lambda r: r["rate"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["rounds"] = [r["rate"] for r in rounds]
    middle["spread"] = round(statistics.pstdev(middle["rounds"]), 1) if len(rounds) > 1 else 0.0
    return middle


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """``work()``'s result and the seconds it took, its tasks' creation included."""
    started = time.perf_counter()
    result = await work()
    return result, time.perf_counter() - started


def emit(result: dict[str, Any]) -> None:
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result), flush=True)


def run_worker(main: Callable[[], dict[str, Any]]) -> None:
    """Run a worker; whatever goes wrong becomes one sentence in the result, not a lost run."""
    try:
        result = main()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)  # the run keeps the stderr tail for whoever debugs it
        result = {"error": f"{type(exc).__name__}: {exc}"}
    emit(result)
