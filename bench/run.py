"""``make bench``: our collectors against simfarm, next to pyasic and asic-rs on the same fleet.

Four farms, one after the other, each in its own process on one CPU, the client under test in
another process on the other CPU (see bench/README.md for what each figure means):

1. a poll farm (1,000 miners of four makes): cold poll and known poll by us, pyasic and asic-rs,
   and the bare-client floor;
2. the same farm with a third of its miners hostile (simfarm --hostile): our cold and known poll
   again, beside the figures without;
3. a scan farm (2,000 miners inside a /16): a scan of the whole /16 by each;
4. a memory farm (10,000 miners): our known poll of all of it, for peak resident memory.

It prints one line per figure and writes every figure to bench/results.json.
``BENCH_QUICK=1`` runs the same on 200 miners, a /20 and 1,000 miners, to check the bench itself.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by make

from bench.common import raise_open_files  # noqa: E402
from bench.procs import ROOT, Farm, FarmError, cpu_plan, farm_capacity, run_worker  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
MIX = "antminer=25,whatsminer=25,braiins=25,avalon=25"
PEERS = ("asic-rs", "pyasic")  # asic-rs first: the goals are stated against it
TIMEOUT_S = 5  # per miner, for every client; whole seconds, as pyasic and asic-rs take them
CONCURRENCY = 100  # miners in flight, for every client
SCAN_WIDTH = 1000  # addresses probed at once by the peers' scans: our scan's own pre-check width
GOAL_KNOWN = 1000  # miners/s, every miner answered
GOAL_COLD_X = 5  # times asic-rs
GOAL_SCAN_S = 60
GOAL_MEMORY_MB = 300
HOSTILE = 1 / 3  # of the poll farm's miners, every attack of simfarm/faults.py in turn


@dataclass(frozen=True)
class Plan:
    poll_miners: int
    scan_live: int
    scan_network: str
    memory_miners: int
    rounds: int  # timed rounds of the known poll, for each client
    poll_limit_s: float  # per worker on the poll farm
    scan_limit_s: float  # per worker on the scan farm
    memory_limit_s: float


FULL = Plan(1000, 2000, "127.91.0.0/16", 10_000, rounds=3, poll_limit_s=240, scan_limit_s=150,
            memory_limit_s=240)
QUICK = Plan(200, 200, "127.91.0.0/20", 1000, rounds=2, poll_limit_s=90, scan_limit_s=60, memory_limit_s=60)
POLL_BASE, SCAN_BASE = "127.90.0.1", "127.91.0.1"
MEMORY_BASES = [f"127.{n}.0.1" for n in range(92, 100)]  # one /16 per farm process


def say(line: str) -> None:
    print(line, flush=True)


def common_args(inventory: Path, plan: Plan, concurrency: int = CONCURRENCY) -> list[str]:
    return ["--inventory", str(inventory), "--concurrency", str(concurrency), "--timeout", str(TIMEOUT_S),
            "--rounds", str(plan.rounds)]


def poll_stage(plan: Plan, mix: str, cpus: tuple[int | None, int | None], workdir: Path) -> dict[str, Any]:
    farm_cpu, client_cpu = cpus
    results: dict[str, Any] = {}
    say(f"bench: starting a farm of {plan.poll_miners:,} miners ({mix}) from {POLL_BASE}")
    with Farm(plan.poll_miners, POLL_BASE, mix, farm_cpu, workdir) as farm:
        results["farm"] = {"miners": plan.poll_miners, "started_s": round(farm.started_s, 1),
                           "web_port": farm.inventory.get("web_port")}
        args = common_args(farm.inventory_path, plan)
        for name, module, extra, what in (("ours", "bench.ours", ["poll"], "cold and known polls"),
                                          ("floor", "bench.floor", ["poll"], "bare multi-command per miner"),
                                          *((peer, "bench.peers", [peer, "poll"], "cold and known polls")
                                            for peer in PEERS)):
            say(f"bench: {name}: {what}")
            results[name] = run_worker(module, extra + args, client_cpu, plan.poll_limit_s)
            if "error" in results[name]:
                say(f"bench: {name}: {results[name]['error']}")
    results["farm"]["leftover"] = farm.leftover
    return results


def hostile_stage(plan: Plan, mix: str, cpus: tuple[int | None, int | None], workdir: Path) -> dict[str, Any]:
    """Our polls of the poll farm again, the same miners (same seed), a third of them hostile."""
    farm_cpu, client_cpu = cpus
    say(f"bench: starting the same farm with {HOSTILE:.0%} of its miners hostile")
    with Farm(plan.poll_miners, POLL_BASE, mix, farm_cpu, workdir, hostile=HOSTILE) as farm:
        say("bench: ours: cold and known polls among hostile miners")
        result = run_worker("bench.ours", ["poll"] + common_args(farm.inventory_path, plan), client_cpu,
                            plan.poll_limit_s)
        if "error" in result:
            say(f"bench: ours among hostile miners: {result['error']}")
    result["leftover"] = farm.leftover
    return result


def scan_stage(plan: Plan, mix: str, cpus: tuple[int | None, int | None], workdir: Path) -> dict[str, Any]:
    farm_cpu, client_cpu = cpus
    results: dict[str, Any] = {}
    say(f"bench: starting a farm of {plan.scan_live:,} miners inside {plan.scan_network}")
    with Farm(plan.scan_live, SCAN_BASE, mix, farm_cpu, workdir) as farm:
        network = ["--network", plan.scan_network]
        # Ours: identification 100 at a time behind its own 1,000-wide pre-check; the peers: their
        # scan as wide as that pre-check.
        for name, module, extra, width in (("ours", "bench.ours", ["scan"], CONCURRENCY),
                                           *((peer, "bench.peers", [peer, "scan"], SCAN_WIDTH) for peer in PEERS)):
            say(f"bench: {name}: scan of {plan.scan_network}")
            args = extra + common_args(farm.inventory_path, plan, width) + network
            results[name] = run_worker(module, args, client_cpu, plan.scan_limit_s)
            if "error" in results[name]:
                say(f"bench: {name}: {results[name]['error']}")
    results["leftover"] = farm.leftover
    return results


def memory_stage(plan: Plan, mix: str, cpus: tuple[int | None, int | None], workdir: Path) -> dict[str, Any]:
    farm_cpu, client_cpu = cpus
    capacity, why = farm_capacity()
    if capacity is not None and capacity < plan.memory_miners / len(MEMORY_BASES):
        raise FarmError(f"{why}, too low for {plan.memory_miners:,} miners even in {len(MEMORY_BASES)} farms")
    shards = 1 if capacity is None else math.ceil(plan.memory_miners / capacity)
    per_farm = math.ceil(plan.memory_miners / shards)
    note = None
    if shards > 1:
        # The limit is per process, so the farm is split, all of it still on the farm's CPU.
        note = (f"One farm process cannot serve {plan.memory_miners:,} miners here ({why}: {capacity:,} miners"
                f" at most), so the memory farm runs as {shards} processes of {per_farm:,} on the farm's CPU.")
        say(f"bench: {note}")
    say(f"bench: starting a farm of {plan.memory_miners:,} miners from {MEMORY_BASES[0]}")
    with ExitStack() as stack:
        farms = [stack.enter_context(Farm(min(per_farm, plan.memory_miners - i * per_farm), MEMORY_BASES[i], mix,
                                          farm_cpu, workdir, seed=1 + i))
                 for i in range(shards)]
        inventory = workdir / "inventory-memory.json"
        inventory.write_text(json.dumps({"web_port": farms[0].inventory.get("web_port"),
                                         "miners": [row for farm in farms for row in farm.inventory["miners"]]}))
        say(f"bench: ours: known poll of {plan.memory_miners:,} miners")
        result = run_worker("bench.ours", ["memory"] + common_args(inventory, plan), client_cpu,
                            plan.memory_limit_s)
    result["farms"] = shards
    result["note"] = note
    result["leftover"] = next((farm.leftover for farm in farms if farm.leftover), None)
    return result


def stage(name: str, run: Any, *args: Any) -> dict[str, Any]:
    """A stage whose farm cannot start becomes one sentence, and the other stages still run."""
    try:
        return run(*args)
    except FarmError as exc:
        say(f"bench: {name}: {exc}")
        return {"error": str(exc)}


# -- figures -------------------------------------------------------------------------------------

def _get(result: dict[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(result, dict):
            return None
        result = result.get(key)
    return result


def _ratios(ours: float | None, peers: dict[str, float | None],
            higher_is_better: bool = True) -> dict[str, float | None]:
    """How many times better ours is than each peer (rates: ours/peer; times and sizes: peer/ours)."""
    out = {}
    for name, value in peers.items():
        if not ours or not value:
            out[name] = None
        else:
            out[name] = round(ours / value if higher_is_better else value / ours, 1)
    return out


def figures(poll: dict[str, Any], scan: dict[str, Any], memory: dict[str, Any], plan: Plan, quick: bool
            ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in ("known", "cold"):
        ours = _get(poll, "ours", kind) or {}
        peers = {peer: _get(poll, peer, kind, "polled_rate") for peer in PEERS}
        figure = {"value": ours.get("rate"), "unit": "miners/s", "answered": ours.get("answered"),
                  "total": ours.get("total"), "ratios": _ratios(ours.get("rate"), peers), "peers": peers,
                  "peers_answered": {peer: _get(poll, peer, kind, "answered") for peer in PEERS},
                  "rounds": ours.get("rounds"), "error": _get(poll, "ours", "error")}
        all_answered = ours.get("total") is not None and ours.get("answered") == ours.get("total")
        if kind == "known":
            figure["goal"] = f">= {GOAL_KNOWN:,} miners/s, every miner answered"
            figure["met"] = bool(ours.get("rate") and ours["rate"] >= GOAL_KNOWN and all_answered)
        else:
            x = figure["ratios"].get("asic-rs")
            figure["goal"] = f">= {GOAL_COLD_X}x asic-rs"
            figure["met"] = None if x is None else bool(x >= GOAL_COLD_X and all_answered)
            peer_answered = figure["peers_answered"].get("asic-rs")
            if figure["met"] is not None and peer_answered != ours.get("total"):
                # Against a peer that could not read every miner the work differs: no verdict.
                figure["met"] = None
                figure["why_unknown"] = f"asic-rs answered {peer_answered}/{ours.get('total')}"
        out[f"poll_{kind}"] = figure
    floor = _get(poll, "floor", "known") or {}
    ours_known = out["poll_known"]["value"]
    out["floor"] = {"value": floor.get("rate"), "unit": "miners/s", "answered": floor.get("answered"),
                    "total": floor.get("total"), "rounds": floor.get("rounds"),
                    "ours_share": round(ours_known / floor["rate"], 2) if ours_known and floor.get("rate") else None,
                    "error": _get(poll, "floor", "error")}
    ours_scan = _get(scan, "ours", "scan") or {}
    peers_scan = {peer: _get(scan, peer, "scan", "elapsed_s") for peer in PEERS}
    out["scan"] = {"value": ours_scan.get("elapsed_s"), "unit": "s", "network": plan.scan_network,
                   "addresses": ours_scan.get("addresses"), "found": ours_scan.get("found"),
                   "live": ours_scan.get("live"), "strays": ours_scan.get("strays"),
                   "ratios": _ratios(ours_scan.get("elapsed_s"), peers_scan, higher_is_better=False),
                   "peers": peers_scan,
                   "peers_found": {peer: _get(scan, peer, "scan", "found") for peer in PEERS},
                   "goal": f"<= {GOAL_SCAN_S} s for a /16 with 2,000 live miners, all found",
                   "met": None if quick else bool(ours_scan.get("elapsed_s") is not None
                                                  and ours_scan["elapsed_s"] <= GOAL_SCAN_S
                                                  and ours_scan.get("found") == ours_scan.get("live")),
                   "error": scan.get("error") or _get(scan, "ours", "error")}
    known = _get(memory, "known") or {}
    out["memory"] = {"value": memory.get("peak_rss_mb"), "unit": "MB", "miners": plan.memory_miners,
                     "answered": known.get("answered"), "total": known.get("total"), "rate": known.get("rate"),
                     "goal": f"< {GOAL_MEMORY_MB} MB peak RSS polling 10,000 miners",
                     "met": None if quick else bool(memory.get("peak_rss_mb") and known.get("total")
                                                    and memory["peak_rss_mb"] < GOAL_MEMORY_MB
                                                    and known.get("answered") == known.get("total")),
                     "error": memory.get("error")}
    return out


def hostile_figures(hostile: dict[str, Any], clean: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Our polls with a third of the miners hostile, as a rate of every miner polled (each gets a
    snapshot, hostile or not) and as a share of the clean farm's rate."""
    out = {}
    for kind in ("known", "cold"):
        ours = _get(hostile, kind) or {}
        rate, clean_rate = ours.get("polled_rate"), clean[f"poll_{kind}"]["value"]
        out[f"hostile_{kind}"] = {
            "value": rate, "unit": "miners/s", "total": ours.get("total"), "hostile": ours.get("hostile"),
            "hostile_answered": (ours["answered"] - ours["good_answered"]) if ours else None,
            "good_answered": ours.get("good_answered"), "good_total": ours.get("good_total"),
            "of_clean": round(rate / clean_rate, 2) if rate and clean_rate else None,
            "rounds": ours.get("rounds"), "error": hostile.get("error"),
            "goal": "every good miner answered",
            "met": ours["good_answered"] == ours["good_total"] if ours else None}
    return out


