"""Login credentials per driver: what the configuration gives, else the maker's factory default.

Most farms never change the factory logins, so a driver that needs one (web API, SSH,
Whatsminer's write commands) tries the default unless the user configured another.

A configured password is offered to whatever device identifies as that make, so a device that
merely claims to be an Antminer is sent the farm's Antminer password. A credential may therefore
be limited to the subnets that hold the farm's miners (``subnets``); a device outside them gets the
factory default, which is no secret. A driver may have several credentials (one per site, say),
each under its own name with ``driver`` saying whose it is; the first whose subnets hold the device
is offered, one limited to subnets before one that is not. A password never reaches a log line or
a repr.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.targets import Subnet, TargetError, subnet


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    subnets: tuple[Subnet, ...] = ()  # offered only to devices in these; () to any device of its make

    def offered_to(self, ip: str | None) -> bool:
        return not self.subnets or (ip is not None and any(ip in net for net in self.subnets))

    def __repr__(self) -> str:
        where = f", subnets={[net.text for net in self.subnets]}" if self.subnets else ""
        return f"Credential(username={self.username!r}, password='***'{where})"


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
    """The configured credentials, as tables by name (a credentials file's form):
    ``{"antminer": {"username": ..., "password": ...}, "antminer-west": {"driver": "antminer",
    "username": ..., "password": ..., "subnets": ["10.2.0.0/16"]}}``."""

    def __init__(self, configured: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        by_driver: dict[str, list[Credential]] = {}
        for name, entry in (configured or {}).items():
            driver, credential = _entry(name, entry)
            by_driver.setdefault(driver, []).append(credential)
        self._configured = _ordered(by_driver)

    @classmethod
    def of(cls, by_driver: Mapping[str, Iterable[Credential]]) -> Credentials:
        """Credentials already checked (the commander's configuration), by driver."""
        credentials = cls()
        credentials._configured = _ordered(by_driver)
        return credentials

    def for_driver(self, name: str, ip: str | None = None) -> Credential | None:
        """What to offer driver ``name``'s device at ``ip``: the first configured credential whose
        subnets hold it, else the factory default, else None."""
        configured = next((c for c in self._configured.get(name, ()) if c.offered_to(ip)), None)
        return configured or FACTORY_DEFAULTS.get(name)

    def __repr__(self) -> str:
        return f"Credentials(configured={sorted(self._configured)})"


def _ordered(by_driver: Mapping[str, Iterable[Credential]]) -> dict[str, tuple[Credential, ...]]:
    """Each driver's credentials, those limited to subnets first (in their order), then the rest."""
    return {driver: tuple(sorted(found, key=lambda c: not c.subnets)) for driver, found in by_driver.items()}


_KEYS = ("driver", "username", "password", "subnets")


def _entry(name: str, entry: Mapping[str, Any]) -> tuple[str, Credential]:
    """(driver, credential) from one table; ValueError with a sentence that never holds the password."""
    from collectors.asic import DRIVERS  # the drivers import the transports, which use this module

    unknown = sorted(set(entry) - set(_KEYS))
    if unknown or not isinstance(entry.get("username"), str):
        raise ValueError(f"credentials {name!r} need a username and a password (and may name a driver and "
                         f"subnets), nothing else (got {', '.join(sorted(entry))})")
    driver = entry.get("driver", name)
    if driver not in DRIVERS:
        close = difflib.get_close_matches(str(driver), list(DRIVERS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"credentials {name!r}: {driver!r} is not a driver{hint}; a credential under another "
                         "name says whose it is with driver = \"...\"")
    texts = entry.get("subnets", [])
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"credentials {name!r}: subnets must be a list of networks or ranges")
    try:
        subnets = tuple(subnet(text) for text in texts)
    except TargetError as exc:
        raise ValueError(f"credentials {name!r}: {exc}") from exc
    return driver, Credential(entry["username"], str(entry.get("password", "")), subnets)


class CredentialsFileError(ValueError):
    """A credentials file that is unsafe or unreadable; the message names the file."""


def load_file(path: str | os.PathLike[str]) -> Credentials:
    """Credentials from a TOML file with one table per driver (``[antminer] username/password``),
    or per name with a ``driver`` key, each with optional ``subnets``.

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
