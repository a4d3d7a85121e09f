"""``minerwatch asic-sentry --config FILE``: the ASIC sentry's daemon (``service.py``)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from appliance.cli_args import config_args, loaded_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("asic-sentry", help="poll this site's ASICs and keep every cycle for the "
                                                       "commander (the ASIC sentry's daemon)")
    config_args(parser)
    parser.add_argument("--web-port", type=int, default=80, metavar="PORT",
                        help="the port the miners' own web interfaces listen on (default 80)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvloop

    config = loaded_config(args)
    if config is None:
        return 2
    if config.asic_sentry is None:
        print(f"minerwatch: {args.config} has no [asic_sentry] section: it is not an ASIC sentry's configuration",
              file=sys.stderr)
        return 2
    return uvloop.run(serve(config, args.web_port))


async def serve(config, web_port: int) -> int:
    from appliance.damaged import StateFileError
    from appliance.tls import TlsFilesError
    from asic_sentry.service import AsicSentryService

    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    settings = config.asic_sentry
    try:
        async with AsicSentryService(config, web_port=web_port) as sentry:
            sentry.schedule()
            print(f"minerwatch asic-sentry: {settings.name} polling {len(sentry.inventory.devices())} known miners; "
                  f"serving its commander on https://{settings.listen[0]}:{sentry.api.port}/, buffer in {sentry.buffer.directory}",
                  file=sys.stderr, flush=True)
            await stop.wait()
    except (StateFileError, TlsFilesError, OSError) as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 1
    print("minerwatch asic-sentry: stopped cleanly", file=sys.stderr, flush=True)
    return 0
