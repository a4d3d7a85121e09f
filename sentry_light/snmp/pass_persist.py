"""The rig's pass_persist responder: serves the rig snapshot file to the rig's own snmpd, under MINERWATCH-MIB.

snmpd runs it as ``pass_persist <base>.1 minerwatch-sentry pass-persist --snapshot FILE`` (or
``python -m sentry_light.snmp.pass_persist``); the protocol, the file watching and the logging are
``snmp_agent.pass_persist``'s. What is the rig's own: the cells come from ``layout.rows``, and
mwSentry says whether they are current, from the snapshot's ``collected_at`` and the clock.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from collectors.mib import BASE, Oid
from sentry_light.snmp import layout
from snmp_agent import pass_persist
from snmp_agent.cells import Row, number


class Snapshot(pass_persist.FileSource):
    """The rig snapshot's cells, and mwSentry: ok, stale (older than ``stale_after_s``), or down (no
    readable snapshot: only mwSentry is served)."""

    what = "the rig snapshot"
    unread = "serving mwSentryStatus down"

    def __init__(self, path: Path, base: Oid = BASE, stale_after_s: float = pass_persist.DEFAULT_STALE_AFTER_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.base = base
        self.stale_after_s = stale_after_s
        super().__init__(path, clock)

    def build(self, document: dict[str, Any]) -> tuple[Iterable[Row], float | None]:
        return layout.rows(document, self.base), number(document.get("collected_at"))

    def live(self, age_s: float | None) -> list[Row]:
        if age_s is None:
            return layout.sentry_rows("down", None, self.base)
        return layout.sentry_rows("stale" if age_s > self.stale_after_s else "ok", age_s, self.base)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", required=True, type=Path, metavar="FILE",
                        help="the rig snapshot JSON the sentry writes")
    pass_persist.add_arguments(parser, stale_help="mwSentryStatus says stale when the snapshot is older than this")


def run(args: argparse.Namespace) -> int:
    """The entry point snmpd runs."""
    return pass_persist.run(lambda: Snapshot(args.snapshot, args.base, args.stale_after),
                            "minerwatch-sentry pass-persist", args.log_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentry_light.snmp.pass_persist",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
