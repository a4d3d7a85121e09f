"""``minerwatch-sentry snmpd-conf`` and ``minerwatch-sentry pass-persist``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collectors.mib import BASE, dotted, parse
from sentry_light import config as sentry_config
from sentry_light.snmp import pass_persist, snmpd_conf


def register(subparsers: argparse._SubParsersAction) -> None:
    conf = subparsers.add_parser(
        "snmpd-conf", help="print (or --install) the snmpd.conf lines that serve MINERWATCH-MIB",
        description="Print the snmpd.conf block that hands MINERWATCH-MIB to the pass_persist "
                    "responder, with the access lines to choose from as comments; --install puts it "
                    "into snmpd.conf between marker comments, leaving the rest of the file alone.")
    conf.add_argument("--snapshot", type=Path, metavar="FILE",
                      help="the rig snapshot JSON the sentry writes (default: snapshot_path of the "
                           "sentry's configuration)")
    conf.add_argument("--base", type=parse, default=BASE, metavar="OID",
                      help=f"MINERWATCH-MIB's base OID (default {dotted(BASE)})")
    conf.add_argument("--install", action="store_true",
                      help="write the block into --file (a backup is kept; nothing is written if it is current)")
    conf.add_argument("--file", type=Path, default=snmpd_conf.DEFAULT_FILE, metavar="FILE",
                      help=f"the snmpd.conf to install into (default {snmpd_conf.DEFAULT_FILE})")
    conf.set_defaults(func=run_snmpd_conf)

    responder = subparsers.add_parser(
        "pass-persist", help="the responder snmpd runs (pass_persist): not for a terminal",
        description="Answer snmpd's pass_persist requests from the rig snapshot file, on stdin and "
                    "stdout, until snmpd closes the pipe.")
    pass_persist.add_arguments(responder)
    responder.set_defaults(func=pass_persist.run)


def run_snmpd_conf(args: argparse.Namespace) -> int:
    # The sentry's own configuration, so the pass_persist line names the file the sentry writes;
    # a broken configuration is a ConfigError, which minerwatch-sentry reports.
    snapshot = args.snapshot or sentry_config.load(getattr(args, "config", None)).snapshot_path
    try:
        text = snmpd_conf.block(snapshot, args.base)
        if not args.install:
            sys.stdout.write(text)
            return 0
        result = snmpd_conf.install(args.file, text)
    except snmpd_conf.ConfError as exc:
        print(f"minerwatch-sentry: {exc}", file=sys.stderr)
        return 1
    if not result.changed:
        print(f"{result.path} already serves MINERWATCH-MIB as asked; nothing written.")
    else:
        kept = f" (the previous file is {result.backup})" if result.backup else ""
        print(f"{result.path} updated{kept}; restart snmpd to apply it (systemctl restart snmpd).")
    return 0
