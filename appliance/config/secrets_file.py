"""The commander's secrets: ``secrets.toml`` beside the configuration (or ``--secrets PATH``), which
must belong to the user the commander runs as and be readable by nobody else, each value overridable
from the environment (``MINERWATCH_SECRET_<PLACE>``); a secret nothing asked for is reported, as it
is a typo or a leftover."""

from __future__ import annotations

import os
import pwd
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from configfile import REQUIRED, Document, Place, Problem, Table, did_you_mean, kinds
from configfile.kinds import Kind

SECRETS_NAME = "secrets.toml"  # looked for beside the configuration file
ENV_PREFIX = "MINERWATCH_SECRET_"


def secret_env_name(place: Place) -> str:
    """The environment variable that overrides the secret at ``place`` in the secrets file."""
    return ENV_PREFIX + "_".join(re.sub(r"[^A-Za-z0-9]", "_", str(part)).upper() for part in place)


class Secrets:
    """The secrets file (or none) and the environment; remembers which secrets the configuration asked for."""

    def __init__(self, path: Path, explicit: bool, problems: list[Problem]) -> None:
        self.path, self.problems = path, problems
        self.document = Document(path, {}, problems)  # until the file is read, and where it cannot be
        self.refused = False  # unsafe or unreadable: say so once, not once per missing secret
        self.asked: set[Place] = set()
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
                self._refuse(f"it is owned by {user_name(info.st_uid)} but minerwatch runs as "
                             f"{user_name(os.geteuid())}; run: chown {user_name(os.geteuid())} {path}")
            elif info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                self._refuse(f"it holds passwords but its mode {stat.S_IMODE(info.st_mode):04o} lets "
                             f"others at it; run: chmod 600 {path}")
            else:
                try:
                    text = handle.read().decode()
                except UnicodeDecodeError:
                    self._refuse("it is not UTF-8 text")
                else:
                    document = Document.parse(path, text, problems)
                    self.document = document or self.document
                    self.refused = document is None

    def _refuse(self, sentence: str) -> None:
        self.problems.append(Problem(self.path, None, sentence))
        self.refused = True

    def table(self, place: tuple[str, ...]) -> SecretTable:
        """The secrets file's table at ``place`` (an empty one where it has none)."""
        return SecretTable(self, place)

    def get(self, place: tuple[str, ...]) -> str | None:
        """The secret at ``place``, None where it is nowhere."""
        return self.table(place[:-1]).get(place[-1], kinds.string, None)

    def where(self, place: tuple[str, ...]) -> str:
        """Where the secret at ``place`` goes, for a sentence."""
        return self.table(place[:-1]).where(place[-1])

    def require(self, place: tuple[str, ...], what: str, at: Table, at_key: str | tuple[str, ...] = ()) -> str | None:
        """The secret at ``place``, or None with a problem at ``at_key`` of ``at`` (a table of the
        configuration) when it is nowhere; not when the secrets file was refused or the secret sits
        in ``at`` itself, both already said."""
        table = self.table(place[:-1])
        value = table.get(place[-1], kinds.string, None)
        if place[-1] not in table.data and not self.refused and place[-1] not in at.data:
            at.problem(at_key, f"{what} is missing: put it in {table.where(place[-1])}")
        return value

    def check_unused(self) -> None:
        """A secret nothing asked for is a typo or a leftover: name it, with the closest that was asked."""
        asked = {".".join(map(str, place)) for place in self.asked}
        for place in _leaves(self.document.data):
            dotted = ".".join(place)
            if dotted not in asked:
                self.document.problem(place, f"'{dotted}' is not used by the configuration"
                                             + did_you_mean(dotted, asked))


class SecretTable(Table):
    """A table of the secrets file, each of its values overridden by the environment where set there."""

    def __init__(self, secrets: Secrets, place: tuple[str, ...]) -> None:
        data: Any = secrets.document.data
        for part in place:
            data = data.get(part) if isinstance(data, dict) else None
        super().__init__(secrets.document, data if isinstance(data, dict) else {}, place)
        self.secrets = secrets

    def get(self, key: str, kind: Kind, default: Any = REQUIRED) -> Any:
        place = (*self.place, key)
        self.secrets.asked.add(place)
        if (value := os.environ.get(secret_env_name(place))) is not None:
            self.data = {**self.data, key: value}
        return super().get(key, kind, default)

    def where(self, key: str) -> str:
        return f"{super().where(key)} or in ${secret_env_name((*self.place, key))}"


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterable[tuple[str, ...]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _leaves(value, prefix + (key,))
        else:
            yield prefix + (key,)


def user_name(uid: int) -> str:
    """The user's name, else the number (which chown takes as well)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
