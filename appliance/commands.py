"""``minerwatch serve``, ``discover``, ``status``, ``devices``, ``alerts`` and ``demo``: the commander
from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import uvloop

from appliance import health as health_file
from appliance.alerts.settings import SEVERITIES
from appliance.cli_args import config_args, loaded_config, state_dir, state_dir_args
from appliance.damaged import StateFileError, set_aside_files
from appliance.health import assess

if TYPE_CHECKING:
    from appliance.commander import Commander


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the commander: poll, store, alert (the daemon)")
    config_args(serve)
    _web_port(serve)
    serve.set_defaults(func=run_serve)

    discover = subparsers.add_parser("discover", help="scan the configured subnets now and update the inventory")
    config_args(discover)
    _web_port(discover)
    discover.set_defaults(func=run_discover)

    status = subparsers.add_parser("status", help="the commander's health: jobs, alert channels, what fails")
    state_dir_args(status)
    status.add_argument("--json", action="store_true", help="the same as one JSON object")
    status.add_argument("--alive", action="store_true",
                        help="exit 0 whenever the commander runs and polls on time, even with a job, channel "
                             "or file failing (for keepalived's track script; without it the exit status is "
                             "0 OK, 1 warning, 2 critical, 3 unknown, as monitoring checks expect)")
    status.set_defaults(func=run_status)

    devices = subparsers.add_parser("devices", help="the inventory: every ASIC and rig, with the number an NMS "
                                                    "sees it under (mwMinerIndex)")
    state_dir_args(devices)
    devices.add_argument("--json", action="store_true", help="one JSON object per device and line")
    devices.set_defaults(func=run_devices)

    alerts = subparsers.add_parser("alerts", help="alerts firing now, and the recent history")
    state_dir_args(alerts)
    alerts.add_argument("--history", type=float, default=24, metavar="HOURS",
                        help="also list what fired and resolved in the last HOURS (default 24; 0: none)")
    alerts.set_defaults(func=run_alerts)

    demo = subparsers.add_parser("demo", help="a simulated farm and a commander watching it, live in the terminal")
    demo.add_argument("--miners", type=int, default=60, metavar="N", help="emulated miners in the farm (default 60)")
    demo.add_argument("--rigs", type=int, default=4, metavar="N",
                      help="emulated CPU/GPU rigs, each with its sentry and snmpd (default 4; needs snmpd)")
    demo.add_argument("--interval", type=float, default=10, metavar="S", help="seconds between polls (default 10)")
    demo.add_argument("--rounds", type=int, default=0, metavar="N", help="stop after N polls (default: Ctrl-C)")
    demo.add_argument("--keep", action="store_true",
                      help="keep the state directory (metrics, inventory, alerts) when the demo ends, for "
                           "status, devices, alerts and export to read")
    demo.set_defaults(func=run_demo)


def _web_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--web-port", type=int, default=80, metavar="PORT",
                        help="the port the miners' own web interfaces listen on (default 80); not the "
                             "commander's web UI")


def run_serve(args: argparse.Namespace) -> int:
    config = loaded_config(args)
    if config is None:
        return 2
    return uvloop.run(serve(config, web_port=args.web_port))


async def serve(config, *, web_port: int = 80, stop: asyncio.Event | None = None) -> int:
    """Run the commander until SIGINT/SIGTERM (or ``stop`` is set)."""
    from appliance.commander import Commander

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with Commander(config, web_port=web_port) as commander:
            commander.on_cycle = CycleReport(sys.stderr)
            commander.schedule()
            print(f"minerwatch: commander running, state in {config.state_dir}, "
                  f"{len(commander.inventory.devices())} devices known", file=sys.stderr, flush=True)
            await stop.wait()
            print("minerwatch: stopping: letting the jobs in flight finish", file=sys.stderr, flush=True)
    except (StateFileError, OSError) as exc:  # a state file it may not read, a directory it may not write
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 1
    runs = commander.scheduler.health.jobs["poll"].runs
    print(f"minerwatch: commander stopped cleanly after {runs} poll cycle(s)", file=sys.stderr, flush=True)
    return 0


class CycleReport:
    """What ``serve`` says after each poll cycle: on a terminal a line every cycle; elsewhere (the
    journal) a line when something changed, and at least every ``quiet_s``, so the log tells the
    farm's state without a line every 30 s."""

    def __init__(self, stream: TextIO, quiet_s: float = 600) -> None:
        self.stream, self.quiet_s = stream, quiet_s
        self.every_cycle = stream.isatty()
        self._last: tuple[str, float] | None = None

    def __call__(self, commander: Commander) -> None:
        line = cycle_line(commander)
        now = time.time()
        if (self.every_cycle or self._last is None or self._last[0] != line
                or now - self._last[1] >= self.quiet_s):
            print(f"{time.strftime('%H:%M:%S')} {line}", file=self.stream, flush=True)
            self._last = (line, now)


