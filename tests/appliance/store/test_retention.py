"""Retention removes whole partitions older than each dataset's days, and nothing else."""

from __future__ import annotations

from datetime import date, timedelta

from appliance.store.retention import apply_retention, expired
from appliance.store.schema import rows_from_snapshots
from appliance.store.writer import write_cycle

from .helpers import T0, snapshot


def test_expired_keeps_the_last_days_and_today():
    days = [date(2026, 11, d) for d in range(1, 28)]
    assert expired(days, date(2026, 11, 27), 14) == [date(2026, 11, d) for d in range(1, 13)]
    assert expired(days, date(2026, 11, 27), 30) == []


def test_apply_retention_deletes_only_old_partitions_of_the_named_datasets(state):
    for d in range(5):
        moment = T0 + timedelta(days=d)
        write_cycle(state, rows_from_snapshots([snapshot(0, moment)], moment), moment)
    removed = apply_retention(state, {"miners": 2, "boards": 3}, date(2026, 11, 5))
    assert sorted(p.relative_to(state).as_posix() for p in removed) == [
        "metrics/boards/date=2026-11-01", "metrics/miners/date=2026-11-01", "metrics/miners/date=2026-11-02"]
    assert sorted(p.name for p in (state / "metrics" / "miners").iterdir()) == [
        "date=2026-11-03", "date=2026-11-04", "date=2026-11-05"]
    assert len(list((state / "metrics" / "pools").iterdir())) == 5  # not named: untouched
