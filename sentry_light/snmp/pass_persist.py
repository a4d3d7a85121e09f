"""The pass_persist responder: serves the rig snapshot file to the rig's own snmpd, under MINERWATCH-MIB.

snmpd starts it once (``pass_persist <base> <this program>`` in snmpd.conf) and talks to it over
its stdin and stdout, one request at a time. What net-snmp 5.9 sends, as observed on 5.9.3 and read
in ``agent/mibgroup/ucd-snmp/pass_persist.c``:

- ``PING`` before *every* request (not only at start), answered ``PONG``; anything else makes
  snmpd kill the responder (SIGKILL) and start a new one at the next request;
- ``get`` / ``getnext``, then the OID on a line of its own; the answer is three lines (OID, type,
  value) or ``NONE``. GETBULK reaches us as one PING + getnext per repetition. A getnext below
  the base arrives as the base itself;
- ``set``, the OID, then ``TYPE VALUE`` on a line, then (5.9.3) one blank line; it expects one
  answer line. Blank lines are therefore never answered: each answer snmpd does not read would be
  taken for the next PONG;
- EOF when snmpd closes the pipe (reload, shutdown): the responder exits.

snmpd waits for every answer with a blocking read, so the responder must never block or die on
a request: answers come from memory (the file is re-read only when its stat changes), a line it
cannot read gets ``NONE`` and one log line, and a value line is never longer than snmpd's buffer.
Nothing may reach stderr either: snmpd makes it the same pipe as stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import os
import sys
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from collectors.mib import BASE, Oid, dotted, oid, parse
from sentry_light.snmp import layout

log = logging.getLogger(__name__)

DEFAULT_STALE_AFTER_S = 180.0
# snmpd's own line buffer is 4096 octets; a request line longer than this is not from snmpd.
MAX_LINE = 8192


class Snapshot:
    """The served rows, rebuilt from the snapshot file whenever its stat changes.

    ``rows`` and ``keys`` are sorted by OID (tuples compare as SNMP orders OIDs), so a getnext is
    one bisect. The two mwSentry cells depend on the clock and are computed per request."""

    def __init__(self, path: Path, base: Oid = BASE, stale_after_s: float = DEFAULT_STALE_AFTER_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.base = base
        self.stale_after_s = stale_after_s
        self.clock = clock
        self._stat: tuple[int, int, int] | None = None
        self._collected_at: float | None = None
        self._state = "unread"  # for logging changes only: "ok", "missing", "unreadable"
        self._data_keys: list[Oid] = []
        self._data_answers: list[bytes] = []
        self._status_oid = oid("mwSentryStatus", base) + (0,)
        self._age_oid = oid("mwSentrySnapshotAge", base) + (0,)
        self.refresh()

    # -- reading the file --------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the file if it changed; a missing or broken file serves mwSentry alone."""
        try:
            info = os.stat(self.path)
        except OSError as exc:
            self._forget("missing", f"{self.path}: {exc.strerror}; serving mwSentryStatus down")
            return
        stat = (info.st_mtime_ns, info.st_ino, info.st_size)
        if stat == self._stat:
            return
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            data, problem = None, str(exc)
        else:
            problem = "" if isinstance(data, dict) else "not a JSON object"
        if problem:
            self._forget("unreadable", f"{self.path} cannot be read as a rig snapshot ({problem}); "
                                       "serving mwSentryStatus down")
            self._stat = stat  # the same broken file is not parsed again at every request
            return
        rows = layout.rows(data, self.base)
        self._stat = stat
        collected_at = data.get("collected_at")
        self._collected_at = float(collected_at) if isinstance(collected_at, (int, float)) \
            and not isinstance(collected_at, bool) else info.st_mtime
        self._data_keys = [row[0] for row in rows]
        self._data_answers = [_answer(*row) for row in rows]
        if self._state != "ok":
            log.info("%s: serving the rig snapshot (%d cells)", self.path, len(rows))
        self._state = "ok"

    def _forget(self, state: str, message: str) -> None:
        if self._state != state:
            log.warning("%s", message)
        self._state = state
        self._stat = None
        self._collected_at = None
        self._data_keys, self._data_answers = [], []

    # -- answering ----------------------------------------------------------------------------

    def _sentry(self) -> list[tuple[Oid, bytes]]:
        if self._collected_at is None:
            cells = layout.sentry_rows("down", None, self.base)
        else:
            age = max(0.0, self.clock() - self._collected_at)
            cells = layout.sentry_rows("stale" if age > self.stale_after_s else "ok", age, self.base)
        return [(row[0], _answer(*row)) for row in cells]

    def get(self, request: Oid) -> bytes:
        if request in (self._status_oid, self._age_oid):
            return next((answer for key, answer in self._sentry() if key == request), b"NONE\n")
        at = bisect_right(self._data_keys, request) - 1
        if at >= 0 and self._data_keys[at] == request:
            return self._data_answers[at]
        return b"NONE\n"

    def getnext(self, request: Oid) -> bytes:
        for key, answer in self._sentry():  # mwSentry sorts before every data cell
            if key > request:
                return answer
        at = bisect_right(self._data_keys, request)
        return self._data_answers[at] if at < len(self._data_answers) else b"NONE\n"


