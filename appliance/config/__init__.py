"""The commander's configuration: one TOML file, its secrets in another, parsed once into frozen dataclasses.

``load(path)`` returns a ``Config`` or raises ``ConfigError`` listing every mistake; ``check(path)``
returns the same mistakes as ``Problem``s, each naming the file and the line. Nothing here opens a
socket or resolves a name: start-up must work with the network down (STYLE 14).

- ``model.py``: the dataclasses (``Config``, ``Site``, ``Miner``, ``Sentry``, ...).
- ``sections.py``: a reader per section of the file, in the ``SECTIONS`` table. [storage], [alerts]
  and [[channels]] are read by the packages that own them (``StorageSettings.read``,
  ``AlertSettings.read``, ``ChannelSettings.read``), through the same ``configfile.Table``.
- ``secrets_file.py``: the secrets file and its environment overrides.
- ``configfile/`` (a package of its own, shared with the rig sentry): where each key is in the
  text, the table reader and the kinds of values.

Secrets (miner passwords, the SNMP community, SNMPv3 passwords, web password hashes, the alert
channels' credentials) never live in commander.toml. They come from ``secrets.toml`` beside it (or
``--secrets PATH``), which must be owned by the user the commander runs as and readable by nobody
else (mode 0600 or 0400), or from environment variables ``MINERWATCH_SECRET_<NAME>``, where NAME is
the secret's dotted place in the secrets file, upper-cased, with every character other than a
letter or digit turned into ``_``::

    [credentials.antminer] password        MINERWATCH_SECRET_CREDENTIALS_ANTMINER_PASSWORD
    [snmp] community                       MINERWATCH_SECRET_SNMP_COMMUNITY
    [snmp.users.monitor] auth_password     MINERWATCH_SECRET_SNMP_USERS_MONITOR_AUTH_PASSWORD
    [web.users.alice] password_hash        MINERWATCH_SECRET_WEB_USERS_ALICE_PASSWORD_HASH
    [channels.ops] token                   MINERWATCH_SECRET_CHANNELS_OPS_TOKEN

The environment wins over the file. Secret fields are left out of every repr.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from appliance.config import sections
from appliance.config.model import (
    AUTH_PROTOCOLS, PRIV_PROTOCOLS, ROLES, SNMP_VERSIONS, SNMPV3_MIN_PASSWORD, AsicSentry, AsicSentryLink, Config,
    Discovery, Intervals, Miner, Sentry, Site, Web, WebUser,
)
from appliance.config.secrets_file import ENV_PREFIX, SECRETS_NAME, Secrets, secret_env_name, user_name
from appliance.store.settings import DEFAULT_STATE_DIR
from collectors.credentials import Credential
from collectors.targets import Subnet
from configfile import ConfigError, Document, Problem, ordered

__all__ = [
    "AUTH_PROTOCOLS", "DEFAULT_PATH", "DEFAULT_STATE_DIR", "ENV_PREFIX", "PRIV_PROTOCOLS", "ROLES", "SECRETS_NAME",
    "SNMPV3_MIN_PASSWORD", "SNMP_VERSIONS", "AsicSentry", "AsicSentryLink", "Config", "ConfigError", "Credential", "Discovery", "Intervals", "Miner",
    "Problem", "Sentry", "Site", "Subnet", "Web", "WebUser", "check", "load", "load_state_dir", "secret_env_name",
    "unwritable",
]

DEFAULT_PATH = Path("/etc/minerwatch/commander.toml")


def load(path: str | os.PathLike[str] = DEFAULT_PATH,
         secrets_path: str | os.PathLike[str] | None = None, *, paths: bool = False) -> Config:
    """The configuration at ``path``; raises ConfigError naming every mistake with file and line.
    ``paths``: also check that the state directory can be written, as a daemon about to use it."""
    config, problems = _parse(Path(path), None if secrets_path is None else Path(secrets_path), paths)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def check(path: str | os.PathLike[str] = DEFAULT_PATH,
          secrets_path: str | os.PathLike[str] | None = None, *, paths: bool = False) -> list[Problem]:
    """Every mistake in the configuration and its secrets, in file and line order; [] when none.
    ``paths`` as for ``load``."""
    return _parse(Path(path), None if secrets_path is None else Path(secrets_path), paths)[1]


def load_state_dir(path: str | os.PathLike[str] = DEFAULT_PATH) -> Path:
    """The state directory the configuration at ``path`` names, read without the secrets: for a
    command run by another user than the service, such as root installing snmpd.conf lines, which
    must not be asked to own (or read) the service's secrets.toml."""
    problems: list[Problem] = []
    document = Document.load(Path(path), problems)
    state_dir = sections.commander(document.root).state_dir if document else None
    if problems or state_dir is None:
        raise ConfigError(problems)
    return state_dir


def unwritable(directory: Path) -> str | None:
    """Why this user cannot keep state in ``directory`` (create it where missing, write in it), or
    None when it can. Checked, not tried: a check must leave nothing behind."""
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    user = user_name(os.geteuid())
    if not existing.is_dir():
        return (f"state_dir {directory} cannot be used: {existing} is a file, not a directory"
                if existing != directory else f"state_dir {directory} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        info = existing.stat()
        doing = "write in" if existing == directory else f"create {directory} in"
        return (f"state_dir {directory}: {user} cannot {doing} {existing} (owned by {user_name(info.st_uid)}, "
                f"mode {stat.S_IMODE(info.st_mode):04o}); run the check as the user the commander runs as")
    return None


def _parse(path: Path, secrets_path: Path | None, paths: bool) -> tuple[Config | None, list[Problem]]:
    problems: list[Problem] = []
    document = Document.load(path, problems)
    if document is None:
        return None, problems
    secrets = Secrets(secrets_path or path.with_name(SECRETS_NAME), secrets_path is not None, problems)
    config = sections.read(document.root, secrets)
    secrets.check_unused()
    if paths:
        for place, directory in ((("commander", "state_dir"), config.state_dir),
                                 (("storage", "state_dir"), config.storage.state_dir)):
            if (sentence := unwritable(directory)) is not None:
                document.problem(place, sentence)
                break  # the storage's own state_dir is [commander]'s unless it names another
    return (None if problems else config), ordered(problems, path)
