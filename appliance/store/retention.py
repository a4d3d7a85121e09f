"""Whole date partitions deleted once older than their dataset's retention.

A partition is kept while its date is within ``days`` days of today (today included), so a
retention of 14 days always leaves at least 14 whole days. Each partition disappears in one step
(moved into ``.staging``, deleted there later), so a reader never sees half of a day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path

from appliance.store.durable import discard, store_lock, sweep_retired
from appliance.store.layout import dataset, partitions


def expired(days: Iterable[date], today: date, keep_days: int) -> list[date]:
    """The partition dates older than ``keep_days`` days before ``today``; pure."""
    oldest_kept = today - timedelta(days=keep_days)
    return sorted(day for day in days if day < oldest_kept)


def apply_retention(state_dir: Path, keep_days: Mapping[str, int], today: date) -> list[Path]:
    """Delete the expired partitions of each dataset named in ``keep_days``; returns them."""
    sweep_retired(state_dir)
    removed = []
    for name, days in keep_days.items():
        if days < 1:
            raise ValueError(f"the retention of {name} must be at least 1 day, not {days}")
        found = partitions(dataset(name).root(state_dir))
        for day in expired(found, today, days):
            with store_lock(state_dir):
                discard(state_dir, found[day])
            removed.append(found[day])
    return removed
