"""The stored tables: their Arrow schemas, and snapshots turned into Arrow tables.

One row per device per cycle (miners), per board, per pool, per GPU. Units are in the column
names, as in the snapshot; ``None`` stays null (never 0). Every table carries ``site``, the
device key and ``time`` (the cycle's time, UTC), and is sorted on disk by its key columns so that
row-group statistics let a reader skip everything but the device it wants.

Columns are built one list per field (``map(attrgetter(field), snapshots)``), then one Arrow array
each: about 0.1 s for 10,000 miners with 3 boards each, a few times faster than a dict per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from collectors.model import MinerSnapshot, RigSnapshot, program_keys

TIME = pa.timestamp("ms", tz="UTC")
_TEXT = pa.string()


def _fields(*specs: tuple[str, pa.DataType]) -> list[pa.Field]:
    return [pa.field(name, kind) for name, kind in specs]


# Identity columns every table starts with; "time" is the cycle's time, the same for every row of a cycle.
_IDENTITY = [pa.field("site", _TEXT), pa.field("device", _TEXT, nullable=False), pa.field("time", TIME, nullable=False)]

# Snapshot scalars copied as they are: (column = snapshot attribute, type).
_MINER_SCALARS = (
    ("ip", _TEXT), ("port", pa.int32()),
    ("make", _TEXT), ("model", _TEXT), ("firmware", _TEXT), ("firmware_version", _TEXT), ("algorithm", _TEXT),
    ("reachable", pa.bool_()), ("error", _TEXT),  # error: the poll's failure, one sentence
    ("hashrate_hs", pa.float64()),  # H/s, the firmware's short average
    ("hashrate_avg_hs", pa.float64()),  # H/s, since the mining program started
    ("hashrate_nominal_hs", pa.float64()),  # H/s, the model's rating
    ("power_w", pa.float64()), ("power_limit_w", pa.float64()),  # W
    ("efficiency_jth", pa.float64()),  # J/TH
    ("uptime_s", pa.int64()),  # s since the mining program started
    ("temp_max_c", pa.float64()),  # °C, hottest board or chip
    ("accepted", pa.int64()), ("rejected", pa.int64()), ("hw_errors", pa.int64()),  # counts since start
    ("fault_light", pa.bool_()),
    ("mac", _TEXT), ("serial", _TEXT), ("hostname", _TEXT),
    ("latency_ms", pa.float64()),  # ms the poll took
)
MINERS = pa.schema(_IDENTITY + _fields(*_MINER_SCALARS) + _fields(
    ("polled_at", TIME),  # when the poll started (the snapshot's Unix seconds, as a timestamp)
    ("fan_rpm", pa.list_(pa.int32())),  # RPM of each fan, in the fans' index order
    ("error_codes", pa.list_(_TEXT)), ("error_messages", pa.list_(_TEXT)),  # the firmware's own, in pairs
))

_BOARD_SCALARS = (
    ("hashrate_hs", pa.float64()),  # H/s
    ("chips", pa.int32()), ("chips_expected", pa.int32()),
    ("temp_board_c", pa.float64()), ("temp_chip_c", pa.float64()),  # °C, hottest sensor
    ("frequency_mhz", pa.float64()),  # MHz, average chip clock
    ("hw_errors", pa.int64()),  # since start
    ("status", _TEXT),
)
BOARDS = pa.schema(_IDENTITY + _fields(("board", pa.int32())) + _fields(*_BOARD_SCALARS))

_POOL_SCALARS = (
    ("url", _TEXT), ("user", _TEXT), ("status", _TEXT), ("active", pa.bool_()),
    ("accepted", pa.int64()), ("rejected", pa.int64()), ("stale", pa.int64()),  # shares since start
)
POOLS = pa.schema(_IDENTITY + _fields(("pool", pa.int32())) + _fields(*_POOL_SCALARS))

# Rigs, as their sentries report them: "rig" is the rig's key on the commander, its sentry's address
# (``RigSnapshot.address``), the same whether it answers or not; "hostname" is what the rig calls itself.
_RIG_KEY = [_IDENTITY[0], pa.field("rig", _TEXT, nullable=False), _IDENTITY[2]]

_RIG_SCALARS = (
    ("hostname", _TEXT), ("reachable", pa.bool_()), ("error", _TEXT),
    ("uptime_s", pa.int64()),  # s since the rig booted
    ("load_1m", pa.float64()), ("memory_used_pct", pa.float64()), ("disk_used_pct", pa.float64()),
    # No hashrate: a rig's programs may mine several algorithms, whose hashrates do not add up; each
    # is in "programs" with its algorithm. (Files from before this kept a sum, "hashrate_hs", which
    # reading against this schema leaves out.)
    ("latency_ms", pa.float64()),  # ms the read of its sentry took
)
_RIG_CPU = (  # the rig's CPU, in columns prefixed "cpu_"
    ("model", _TEXT), ("threads", pa.int32()),
    ("load_pct", pa.float64()),  # % of all threads
    ("temp_c", pa.float64()), ("frequency_mhz", pa.float64()),
    ("hashrate_hs", pa.float64()),  # H/s, a CPU mining program's, in "cpu_algorithm"
    ("algorithm", _TEXT),  # as that program names it
)
RIGS = pa.schema(_RIG_KEY + _fields(*_RIG_SCALARS) + _fields(
    *((f"cpu_{name}", kind) for name, kind in _RIG_CPU),
    ("collected_at", TIME),  # when the sentry collected what it served
    ("gpus", pa.int32()),  # GPUs present
    ("faults", pa.list_(_TEXT)),  # one sentence each, as the sentry reports them
))

# A rig's GPUs, keyed by PCI bus id (stable across reboots, unlike the index).
_GPU_COLUMNS = (
    ("bus_id", _TEXT), ("name", _TEXT), ("vendor", _TEXT),
    ("hashrate_hs", pa.float64()),  # H/s, in "algorithm"
    ("algorithm", _TEXT),  # as the program that drives it names it
    ("temp_c", pa.float64()), ("mem_temp_c", pa.float64()),  # °C, core and memory junction
    ("fan_pct", pa.float64()),  # % of full speed
    ("fan_rpm", pa.int32()),
    ("power_w", pa.float64()),  # W
    ("core_clock_mhz", pa.float64()), ("mem_clock_mhz", pa.float64()),  # MHz
    ("accepted", pa.int64()), ("rejected", pa.int64()),  # shares since start
)
GPUS = pa.schema(_RIG_KEY + _fields(("hostname", _TEXT), *_GPU_COLUMNS))

# A rig's mining programs; "program" is its key on the rig (``collectors.model.program_keys``: the
# name, with ":<port>" for a program the rig runs twice), as its alerts' part names it too.
_PROGRAM_SCALARS = (
    ("name", _TEXT), ("version", _TEXT), ("algorithm", _TEXT), ("pool", _TEXT), ("user", _TEXT),
    ("api_up", pa.bool_()), ("port", pa.int32()), ("error", _TEXT),
    ("hashrate_hs", pa.float64()),  # H/s, in its own algorithm
    ("accepted", pa.int64()), ("rejected", pa.int64()),  # shares since it started
    ("uptime_s", pa.int64()),
)
PROGRAMS = pa.schema(_RIG_KEY + _fields(("program", _TEXT), ("hostname", _TEXT), *_PROGRAM_SCALARS))

# The farm's totals of one cycle per algorithm (``farm.farm_rows``), per source: "commander" for its
# own poll, else the ASIC sentry's name. The farm chart reads them for the hours not rolled up yet,
# a few rows a cycle where the miners table has one per miner. No site: they span the farm.
FARM = pa.schema([_IDENTITY[0], pa.field("source", _TEXT, nullable=False), _IDENTITY[2]] + _fields(
    ("algorithm", _TEXT), ("miners", pa.int64()), ("hashrate_hs", pa.float64()), ("power_w", pa.float64())))


@dataclass(frozen=True)
class Table:
    """One stored table: its schema, the columns its rows are keyed by, and how it rolls up."""

    name: str
    schema: pa.Schema
    key: str  # the device column: what a history read filters on
    member: str | None  # the part within a device (board, pool, GPU), or None for one row per device
    gauges: tuple[str, ...]  # rolled up as min / avg / max
    counters: tuple[str, ...]  # rolled up as the bucket's last value
    labels: tuple[str, ...]  # rolled up as the bucket's last value too: identity and configuration

    @property
    def sort_keys(self) -> list[tuple[str, str]]:
        """The on-disk order: by device, part, then time."""
        names = [self.key] + ([self.member] if self.member else []) + ["time"]
        return [(name, "ascending") for name in names]


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("miners", MINERS, "device", None,
          gauges=("hashrate_hs", "power_w", "temp_max_c", "efficiency_jth", "latency_ms"),
          counters=("uptime_s", "accepted", "rejected", "hw_errors"),
          labels=("site", "ip", "make", "model", "algorithm", "hashrate_nominal_hs")),
    Table("boards", BOARDS, "device", "board",
          gauges=("hashrate_hs", "temp_board_c", "temp_chip_c", "frequency_mhz", "chips"),
          counters=("hw_errors",), labels=("site", "chips_expected")),
    Table("pools", POOLS, "device", "pool", gauges=(),
          counters=("accepted", "rejected", "stale"), labels=("site", "url", "user", "active")),
    Table("rigs", RIGS, "rig", None,
          gauges=("load_1m", "memory_used_pct", "disk_used_pct", "cpu_load_pct", "cpu_temp_c", "cpu_hashrate_hs",
                  "gpus", "latency_ms"),
          counters=("uptime_s",), labels=("site", "hostname", "cpu_model", "cpu_algorithm")),
    Table("gpus", GPUS, "rig", "bus_id",
          gauges=("hashrate_hs", "temp_c", "mem_temp_c", "fan_pct", "fan_rpm", "power_w",
                  "core_clock_mhz", "mem_clock_mhz"),
          counters=("accepted", "rejected"), labels=("site", "hostname", "name", "vendor", "algorithm")),
    Table("programs", PROGRAMS, "rig", "program", gauges=("hashrate_hs",),
          counters=("accepted", "rejected", "uptime_s"), labels=("site", "hostname", "name", "algorithm", "pool")),
    Table("farm", FARM, "source", "algorithm", gauges=("miners", "hashrate_hs", "power_w"), counters=(),
          labels=("site",)),
)}


def rollup_schema(table: Table) -> pa.Schema:
    """A rollup's columns: the keys, ``time`` (the bucket's start), the labels' and counters' last
    values, ``<gauge>_min``, ``_avg`` and ``_max`` of each gauge over the bucket (nulls ignored; null
    when the bucket had no value), and ``samples``, the rows the bucket had."""
    source = table.schema
    keys = [table.key] + ([table.member] if table.member else [])
    fields = [source.field("site"), *(source.field(k) for k in keys), source.field("time")]
    fields += [source.field(name) for name in table.labels if name != "site"]
    for gauge in table.gauges:
        kind = source.field(gauge).type
        fields += [pa.field(f"{gauge}_min", kind), pa.field(f"{gauge}_avg", pa.float64()), pa.field(f"{gauge}_max", kind)]
    fields += [source.field(name) for name in table.counters]
    fields.append(pa.field("samples", pa.int64()))
    return pa.schema(fields)


def device_key(snapshot: MinerSnapshot, known_keys: Mapping[str, str] | None = None) -> str:
    """A miner's stable key: its MAC, else its serial, else the key its address had when last known,
    else its address. An unreachable miner's snapshot has only the address, hence ``known_keys``."""
    if snapshot.mac:
        return snapshot.mac.upper()
    if snapshot.serial:
        return snapshot.serial
    if known_keys and snapshot.ip in known_keys:
        return known_keys[snapshot.ip]
    return snapshot.ip


