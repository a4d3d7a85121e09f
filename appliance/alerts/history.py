"""The alert history: append-only JSON lines, one file per UTC month, kept ``history_days``.

Beside the state file ``alerts.json``: ``alerts-history-2026-11.jsonl``, ``alerts-history-2026-12.jsonl``,
... one object per event (``engine._event``). A month file is never rewritten, only appended to (and
fsync'd) while its month lasts, then removed whole once its month ended more than ``history_days``
ago, so the history stays bounded without copying it. A reader of the last day opens one or two
files, whatever the history's length. ``alerts-history.jsonl``, the single file of earlier releases,
is read first and removed once its last event is that old.

A damaged line (cut short by a crash, bytes that are not UTF-8 or JSON, an object without the
members an event has) is skipped and counted, and the count logged once per file and count; the
file is kept as it is, and appended to as before: the other events in it are sound.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

from appliance.damaged import Damaged, parsed

log = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 365
_MONTH = re.compile(r"-history-(\d{4})-(\d{2})\.jsonl")


class _Event(TypedDict):
    """What a reader of an event relies on (``engine._event`` writes more)."""

    at: float
    event: str
    id: str
    device: str
    rule: str


@with_config(ConfigDict(strict=True))  # keys it does not declare are for later releases: left out
class Event(_Event, total=False):
    part: str
    severity: str
    value: float | str | None
    threshold: float | str | None
    message: str
    by: str | None
    until: float  # a silence's end (Unix s)
    reason: str  # why it was silenced


_damaged_lines: dict[Path, int] = {}  # what was last logged of each file


def _legacy(state_path: Path) -> Path:
    return state_path.with_name(f"{state_path.stem}-history.jsonl")


def month_path(state_path: Path, at: float) -> Path:
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    return state_path.with_name(f"{state_path.stem}-history-{moment:%Y-%m}.jsonl")


def _month_end(path: Path) -> float | None:
    """The Unix time the file's month ends; None for a name that is not a month file."""
    match = _MONTH.search(path.name)
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return None
    following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return following.timestamp()


def segments(state_path: Path, since: float | None = None) -> list[Path]:
    """The history's files, oldest first, leaving out months that ended before ``since``."""
    months = sorted(p for p in state_path.parent.glob(f"{state_path.stem}-history-*.jsonl")
                    if (end := _month_end(p)) is not None and (since is None or end > since))
    legacy = _legacy(state_path)
    return ([legacy] if legacy.exists() else []) + months


def append(state_path: Path, events: Iterable[Mapping[str, Any]]) -> None:
    """Each event to its month's file (by its ``at``), durably."""
    by_file: dict[Path, list[str]] = {}
    for event in events:
        by_file.setdefault(month_path(state_path, event["at"]), []).append(json.dumps(event, ensure_ascii=False))
    for path, lines in by_file.items():
        with path.open("a", encoding="utf-8") as out:
            if not _ends_a_line(path):
                out.write("\n")  # a crash cut the last line short: never glue an event onto it
            out.writelines(line + "\n" for line in lines)
            out.flush()
            os.fsync(out.fileno())


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return True
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


def prune(state_path: Path, now: float, keep_days: float = DEFAULT_KEEP_DAYS) -> list[Path]:
    """Remove the files whose every event is older than ``keep_days``; returns them."""
    cutoff = now - keep_days * 86400.0
    gone = [p for p in segments(state_path) if (_month_end(p) or _mtime(p)) <= cutoff]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def read_history(state_path: Path, since: float | None = None) -> list[Event]:
    """The events at or after ``since``, oldest first; a damaged line is skipped and counted."""
    events = []
    for path in segments(Path(state_path), since):
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:  # pruned meanwhile
            continue
        damaged = 0
        for line in lines:
            try:
                event = parsed(Event, line)
            except Damaged:
                damaged += 1
                continue
            if since is None or event["at"] >= since:
                events.append(event)
        if _damaged_lines.get(path, 0) != damaged:
            _damaged_lines[path] = damaged
            log.warning("%s has %d damaged line(s) of %d; they are skipped, and the file kept as it is",
                        path, damaged, len(lines))
    return events
