"""Arguments the commander's subcommands share: where the configuration is, and for the commands
that only read what the commander keeps, where its state directory is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.config import DEFAULT_PATH, Config, ConfigError, load, load_state_dir


def config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=DEFAULT_PATH, metavar="FILE",
                        help=f"the commander's configuration (default {DEFAULT_PATH})")
    parser.add_argument("--secrets", type=Path, default=None, metavar="FILE",
                        help="secrets file (default: secrets.toml beside the config)")


def loaded_config(args: argparse.Namespace) -> Config | None:
    """The configuration ``config_args`` name, read for a daemon about to use its state directory;
    None after printing every mistake."""
    try:
        return load(args.config, args.secrets, paths=True)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def state_dir_args(parser: argparse.ArgumentParser) -> None:
    """``--config`` for a command that reads what the commander keeps, ``--state-dir`` to name the
    directory instead."""
    parser.add_argument("--config", type=Path, default=DEFAULT_PATH, metavar="FILE",
                        help=f"the commander's configuration, for its state_dir (default {DEFAULT_PATH}); "
                             "its secrets are not read")
    parser.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                        help="the commander's state directory, instead of the one --config names")


def state_dir(args: argparse.Namespace) -> Path | None:
    """The state directory ``state_dir_args`` ask for, or None after saying why there is none."""
    if args.state_dir is not None:
        return args.state_dir
    try:
        return load_state_dir(args.config)
    except ConfigError as exc:
        print(f"{exc}\n(give --state-dir to read a state directory without a configuration)", file=sys.stderr)
        return None
