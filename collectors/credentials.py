"""Login credentials per driver: what the configuration gives, else the maker's factory default.

Most farms never change the factory logins, so a driver that needs one (web API, SSH,
Whatsminer's write commands) tries the default unless the user configured another.
A password never reaches a log line or a repr.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credential:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, password='***')"


# Keyed by driver name. Web-interface logins as the makers ship them; where pyasic's
# defaults disagree it is noted.
FACTORY_DEFAULTS: dict[str, Credential] = {
    "antminer": Credential("root", "root"),  # stock Bitmain web (digest auth)
    "braiins": Credential("root", ""),  # Braiins OS ships with no root password (pyasic tries "root")
    "whatsminer": Credential("admin", "admin"),
    "vnish": Credential("admin", "admin"),
    "goldshell": Credential("admin", "123456789"),
    "innosilicon": Credential("admin", "admin"),
    "auradine": Credential("admin", "admin"),
    "iceriver": Credential("admin", "12345678"),
    "luxos": Credential("root", "root"),
    "epic": Credential("root", "letmein"),
    "avalon": Credential("root", "root"),
    # Bitmain-like web firmwares keep Bitmain's web login; VolcMiner ships root/ltc@dog instead.
    "elphapex": Credential("root", "root"),
    "blackminer": Credential("root", "root"),
}


class Credentials:
    """The configured credentials (``{"antminer": {"username": ..., "password": ...}}``)."""

    def __init__(self, configured: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._configured: dict[str, Credential] = {}
        for driver, entry in (configured or {}).items():
            unknown = set(entry) - {"username", "password"}
            if unknown or "username" not in entry:
                raise ValueError(f"credentials for {driver!r} need a username and a password, "
                                 f"and nothing else (got {', '.join(sorted(entry))})")
            self._configured[driver] = Credential(str(entry["username"]),
                                                  str(entry.get("password", "")))

    def for_driver(self, name: str) -> Credential | None:
        """The configured credential for driver ``name``, else its factory default, else None."""
        return self._configured.get(name) or FACTORY_DEFAULTS.get(name)

    def __repr__(self) -> str:
        return f"Credentials(configured={sorted(self._configured)})"


class CredentialsFileError(ValueError):
    """A credentials file that is unsafe or unreadable; the message names the file."""


def load_file(path: str | os.PathLike[str]) -> Credentials:
    """Credentials from a TOML file with one table per driver (``[antminer] username/password``).

    The file holds passwords, so it must be readable by its owner only (mode 0600 or stricter).
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialsFileError(f"{path} is readable by others (mode {stat.S_IMODE(mode):04o}); "
                                       f"run: chmod 600 {path}")
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise CredentialsFileError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsFileError(f"{path}: {exc}") from exc
    for driver, entry in data.items():
        if not isinstance(entry, dict):
            raise CredentialsFileError(f"{path}: {driver!r} must be a table with username and password")
    try:
        return Credentials(data)
    except ValueError as exc:
        raise CredentialsFileError(f"{path}: {exc}") from exc