def cycle_line(commander: Commander) -> str:
    """'poll: 57 of 60 miners answered; 3 alerts firing (1 critical, 2 warning); failing: ...'"""
    snapshots = commander.last_snapshots
    answered = sum(s.reachable for s in snapshots)
    parts = [f"poll: {answered} of {len(snapshots)} miners answered"]
    if commander.last_rigs:
        parts[0] += f", {sum(r.reachable for r in commander.last_rigs)} of {len(commander.last_rigs)} rigs"
    counts = commander.alerts.engine.counts() if commander.alerts else {"firing": 0}
    severities = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s))
    parts.append(f"{counts['firing']} alerts firing" + (f" ({severities})" if severities else ""))
    health = commander.scheduler.health
    now = time.time()
    parts += assess(health, now, now).warnings  # a file set aside was said once, when it happened
    return "; ".join(parts)


def run_discover(args: argparse.Namespace) -> int:
    """Discovery on demand, beside a running daemon: the inventory (SQLite, WAL) takes both writers."""
    config = loaded_config(args)
    if config is None:
        return 2
    return uvloop.run(_discover(config, args.web_port))


async def _discover(config, web_port: int) -> int:
    from appliance.commander import discover, discovery_targets, poll_settings
    from appliance.inventory import Inventory, InventoryDamaged, InventoryError
    from collectors.poll import Poller

    targets = discovery_targets(config)
    if not targets:
        print("minerwatch: no subnets to discover: set [discovery] subnets or [[sites]] subnets", file=sys.stderr)
        return 2
    config.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        with Inventory.open(config.state_dir) as inventory:
            async with Poller(poll_settings(config, web_port)) as poller:
                found = await discover(config, inventory, poller)
            total = len(inventory.devices())
    except InventoryDamaged as exc:  # the commander owns the file: it sets it aside, not this
        return _refuse(f"{exc}; the commander sets it aside and rebuilds it when it starts")
    except InventoryError as exc:
        return _refuse(str(exc))
    print(f"{found.summary()}; {total} devices in the inventory")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """The commander's health, and an exit status for monitoring: 0 running, 1 running with something
    failing, 2 stopped, gone or hung, 3 no health file (the monitoring-plugins convention). With
    ``--alive``, 0 whenever it runs and polls, whatever fails beside (keepalived's track script)."""
    directory = state_dir(args)
    if directory is None:
        return health_file.UNKNOWN
    try:
        health, written_at = health_file.load(directory)
    except health_file.HealthFileError as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return health_file.UNKNOWN
    now = time.time()
    verdict = assess(health, written_at, now, set_aside_files(directory))
    status = (health_file.OK if verdict.running else health_file.CRITICAL) if args.alive else verdict.status
    if args.json:
        print(json.dumps({"status": ("ok", "warning", "critical")[verdict.status], "running": verdict.running,
                          "headline": verdict.headline, "warnings": list(verdict.warnings),
                          "written_s_ago": round(now - written_at, 1), "role": health.role, "pid": health.pid,
                          "stopped_at": health.stopped_at, "jobs": {n: vars(j) for n, j in health.jobs.items()},
                          "channels": {n: vars(c) for n, c in health.channels.items()}}))
        return status
    print(verdict.headline)
    rows = [["JOB", "EVERY", "LAST RUN", "TOOK", "OK", "FAILED", "RUNS", "SKIPPED", "ERRORS", "LAST ERROR"]]
    for name, job in health.jobs.items():
        last = time.strftime("%H:%M:%S", time.localtime(job.last_started_at)) if job.last_started_at else "-"
        rows.append([name, f"{job.interval_s:g} s", last,
                     f"{job.last_duration_s:.2f} s" if job.last_duration_s is not None else "-",
                     _dash(job.devices_ok), _dash(job.devices_failed), str(job.runs), str(job.skipped),
                     str(job.failures), job.last_error or ""])
    _print_table(rows)
    if health.channels:
        rows = [["CHANNEL", "DELIVERED", "WAITING", "DROPPED", "STATE"]]
        for name, channel in health.channels.items():
            state = "ok" if channel.failing_since is None else (
                f"failing since {time.strftime('%H:%M:%S', time.localtime(channel.failing_since))}: "
                f"{channel.last_error}")
            rows.append([name, str(channel.delivered), str(channel.pending), str(channel.dropped), state])
        print()
        _print_table(rows)
    _print_asic_sentries(directory)
    if verdict.warnings:
        print()
        for warning in verdict.warnings:
            print(f"WARNING: {warning}")
    return status