def rows_from_snapshots(snapshots: Iterable[MinerSnapshot], cycle_time: datetime,
                        site: str | Callable[[str], str] | None = None,
                        *, known_keys: Mapping[str, str] | None = None,
                        keys: Sequence[str] | None = None) -> dict[str, pa.Table]:
    """The miners, boards and pools tables of one cycle; ``site`` is one name for all, or a function
    of the miner's address (``Config.site_for``) for a farm of several sites. ``keys``, one per
    snapshot, are the devices' keys where the caller knows them (the inventory's); else ``device_key``."""
    snaps = list(snapshots)
    if keys is None:
        keys = [device_key(s, known_keys) for s in snaps]
    elif len(keys) != len(snaps):
        raise ValueError(f"{len(keys)} device keys for {len(snaps)} snapshots")
    sites = [site(s.ip) for s in snaps] if callable(site) else [site] * len(snaps)
    miners = _columns(snaps, _MINER_SCALARS)
    miners["polled_at"] = _timestamps([s.polled_at for s in snaps])
    miners["fan_rpm"] = [[f.rpm for f in sorted(s.fans, key=_index)] for s in snaps]
    miners["error_codes"] = [[e.code for e in s.errors] for s in snaps]
    miners["error_messages"] = [[e.message for e in s.errors] for s in snaps]

    boards = [b for s in snaps for b in s.boards]
    board_cols = {"board": [b.index for b in boards], **_columns(boards, _BOARD_SCALARS)}
    pools = [p for s in snaps for p in s.pools]
    pool_cols = {"pool": [p.index for p in pools], **_columns(pools, _POOL_SCALARS)}
    return {
        "miners": _table(MINERS, miners, keys, sites, cycle_time),
        "boards": _table(BOARDS, board_cols, [k for s, k in zip(snaps, keys) for _ in s.boards],
                         [w for s, w in zip(snaps, sites) for _ in s.boards], cycle_time),
        "pools": _table(POOLS, pool_cols, [k for s, k in zip(snaps, keys) for _ in s.pools],
                        [w for s, w in zip(snaps, sites) for _ in s.pools], cycle_time),
    }


