"""The ``minerwatch-sentry`` command: the rig agent's console and its service.

    minerwatch-sentry show [--json]       what the rig sees now, for a person at the console
    minerwatch-sentry collect --once      one collection, written to the snapshot file
    minerwatch-sentry run                 the service: collect every interval_s (collect without --once)
    minerwatch-sentry extend              LibreNMS's extend JSON, from the snapshot file

The SNMP side (snmpd's pass_persist responder and its snmpd.conf lines) registers its own
subcommands from ``sentry_light.snmp.cli.register(subparsers)`` when that module is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import sys
from pathlib import Path

from sentry_light import config as sentry_config
from sentry_light import service, show
from sentry_light.collect import collect
from sentry_light.snapshot_file import SnapshotError, extend_document

SNMP_COMMANDS = "sentry_light.snmp.cli"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minerwatch-sentry", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", type=Path, default=None,
                        help=f"the sentry's TOML file (default {sentry_config.DEFAULT_PATH}, if it exists)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    show_parser = commands.add_parser("show", help="print what the rig sees now")
    show_parser.add_argument("--json", action="store_true", help="the snapshot as JSON instead of a table")
    show_parser.set_defaults(func=_show)

    collect_parser = commands.add_parser("collect", help="collect and write the snapshot file")
    collect_parser.add_argument("--once", action="store_true", help="one collection, then exit")
    collect_parser.set_defaults(func=_collect)

    run_parser = commands.add_parser("run", help="the service: collect every interval_s, until SIGTERM")
    run_parser.set_defaults(func=_collect, once=False)

    extend_parser = commands.add_parser("extend", help="LibreNMS's extend JSON from the snapshot file")
    extend_parser.add_argument("--max-age", type=float, default=None, metavar="S",
                               help="flag a snapshot older than this as stale (default 3 × interval_s)")
    extend_parser.set_defaults(func=_extend)

    if importlib.util.find_spec(SNMP_COMMANDS) is not None:
        importlib.import_module(SNMP_COMMANDS).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    service_mode = args.command in ("run", "collect")
    # Under systemd, journald stamps the time itself.
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO if service_mode else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except sentry_config.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SnapshotError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _show(args: argparse.Namespace) -> int:
    snapshot = asyncio.run(collect(sentry_config.load(args.config)))
    print(json.dumps(snapshot.to_dict(), indent=2, ensure_ascii=False) if args.json else show.render(snapshot))
    return 0


def _collect(args: argparse.Namespace) -> int:
    return asyncio.run(service.run(sentry_config.load(args.config), once=args.once))


def _extend(args: argparse.Namespace) -> int:
    config = sentry_config.load(args.config)
    max_age = args.max_age if args.max_age is not None else 3 * config.interval_s
    print(json.dumps(extend_document(config.snapshot_path, max_age), ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