def hostile_lines(figs: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for label, figure in (("hostile known", figs["hostile_known"]), ("hostile cold", figs["hostile_cold"])):
        if figure["value"] is None:
            out.append(f"{label:<12} failed: {figure['error'] or 'no result'}")
            continue
        share = f"x{figure['of_clean']:g} of the clean rate" if figure["of_clean"] is not None else "x? of clean"
        out.append(f"{label:<12} {_n(figure['value']):>7} miners/s  ({figure['good_answered']}/{figure['good_total']}"
                   f" good answered; {figure['hostile']} hostile, {figure['hostile_answered']} of them read)"
                   f"  {share}  {_verdict(figure)}")
    return out


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _verdict(figure: dict[str, Any]) -> str:
    met = figure.get("met")
    if met is None and figure.get("why_unknown"):
        state = f"unknown ({figure['why_unknown']})"
    elif met is None:
        state = "n/a in quick mode" if figure.get("quick") else "unknown"
    else:
        state = "met" if met else "NOT met"
    return f"goal {figure['goal']}: {state}"


def _versus(ratios: dict[str, float | None], answered: dict[str, int | None] | None = None,
            total: int | None = None) -> str:
    """``x8.4 asic-rs``, with the peer's answered count where it did not answer every miner."""
    parts = []
    for name, value in ratios.items():
        part = f"x{value:g} {name}" if value is not None else f"x? {name}"
        done = (answered or {}).get(name)
        if answered is not None and done != total:
            part += f" ({done}/{total})"
        parts.append(part)
    return "  ".join(parts)


def lines(figs: dict[str, dict[str, Any]], poll: dict[str, Any], scan: dict[str, Any]) -> list[str]:
    known, cold, floor, scanned, memory = (figs[k] for k in ("poll_known", "poll_cold", "floor", "scan", "memory"))
    out = []
    for label, figure in (("poll known", known), ("cold poll", cold)):
        if figure["value"] is None:
            out.append(f"{label:<12} failed: {figure['error'] or 'no result'}")
            continue
        out.append(f"{label:<12} {_n(figure['value']):>7} miners/s  ({figure['answered']}/{figure['total']} answered)"
                   f"  {_versus(figure['ratios'], figure['peers_answered'], figure['total'])}  {_verdict(figure)}")
    out += hostile_lines(figs)
    if floor["value"] is None:
        out.append(f"{'floor':<12} failed: {floor['error'] or 'no result'}")
    else:
        share = f"; ours at {floor['ours_share']:.0%} of it" if floor["ours_share"] is not None else ""
        out.append(f"{'floor':<12} {_n(floor['value']):>7} miners/s  ({floor['answered']}/{floor['total']} answered)"
                   f"  bare asyncio, one multi-command per miner{share}")
    if scanned["value"] is None:
        out.append(f"{'scan':<12} failed: {scanned['error'] or 'no result'}")
    else:
        out.append(f"{'scan':<12} {_n(scanned['value'], 1):>7} s         ({scanned['found']}/{scanned['live']} found,"
                   f" {_n(scanned['addresses'])} addresses of {scanned['network']})"
                   f"  {_versus(scanned['ratios'], scanned['peers_found'], scanned['live'])}"
                   f"  {_verdict(scanned)}")
    if memory["value"] is None:
        out.append(f"{'memory':<12} failed: {memory['error'] or 'no result'}")
    else:
        out.append(f"{'memory':<12} {_n(memory['value']):>7} MB        (peak RSS, {memory['answered']}"
                   f"/{memory['total']} answered at {_n(memory['rate'])} miners/s)  {_verdict(memory)}")
    for peer in PEERS:
        result = poll.get(peer) or {}
        if "error" in result:
            out.append(f"{peer:<12} failed: {result['error']}")
            continue
        parts = [f"{kind} {_n(_get(result, kind, 'polled_rate'))} miners/s ({_get(result, kind, 'answered')}"
                 f"/{_get(result, kind, 'total')} answered)" for kind in ("cold", "known")]
        parts.append(f"scan {_n(_get(scan, peer, 'scan', 'elapsed_s'), 1)} s "
                     f"({_get(scan, peer, 'scan', 'found')}/{_get(scan, peer, 'scan', 'live')} found)"
                     if _get(scan, peer, "scan") else f"scan failed: {_get(scan, peer, 'error') or 'no result'}")
        out.append(f"{peer:<12} " + "  ".join(parts))
    return out


def identification_notes(poll: dict[str, Any]) -> list[str]:
    """One sentence per client and make where the cold poll did not identify or answer every miner."""
    notes = []
    for client in ("ours", *PEERS):
        for make, entry in sorted((_get(poll, client, "cold", "by_make") or {}).items()):
            missed = entry["total"] - entry["answered"]
            if not missed:
                continue
            seen = ", ".join(f"{name} x{count}" for name, count in sorted(entry["as"].items())) or "nothing"
            why = f"; e.g. {entry['error'].rstrip('.')}" if entry.get("error") else ""
            notes.append(f"{client} answered {entry['answered']} of {entry['total']} emulated {make} miners "
                         f"(identified {entry['identified']}, as {seen}){why}.")
    return notes


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    plan = QUICK if quick else FULL
    mix = os.environ.get("BENCH_MIX", MIX)
    # SIGTERM unwinds like Ctrl-C, so every farm and worker is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    farm_cpu, client_cpu, pinning = cpu_plan()
    limits = raise_open_files()
    load = os.getloadavg()[0]
    say(f"bench: {'quick' if quick else 'full'} run; {pinning}; {TIMEOUT_S} s timeout and {CONCURRENCY} miners"
        f" at a time for every client; load average {load:.2f} at start"
        + (" (other work on this machine will lower the figures)" if load >= 1 else ""))
    if limits["raised"]:
        say(f"bench: open-files limit raised from {limits['was']:,} to {limits['soft']:,}")
    elif limits.get("why"):
        say(f"bench: open-files limit stays {limits['soft']:,}: {limits['why']}")
    else:
        say(f"bench: open-files limit {limits['soft']:,} (already the hard limit; each farm raises its own as root)")
    started = time.time()
    cpus = (farm_cpu, client_cpu)
    try:
        with tempfile.TemporaryDirectory(prefix="minerwatch-bench-") as tmp:
            workdir = Path(tmp)
            poll = stage("poll", poll_stage, plan, mix, cpus, workdir)
            hostile = stage("hostile", hostile_stage, plan, mix, cpus, workdir)
            scan = stage("scan", scan_stage, plan, mix, cpus, workdir)
            memory = stage("memory", memory_stage, plan, mix, cpus, workdir)
    except (KeyboardInterrupt, SystemExit):
        say("bench: interrupted; every farm and worker it started is stopped, no results written")
        raise
    figs = figures(poll, scan, memory, plan, quick)
    figs.update(hostile_figures(hostile, figs))
    for figure in figs.values():
        figure["quick"] = quick
    notes = identification_notes(poll)
    web_port = _get(poll, "farm", "web_port")
    if web_port not in (None, 80):
        notes.insert(0, f"The emulated web UIs listen on port {web_port}, not 80, so the peers (which only "
                        f"look on port 80) cannot identify makes they recognise by their web page.")
    notes += [text for text in (memory.get("note"), _get(poll, "farm", "leftover"), hostile.get("leftover"),
                                scan.get("leftover"), memory.get("leftover")) if text]
    say("")
    for line in lines(figs, poll, scan) + notes:
        say(line)
    document = {"quick": quick, "started_at": started, "duration_s": round(time.time() - started, 1),
                "plan": asdict(plan), "mix": mix, "timeout_s": TIMEOUT_S, "concurrency": CONCURRENCY,
                "pinning": pinning, "load_at_start": load, "open_files": limits, "figures": figs, "notes": notes,
                "raw": {"poll": poll, "hostile": hostile, "scan": scan, "memory": memory}}
    RESULTS.write_text(json.dumps(document, indent=1) + "\n")
    say(f"\nbench: {RESULTS.relative_to(ROOT)} written in {document['duration_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
