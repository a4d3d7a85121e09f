"""The sentry's TOML configuration (``/etc/minerwatch/sentry.toml``; ``packaging/sentry.toml`` is the
commented sample), parsed once into frozen dataclasses. Every key is optional; an unknown key, a
value of the wrong type or an unknown program stops start-up with the file, the key and its line.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentry_light.sources.programs import PROGRAMS

DEFAULT_PATH = Path("/etc/minerwatch/sentry.toml")
DEFAULT_SNAPSHOT = Path("/run/minerwatch-sentry/rig.json")
DEFAULT_HOST = "127.0.0.1"


class ConfigError(Exception):
    """One sentence naming the file and what is wrong in it."""


@dataclass(frozen=True)
class ProgramTarget:
    name: str  # a key of PROGRAMS
    host: str
    port: int


@dataclass(frozen=True)
class SentryConfig:
    interval_s: float = 15.0  # between two collections
    timeout_s: float = 3.0  # each source's own limit within a collection
    snapshot_path: Path = DEFAULT_SNAPSHOT
    programs: tuple[ProgramTarget, ...] = field(default_factory=lambda: tuple(
        ProgramTarget(name, DEFAULT_HOST, p.default_port) for name, p in PROGRAMS.items()))
    sysfs_root: Path = Path("/sys")
    proc_root: Path = Path("/proc")


_TOP = {"interval_s", "timeout_s", "snapshot_path", "sysfs_root", "proc_root", "programs"}
_PROGRAMS = {"host", "look_for", "ports"}


def load(path: Path | None = None) -> SentryConfig:
    """The configuration at ``path``; without one, the default file if it exists, else the defaults."""
    if path is None:
        if not DEFAULT_PATH.exists():
            return SentryConfig()
        path = DEFAULT_PATH
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"Cannot read the sentry configuration {path}: {exc.strerror or exc}.") from exc
    return parse(text, str(path))


def parse(text: str, source: str = "sentry.toml") -> SentryConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}.") from exc
    problem = _Problem(text, source)
    problem.unknown(data, _TOP, "")
    values: dict[str, Any] = {}
    for key in ("interval_s", "timeout_s"):
        if key in data:
            values[key] = problem.positive(data[key], key)
    for key in ("snapshot_path", "sysfs_root", "proc_root"):
        if key in data:
            values[key] = Path(problem.string(data[key], key))
    interval, timeout = values.get("interval_s", 15.0), values.get("timeout_s", 3.0)
    if timeout >= interval:
        raise problem.at("timeout_s", f"timeout_s ({timeout:g}) must be shorter than interval_s ({interval:g})")
    programs = data.get("programs", {})
    if not isinstance(programs, dict):
        raise problem.at("programs", "programs must be a table")
    if programs:
        values["programs"] = _programs(programs, problem)
    return SentryConfig(**values)


def _programs(table: dict[str, Any], problem: _Problem) -> tuple[ProgramTarget, ...]:
    problem.unknown(table, _PROGRAMS, "programs.")
    host = problem.string(table.get("host", DEFAULT_HOST), "host")
    look_for = table.get("look_for", list(PROGRAMS))
    if not isinstance(look_for, list) or not all(isinstance(name, str) for name in look_for):
        raise problem.at("look_for", "programs.look_for must be a list of program names")
    ports = table.get("ports", {})
    if not isinstance(ports, dict):
        raise problem.at("ports", "programs.ports must be a table of program = port")
    for key, names in (("look_for", look_for), ("ports", ports)):
        for name in names:
            if name not in PROGRAMS:
                raise problem.at(name if key == "ports" else key,
                                 f"{name!r} is not a program the sentry knows; it knows {', '.join(PROGRAMS)}")
    for name, port in ports.items():
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise problem.at(name, f"programs.ports.{name} must be a port number (1-65535)")
    return tuple(ProgramTarget(name, host, ports.get(name, PROGRAMS[name].default_port))
                 for name in dict.fromkeys(look_for))


class _Problem:
    """Builds the error sentence, with the line of the key where the text shows it."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source

    def at(self, key: str, what: str) -> ConfigError:
        match = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", self.text, re.MULTILINE)
        line = f", line {self.text.count(chr(10), 0, match.start()) + 1}" if match else ""
        return ConfigError(f"{self.source}{line}: {what}.")

    def unknown(self, table: dict[str, Any], known: set[str], prefix: str) -> None:
        for key in table:
            if key not in known:
                raise self.at(key, f"unknown key {prefix}{key} (known: {', '.join(sorted(known))})")

    def positive(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise self.at(key, f"{key} must be a positive number of seconds")
        return float(value)

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.at(key, f"{key} must be a non-empty string")
        return value