def rows_from_rigs(rigs: Iterable[RigSnapshot], cycle_time: datetime,
                   site: str | Callable[[str], str] | None = None) -> dict[str, pa.Table]:
    """The rigs, gpus and programs tables of one cycle: a row per rig (answering or not), per GPU
    and per mining program of each rig that answered."""
    rigs = list(rigs)
    keys = [r.address for r in rigs]
    sites = [site(r.ip or "") if callable(site) else site for r in rigs]
    rig_cols = _columns(rigs, _RIG_SCALARS)
    cpus = [r.cpu for r in rigs]
    rig_cols.update({f"cpu_{name}": values for name, values in _columns(cpus, _RIG_CPU).items()})
    rig_cols["collected_at"] = _timestamps([r.collected_at for r in rigs])
    rig_cols["gpus"] = [len(r.gpus) if r.reachable else None for r in rigs]
    rig_cols["faults"] = [list(r.faults) for r in rigs]

    gpus = [(r, k, w, g) for r, k, w in zip(rigs, keys, sites) for g in r.gpus]
    gpu_cols = {"hostname": [r.hostname for r, *_ in gpus], **_columns([g for *_, g in gpus], _GPU_COLUMNS)}
    programs = [(r, k, w, part, p) for r, k, w in zip(rigs, keys, sites)
                for part, p in program_keys(r.programs).items()]
    program_cols = {"program": [part for *_, part, _ in programs],
                    "hostname": [r.hostname for r, *_ in programs],
                    **_columns([p for *_, p in programs], _PROGRAM_SCALARS)}
    return {
        "rigs": _table(RIGS, rig_cols, keys, sites, cycle_time, key="rig"),
        "gpus": _table(GPUS, gpu_cols, [k for _, k, *_ in gpus], [w for _, _, w, _ in gpus], cycle_time, key="rig"),
        "programs": _table(PROGRAMS, program_cols, [k for _, k, *_ in programs], [w for _, _, w, *_ in programs],
                           cycle_time, key="rig"),
    }


