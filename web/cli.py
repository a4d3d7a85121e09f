"""``minerwatch web`` (the web UI and API, served by cheroot), ``minerwatch user`` and
``minerwatch token`` (the web's users and API tokens, changed beside a running web)."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from types import FrameType

from appliance.cli_args import config_args, loaded_config, state_dir, state_dir_args
from appliance.config import ROLES

THREADS = 8  # requests served at once; each API read takes milliseconds


def register(subparsers: argparse._SubParsersAction) -> None:
    web = subparsers.add_parser("web", help="serve the web UI and JSON API on [web] listen (the daemon)")
    config_args(web)
    web.set_defaults(func=run_web)

    groups = {"user": "the web's users: add one, give one a new password",
              "token": "API tokens (Authorization: Bearer ...)"}
    actions = {name: subparsers.add_parser(name, help=text).add_subparsers(
        dest=f"{name}_command", metavar="ACTION", required=True) for name, text in groups.items()}
    for group, action, text, role, func in (
            ("user", "add", "add a user; prints its generated password once", True, run_user_add),
            ("user", "passwd", "give a user a new generated password, printed once", False, run_user_passwd),
            ("token", "create", "create a token; prints it once (only its hash is kept)", True, run_token_create)):
        parser = actions[group].add_parser(action, help=text)
        parser.add_argument("name")
        if role:
            parser.add_argument("--role", choices=ROLES, required=True)
        state_dir_args(parser)
        parser.set_defaults(func=func)


def run_web(args: argparse.Namespace) -> int:
    from cheroot.ssl.builtin import BuiltinSSLAdapter
    from cheroot.wsgi import Server

    from appliance.tls import TlsFilesError, server_context
    from web.app import create_app
    from web.files import WebFileError

    config = loaded_config(args)
    if config is None:
        return 2
    settings = config.web
    try:
        context = server_context(str(settings.tls_cert), str(settings.tls_key)) if settings.tls_cert else None
        app = create_app(config)
    except (TlsFilesError, WebFileError, OSError) as exc:
        print(f"minerwatch web: {exc}", file=sys.stderr)
        return 1
    host, port = settings.listen
    server = Server((host, port), app, numthreads=THREADS, timeout=60)
    server.software = "minerwatch"
    if context is not None:
        server.ssl_adapter = BuiltinSSLAdapter(str(settings.tls_cert), str(settings.tls_key))
        server.ssl_adapter.context = context  # ours: TLS 1.2 at least, and already checked
    try:
        server.prepare()
    except OSError as exc:
        print(f"minerwatch web: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if context is not None else "http"
    print(f"minerwatch web: serving {scheme}://{shown}:{server.bind_addr[1]}/ for state in {config.state_dir}",
          file=sys.stderr, flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("minerwatch web: stopped", file=sys.stderr, flush=True)
    return 0


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # cheroot's loop ends the same way for SIGTERM as for Ctrl-C


def _change(args: argparse.Namespace, what: str, change) -> int:
    """Run ``change(users)`` on the state directory's users; print what it returns; audit it."""
    from web.audit import AuditLog
    from web.files import WebFileError
    from web.users import UserError, Users

    directory = state_dir(args)
    if directory is None:
        return 2
    try:
        secret = change(Users(directory))
        AuditLog(directory).record(f"cli:{getpass.getuser()}", what, "cli", name=args.name,
                                   **({"role": args.role} if getattr(args, "role", None) else {}))
    except (UserError, WebFileError) as exc:
        print(f"minerwatch: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"minerwatch: cannot write in {directory / 'web'}: {exc.strerror or exc}; run this as the user "
              "the web runs as", file=sys.stderr)
        return 1
    print(secret)
    return 0


def run_user_add(args: argparse.Namespace) -> int:
    return _change(args, "user_added", lambda users: users.add(args.name, args.role))


def run_user_passwd(args: argparse.Namespace) -> int:
    return _change(args, "password_changed", lambda users: users.passwd(args.name))


def run_token_create(args: argparse.Namespace) -> int:
    return _change(args, "token_created", lambda users: users.create_token(args.name, args.role))
