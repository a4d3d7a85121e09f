"""``minerwatch config check``: every mistake in the configuration, one line each, before a restart."""

from __future__ import annotations

import argparse

from appliance import config
from appliance.cli_args import config_args
from appliance.tls import TlsFilesError, server_context


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``config check [--config PATH] [--secrets PATH]`` to the ``minerwatch`` command."""
    parser = subparsers.add_parser("config", help="check the commander's configuration")
    actions = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="list every mistake with its file and line; exit 1 if any")
    config_args(check)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    try:
        loaded = config.load(args.config, args.secrets, paths=True)
    except config.ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    web = loaded.web
    if web.tls_cert and web.tls_key:
        try:
            server_context(str(web.tls_cert), str(web.tls_key))
        except TlsFilesError as exc:
            print(f"{args.config}: [web] {exc}")
            return 1
    print(f"{args.config}: OK ({len(loaded.miners)} miners, {len(loaded.sentries)} sentries, "
          f"{len(loaded.channels)} channels)")
    host, port = web.listen
    print(f"{args.config}: `minerwatch web` serves on {f'[{host}]' if ':' in host else host}:{port}"
          + (f" over HTTPS ({web.tls_cert})" if web.tls_cert else "")
          + (f", behind the proxy at {web.trusted_proxy}" if web.trusted_proxy else ""))
    return 0
