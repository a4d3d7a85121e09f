"""net-snmp's pass_persist protocol: serving cells built from a JSON file to snmpd, on stdin and stdout.

snmpd starts the responder once (``pass_persist <subtree> <program>`` in snmpd.conf) and talks to
it over its stdin and stdout, one request at a time. What net-snmp 5.9 sends, as observed on 5.9.3
and read in ``agent/mibgroup/ucd-snmp/pass_persist.c``:

- ``PING`` before *every* request (not only at start), answered ``PONG``; anything else makes
  snmpd kill the responder (SIGKILL) and start a new one at the next request;
- ``get`` / ``getnext``, then the OID on a line of its own; the answer is three lines (OID, type,
  value) or ``NONE``. GETBULK reaches us as one PING + getnext per repetition. A getnext below
  the subtree arrives as the subtree's OID itself;
- ``set``, the OID, then ``TYPE VALUE`` on a line, then (5.9.3) one blank line; it expects one
  answer line. Blank lines are therefore never answered: each answer snmpd does not read would be
  taken for the next PONG;
- EOF when snmpd closes the pipe (reload, shutdown): the responder exits.

snmpd waits for every answer with a blocking read, so the responder must never block or die on
a request: answers come from memory (the file is re-read only when its stat changes), a line it
cannot read gets ``NONE`` and one log line, and a value line is never longer than snmpd's buffer.
Nothing may reach stderr either: snmpd makes it the same pipe as stdout.

Each responder is a ``FileSource`` that says how a document becomes cells (``build``) and which
cells depend on the clock (``live``); the rest is here.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import logging.handlers
import os
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from collectors.mib import BASE, Oid, dotted, parse
from snmp_agent.cells import Row

log = logging.getLogger(__name__)

DEFAULT_STALE_AFTER_S = 180.0
# snmpd's own line buffer is 4096 octets; a request line longer than this is not from snmpd.
MAX_LINE = 8192
NONE = b"NONE\n"


def answer(key: Oid, kind: str, value: int | str) -> bytes:
    """A cell as the three lines snmpd reads: OID, type, value."""
    return f".{dotted(key)}\n{kind}\n{value}\n".encode()


class Rows:
    """Cells sorted by OID (tuples compare as SNMP orders OIDs): a get or a getnext is one bisect.

    An answer is formatted when asked for, not when the file is read: a farm's 170,000 cells are
    rebuilt while snmpd waits, and a walk asks for them one by one anyway."""

    __slots__ = ("keys", "rows")

    def __init__(self, rows: Iterable[Row] = ()) -> None:
        self.rows = sorted(rows, key=itemgetter(0))  # sorted as the layouts give them: one pass
        self.keys = [row[0] for row in self.rows]

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, request: Oid) -> Row | None:
        at = bisect_right(self.keys, request) - 1
        return self.rows[at] if at >= 0 and self.keys[at] == request else None

    def next(self, request: Oid) -> Row | None:
        """The first cell after ``request``."""
        at = bisect_right(self.keys, request)
        return self.rows[at] if at < len(self.rows) else None


class Source(Protocol):
    """What ``serve`` answers from."""

    def refresh(self) -> None: ...
    def get(self, request: Oid) -> bytes: ...
    def getnext(self, request: Oid) -> bytes: ...


class FileSource:
    """The cells of a JSON document in a file, rebuilt whenever the file's stat changes, plus the cells
    that depend on the clock, computed at each request.

    A subclass gives ``build`` (the document -> its cells and the time it describes) and ``live``
    (the age of that time -> the clock's cells, which win over a built cell of the same OID)."""

    # Said in the log lines: "serving <what>", "cannot be read as <what>", "...; <unread>".
    what = "the document"
    unread = "serving nothing"

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._stat: tuple[int, int, int] | None = None
        self._described_at: float | None = None
        self._state = "unread"  # for logging changes only: "ok", "missing", "unreadable"
        self._rows = Rows()
        self.refresh()

    def build(self, document: dict[str, Any]) -> tuple[Iterable[Row], float | None]:
        """The document's cells, and the time it describes (None: the file's mtime); ValueError with
        one sentence for a document it cannot serve."""
        raise NotImplementedError

    def live(self, age_s: float | None) -> list[Row]:
        """The cells that depend on the clock; ``age_s`` is None when no document could be read."""
        return []

    def __len__(self) -> int:
        """The cells built from the file."""
        return len(self._rows)

    # -- reading the file --------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the file if it changed; a missing or broken file serves the live cells alone."""
        try:
            info = os.stat(self.path)
        except OSError as exc:
            self._forget("missing", f"{self.path}: {exc.strerror}; {self.unread}")
            return
        stat = (info.st_mtime_ns, info.st_ino, info.st_size)
        if stat == self._stat:
            return
        problem = "not a JSON object"
        try:
            with _no_gc():
                document = json.loads(self.path.read_bytes())
                if isinstance(document, dict):
                    cells, described_at = self.build(document)
                    rows = Rows(cells)
                    problem = ""
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            problem = str(exc)
        if problem:
            self._forget("unreadable", f"{self.path} cannot be read as {self.what} ({problem}); {self.unread}")
            self._stat = stat  # the same broken file is not parsed again at every request
            return
        self._stat = stat
        self._described_at = info.st_mtime if described_at is None else described_at
        self._rows = rows
        if self._state != "ok":
            log.info("%s: serving %s (%d cells)", self.path, self.what, len(rows))
        self._state = "ok"

    def _forget(self, state: str, message: str) -> None:
        if self._state != state:
            log.warning("%s", message)
        self._state = state
        self._stat = None
        self._described_at = None
        self._rows = Rows()

    # -- answering ----------------------------------------------------------------------------

    def _live(self) -> Rows:
        age = None if self._described_at is None else max(0.0, self.clock() - self._described_at)
        return Rows(self.live(age))

    def get(self, request: Oid) -> bytes:
        row = self._live().get(request) or self._rows.get(request)
        return NONE if row is None else answer(*row)

    def getnext(self, request: Oid) -> bytes:
        live, built = self._live().next(request), self._rows.next(request)
        row = built if live is None or (built is not None and built[0] < live[0]) else live
        return NONE if row is None else answer(*row)


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: a build allocates a few objects per cell and no cycles,
    and a collection run every 700 allocations would walk them all again and again (measured: a
    third of a 10,000-miner farm's rebuild)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def serve(source: Source, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer snmpd until it closes our stdin."""

    def reply(data: bytes) -> None:
        stdout.write(data)
        stdout.flush()

    set_value_pending = False
    while True:
        line = stdin.readline(MAX_LINE)
        if not line:
            return
        if not line.endswith(b"\n") and len(line) >= MAX_LINE:
            log.warning("a request line longer than %d octets from snmpd; answered NONE", MAX_LINE)
            _discard_rest_of_line(stdin)
            reply(NONE)
            continue
        word = line.strip()
        if set_value_pending:
            # The TYPE VALUE line of a set, answered already. Should a future snmpd forget its
            # newline, the next PING would be glued to it: answer that PING rather than hang.
            set_value_pending = False
            if word.endswith(b"PING") and word != b"PING":
                reply(b"PONG\n")
                continue
            if word not in (b"PING", b"get", b"getnext", b"set"):
                continue
        if not word:
            continue  # 5.9.3 ends a set with a blank line, and expects no answer to it
        if word == b"PING":
            reply(b"PONG\n")
        elif word in (b"get", b"getnext"):
            target = stdin.readline(MAX_LINE)
            if not target:
                return
            try:
                request = parse(target.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                log.warning("snmpd sent %s with an OID that cannot be read: %r; answered NONE",
                            word.decode(), target[:80])
                reply(NONE)
                continue
            source.refresh()
            reply(source.get(request) if word == b"get" else source.getnext(request))
        elif word == b"set":
            # Answered before the value line is read, so no form of that line can leave snmpd
            # waiting; the whole subtree is read-only.
            if not stdin.readline(MAX_LINE):
                return
            reply(b"not-writable\n")
            set_value_pending = True
        else:
            log.warning("snmpd sent a line the pass_persist protocol does not have: %r; answered NONE",
                        line[:80])
            reply(NONE)


def _discard_rest_of_line(stdin: BinaryIO) -> None:
    while True:
        chunk = stdin.readline(MAX_LINE)
        if not chunk or chunk.endswith(b"\n"):
            return


def add_arguments(parser: argparse.ArgumentParser, stale_help: str) -> None:
    """The options every responder takes besides its file: --base, --stale-after, --log-file."""
    parser.add_argument("--base", type=parse, default=BASE, metavar="OID",
                        help=f"MINERWATCH-MIB's base OID (default {dotted(BASE)}); "
                             "the same as on the pass_persist line")
    parser.add_argument("--stale-after", type=float, default=DEFAULT_STALE_AFTER_S, metavar="S",
                        help=f"{stale_help} (default {DEFAULT_STALE_AFTER_S:g} s)")
    parser.add_argument("--log-file", type=Path, metavar="FILE",
                        help="log here as well as to syslog (stderr is snmpd's pipe: never logged to)")


def add_command(subparsers: argparse._SubParsersAction, served: str,
                add_options: Callable[[argparse.ArgumentParser], None], run: Callable[[argparse.Namespace], int]) -> None:
    """The ``pass-persist`` subcommand, for snmpd; ``served`` names what it answers from."""
    parser = subparsers.add_parser(
        "pass-persist", help="the responder snmpd runs (pass_persist): not for a terminal",
        description=f"Answer snmpd's pass_persist requests from {served}, on stdin and stdout, until snmpd "
                    "closes the pipe.")
    add_options(parser)
    parser.set_defaults(func=run)


def run(source: Callable[[], Source], ident: str, log_file: Path | None) -> int:
    """The entry point snmpd runs: logging set up, then ``serve`` on stdin and stdout; ``source`` is
    called after logging is set up, so what it logs on reading the file is kept. ``ident`` names the
    responder in syslog."""
    handlers: list[logging.Handler] = []
    if log_file:
        handlers.append(logging.FileHandler(log_file))  # opened first: it may be /dev/stderr
    if os.path.exists("/dev/log"):
        syslog = logging.handlers.SysLogHandler(address="/dev/log")
        syslog.ident = f"{ident}: "
        handlers.append(syslog)
    # snmpd hands us its pipe as stderr too (get_exec_pipes does dup2(1, 2)): a warning or a
    # traceback written there would be read as an answer. So stderr goes nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # force: under the ``minerwatch`` commands the command line has configured stderr logging already.
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers or [logging.NullHandler()],
                        force=True)
    try:
        serve(source(), sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # snmpd went away between a request and our answer, or a person pressed Ctrl-C
    except Exception:
        log.exception("the pass_persist responder stopped on an unexpected error; snmpd restarts it "
                      "at the next request")
        return 1
    return 0
