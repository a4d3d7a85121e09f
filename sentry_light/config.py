"""The sentry's TOML configuration (``/etc/minerwatch/sentry.toml``; ``packaging/sentry.toml`` is the
commented sample), parsed once into frozen dataclasses through ``configfile``'s table reader, like the
commander's. Every key is optional; an unknown key, a value of the wrong type or an unknown program
stops start-up with every such mistake, each with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from configfile import ConfigError, Document, Problem, did_you_mean, kinds, ordered
from sentry_light.sources.programs import PROGRAMS

__all__ = ["DEFAULT_HOST", "DEFAULT_PATH", "DEFAULT_SNAPSHOT", "ConfigError", "ProgramTarget", "SentryConfig", "load",
           "parse"]

DEFAULT_PATH = Path("/etc/minerwatch/sentry.toml")
DEFAULT_SNAPSHOT = Path("/run/minerwatch-sentry/rig.json")
DEFAULT_HOST = "127.0.0.1"


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
    hostname: str | None = None  # the rig's name in its snapshot; None: the machine's host name


def load(path: Path | None = None) -> SentryConfig:
    """The configuration at ``path``; without one, the default file if it exists, else the defaults."""
    if path is None:
        if not DEFAULT_PATH.exists():
            return SentryConfig()
        path = DEFAULT_PATH
    problems: list[Problem] = []
    return _read(Document.load(Path(path), problems), problems)


def parse(text: str, source: str = "sentry.toml") -> SentryConfig:
    """``text``, as if read from the file ``source``."""
    problems: list[Problem] = []
    return _read(Document.parse(Path(source), text, problems), problems)


def _read(document: Document | None, problems: list[Problem]) -> SentryConfig:
    if document is None:
        raise ConfigError(problems)
    root = document.root
    interval_s = float(root.get("interval_s", kinds.seconds, SentryConfig.interval_s))
    timeout_s = float(root.get("timeout_s", kinds.seconds, SentryConfig.timeout_s))
    if timeout_s >= interval_s:
        root.problem("timeout_s", f"timeout_s ({timeout_s:g}) must be shorter than interval_s ({interval_s:g})")
    snapshot_path = root.get("snapshot_path", kinds.path, SentryConfig.snapshot_path)
    sysfs_root = root.get("sysfs_root", kinds.path, SentryConfig.sysfs_root)
    proc_root = root.get("proc_root", kinds.path, SentryConfig.proc_root)
    hostname = root.get("hostname", kinds.name, SentryConfig.hostname)

    programs = root.table("programs")
    host = programs.get("host", kinds.host, DEFAULT_HOST)
    look_for = programs.get("look_for", kinds.texts, tuple(PROGRAMS))
    for n, name in enumerate(look_for):
        if name not in PROGRAMS:
            programs.problem(("look_for", n), f"'{name}' is not a program the sentry knows"
                                              f"{did_you_mean(name, PROGRAMS)}; it knows {', '.join(PROGRAMS)}")
    ports = programs.table("ports")
    port_of = {name: ports.get(name, kinds.port, program.default_port) for name, program in PROGRAMS.items()}
    ports.done()
    programs.done()
    root.done()
    if problems:
        raise ConfigError(ordered(problems, document.path))
    return SentryConfig(interval_s=interval_s, timeout_s=timeout_s, snapshot_path=snapshot_path,
                        programs=tuple(ProgramTarget(name, host, port_of[name]) for name in dict.fromkeys(look_for)),
                        sysfs_root=sysfs_root, proc_root=proc_root, hostname=hostname)
