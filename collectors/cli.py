"""``minerwatch poll`` and ``minerwatch scan``: the collectors from a terminal."""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from typing import Iterator, TextIO, TypeVar

import uvloop

from collectors.asic import DRIVERS
from collectors.credentials import Credentials, CredentialsFileError, load_file
from collectors.display import poll_table, scan_table, silent_line
from collectors.fleet import poll_target
from collectors.identify import RPC_PORT, Identity, identify_target
from collectors.model import MinerSnapshot, unreachable
from collectors.poll import Poller, PollSettings
from collectors.scan import miner_ports, raise_open_files_limit, silence, sweep
from collectors.targets import Target, TargetError, expand

T = TypeVar("T")


_TARGETS = ("an address (10.0.3.7), an address and port (10.0.3.7:4029: only that port is asked), a network "
            "(10.0.3.0/24), a range (10.0.3.1-10.0.3.50) or @FILE with one target per line")
_POLL = """Identify each address (unless --make is given) and poll it: what every device that answered
reports, and one line for the silent addresses, where nothing accepted a connection on a miner
port (4028, the web port, 4433; or the port given). The exit status is 0 whenever the poll ran,
even if miners were down; 2 for a target or a credentials file that cannot be read; 130 after
Ctrl-C, which prints what was polled until then."""
_SCAN = """Find what listens on the miner ports (4028, the web port, 4433; or the port given) and identify
it: make, firmware and the driver that reads it, or why it could not be identified. The exit
status is 0 when the scan ran; 2 for a target that cannot be read; 130 after Ctrl-C, which prints
what was found until then."""


def register(subparsers: argparse._SubParsersAction) -> None:
    poll = subparsers.add_parser("poll", help="poll miners now and print what they report", description=_POLL)
    poll.add_argument("targets", nargs="+", metavar="TARGET", help=_TARGETS)
    poll.add_argument("--make", choices=sorted(DRIVERS), metavar="DRIVER",
                      help=f"skip identification and read every target with this driver ({', '.join(sorted(DRIVERS))})")
    poll.add_argument("--all", action="store_true",
                      help="list the silent addresses too, each with its error, instead of one line that counts "
                           "them; with --json, as objects with \"reachable\": false")
    _common(poll, "one JSON object per line for each device that answered (the snapshot's keys: see README)")
    poll.set_defaults(func=run_poll)

    scan_ = subparsers.add_parser("scan", help="find and identify miners in address ranges", description=_SCAN)
    scan_.add_argument("targets", nargs="+", metavar="TARGET", help=_TARGETS)
    _common(scan_, "one JSON object per line for each device that answered: ip, port, driver, make, firmware, "
                   "evidence, error")
    scan_.set_defaults(func=run_scan)


def _common(parser: argparse.ArgumentParser, json_help: str) -> None:
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.add_argument("--timeout", type=seconds, default=3.0, metavar="S",
                        help="seconds each device has to answer, identification and poll each included "
                             "(default 3)")
    parser.add_argument("--concurrency", type=count, default=200, metavar="N",
                        help="devices identified or polled at once (default 200)")
    parser.add_argument("--web-port", type=port, default=80, metavar="PORT",
                        help="the port the miners' web interfaces and web APIs listen on (default 80)")
    parser.add_argument("--credentials", metavar="FILE",
                        help="TOML file, mode 0600, with a login per driver ([antminer] username = ..., "
                             "password = ...); the makers' factory logins otherwise")


