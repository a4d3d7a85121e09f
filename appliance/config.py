"""The commander's configuration: one TOML file, its secrets in another, parsed once into frozen dataclasses.

``load(path)`` returns a ``Config`` or raises ``ConfigError`` listing every mistake; ``check(path)``
returns the same mistakes as ``Problem``s, each naming the file and the line. Nothing here opens a
socket or resolves a name: start-up must work with the network down (STYLE 14).

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

Line numbers: ``tomllib`` gives values but no positions, and tomlkit keeps the text's layout
(``trivia``) but not where an item sits either (only its parse errors carry line and column). So
the values come from ``tomllib`` and ``_Locator`` below scans the same text once, after tomllib has
accepted it, recording where each table header, key and array element starts.
"""

from __future__ import annotations

import bisect
import difflib
import ipaddress
import os
import pwd
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from appliance.alerts.settings import SECRETS_ONLY as CHANNEL_SECRETS
from appliance.alerts.settings import AlertSettings, ChannelSettings
from appliance.store.settings import StorageSettings
from collectors.asic import DRIVERS
from collectors.credentials import Credential
from collectors.targets import MAX_ADDRESSES, Subnet, TargetError, subnet

DEFAULT_PATH = Path("/etc/minerwatch/commander.toml")
SECRETS_NAME = "secrets.toml"  # looked for beside the configuration file
ENV_PREFIX = "MINERWATCH_SECRET_"

ROLES = ("admin", "operator", "viewer")
SNMP_VERSIONS = ("v2c", "v3")
# net-snmp's spelling (snmpget -a / -x), which is what a farm's NMS admin types.
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = ("DES", "AES", "AES-192", "AES-256")
SNMPV3_MIN_PASSWORD = 8  # RFC 3414 keys need 8 characters; net-snmp refuses shorter ones


# ---------------------------------------------------------------------------------------------
# What a mistake looks like


@dataclass(frozen=True)
class Problem:
    """One mistake: the file, the line (None for the file as a whole), and one sentence."""

    file: Path
    line: int | None
    message: str
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(map(str, self.problems)))


# ---------------------------------------------------------------------------------------------
# The configuration, as the rest of the commander sees it


@dataclass(frozen=True)
class Site:
    name: str
    subnets: tuple[Subnet, ...] = ()  # addresses that belong to the site (a discovered device's site)
    racks: tuple[str, ...] = ()  # when given, a device's rack must be one of these


@dataclass(frozen=True)
class Discovery:
    subnets: tuple[str, ...] = ()  # for collectors.targets.expand; default: every site's subnets
    concurrency: int = 200  # addresses probed at once
    timeout_s: float = 3.0  # per address, identification included


@dataclass(frozen=True)
class Miner:
    """A miner listed in the configuration (polled whether or not discovery finds it)."""

    ip: str
    port: int | None = None  # None: the driver's own port
    driver: str | None = None  # None: identified on first contact
    site: str = "default"
    rack: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sentry:
    """A CPU/GPU rig whose sentry the commander polls over SNMP."""

    host: str
    port: int = 161
    version: str = "v2c"
    community: str | None = field(default=None, repr=False)  # v2c
    user: str | None = None  # v3
    auth_protocol: str | None = None  # v3, one of AUTH_PROTOCOLS; None: noAuthNoPriv
    auth_password: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None  # v3, one of PRIV_PROTOCOLS; None: no privacy
    priv_password: str | None = field(default=None, repr=False)
    site: str = "default"
    rack: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intervals:
    poll_s: float = 30  # every ASIC
    sentries_s: float = 30  # every rig's sentry
    discovery_s: float = 3600  # 0: discovery runs on demand only
    compaction_s: float = 300  # storage upkeep: rollups, compaction, retention ([storage] says how long)


@dataclass(frozen=True)
class WebUser:
    name: str
    role: str = "viewer"  # one of ROLES
    password_hash: str | None = field(default=None, repr=False)  # None: generated on first run


@dataclass(frozen=True)
class Web:
    users: tuple[WebUser, ...] = ()


@dataclass(frozen=True)
class Config:
    sites: tuple[Site, ...]
    discovery: Discovery
    miners: tuple[Miner, ...]
    credentials: Mapping[str, tuple[Credential, ...]]  # by driver name; Credential hides its password in repr
    sentries: tuple[Sentry, ...]
    intervals: Intervals
    storage: StorageSettings
    alerts: AlertSettings
    channels: tuple[ChannelSettings, ...]
    web: Web
    state_dir: Path = Path("/var/lib/minerwatch")
    default_site: str = "default"  # the site of a device no [[sites]] subnet holds
    name: str | None = None  # the farm's name, for the NMS (MINERWATCH-MIB mwFarmName); None: the host name

    def site_for(self, ip: str) -> str:
        """The site whose subnets hold ``ip`` (the first listed wins), else the default site."""
        return _site_for(self.sites, self.default_site, ip)


def _site_for(sites: Iterable[Site], default_site: str, ip: str | None) -> str:
    return next((site.name for site in sites if any(ip in net for net in site.subnets)), default_site)


