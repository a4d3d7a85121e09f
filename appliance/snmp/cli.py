"""``minerwatch snmpd-conf`` and ``minerwatch pass-persist``: the farm, served by the commander's snmpd."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.config import DEFAULT_PATH, ConfigError, load_state_dir
from appliance.snmp import responder
from appliance.snmp.farm_file import farm_path
from collectors.mib import BASE, Oid, oid
from snmp_agent import snmpd_conf
from snmp_agent.pass_persist import add_command

MARKERS = snmpd_conf.Markers("minerwatch-commander", "minerwatch snmpd-conf")


def register(subparsers: argparse._SubParsersAction) -> None:
    conf = subparsers.add_parser(
        "snmpd-conf", help="print (or --install) the snmpd.conf lines that serve the farm under MINERWATCH-MIB",
        description="Print the snmpd.conf block that hands MINERWATCH-MIB's farm subtree (mwFarmObjects) to "
                    "the commander's pass_persist responder, with the access lines to choose from as "
                    "comments; --install puts it into snmpd.conf between marker comments, leaving the rest "
                    "of the file alone.")
    conf.add_argument("--farm", type=Path, metavar="FILE",
                      help="the farm document the commander writes (default: snmp/farm.json in the "
                           "state_dir of --config)")
    conf.add_argument("--config", type=Path, default=DEFAULT_PATH, metavar="FILE",
                      help=f"the commander's configuration, for its state_dir (default {DEFAULT_PATH})")
    snmpd_conf.add_arguments(conf)
    conf.set_defaults(func=run_snmpd_conf)

    add_command(subparsers, "the farm document", responder.add_arguments, responder.run)


def block(farm: Path, base: Oid = BASE, command: str | None = None) -> str:
    """The marked block: the pass_persist line for mwFarmObjects (the subtree this responder serves),
    and the access choices as comments."""
    snmpd_conf.check_path(farm, "farm document")
    # The module, not ``minerwatch pass-persist``: that loads every package's commands (over a
    # second), and snmpd, single-threaded, answers nobody while the responder starts.
    command = command or f"{sys.executable} -m appliance.snmp.responder --farm {farm}{snmpd_conf.base_option(base)}"
    return snmpd_conf.block(MARKERS, oid("mwFarmObjects", base), command,
                            served="MINERWATCH-MIB's farm and device table, served from the commander's farm "
                                   "document by its pass_persist responder.",
                            reader="NMS")


def run_snmpd_conf(args: argparse.Namespace) -> int:
    farm = args.farm
    if farm is None:
        # The commander's configuration, so the pass_persist line names the file the commander writes;
        # without its secrets, which root (editing snmpd.conf) must not be made to own.
        try:
            farm = farm_path(load_state_dir(args.config))
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 2
    return snmpd_conf.print_or_install(lambda: block(farm, args.base), args, MARKERS, "minerwatch")