def _checked(convert: Callable[[str], T], what: str, fits: Callable[[T], bool], hint: str) -> Callable[[str], T]:
    """An argparse type: ``convert`` the text, and refuse what does not ``fit`` in one sentence
    (argparse prints it as "argument --timeout: 0 is not a time limit: give ...")."""
    def check(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not fits(value):
            raise argparse.ArgumentTypeError(f"{text} is not {what}: {hint}")
        return value
    return check


# 0 or less would fail every device and blame it; nan and inf never end.
seconds = _checked(float, "a time limit", lambda s: 0 < s < math.inf, "give a number of seconds above 0")
count = _checked(int, "a number of devices at once", lambda n: n >= 1, "give 1 or more")
port = _checked(int, "a port", lambda n: 0 < n < 65536, "give a number from 1 to 65535")


def _settings(args: argparse.Namespace) -> PollSettings | None:
    try:
        credentials = load_file(args.credentials) if args.credentials else Credentials()
    except CredentialsFileError as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return None
    return PollSettings(timeout_s=args.timeout, concurrency=args.concurrency, web_port=args.web_port,
                        credentials=credentials)


@contextmanager
def progress_bar(total: int, what: str, stream: TextIO | None = None) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on ``stream`` (stderr) when it is a terminal; nothing when it is a file or a pipe."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    from tqdm import tqdm

    # A terminal that reports no size (under script(1), a serial console) would get a bar 0 wide.
    columns = os.get_terminal_size(stream.fileno()).columns or 80
    with tqdm(total=total, unit=what, file=stream, ncols=columns, leave=False) as bar:
        yield bar.update


def _targets(args: argparse.Namespace) -> list[Target] | None:
    try:
        return expand(args.targets)
    except TargetError as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return None


def _sweep(targets: list[Target], settings: PollSettings,
           examine: Callable[[Poller], Callable[[Target], Awaitable[T]]]) -> tuple[list[tuple[Target, T | None]], bool]:
    """Every target through ``sweep`` (None where nothing listens), in order, with a progress bar
    on a terminal; and whether Ctrl-C stopped it, keeping what was done by then."""
    raise_open_files_limit()
    done: dict[int, tuple[Target, T | None]] = {}

    async def go() -> None:
        async with Poller(settings) as poller:
            with progress_bar(len(targets), "address") as progress:
                def record(position: int, target: Target, result: T | None) -> None:
                    done[position] = target, result
                    if progress:
                        progress(1)

                await sweep(poller, targets, examine(poller), record)

    try:
        uvloop.run(go())  # asyncio's runner turns the first Ctrl-C into cancelling go(), then raises
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    return [done[position] for position in sorted(done)], interrupted


def _interrupted(done: int, total: int, verb: str) -> int:
    print(f"minerwatch: interrupted after {done:,} of {total:,} addresses; the rest were not {verb}",
          file=sys.stderr)
    return 130  # 128 + SIGINT, what a shell reports for a command Ctrl-C stopped


def run_poll(args: argparse.Namespace) -> int:
    targets, settings = _targets(args), _settings(args)
    if targets is None or settings is None:
        return 2

    def examine(poller: Poller) -> Callable[[Target], Awaitable[MinerSnapshot]]:
        async def poll(target: Target) -> MinerSnapshot:
            return (await poll_target(poller, target, args.make)).snapshot
        return poll

    swept, interrupted = _sweep(targets, settings, examine)
    silent = [target for target, snapshot in swept if snapshot is None]
    listed = [snapshot if snapshot is not None else
              unreachable(target.ip, target.port or RPC_PORT,
                          f"{target.ip}: {silence(miner_ports(settings, target))}")
              for target, snapshot in swept if snapshot is not None or args.all]
    if args.json:
        for snapshot in listed:
            _print_json(snapshot.to_dict())
    else:
        if listed:
            print(poll_table(listed))
        if silent:
            ports = {port for target in silent for port in miner_ports(settings, target)}
            print(silent_line([target.ip for target in silent], len(swept), silence(ports), listed=args.all))
    return _interrupted(len(swept), len(targets), "polled") if interrupted else 0


def run_scan(args: argparse.Namespace) -> int:
    targets, settings = _targets(args), _settings(args)
    if targets is None or settings is None:
        return 2
    swept, interrupted = _sweep(targets, settings, lambda poller: functools.partial(identify_target, poller))
    found = [identity for _, identity in swept if identity is not None]
    if args.json:
        for identity in found:
            _print_json(_identity_row(identity))
    else:
        print(scan_table(found, len(swept)))
    return _interrupted(len(swept), len(targets), "scanned") if interrupted else 0


def _print_json(document: dict) -> None:
    """One line of strict JSON: a NaN or an infinity is a bug of ours (``collectors.limits.enforce``
    keeps them out of every snapshot), never ``NaN`` or ``Infinity`` that JSON readers refuse."""
    print(json.dumps(document, separators=(",", ":"), allow_nan=False))


def _identity_row(identity: Identity) -> dict:
    driver = DRIVERS.get(identity.driver) if identity.driver else None
    return {"ip": identity.ip, "port": identity.port, "driver": identity.driver,
            "make": driver.make if driver else None, "firmware": driver.firmware if driver else None,
            "evidence": identity.evidence, "error": identity.error}
