"""The one ``minerwatch`` command; each package contributes its subcommands.

Packages register through the ``minerwatch.commands`` entry-point group (see pyproject.toml)
with a ``register(subparsers)`` callable, so this module imports none of them directly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib.metadata import entry_points


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minerwatch", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in sorted(entry_points(group="minerwatch.commands"), key=lambda e: e.name):
        # One package that cannot load (a missing dependency, a broken install) costs its own
        # commands, not every other one.
        try:
            entry.load()(subparsers)
        except Exception as exc:  # noqa: BLE001 - the boundary between the command and its plugins
            print(f"minerwatch: the {entry.name} commands are unavailable: {entry.value} cannot be "
                  f"loaded ({type(exc).__name__}: {exc})", file=sys.stderr)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit where it is a traceback
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`minerwatch devices | head`): stop quietly, as Unix tools do. Python
        # would report the pipe again when it flushes stdout at exit, so point stdout elsewhere first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool the closed pipe stopped


if __name__ == "__main__":
    sys.exit(main())
