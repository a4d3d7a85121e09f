"""State files found damaged: set aside under a name that says so, never deleted, and found again.

A damaged state file (cut short, random bytes, empty, JSON of the wrong shape or types, a Parquet
file of another schema, a SQLite file with garbage pages) costs that file only. The process that
owns it renames it to ``<name>.corrupt-<UTC time>`` in its own directory (``set_aside``), logs one
sentence saying what was wrong and what happens now, and goes on without it, rebuilding what can be
rebuilt. The name is the whole record, so there is no registry that could be damaged in turn:
``set_aside_files`` finds them all again.

Only the commander sets aside, and only the files it owns. A reader in another process (the web,
``minerwatch export``) skips a damaged file and names it (``skip``): it may run as another user,
and renaming a file under the commander could race with the commander's own jobs.

A file that cannot be read at all (permissions, a failing disk) is not damaged: what it holds is
unknown, so it is never renamed; whoever meets it says so in one sentence.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError

log = logging.getLogger(__name__)

T = TypeVar("T")
STAMP = "%Y%m%dT%H%M%SZ"
# SQLite's journal and shared memory: they hold part of the database, so they move with it, under
# the set-aside name plus their suffix, where SQLite looks for them when the copy is opened.
COMPANIONS = ("-wal", "-shm")
_SET_ASIDE = re.compile(r"(?P<name>.+)\.corrupt-(?P<at>\d{8}T\d{6}Z)(?:-\d+)?")
_PARTITION = re.compile(r"[^=/]+=[^/]*")  # a Hive partition directory: date=2026-12-02
_SKIP_DIRS = {".staging"}  # compaction's work areas: hard links to files that are also live


class Damaged(ValueError):
    """What a file holds is not what it should hold; the message says what is wrong with it."""


class StateFileError(Exception):
    """A state file that cannot be used but is not damaged (it cannot be read, or a newer release
    wrote it): the message names it and says why, and it stays as it is."""

    @classmethod
    def unreadable(cls, path: Path, exc: OSError) -> StateFileError:
        return cls(f"{path} cannot be read ({exc.strerror or exc}); it is not damaged, so it is left as it is")


@dataclass(frozen=True)
class SetAside:
    """A damaged file, set aside."""

    path: Path  # where it lies now: .../inventory.sqlite3.corrupt-20261202T114501Z
    original: Path  # the name it had: .../inventory.sqlite3
    at: datetime  # when it was set aside (UTC, to the second)


def set_aside(path: Path, reason: str, *, then: str = "going on without it") -> Path:
    """Rename the damaged file ``path`` to ``<name>.corrupt-<UTC time>`` beside it (a second one within
    the same second gets ``-2``, ...), and log one sentence: the file, ``reason`` (what is wrong with
    it) and ``then`` (what happens now). Returns the new path.

    A SQLite database's ``-wal`` and ``-shm`` files move with it. Inside a Hive partition
    (``date=...``) the new name starts with ``_``, which pyarrow, pandas and DuckDB skip, so the rest
    of the dataset stays readable by them. OSError, in one sentence, if the rename fails."""
    path = Path(path)
    stamp = datetime.now(UTC).strftime(STAMP)
    prefix = "_" if _PARTITION.fullmatch(path.parent.name) else ""
    target, n = path.with_name(f"{prefix}{path.name}.corrupt-{stamp}"), 1
    while any(os.path.lexists(f"{target}{suffix}") for suffix in ("", *COMPANIONS)):
        n += 1
        target = path.with_name(f"{prefix}{path.name}.corrupt-{stamp}-{n}")
    try:
        # The journal first: a crash half-way must not leave it beside a new, empty database.
        for suffix in COMPANIONS:
            if os.path.lexists(f"{path}{suffix}"):
                os.rename(f"{path}{suffix}", f"{target}{suffix}")
        os.rename(path, target)
    except OSError as exc:
        raise OSError(exc.errno, f"{path} is damaged ({reason}) and cannot be set aside: "
                                 f"{exc.strerror or exc}") from exc
    log.error("%s is damaged (%s); set aside as %s, %s", path, reason, target.name, then)
    return target


def set_aside_files(state_dir: Path) -> list[SetAside]:
    """Every file set aside under ``state_dir``, oldest first (by when it was set aside, then path).

    Reads directory listings only (no file is opened), so it is safe beside a running commander and
    as another user; about 0.2 s for three years of a store's partitions (7,000 directories)."""
    found = []
    for directory, subdirs, names in os.walk(state_dir):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        in_partition = _PARTITION.fullmatch(os.path.basename(directory)) is not None
        for name in names:
            match = _SET_ASIDE.fullmatch(name)
            if match is None:
                continue
            original = match["name"][1:] if in_partition and match["name"].startswith("_") else match["name"]
            at = datetime.strptime(match["at"], STAMP).replace(tzinfo=UTC)
            found.append(SetAside(Path(directory, name), Path(directory, original), at))
    return sorted(found, key=lambda entry: (entry.at, str(entry.path)))


def is_set_aside(name: str) -> bool:
    """Whether ``name`` is the name ``set_aside`` gives a file."""
    return _SET_ASIDE.fullmatch(name) is not None


_named: set[tuple[Path, str]] = set()


def skip(path: Path, reason: str) -> None:
    """What a reader that does not own ``path`` does with it when damaged: name it in the log (once
    per file and reason in this process: a web page may meet it on every view) and read on without
    it. The file stays where it is."""
    if (path, reason) not in _named:
        _named.add((path, reason))
        log.warning("%s is damaged (%s); read without it, and left where it is", path, reason)


# --- the shape of a JSON state file ---------------------------------------------------------------

# How a state file's records are read: every member of its declared type and nothing converted
# ("1" is no number, true no 1), nothing the type does not declare. Each persisted dataclass takes
# it with ``@with_config(STRICT)``.
STRICT = ConfigDict(strict=True, extra="forbid")


def parsed(kind: type[T], data: bytes | str) -> T:
    """The JSON text ``data`` as ``kind`` (a dataclass configured ``STRICT``, a TypedDict, a list or
    dict of them); Damaged saying where and what is wrong when it is not JSON or not of that shape.
    pydantic parses and checks in one pass: 10,000 miners' alert state in about the time
    ``json.loads`` alone takes."""
    try:
        return _reader(kind).validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise Damaged(f"{where or 'the top level'}: {first['msg'].lower()}{more}") from exc


def read_state(path: Path, parse: Callable[[bytes], T], error: type[Exception], *, missing: str, then: str) -> T:
    """``parse`` of the file at ``path``, for a reader that does not own it; ``error`` with one
    sentence naming the file when it does not exist (``missing`` says what that means), cannot be
    read, or is damaged (``parse`` raised Damaged; ``then`` says what becomes of it)."""
    try:
        return parse(path.read_bytes())
    except FileNotFoundError as exc:
        raise error(f"{path} does not exist: {missing}") from exc
    except OSError as exc:
        raise error(f"{path} cannot be read ({exc.strerror or exc})") from exc
    except Damaged as exc:
        raise error(f"{path} is damaged ({exc}); {then}") from exc


@functools.cache
def _reader(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)
