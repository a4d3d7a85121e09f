"""What the commander's scheduler calls: ``store_cycle`` after each poll, ``maintain`` every few minutes,
``recover`` once at start, before either."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from appliance.store.compaction import compact
from appliance.store.farm import farm_rows
from appliance.store.latest import keys_by_address, update_latest
from appliance.store.layout import dataset, dataset_names
from appliance.store.retention import apply_retention
from appliance.store.rollup import rollup
from appliance.store.schema import TABLES, rows_from_rigs, rows_from_snapshots, utc
from appliance.store.settings import StorageSettings
from appliance.store.writer import write_cycle
from collectors.model import MinerSnapshot, RigSnapshot


def store_cycle(state_dir: Path, snapshots: Iterable[MinerSnapshot], cycle_time: datetime,
                site: str | Callable[[str], str] | None = None, rigs: Iterable[RigSnapshot] = (),
                keys: Sequence[str] | None = None, source: str | None = None) -> list[Path]:
    """One cycle's miner (and rig) snapshots written to ``metrics/`` and folded into ``latest/``.

    ``keys``: each miner's device key, as the inventory knows it (the commander's case); without
    them the store derives its own (``schema.device_key``). ``source``: the ASIC sentry that polled
    the cycle (``write_cycle``)."""
    known = None if keys is not None else keys_by_address(state_dir, cycle_time)
    tables = _with_farm(rows_from_snapshots(snapshots, cycle_time, site, known_keys=known, keys=keys), source)
    tables.update(rows_from_rigs(rigs, cycle_time, site))
    written = write_cycle(state_dir, tables, cycle_time, source)
    update_latest(state_dir, {name: t for name, t in tables.items() if t.num_rows})
    return written


def store_backlog(state_dir: Path, cycles: Sequence[tuple[datetime, Sequence[MinerSnapshot], Sequence[str]]],
                  site: Callable[[str], str], source: str) -> list[Path]:
    """Cycles of one ASIC sentry, oldest first ((time, snapshots, keys) each): every cycle written
    as ``store_cycle`` writes it, and ``latest/`` folded once, with the newest."""
    written, newest = [], None
    for cycle_time, snapshots, keys in cycles:
        newest = _with_farm(rows_from_snapshots(snapshots, cycle_time, site, keys=keys), source)
        written += write_cycle(state_dir, newest, cycle_time, source)
    if newest is not None:
        update_latest(state_dir, {name: t for name, t in newest.items() if t.num_rows})
    return written


def _with_farm(tables: dict[str, pa.Table], source: str | None) -> dict[str, pa.Table]:
    return {**tables, "farm": farm_rows(tables["miners"], source or "commander")}


@dataclass(frozen=True)
class Maintenance:
    rolled_up: list[Path]  # rollup files written
    compacted: list[Path]  # merged files written
    removed: list[Path]  # expired partitions deleted


def maintain(settings: StorageSettings, now: datetime, complete_until: datetime | None = None) -> Maintenance:
    """Roll up closed hours, compact closed hours and days, delete expired partitions.

    Rollups run first so that they read the raw hours before retention can remove them.
    ``complete_until``: the raw rows are known complete only before this time (an ASIC sentry's
    backlog still to come): later hours are rolled up once it has arrived, since an hour is rolled
    up once."""
    now = utc(now, "now")
    state_dir = settings.state_dir
    until = min(now, utc(complete_until, "complete_until")) if complete_until is not None else now
    rolled = [path for table in TABLES for path in rollup(state_dir, table, until)]
    compacted = []
    if settings.compaction:
        compacted = [path for name in dataset_names() for path in compact(state_dir, dataset(name), now)]
    removed = apply_retention(state_dir, settings.all_keep_days(), now.date())
    return Maintenance(rolled, compacted, removed)
