"""The alert history: a file per month, read from the months a reader asks for, and bounded by
removing whole months once they are older than ``history_days``."""

from __future__ import annotations

import datetime as dt
import json
import os

from appliance.alerts import history
from appliance.alerts.engine import AlertEngine
from appliance.alerts.settings import AlertSettings
from tests.appliance.alerts.conftest import miner


def at(year: int, month: int, day: int = 1, hour: int = 12) -> float:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC).timestamp()


def event(when: float, name: str = "fired") -> dict:
    return {"at": when, "event": name, "id": "10.0.0.5/offline", "device": "10.0.0.5", "rule": "offline"}


def test_events_go_to_their_months_file_and_read_back_in_order(tmp_path):
    state = tmp_path / "alerts.json"
    history.append(state, [event(at(2026, 10, 31, 23)), event(at(2026, 11, 1, 0)), event(at(2026, 11, 27))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts-history-2026-10.jsonl", "alerts-history-2026-11.jsonl"]
    assert [e["at"] for e in history.read_history(state)] == [at(2026, 10, 31, 23), at(2026, 11, 1, 0), at(2026, 11, 27)]
    assert [e["at"] for e in history.read_history(state, since=at(2026, 11, 1, 0))] == [at(2026, 11, 1, 0), at(2026, 11, 27)]
    # A reader of the last days does not open the months that ended before.
    assert [p.name for p in history.segments(state, since=at(2026, 11, 26))] == ["alerts-history-2026-11.jsonl"]


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path):
    state = tmp_path / "alerts.json"
    history.append(state, [event(at(2026, 11, 2))])
    with history.month_path(state, at(2026, 11, 2)).open("a") as out:
        out.write('{"at": 17')
    history.append(state, [event(at(2026, 11, 3))])
    assert [e["at"] for e in history.read_history(state)] == [at(2026, 11, 2), at(2026, 11, 3)]


def test_months_older_than_history_days_are_removed_whole_and_the_old_single_file_too(tmp_path):
    state = tmp_path / "alerts.json"
    legacy = tmp_path / "alerts-history.jsonl"
    legacy.write_text(json.dumps(event(at(2025, 1, 5))) + "\n")
    os.utime(legacy, (at(2025, 1, 5), at(2025, 1, 5)))  # its last event's time: nothing was added since
    history.append(state, [event(at(2025, 12, 20)), event(at(2026, 10, 2)), event(at(2026, 11, 27))])
    assert [e["at"] for e in history.read_history(state)][0] == at(2025, 1, 5)  # the old file, read first
    removed = history.prune(state, now=at(2026, 11, 27), keep_days=300)
    assert sorted(p.name for p in removed) == ["alerts-history-2025-12.jsonl", "alerts-history.jsonl"]
    assert [e["at"] for e in history.read_history(state)] == [at(2026, 10, 2), at(2026, 11, 27)]


def test_the_engine_prunes_when_a_new_month_begins(tmp_path):
    state = tmp_path / "alerts.json"
    history.append(state, [event(at(2024, 3, 1))])
    rules = AlertSettings.from_mapping({"rules": {"offline": {"threshold": 1}}}, "test [alerts]").rules
    engine = AlertEngine(rules, state, history_days=90)
    down = miner(0)
    down.reachable, down.error = False, "no answer"
    engine.evaluate(at(2026, 11, 27), [down])
    assert [p.name for p in history.segments(state)] == ["alerts-history-2026-11.jsonl"]
    assert [e["event"] for e in history.read_history(state)] == ["fired"]
