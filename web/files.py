"""What the web itself keeps, under ``<state_dir>/web/``; the commander never writes there, and the
web never writes anything else of the state directory.

``users.json`` and ``tokens.json`` hold hashes only, ``secret-key`` signs the session cookies (kept,
so that restarting the web logs nobody out), ``initial-admin-password`` is written once; all are
mode 0600. JSON files are replaced whole (``atomicfile``) under an advisory lock, since the
``minerwatch user`` and ``token`` commands write them while the web runs; the web reads them again
whenever they change.
"""

from __future__ import annotations

import fcntl
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import TypeAdapter

import atomicfile
from appliance.damaged import Damaged, parsed

SECRET = 0o600
T = TypeVar("T")


class WebFileError(Exception):
    """A file of the web's cannot be used; the message names it and says why, in one sentence."""


def web_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "web"


def make_web_dir(state_dir: Path) -> Path:
    """``<state_dir>/web``, created for this user alone when missing."""
    directory = web_dir(state_dir)
    atomicfile.make_dirs(directory.parent)
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def write_secret(path: Path, text: str) -> None:
    """``text`` in ``path``, readable by the owner of its directory alone."""
    atomicfile.make_dirs(path.parent)
    atomicfile.replace(path, text, mode=SECRET, owner=_owner(path.parent))


def _owner(directory: Path) -> tuple[int, int]:
    """Whom a file written here belongs to: the directory's owner, so that root running
    ``minerwatch user add`` leaves a file the web (running as the service's user) can read."""
    info = directory.stat()
    return info.st_uid, info.st_gid


def secret_key(state_dir: Path) -> bytes:
    """The key that signs session cookies: made once, then read at every start."""
    path = web_dir(state_dir) / "secret-key"
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise WebFileError(f"{path} cannot be read ({exc.strerror or exc})") from exc
    if len(text) < 64:  # missing or cut short: a new key (everyone signs in again, once)
        text = secrets.token_hex(32)
        write_secret(path, text + "\n")
    return text.encode()


class JsonFile(Generic[T]):
    """One JSON file of the web's, read as ``kind`` (a STRICT pydantic type), cached until it changes."""

    def __init__(self, path: Path, kind: type[T], empty: Callable[[], T]) -> None:
        self.path, self.kind, self.empty = path, kind, empty
        self._cached: tuple[tuple[int, int], T] | None = None

    def read(self) -> T:
        """What the file holds now (``empty()`` when there is none); WebFileError when it is damaged."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return self.empty()
        stamp = (info.st_mtime_ns, info.st_size)
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        try:
            value = parsed(self.kind, self.path.read_bytes())
        except OSError as exc:
            raise WebFileError(f"{self.path} cannot be read ({exc.strerror or exc})") from exc
        except Damaged as exc:
            raise WebFileError(f"{self.path} is damaged ({exc}); fix it or move it away and start again") from exc
        self._cached = (stamp, value)
        return value

    @contextmanager
    def update(self) -> Iterator[T]:
        """The file's content to change in place; written back when the block ends without an
        exception. Writers (the web, the CLI) take turns on a lock file beside it."""
        atomicfile.make_dirs(self.path.parent)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._cached = None
            value = self.read()
            yield value
            text = json.dumps(TypeAdapter(self.kind).dump_python(value, mode="json"), indent=1)
            atomicfile.replace(self.path, text, mode=SECRET, owner=_owner(self.path.parent))
