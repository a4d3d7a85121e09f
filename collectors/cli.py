"""``minerwatch poll`` and ``minerwatch scan``: the collectors from a terminal."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Iterator, TypeVar

import uvloop

from collectors.asic import DRIVERS
from collectors.credentials import Credentials, CredentialsFileError, load_file
from collectors.display import poll_table, scan_table
from collectors.fleet import poll_fleet
from collectors.identify import Identity
from collectors.model import MinerSnapshot
from collectors.poll import Poller, PollSettings
from collectors.scan import raise_open_files_limit, scan
from collectors.targets import TargetError, expand

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction) -> None:
    poll = subparsers.add_parser("poll", help="poll miners now and print what they report")
    poll.add_argument("targets", nargs="+", metavar="TARGET",
                      help="IP, IP:PORT, CIDR (10.0.3.0/24), range (10.0.3.1-10.0.3.50) or @file")
    poll.add_argument("--make", choices=sorted(DRIVERS), metavar="DRIVER",
                      help=f"skip identification and use this driver ({', '.join(sorted(DRIVERS))})")
    _common(poll)
    poll.set_defaults(func=run_poll)

    scan_ = subparsers.add_parser("scan", help="find and identify miners in address ranges")
    scan_.add_argument("targets", nargs="+", metavar="TARGET", help="as for poll")
    _common(scan_)
    scan_.set_defaults(func=run_scan)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per device per line")
    parser.add_argument("--timeout", type=seconds, default=3.0, metavar="S",
                        help="seconds per device, everything included (default 3)")
    parser.add_argument("--concurrency", type=count, default=200, metavar="N",
                        help="devices in flight at once (default 200)")
    parser.add_argument("--web-port", type=port, default=80, metavar="PORT",
                        help="the miners' web port (default 80)")
    parser.add_argument("--credentials", metavar="FILE",
                        help="TOML file, mode 0600: [antminer] username = ..., password = ... "
                             "(per driver; the makers' factory logins otherwise)")


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
def _progress(total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on an interactive terminal, nothing when output goes to a file or pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=what, file=sys.stderr, leave=False) as bar:
        yield bar.update


def _targets(args: argparse.Namespace):
    try:
        return expand(args.targets)
    except TargetError as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return None


def run_poll(args: argparse.Namespace) -> int:
    targets, settings = _targets(args), _settings(args)
    if targets is None or settings is None:
        return 2
    raise_open_files_limit()

    async def go() -> list[MinerSnapshot]:
        async with Poller(settings) as poller:
            with _progress(len(targets), "miner") as progress:
                return await poll_fleet(poller, targets, args.make, progress)

    snapshots = uvloop.run(go())
    if args.json:
        for snapshot in snapshots:
            _print_json(snapshot.to_dict())
    else:
        print(poll_table(snapshots))
    return 0


def run_scan(args: argparse.Namespace) -> int:
    targets, settings = _targets(args), _settings(args)
    if targets is None or settings is None:
        return 2
    raise_open_files_limit()

    async def go() -> list[Identity]:
        async with Poller(settings) as poller:
            with _progress(len(targets), "address") as progress:
                return await scan(poller, targets, progress=progress)

    found = uvloop.run(go())
    if args.json:
        for identity in found:
            _print_json(_identity_row(identity))
    else:
        print(scan_table(found, len(targets)))
    return 0


def _print_json(document: dict) -> None:
    """One line of strict JSON: a NaN or an infinity is a bug of ours (``collectors.limits.enforce``
    keeps them out of every snapshot), never ``NaN`` or ``Infinity`` that JSON readers refuse."""
    print(json.dumps(document, separators=(",", ":"), allow_nan=False))


def _identity_row(identity: Identity) -> dict:
    driver = DRIVERS.get(identity.driver) if identity.driver else None
    return {"ip": identity.ip, "port": identity.port, "driver": identity.driver,
            "make": driver.make if driver else None, "firmware": driver.firmware if driver else None,
            "evidence": identity.evidence, "error": identity.error}
