"""``minerwatch-sentry snmpd-conf`` and ``minerwatch-sentry pass-persist``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sentry_light import config as sentry_config
from sentry_light.snmp import pass_persist, snmpd_conf
from snmp_agent import snmpd_conf as agent_conf
from snmp_agent.pass_persist import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    conf = subparsers.add_parser(
        "snmpd-conf", help="print (or --install) the snmpd.conf lines that serve MINERWATCH-MIB",
        description="Print the snmpd.conf block that hands MINERWATCH-MIB to the pass_persist "
                    "responder, with the access lines to choose from as comments; --install puts it "
                    "into snmpd.conf between marker comments, leaving the rest of the file alone.")
    conf.add_argument("--snapshot", type=Path, metavar="FILE",
                      help="the rig snapshot JSON the sentry writes (default: snapshot_path of the "
                           "sentry's configuration)")
    agent_conf.add_arguments(conf)
    conf.set_defaults(func=run_snmpd_conf)

    add_command(subparsers, "the rig snapshot file", pass_persist.add_arguments, pass_persist.run)


def run_snmpd_conf(args: argparse.Namespace) -> int:
    # The sentry's own configuration, so the pass_persist line names the file the sentry writes;
    # a broken configuration is a ConfigError, which minerwatch-sentry reports.
    snapshot = args.snapshot or sentry_config.load(getattr(args, "config", None)).snapshot_path
    return agent_conf.print_or_install(lambda: snmpd_conf.block(snapshot, args.base), args, snmpd_conf.MARKERS,
                                       "minerwatch-sentry")