def _index(part: Any) -> int:
    return part.index


def _columns(objects: list[Any], specs: tuple[tuple[str, pa.DataType], ...]) -> dict[str, list[Any]]:
    return {name: list(map(attrgetter(name), objects)) for name, _ in specs}


def _timestamps(unix_s: list[float | None]) -> pa.Array:
    millis = pc.round(pc.multiply(pa.array(unix_s, pa.float64()), 1000.0))
    return millis.cast(pa.int64()).cast(TIME)


def _table(schema: pa.Schema, columns: dict[str, Any], keys: list[str], sites: list[str | None],
           cycle_time: datetime, key: str = "device") -> pa.Table:
    stamp = utc(cycle_time, "cycle_time")
    n = len(keys)
    arrays = []
    for field in schema:
        if field.name == key:
            values: Any = keys
        elif field.name == "site":
            values = pa.array(sites, _TEXT)
        elif field.name == "time":
            values = pa.array([stamp] * n, TIME)
        else:
            values = columns[field.name]
        try:
            arrays.append(values if isinstance(values, pa.Array) else pa.array(values, field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            raise ValueError(f"the {field.name} values of this cycle do not fit {field.type}: {exc}") from exc
    return pa.Table.from_arrays(arrays, schema=schema)


def utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a naive datetime is refused, since partitions are UTC days."""
    if moment.tzinfo is None:
        raise ValueError(f"{what} must carry a timezone (got {moment.isoformat()})")
    return moment.astimezone(UTC)