# The sections other packages own, and the parser each plugs in. A parser takes the section's table
# (one entry, for the array of tables "channels") and ``where``, the section as written ("[storage]",
# "[[channels]]"), and returns its settings; the channels' parser also takes that channel's table of
# the secrets file ([channels.NAME]). On a mistake it raises ValueError with one sentence. The file
# and line are added here: at the key the exception's ``key`` attribute names (a key, or a tuple of
# keys down from the section), else at the first of the table's keys the sentence mentions, else at
# the section's header.
SectionParser = Callable[..., Any]
SECTION_PARSERS: dict[str, SectionParser] = {
    "storage": StorageSettings.from_mapping,
    "alerts": AlertSettings.from_mapping,
    "channels": ChannelSettings.from_mapping,
}


def load(path: str | os.PathLike[str] = DEFAULT_PATH,
         secrets_path: str | os.PathLike[str] | None = None, *, paths: bool = False) -> Config:
    """The configuration at ``path``; raises ConfigError naming every mistake with file and line.
    ``paths``: also check that the state directory can be written, as a daemon about to use it."""
    config, problems = _parse(Path(path), None if secrets_path is None else Path(secrets_path), paths)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def load_state_dir(path: str | os.PathLike[str] = DEFAULT_PATH) -> Path:
    """The state directory the configuration at ``path`` names, read without the secrets: for a
    command run by another user than the service, such as root installing snmpd.conf lines, which
    must not be asked to own (or read) the service's secrets.toml."""
    path = Path(path)
    problems: list[Problem] = []
    try:
        text = path.read_bytes().decode()
    except OSError as exc:
        raise ConfigError([Problem(path, None, f"cannot read it: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(path, None, "it is not UTF-8 text")]) from None
    file = _File.read(path, text, problems)
    state_dir = _Sections(file, None).commander(file.data.get("commander", {}))[0] if file else None
    if problems or state_dir is None:
        raise ConfigError(problems)
    return state_dir


def check(path: str | os.PathLike[str] = DEFAULT_PATH,
          secrets_path: str | os.PathLike[str] | None = None, *, paths: bool = False) -> list[Problem]:
    """Every mistake in the configuration and its secrets, in file and line order; [] when none.
    ``paths`` as for ``load``."""
    return _parse(Path(path), None if secrets_path is None else Path(secrets_path), paths)[1]


def unwritable(directory: Path) -> str | None:
    """Why this user cannot keep state in ``directory`` (create it where missing, write in it), or
    None when it can. Checked, not tried: a check must leave nothing behind."""
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    user = _user(os.geteuid())
    if not existing.is_dir():
        return (f"state_dir {directory} cannot be used: {existing} is a file, not a directory"
                if existing != directory else f"state_dir {directory} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        info = existing.stat()
        doing = "write in" if existing == directory else f"create {directory} in"
        return (f"state_dir {directory}: {user} cannot {doing} {existing} (owned by {_user(info.st_uid)}, "
                f"mode {stat.S_IMODE(info.st_mode):04o}); run the check as the user the commander runs as")
    return None


def secret_env_name(place: tuple[str, ...]) -> str:
    """The environment variable that overrides the secret at ``place`` in the secrets file."""
    return ENV_PREFIX + "_".join(re.sub(r"[^A-Za-z0-9]", "_", part).upper() for part in place)


# ---------------------------------------------------------------------------------------------
# Where things are in the text

Place = tuple[str | int, ...]  # ("miners", 2, "ip"), ("sites", 0, "subnets", 1)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Locator:
    """Line and column (from 1) of every table header, key and array element of a TOML text.

    Run only on text tomllib has accepted, so it skips over values without checking them. It walks
    the grammar's structure, not lines, so a multi-line string or array holding ``[x]`` or
    ``k = v`` is skipped as a value. A table named by several headers ([a.b] then [a.c]) is placed
    at the first; an array of tables' element at its own ``[[...]]``; a dotted key (a.b = 1) places
    each of its prefixes at that key unless placed before.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.spots: dict[Place, int] = {}  # place -> offset in text
        self.counts: dict[Place, int] = {}  # elements of each array of tables seen so far
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._document()

    def find(self, place: Place) -> tuple[int, int] | None:
        """(line, column) of ``place``, else of its nearest placed ancestor; None if none is."""
        while place:
            if place in self.spots:
                offset = self.spots[place]
                line = bisect.bisect_right(self._line_starts, offset)
                return line, offset - self._line_starts[line - 1] + 1
            place = place[:-1]
        return None

    def _document(self) -> None:
        prefix: Place = ()
        while True:
            self._blank(newlines=True)
            if self.i >= len(self.text):
                return
            start = self.i
            if self.text.startswith("[[", self.i):
                self.i += 2
                prefix = self._header(self._key(), start, array=True)
                self.i += 2
            elif self.text[self.i] == "[":
                self.i += 1
                prefix = self._header(self._key(), start, array=False)
                self.i += 1
            else:
                self._keyval(prefix)

    def _header(self, keys: tuple[str, ...], start: int, array: bool) -> Place:
        place: Place = ()
        for n, key in enumerate(keys):
            place += (key,)
            if array and n == len(keys) - 1:
                index = self.counts.get(place, 0)
                self.counts[place] = index + 1
                self.spots.setdefault(place, start)
                place += (index,)
            elif place in self.counts:  # [[sites]] then [sites.x] or [[sites.racks]]: the last element's
                place += (self.counts[place] - 1,)
            self.spots.setdefault(place, start)
        self.spots[place] = start  # a table's own header beats the header of a subtable seen first
        return place

    def _keyval(self, prefix: Place) -> None:
        start = self.i
        place = prefix
        for key in self._key():
            place += (key,)
            self.spots.setdefault(place, start)
        self._blank(newlines=False)
        self.i += 1  # "="
        self._blank(newlines=False)
        self._value(place)

    def _key(self) -> tuple[str, ...]:
        keys = []
        text = self.text
        while True:
            self._blank(newlines=False)
            if text[self.i] == '"':
                end = self._string_end(self.i + 1, '"', escapes=True)
                keys.append(tomllib.loads("k = " + text[self.i:end])["k"])  # tomllib decodes the escapes
                self.i = end
            elif text[self.i] == "'":
                end = text.index("'", self.i + 1)
                keys.append(text[self.i + 1:end])
                self.i = end + 1
            else:
                match = _BARE_KEY.match(text, self.i)
                assert match is not None, "tomllib accepted this text, so a key starts here"
                keys.append(match.group())
                self.i = match.end()
            self._blank(newlines=False)
            if text[self.i] != ".":
                return tuple(keys)
            self.i += 1

    def _value(self, place: Place) -> None:
        text, i = self.text, self.i
        if text.startswith('"""', i):
            self.i = self._multiline_end(i + 3, '"""', escapes=True)
        elif text.startswith("'''", i):
            self.i = self._multiline_end(i + 3, "'''", escapes=False)
        elif text[i] in "\"'":
            self.i = self._string_end(i + 1, text[i], escapes=text[i] == '"')
        elif text[i] == "[":
            self.i += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if text[self.i] == "]":
                    self.i += 1
                    return
                self.spots[place + (index,)] = self.i
                self._value(place + (index,))
                index += 1
                self._blank(newlines=True)
                if text[self.i] == ",":
                    self.i += 1
        elif text[i] == "{":
            self.i += 1
            while True:
                self._blank(newlines=True)
                if text[self.i] == "}":
                    self.i += 1
                    return
                self._keyval(place)
                self._blank(newlines=True)
                if text[self.i] == ",":
                    self.i += 1
        else:  # number, boolean, date (which may hold a space): up to what ends a value
            while self.i < len(text) and text[self.i] not in ",]}#\r\n":
                self.i += 1

    def _string_end(self, i: int, quote: str, escapes: bool) -> int:
        while self.text[i] != quote:
            i += 2 if escapes and self.text[i] == "\\" else 1
        return i + 1

    def _multiline_end(self, i: int, delimiter: str, escapes: bool) -> int:
        while True:
            if escapes and self.text[i] == "\\":
                i += 2
            elif self.text.startswith(delimiter, i):
                i += 3
                for _ in range(2):  # up to two quotes before the delimiter belong to the string
                    if i < len(self.text) and self.text[i] == delimiter[0]:
                        i += 1
                return i
            else:
                i += 1

    def _blank(self, newlines: bool) -> None:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c in " \t" or newlines and c in "\r\n":
                self.i += 1
            elif newlines and c == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            else:
                return


# ---------------------------------------------------------------------------------------------
# Reading a file into problems and values


class _Wrong(ValueError):
    """A value of the wrong kind; the message says what was expected ("a string")."""


_REQUIRED = object()


class _File:
    """One TOML file being read: its values, where each is, and the problems found in it."""

    def __init__(self, path: Path, text: str, data: dict[str, Any], problems: list[Problem]) -> None:
        self.path, self.data, self.problems = path, data, problems
        self.locator = _Locator(text)

    @classmethod
    def read(cls, path: Path, text: str, problems: list[Problem]) -> _File | None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message ends with "(at line L, column C)" or "(at end of document)".
            match = re.match(r"(.*) \(at line (\d+), column (\d+)\)$", str(exc))
            if match:
                problems.append(Problem(path, int(match[2]), _sentence(match[1]), int(match[3])))
            else:
                problems.append(Problem(path, max(1, len(text.splitlines())), _sentence(str(exc))))
            return None
        return cls(path, text, data, problems)

    def problem(self, place: Place, message: str) -> None:
        spot = self.locator.find(place)
        self.problems.append(Problem(self.path, spot[0] if spot else None, message,
                                     spot[1] if spot else None))

    def line(self, place: Place) -> int | None:
        spot = self.locator.find(place)
        return spot[0] if spot else None

    def table(self, value: Any, place: Place, name: str) -> _Table | None:
        if isinstance(value, dict):
            return _Table(self, value, place, name)
        self.problem(place, f"{name} must be a table, not {_describe(value)}")
        return None

    def tables(self, value: Any, place: Place, name: str) -> list[_Table]:
        """The entries of an array of tables (``[[name]]``)."""
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            self.problem(place, f"{name} must be an array of tables: give each entry its own {name} header")
            return []
        return [_Table(self, entry, place + (n,), name) for n, entry in enumerate(value)]


class _Table:
    """One table: each ``get`` names a key it may hold; ``done`` reports the keys nobody asked for."""

    def __init__(self, file: _File, data: dict[str, Any], place: Place, name: str) -> None:
        self.file, self.data, self.place, self.name = file, data, place, name
        self.allowed: list[str] = []

    def get(self, key: str, kind: Callable[[Any], Any], default: Any = _REQUIRED) -> Any:
        self.allowed.append(key)
        if key not in self.data:
            if default is _REQUIRED:
                self.file.problem(self.place, f"missing required key '{key}' in {self.name}")
                return None
            return default
        try:
            return kind(self.data[key])
        except _Wrong as exc:
            self.file.problem(self.place + (key,),
                              f"'{key}' in {self.name} must be {exc}, not {_describe(self.data[key])}")
            return None if default is _REQUIRED else default

    def problem(self, key: str | Place, message: str) -> None:
        self.file.problem(self.place + ((key,) if isinstance(key, str) else key), message)

    def done(self, secrets: Mapping[str, str] = MappingProxyType({})) -> None:
        """Report unknown keys; ``secrets`` maps a secret's key to where it belongs instead."""
        for key in self.data:
            if key in secrets:
                self.problem(key, f"'{key}' is a secret and does not belong in {self.file.path.name}: "
                                  f"put it in {secrets[key]}")
            elif key not in self.allowed:
                self.problem(key, f"unknown key '{key}' in {self.name}{_did_you_mean(key, self.allowed)}")


def _sentence(text: str) -> str:
    return text[:1].lower() + text[1:]


def _did_you_mean(word: str, choices: Iterable[str], shape: str = "'{}'") -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {shape.format(close[0])}?)" if close else ""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value:g}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a date or time ({value})"


# Kinds: each takes the TOML value and returns it as the dataclass wants it, or raises _Wrong.

def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Wrong("a non-empty string")
    return value


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _Wrong("a name of letters, digits, '.', '_' or '-'")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Wrong("an array of non-empty strings")
    return tuple(value)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _Wrong("a positive number of seconds")
    return value


def _seconds_or_zero(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _Wrong("a number of seconds, 0 or more")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Wrong("a whole number, 1 or more")
    return value


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _Wrong("a port number, 1 to 65535")
    return value


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value.startswith("/"):
        raise _Wrong("an absolute path")
    return Path(value)


def _choice(*options: str, fold: Callable[[str], str] = str.lower) -> Callable[[Any], str]:
    def kind(value: Any) -> str:
        if not isinstance(value, str) or fold(value) not in options:
            raise _Wrong("one of " + ", ".join(f"'{o}'" for o in options))
        return fold(value)
    return kind


_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _host(value: Any) -> str:
    """An IP address or a host name by its syntax alone: resolving it is the poll's job, not start-up's."""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            labels = value.rstrip(".").split(".")
            if len(value) <= 253 and all(_HOSTNAME_LABEL.fullmatch(label) for label in labels) \
                    and not labels[-1].isdigit():
                return value
    raise _Wrong("an IP address or a host name")


def _address(value: Any) -> tuple[str, int | None]:
    """``IP`` or ``IP:PORT``, as collectors.targets reads a single target."""
    if isinstance(value, str):
        host, sep, port = value.partition(":")
        try:
            number = int(port) if sep else None
            if number is None or 0 < number < 65536:
                return str(ipaddress.IPv4Address(host)), number
        except ValueError:
            pass
    raise _Wrong("an IPv4 address with an optional :port, like '10.0.3.15' or '10.0.3.15:4029'")


def _subnet(text: str) -> Subnet:
    """A network, range or address in collectors.targets' syntax, checked without listing its addresses."""
    try:
        return subnet(text)
    except TargetError as exc:
        raise _Wrong(exc.expected) from exc


# ---------------------------------------------------------------------------------------------
# Secrets


class _Secrets:
    """The secrets file (or none) and the environment; remembers which secrets the config asked for."""

    def __init__(self, path: Path, explicit: bool, problems: list[Problem]) -> None:
        self.path, self.problems = path, problems
        self.file: _File | None = None
        self.refused = False  # unsafe or unreadable: say so once, not once per missing secret
        self.asked: set[tuple[str, ...]] = set()
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if explicit:
                self._refuse("cannot read it: no such file")
            return
        except OSError as exc:
            self._refuse(f"cannot read it: {exc.strerror}")
            return
        # Check the file that was opened, not the name again, so it cannot be swapped in between.
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.geteuid():
                self._refuse(f"it is owned by {_user(info.st_uid)} but minerwatch runs as {_user(os.geteuid())}; "
                             f"run: chown {_user(os.geteuid())} {path}")
            elif info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                self._refuse(f"it holds passwords but its mode {stat.S_IMODE(info.st_mode):04o} lets "
                             f"others at it; run: chmod 600 {path}")
            else:
                try:
                    text = handle.read().decode()
                except UnicodeDecodeError:
                    self._refuse("it is not UTF-8 text")
                else:
                    self.file = _File.read(path, text, problems)
                    self.refused = self.file is None

    def _refuse(self, sentence: str) -> None:
        self.problems.append(Problem(self.path, None, sentence))
        self.refused = True

    def _raw(self, place: tuple[str, ...]) -> Any:
        if (value := os.environ.get(secret_env_name(place))) is not None:
            return value
        value = self.file.data if self.file else {}
        for part in place:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def get(self, place: tuple[str, ...]) -> str | None:
        self.asked.add(place)
        value = self._raw(place)
        if value is None or isinstance(value, str):
            return value
        assert self.file is not None, "the environment only holds strings"
        self.file.problem(place, f"'{'.'.join(place)}' must be a string, not {_describe(value)}")
        return None

    def table(self, place: tuple[str, ...], keys: Iterable[str]) -> dict[str, Any]:
        """The secrets file's table at ``place``, each of ``keys`` (and of its own) overridden by the
        environment; for a parser that reads its secrets itself."""
        found = self._raw(place)
        values = dict(found) if isinstance(found, dict) else {}
        for key in {*values, *keys}:
            self.asked.add(place + (key,))
            if (value := os.environ.get(secret_env_name(place + (key,)))) is not None:
                values[key] = value
        return values

    def where(self, place: tuple[str, ...]) -> str:
        """Where a secret goes, for a message."""
        return (f"{self.path} as [{'.'.join(place[:-1])}] {place[-1]} = \"...\" "
                f"or in ${secret_env_name(place)}")

    def require(self, config: _File, at: Place, place: tuple[str, ...], what: str,
                misplaced: bool = False) -> str | None:
        """The secret, or None with a problem at ``at`` in the config when it is nowhere; not when the
        secrets file was refused or the secret sits in the config (both already said)."""
        value = self.get(place)
        if self._raw(place) is None and not self.refused and not misplaced:
            config.problem(at, f"{what} is missing: put it in {self.where(place)}")
        return value

    def check_unused(self) -> None:
        """A secret nothing asked for is a typo or a leftover: name it, with the closest that was asked."""
        if self.file is None:
            return
        asked = {".".join(place) for place in self.asked}
        for place in _leaves(self.file.data):
            dotted = ".".join(place)
            if dotted not in asked:
                self.file.problem(place, f"'{dotted}' is not used by the configuration"
                                         + _did_you_mean(dotted, asked))


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterable[tuple[str, ...]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _leaves(value, prefix + (key,))
        else:
            yield prefix + (key,)


def _mentioned(sentence: str, table: Mapping[str, Any]) -> Place:
    """Where a plugged parser's mistake is when its exception does not say: the deepest key of
    ``table`` the sentence names (a nested key counts when named after its parent, as in
    "rules.temp_chip: threshold ..."), the earliest of those; () when it names none."""
    found: list[tuple[int, int, Place]] = []

    def search(mapping: Mapping[str, Any], prefix: Place, start: int) -> None:
        for key, value in mapping.items():
            match = re.compile(rf"(?<!\w){re.escape(key)}(?!\w)").search(sentence, start)
            if match:
                found.append((-len(prefix) - 1, match.start(), prefix + (key,)))
                if isinstance(value, dict):
                    search(value, prefix + (key,), match.end())

    search(table, (), 0)
    return min(found)[2] if found else ()


def _user(uid: int) -> str:
    """The user's name, else the number (which chown takes as well)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


# ---------------------------------------------------------------------------------------------
# The sections

_SECTIONS = ("commander", "sites", "discovery", "miners", "credentials", "sentries", "intervals",
             "storage", "alerts", "channels", "web")


def _parse(path: Path, secrets_path: Path | None, paths: bool = False) -> tuple[Config | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        text = path.read_bytes().decode()
    except OSError as exc:
        return None, [Problem(path, None, f"cannot read it: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [Problem(path, None, "it is not UTF-8 text")]
    file = _File.read(path, text, problems)
    if file is None:
        return None, problems
    secrets = _Secrets(secrets_path or path.with_name(SECRETS_NAME), secrets_path is not None, problems)
    config = _Sections(file, secrets).config()
    secrets.check_unused()
    if paths and config.storage is not None:
        for place, directory in ((("commander", "state_dir"), config.state_dir),
                                 (("storage", "state_dir"), config.storage.state_dir)):
            if (sentence := unwritable(directory)) is not None:
                file.problem(place if file.line(place) else place[:1], sentence)
                break  # the storage's own state_dir is [commander]'s unless it names another
    problems.sort(key=lambda p: (str(p.file) != str(path), str(p.file), p.line or 0, p.column or 0))
    return (None if problems else config), problems


class _Sections:
    def __init__(self, file: _File, secrets: _Secrets | None) -> None:
        self.file, self.secrets = file, secrets

    def config(self) -> Config:
        data = self.file.data
        for key in data:
            if key not in _SECTIONS:
                self.file.problem((key,), f"unknown section [{key}]{_did_you_mean(key, _SECTIONS, '[{}]')}")
        state_dir, default_site, name = self.commander(data.get("commander", {}))
        sites = self.sites(data.get("sites", []))
        site_names = {site.name: site for site in sites}
        site_names.setdefault(default_site, Site(default_site))
        miners = self.miners(data.get("miners", []), site_names, default_site, sites)
        return Config(
            sites=sites,
            discovery=self.discovery(data.get("discovery", {}), sites),
            miners=miners,
            credentials=self.credentials(data.get("credentials", {}), site_names, miners),
            sentries=self.sentries(data.get("sentries", []), site_names, default_site, sites),
            intervals=self.intervals(data.get("intervals", {})),
            storage=self.storage(data.get("storage", {}), state_dir),
            alerts=self.plugged("alerts", self.file.table(data.get("alerts", {}), ("alerts",), "[alerts]")),
            channels=self.channels(data.get("channels", [])),
            web=self.web(data.get("web", {})),
            state_dir=state_dir,
            default_site=default_site,
            name=name,
        )

    def commander(self, value: Any) -> tuple[Path, str, str | None]:
        table = self.file.table(value, ("commander",), "[commander]")
        if table is None:
            return Config.state_dir, Config.default_site, Config.name
        state_dir = table.get("state_dir", _path, Config.state_dir)
        site = table.get("site", _name, Config.default_site)
        name = table.get("name", _text, Config.name)
        table.done()
        return state_dir, site, name

    def sites(self, value: Any) -> tuple[Site, ...]:
        sites: list[Site] = []
        lines: dict[str, int | None] = {}
        claimed: list[tuple[Subnet, str, Place]] = []
        for table in self.file.tables(value, ("sites",), "[[sites]]"):
            name = table.get("name", _name)
            texts = table.get("subnets", _texts, ())
            racks = table.get("racks", _texts, ())
            table.done()
            if name in lines:
                table.problem("name", f"site '{name}' is already defined on line {lines[name]}")
            elif name is not None:
                lines[name] = self.file.line(table.place)
            subnets = []
            for n, text in enumerate(texts):
                place = ("subnets", n)
                try:
                    subnet = _subnet(text)
                except _Wrong as exc:
                    table.problem(place, f"'{text}' in [[sites]] subnets is not {exc}")
                    continue
                for other, owner, other_place in claimed:
                    if subnet.first <= other.last and other.first <= subnet.last:
                        table.problem(place, f"'{text}' overlaps '{other.text}' of site '{owner}' "
                                             f"(line {self.file.line(other_place)})")
                        break
                claimed.append((subnet, name, table.place + place))
                subnets.append(subnet)
            if name is not None:
                sites.append(Site(name, tuple(subnets), racks))
        return tuple(sites)

    def discovery(self, value: Any, sites: tuple[Site, ...]) -> Discovery:
        table = self.file.table(value, ("discovery",), "[discovery]")
        if table is None:
            return Discovery()
        texts = table.get("subnets", _texts, None)
        concurrency = table.get("concurrency", _count, Discovery.concurrency)
        timeout_s = table.get("timeout_s", _seconds, Discovery.timeout_s)
        table.done()
        if texts is not None:
            subnets = []
            for n, text in enumerate(texts):
                try:
                    subnets.append((_subnet(text), ("discovery", "subnets", n)))
                except _Wrong as exc:
                    table.problem(("subnets", n), f"'{text}' in [discovery] subnets is not {exc}")
        else:  # what the sites hold is what discovery scans
            subnets = [(net, ("sites", s, "subnets", n)) for s, site in enumerate(sites)
                       for n, net in enumerate(site.subnets)]
        for subnet, place in subnets:
            if subnet.size > MAX_ADDRESSES:
                self.file.problem(place, f"'{subnet.text}' holds {subnet.size:,} addresses, more than "
                                         f"discovery scans ({MAX_ADDRESSES:,}): list narrower subnets")
        return Discovery(tuple(subnet.text for subnet, _ in subnets), concurrency, timeout_s)

    def _placement(self, table: _Table, address: str | None, sites: Mapping[str, Site],
                   default_site: str, site_list: tuple[Site, ...]) -> tuple[str, str | None, str | None,
                                                                             tuple[str, ...]]:
        """site, rack, location, tags of a miner or a sentry."""
        site = table.get("site", _name, None)
        rack = table.get("rack", _text, None)
        location = table.get("location", _text, None)
        tags = table.get("tags", _texts, ())
        if site is not None and site not in sites:
            table.problem("site", f"unknown site '{site}'{_did_you_mean(site, sites)}: "
                                  f"name one of the [[sites]] or '{default_site}'")
        if site is None:
            site = _site_for(site_list, default_site, address)
        racks = sites[site].racks if site in sites else ()
        if rack is not None and racks and rack not in racks:
            table.problem("rack", f"rack '{rack}' is not one of site '{site}''s racks"
                                  f"{_did_you_mean(rack, racks)}")
        return site, rack, location, tags

    def miners(self, value: Any, sites: Mapping[str, Site], default_site: str,
               site_list: tuple[Site, ...]) -> tuple[Miner, ...]:
        miners = []
        lines: dict[str, int | None] = {}
        for table in self.file.tables(value, ("miners",), "[[miners]]"):
            address = table.get("ip", _address)
            driver = table.get("driver", _text, None)
            ip, port = address if address else (None, None)
            placement = self._placement(table, ip, sites, default_site, site_list)
            table.done()
            if driver is not None and driver not in DRIVERS:
                table.problem("driver", f"unknown driver '{driver}' in [[miners]]"
                                        f"{_did_you_mean(driver, DRIVERS)}")
            if ip is None:
                continue
            if ip in lines:
                table.problem("ip", f"miner {ip} is already listed on line {lines[ip]}")
                continue
            lines[ip] = self.file.line(table.place + ("ip",))
            miners.append(Miner(ip, port, driver, *placement))
        return tuple(miners)

    def credentials(self, value: Any, sites: Mapping[str, Site], miners: tuple[Miner, ...]
                    ) -> Mapping[str, tuple[Credential, ...]]:
        """[credentials.NAME], NAME a driver or any name with ``driver``; ``sites`` and ``subnets``
        limit where its password is offered (the sites' subnets and the miners listed at them)."""
        table = self.file.table(value, ("credentials",), "[credentials]")
        if table is None:
            return MappingProxyType({})
        found: dict[str, list[Credential]] = {}
        for name, entry in table.data.items():
            where = f"[credentials.{name}]"
            one = self.file.table(entry, ("credentials", name), where)
            if one is None:
                continue
            driver = one.get("driver", _text, name)
            username = one.get("username", _text)
            limited_to = one.get("sites", _texts, ())
            texts = one.get("subnets", _texts, ())
            secret = ("credentials", name, "password")
            one.done(secrets={"password": self.secrets.where(secret)})
            if driver not in DRIVERS:
                self.secrets.get(secret)  # asked for: the typo is the driver's, not the secret's
                one.problem("driver" if "driver" in one.data else (), (
                    f"unknown driver '{driver}' in {where}{_did_you_mean(driver, DRIVERS)}"
                    + ("" if "driver" in one.data else "; a credential under another name says whose it is "
                                                      "with driver = \"...\"")))
                continue
            subnets = []
            for n, text in enumerate(texts):
                try:
                    subnets.append(_subnet(text))
                except _Wrong as exc:
                    one.problem(("subnets", n), f"'{text}' in {where} subnets is not {exc}")
            for n, site in enumerate(limited_to):
                if site not in sites:
                    one.problem(("sites", n), f"unknown site '{site}' in {where}{_did_you_mean(site, sites)}")
                    continue
                subnets += sites[site].subnets
                subnets += [_subnet(m.ip) for m in miners if m.site == site]
                if not sites[site].subnets and not any(m.site == site for m in miners):
                    one.problem(("sites", n), f"site '{site}' has no subnets and no miners listed, so {where} "
                                              "would be offered to no device")
            password = self.secrets.require(self.file, one.place, secret, f"the password for {where}",
                                            misplaced="password" in one.data)
            if username is not None and password is not None:
                found.setdefault(driver, []).append(Credential(username, password, tuple(subnets)))
        return MappingProxyType({driver: tuple(entries) for driver, entries in found.items()})

    def sentries(self, value: Any, sites: Mapping[str, Site], default_site: str,
                 site_list: tuple[Site, ...]) -> tuple[Sentry, ...]:
        sentries = []
        lines: dict[tuple[str, int], int | None] = {}
        for table in self.file.tables(value, ("sentries",), "[[sentries]]"):
            host = table.get("host", _host)
            port = table.get("port", _port, Sentry.port)
            version = table.get("version", _choice(*SNMP_VERSIONS), Sentry.version)
            user = table.get("user", _text, None)
            auth = table.get("auth_protocol", _choice(*AUTH_PROTOCOLS, fold=str.upper), None)
            priv = table.get("priv_protocol", _choice(*PRIV_PROTOCOLS, fold=str.upper), None)
            placement = self._placement(table, host, sites, default_site, site_list)
            table.done(secrets={
                "community": self.secrets.where(("snmp", "community")),
                "auth_password": self.secrets.where(("snmp", "users", user or "USER", "auth_password")),
                "priv_password": self.secrets.where(("snmp", "users", user or "USER", "priv_password")),
            })
            secrets = self._snmp_secrets(table, version, user, auth, priv)
            if host is None:
                continue
            if (host, port) in lines:
                table.problem("host", f"sentry {host}:{port} is already listed on line {lines[host, port]}")
                continue
            lines[host, port] = self.file.line(table.place + ("host",))
            sentries.append(Sentry(host, port, version, secrets[0], user, auth, secrets[1], priv, secrets[2],
                                   *placement))
        return tuple(sentries)

    def _snmp_secrets(self, table: _Table, version: str, user: str | None, auth: str | None,
                      priv: str | None) -> tuple[str | None, str | None, str | None]:
        """(community, auth password, privacy password) for one sentry, checked against its version."""
        if version == "v2c":
            for key in ("user", "auth_protocol", "priv_protocol"):
                if key in table.data:
                    table.problem(key, f"'{key}' applies to version = 'v3' only")
            community = self.secrets.require(self.file, table.place, ("snmp", "community"),
                                             "the SNMP community for v2c sentries",
                                             misplaced="community" in table.data)
            return community, None, None
        if user is None:
            if "user" not in table.data:
                table.problem((), "missing required key 'user' in [[sentries]] with version = 'v3'")
            return None, None, None
        if priv is not None and auth is None:
            table.problem("priv_protocol", "'priv_protocol' needs an 'auth_protocol' too (SNMPv3 has no privacy "
                                           "without authentication)")
            return None, None, None
        passwords = []
        for protocol, kind in ((auth, "auth"), (priv, "priv")):
            place = ("snmp", "users", user, f"{kind}_password")
            password = self.secrets.require(self.file, table.place + (f"{kind}_protocol",), place,
                                            f"the {kind} password of SNMPv3 user '{user}'",
                                            misplaced=f"{kind}_password" in table.data) if protocol else None
            if password is not None and len(password) < SNMPV3_MIN_PASSWORD:
                table.problem(f"{kind}_protocol", f"the {kind} password of SNMPv3 user '{user}' has fewer than "
                                                  f"{SNMPV3_MIN_PASSWORD} characters, which SNMPv3 refuses")
            passwords.append(password)
        return None, passwords[0], passwords[1]

    def intervals(self, value: Any) -> Intervals:
        table = self.file.table(value, ("intervals",), "[intervals]")
        if table is None:
            return Intervals()
        intervals = Intervals(
            poll_s=table.get("poll_s", _seconds, Intervals.poll_s),
            sentries_s=table.get("sentries_s", _seconds, Intervals.sentries_s),
            discovery_s=table.get("discovery_s", _seconds_or_zero, Intervals.discovery_s),
            compaction_s=table.get("compaction_s", _seconds, Intervals.compaction_s),
        )
        table.done()
        return intervals

    def plugged(self, section: str, table: _Table | None, data: Mapping[str, Any] | None = None,
                *extra: Any) -> Any:
        """A section another package parses (SECTION_PARSERS), its mistakes placed in the file."""
        if table is None:
            return None
        try:
            return SECTION_PARSERS[section](table.data if data is None else data, table.name, *extra)
        except ValueError as exc:
            key = getattr(exc, "key", None)
            place = (key,) if isinstance(key, str) else tuple(key) if key else _mentioned(str(exc), table.data)
            table.problem(place, str(exc))
            return None

    def storage(self, value: Any, state_dir: Path) -> StorageSettings | None:
        """[storage]; its state_dir, where the metrics go, is [commander]'s unless it names its own."""
        table = self.file.table(value, ("storage",), "[storage]")
        return self.plugged("storage", table, {"state_dir": str(state_dir), **table.data} if table else None)

    def channels(self, value: Any) -> tuple[ChannelSettings, ...]:
        channels = []
        for table in self.file.tables(value, ("channels",), "[[channels]]"):
            name, kind = table.data.get("name"), table.data.get("type")
            kind = kind if isinstance(kind, str) else None  # the channel's parser says what type must be
            keys = CHANNEL_SECRETS.get(kind, ()) + (("url",) if kind == "webhook" else ())
            secrets = self.secrets.table(("channels", name), keys) if isinstance(name, str) else {}
            channel = self.plugged("channels", table, None, secrets)
            if channel is not None:
                channels.append(channel)
        return tuple(channels)

    def web(self, value: Any) -> Web:
        table = self.file.table(value, ("web",), "[web]")
        if table is None:
            return Web()
        # "users" as it is: self.file.tables checks that it is an array of tables.
        entries = self.file.tables(table.get("users", lambda value: value, []), ("web", "users"), "[[web.users]]")
        table.done()
        users = []
        lines: dict[str, int | None] = {}
        for user in entries:
            name = user.get("name", _name)
            role = user.get("role", _choice(*ROLES), WebUser.role)
            secret = ("web", "users", name or "NAME", "password_hash")
            user.done(secrets={"password": self.secrets.where(secret), "password_hash": self.secrets.where(secret)})
            if name is None:
                continue
            if name in lines:
                user.problem("name", f"web user '{name}' is already defined on line {lines[name]}")
                continue
            lines[name] = self.file.line(user.place)
            users.append(WebUser(name, role, self.secrets.get(secret)))
        return Web(tuple(users))
