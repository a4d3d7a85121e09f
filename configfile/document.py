"""One TOML file being read (``Document``) and one of its tables read key by key (``Table``).

Every mistake is recorded at a place, the path of keys and indexes down to what is wrong
(``("miners", 2, "ip")``), and the locator turns that place into a line and a column; a place the
text does not hold (a required key that is missing) falls back to its nearest placed ancestor, the
table's header.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from configfile.kinds import Kind, Wrong
from configfile.locator import Locator, Place

T = TypeVar("T")
REQUIRED: Any = object()  # the default of a key that must be there


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


def ordered(problems: Iterable[Problem], first: Path) -> list[Problem]:
    """The problems in file, line and column order, those of ``first`` before any other file's."""
    return sorted(problems, key=lambda p: (str(p.file) != str(first), str(p.file), p.line or 0, p.column or 0))


class Document:
    """One TOML file: its values, where each is, and the problems found in it, appended to
    ``problems`` (which the documents of one configuration share). Without ``text`` (values that
    came as a mapping) nothing has a line."""

    def __init__(self, path: Path, data: Mapping[str, Any], problems: list[Problem], text: str | None = None) -> None:
        self.path, self.data, self.problems = path, data, problems
        self.locator = Locator(text) if text is not None else None

    @classmethod
    def load(cls, path: Path, problems: list[Problem]) -> Document | None:
        """The file at ``path``; None, its problem said, when it cannot be read or is not TOML."""
        try:
            text = path.read_bytes().decode()
        except OSError as exc:
            problems.append(Problem(path, None, f"cannot read it: {exc.strerror}"))
            return None
        except UnicodeDecodeError:
            problems.append(Problem(path, None, "it is not UTF-8 text"))
            return None
        return cls.parse(path, text, problems)

    @classmethod
    def parse(cls, path: Path, text: str, problems: list[Problem]) -> Document | None:
        """``text``, read from ``path``; None, its problem said, when it is not TOML."""
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
        return cls(path, data, problems, text)

    @property
    def root(self) -> Table:
        """The file's top level, as a table."""
        return Table(self, self.data, ())

    def problem(self, place: Place, message: str) -> None:
        spot = self.locator.find(place) if self.locator else None
        self.problems.append(Problem(self.path, spot[0] if spot else None, message, spot[1] if spot else None))

    def line(self, place: Place) -> int | None:
        spot = self.locator.find(place) if self.locator else None
        return spot[0] if spot else None


class Table:
    """One table of a document, read key by key: each getter names a key the table may hold, and
    ``done`` reports the keys nobody asked for."""

    def __init__(self, document: Document, data: Mapping[str, Any], place: Place) -> None:
        self.document, self.data, self.place = document, data, place
        self.allowed: list[str] = []

    @property
    def name(self) -> str:
        """The table as its header writes it ([intervals], [[miners]], [alerts.rules.temp_chip]);
        the file's name for the top level."""
        return _header(self.place) if self.place else self.document.path.name

    def get(self, key: str, kind: Kind, default: Any = REQUIRED) -> Any:
        """``key``'s value as ``kind`` makes it; ``default`` where it is absent or wrong (said), None
        for a required key."""
        self.allowed.append(key)
        if key not in self.data:
            if default is REQUIRED:
                self.problem((), f"missing required key '{key}' in {self.name}")
                return None
            return default
        try:
            return kind(self.data[key])
        except Wrong as exc:
            self.problem(key, f"'{key}' in {self.name} must be {exc}, not {_describe(self.data[key])}")
            return None if default is REQUIRED else default

    def table(self, key: str) -> Table:
        """The table under ``key``: an empty one where there is none, or where ``key`` holds
        something else (said)."""
        self.allowed.append(key)
        value = self.data.get(key, {})
        if isinstance(value, dict):
            return Table(self.document, value, self.place + (key,))
        self.problem(key, f"{_header(self.place + (key,))} must be a table, not {_describe(value)}")
        return Table(self.document, {}, self.place + (key,))

    def tables(self, key: str) -> list[Table]:
        """The entries of the array of tables under ``key`` ([[key]]); none where there is none."""
        self.allowed.append(key)
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            name = _header(self.place + (key, 0))
            self.problem(key, f"{name} must be an array of tables: give each entry its own {name} header")
            return []
        return [Table(self.document, entry, self.place + (key, n)) for n, entry in enumerate(value)]

    def problem(self, key: str | Place, message: str) -> None:
        """A mistake at ``key`` (or a place below this table; () for the table itself)."""
        self.document.problem(self.place + ((key,) if isinstance(key, str) else key), message)

    def line(self, key: str | Place = ()) -> int | None:
        return self.document.line(self.place + ((key,) if isinstance(key, str) else key))

    def where(self, key: str) -> str:
        """Where ``key`` of this table goes, for a sentence that asks for it."""
        return f"{self.document.path} as {self.name} {key} = \"...\""

    def done(self, secrets: Mapping[str, str] = MappingProxyType({})) -> None:
        """Report the keys nobody asked for; ``secrets`` maps a secret's key to where it belongs instead."""
        for key in self.data:
            if key in secrets:
                self.problem(key, f"'{key}' is a secret and does not belong in {self.document.path.name}: "
                                  f"put it in {secrets[key]}")
            elif key not in self.allowed:
                self.problem(key, f"unknown key '{key}' in {self.name}{did_you_mean(key, self.allowed)}")


def from_mapping(read: Callable[[Table], T], data: Mapping[str, Any], where: str, place: Place) -> T:
    """What ``read`` makes of ``data``, the table at ``place`` given as a mapping rather than a
    file, ``where`` naming it in each sentence; raises ConfigError listing every mistake."""
    problems: list[Problem] = []
    value = read(Table(Document(Path(where), {}, problems), data, place))
    if problems:
        raise ConfigError(problems)
    return value


def _header(place: Place) -> str:
    keys = ".".join(part for part in place if isinstance(part, str))
    return f"[[{keys}]]" if isinstance(place[-1], int) else f"[{keys}]"


def _sentence(text: str) -> str:
    return text[:1].lower() + text[1:]


def did_you_mean(word: str, choices: Iterable[str], shape: str = "'{}'") -> str:
    """" (did you mean 'poll_s'?)" when one of ``choices`` is close to ``word``, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {shape.format(close[0])}?)" if close else ""


def _describe(value: Any) -> str:
    """A TOML value as a sentence names it: "the string 'x'", "an array"."""
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
