"""The commander's pass_persist responder: the farm document, as mwFarmObjects, to the commander's snmpd.

snmpd runs it as ``pass_persist <base>.2 minerwatch pass-persist --farm FILE`` (or ``python -m
appliance.snmp.responder``); the protocol, the file watching and the logging are
``snmp_agent.pass_persist``'s. What is the farm's own: the cells come from ``layout.rows``, and a
document older than ``--stale-after`` (its ``written_at``: the commander stopped writing) makes
mwFarmHaRole fault(3), as keepalived's health check would put it, while the last values stay
served with their mwFarmPolledAt. A missing or unreadable file, or a document of another
``version``, serves nothing, and says so in one log line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from appliance.snmp import layout
from collectors.mib import BASE, HA_ROLE, Oid, oid
from snmp_agent import pass_persist
from snmp_agent.cells import Row, number


class Farm(pass_persist.FileSource):
    what = "the farm document"

    def __init__(self, path: Path, base: Oid = BASE, stale_after_s: float = pass_persist.DEFAULT_STALE_AFTER_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.base = base
        self.stale_after_s = stale_after_s
        self._fault: list[Row] = [(oid("mwFarmHaRole", base) + (0,), "integer", HA_ROLE["fault"])]
        super().__init__(path, clock)

    def build(self, document: dict[str, Any]) -> tuple[Iterable[Row], float | None]:
        version = document.get("version")
        if type(version) is not int or version != layout.VERSION:
            raise ValueError(f"version {version!r}, where this responder reads {layout.VERSION}")
        return layout.rows(document, self.base), number(document.get("written_at"))

    def live(self, age_s: float | None) -> list[Row]:
        return self._fault if age_s is not None and age_s > self.stale_after_s else []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--farm", required=True, type=Path, metavar="FILE",
                        help="the farm document the commander writes (<state_dir>/snmp/farm.json)")
    pass_persist.add_arguments(parser, stale_help="mwFarmHaRole says fault when the document is older than this")


def run(args: argparse.Namespace) -> int:
    """The entry point snmpd runs."""
    return pass_persist.run(lambda: Farm(args.farm, args.base, args.stale_after), "minerwatch pass-persist",
                            args.log_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.snmp.responder", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