def _answer(key: Oid, kind: str, value: int | str) -> bytes:
    return f".{dotted(key)}\n{kind}\n{value}\n".encode()


def serve(snapshot: Snapshot, stdin: BinaryIO, stdout: BinaryIO) -> None:
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
            reply(b"NONE\n")
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
                reply(b"NONE\n")
                continue
            snapshot.refresh()
            reply(snapshot.get(request) if word == b"get" else snapshot.getnext(request))
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
            reply(b"NONE\n")


def _discard_rest_of_line(stdin: BinaryIO) -> None:
    while True:
        chunk = stdin.readline(MAX_LINE)
        if not chunk or chunk.endswith(b"\n"):
            return


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", required=True, type=Path, metavar="FILE",
                        help="the rig snapshot JSON the sentry writes")
    parser.add_argument("--base", type=parse, default=BASE, metavar="OID",
                        help=f"MINERWATCH-MIB's base OID (default {dotted(BASE)}); "
                             "the same as on the pass_persist line")
    parser.add_argument("--stale-after", type=float, default=DEFAULT_STALE_AFTER_S, metavar="S",
                        help="mwSentryStatus says stale when the snapshot is older than this "
                             f"(default {DEFAULT_STALE_AFTER_S:g} s)")
    parser.add_argument("--log-file", type=Path, metavar="FILE",
                        help="log here as well as to syslog (stderr is snmpd's pipe: never logged to)")


def run(args: argparse.Namespace) -> int:
    """The entry point snmpd runs."""
    handlers: list[logging.Handler] = []
    if args.log_file:
        handlers.append(logging.FileHandler(args.log_file))  # opened first: it may be /dev/stderr
    if os.path.exists("/dev/log"):
        syslog = logging.handlers.SysLogHandler(address="/dev/log")
        syslog.ident = "minerwatch-sentry pass-persist: "
        handlers.append(syslog)
    # snmpd hands us its pipe as stderr too (get_exec_pipes does dup2(1, 2)): a warning or a
    # traceback written there would be read as an answer. So stderr goes nowhere.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    # force: under ``minerwatch-sentry`` the command line has configured stderr logging already.
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=handlers or [logging.NullHandler()],
                        force=True)
    try:
        serve(Snapshot(args.snapshot, args.base, args.stale_after), sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # snmpd went away between a request and our answer, or a person pressed Ctrl-C
    except Exception:
        log.exception("the pass_persist responder stopped on an unexpected error; snmpd restarts it "
                      "at the next request")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentry_light.snmp.pass_persist",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