def _print_asic_sentries(directory: Path) -> None:
    """The commander's ASIC sentries (their last pull, how far behind, their buffers); on an ASIC
    sentry, its own buffer."""
    from appliance.asic_sentries import load_cursors
    from asic_sentry.buffer import listing, summary

    cursors = load_cursors(directory)
    if cursors:
        rows = [["ASIC SENTRY", "LAST PULL", "BEHIND", "BUFFER", "STATE"]]
        for name, cursor in sorted(cursors.items()):
            lag = "-" if cursor.behind is None else (
                f"{cursor.behind} cycles, {max(0.0, (cursor.newest_polled_at or 0) - (cursor.polled_at or 0)):.0f} s")
            fill = "-" if not cursor.buffer_max_bytes else (
                f"{cursor.buffer_bytes / 2**20:,.0f} of {cursor.buffer_max_bytes / 2**20:,.0f} MiB")
            last = time.strftime("%H:%M:%S", time.localtime(cursor.pulled_at)) if cursor.pulled_at else "never"
            rows.append([name, last, lag, fill, "ok" if cursor.error is None else cursor.error])
        print()
        _print_table(rows)
    if (directory / "buffer").is_dir():
        stats = summary(listing(directory / "buffer"))
        oldest = f", from {time.strftime('%Y-%m-%d %H:%M', time.localtime(stats['oldest_polled_at']))}" \
            if stats["oldest_polled_at"] else ""
        print(f"\nbuffer: {stats['cycles']:,} cycles, {stats['bytes'] / 2**20:,.1f} MiB{oldest} "
              f"(the commander pulls them; the oldest go first when it is full)")


def run_devices(args: argparse.Namespace) -> int:
    """The inventory as it is now; read beside a running daemon (SQLite in WAL mode)."""
    from appliance.inventory import INVENTORY_FILE, InventoryError, read_devices

    directory = state_dir(args)
    if directory is None:
        return 2
    if not (directory / INVENTORY_FILE).exists():
        print(f"minerwatch: {directory / INVENTORY_FILE} does not exist: no commander has kept an "
              "inventory here (see --config, --state-dir)", file=sys.stderr)
        return 2
    try:
        devices = read_devices(directory)
    except InventoryError as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for device in devices:
            print(json.dumps(vars(device) | {"tags": list(device.tags)}))
        return 0
    rows = [["#", "KIND", "KEY", "ADDRESS", "MAKE", "MODEL", "HOSTNAME", "SITE", "RACK", "LAST SEEN", "SOURCE"]]
    for d in devices:
        seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(d.last_seen)) if d.last_seen else "never"
        address = (f"{d.ip}:{d.port}" if d.port else d.ip) if d.ip else "-"
        make = d.make or ("unidentified" if d.kind == "asic" and d.driver is None else "-")
        rows.append([str(d.number), d.kind, d.key, address, make, d.model or "-", d.hostname or "-",
                     d.site, d.rack or "-", seen, d.source])
    _print_table(rows)
    print(f"{len(devices)} devices: {sum(d.kind == 'asic' for d in devices)} ASICs, "
          f"{sum(d.kind == 'rig' for d in devices)} rigs")
    return 0


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def run_alerts(args: argparse.Namespace) -> int:
    from appliance.alerts.engine import STATE_FILE, StateError, read_alerts
    from appliance.alerts.history import read_history

    directory = state_dir(args)
    if directory is None:
        return 2
    try:
        alerts = read_alerts(directory)
    except StateError as exc:
        return _refuse(str(exc))
    firing = [a for a in alerts if a.state == "firing"]
    print(f"{len(firing)} alerts firing")
    for alert in sorted(firing, key=lambda a: (a.severity, a.fired_at or 0)):
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(alert.fired_at or alert.since))
        acked = f"  (acknowledged by {alert.acked_by})" if alert.acked_by else ""
        print(f"  {alert.severity:8} {since}  {alert.id}: {alert.message}{acked}")
    if args.history > 0:
        events = read_history(directory / STATE_FILE, time.time() - args.history * 3600)
        print(f"\n{len(events)} events in the last {args.history:g} h")
        for event in events[-200:]:
            when = time.strftime("%m-%d %H:%M:%S", time.localtime(event["at"]))
            print(f"  {when}  {event['event']:12} {event['id']}: {event.get('message') or ''}")
    return 0


def _refuse(sentence: str) -> int:
    print(f"minerwatch: {sentence}", file=sys.stderr)
    return 2


def run_demo(args: argparse.Namespace) -> int:
    from appliance.demo import demo

    return uvloop.run(demo(miners=args.miners, interval_s=args.interval, rounds=args.rounds or None,
                           keep=args.keep, rigs=args.rigs))
