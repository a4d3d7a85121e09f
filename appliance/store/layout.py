"""Where everything lies under the state directory, and what a file's name says it holds.

::

    <state_dir>/
      metrics/<table>/date=YYYY-MM-DD/cycle-YYYYMMDDTHHMMSS.fffZ[-SENTRY].parquet   one cycle, as written
      metrics/<table>/date=YYYY-MM-DD/min5-HHMM.parquet                    5 minutes, compacted
      metrics/<table>/date=YYYY-MM-DD/hour-HH.b03of12.parquet              an hour, compacted: bucket 3 of 12
      rollups/<table>_5m/date=YYYY-MM-DD/hour-HH.parquet | day[.bNNofMM].parquet   5-minute buckets
      rollups/<table>_1h/date=YYYY-MM-DD/hour-HH.parquet | day[.bNNofMM].parquet   1-hour buckets
      latest/<table>.parquet                                                the newest rows of each device
      .staging/                 compaction and deletion work areas, outside every dataset
      .lock                     serializes writers, compaction and retention (readers never take it)

A file's name says which span of time it holds, so readers pick files without opening them, and
the next rollup or compaction knows what is done. A large compacted span is split by a hash of the
device key into files of about 130,000 rows (``.bIIofNN``): one device's rows lie in one of them, and
each file's footer stays small enough to parse on every read. Names starting with ``.`` or ``_`` (temporary
files) are skipped by pyarrow's and so pandas' discovery, and end in ``.tmp`` so that DuckDB's
``*.parquet`` glob skips them too.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from appliance.store.schema import TABLES, Table, rollup_schema

STEPS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1)}
FIVE_MINUTES = timedelta(minutes=5)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A cycle an ASIC sentry polled carries its name: two sources' cycles in the same millisecond are two files.
_CYCLE = re.compile(r"cycle-(\d{8}T\d{6}\.\d{3})Z(?:-[A-Za-z0-9][A-Za-z0-9._-]*)?\.parquet")
_FIVE = re.compile(r"min5-([01]\d|2[0-3])([0-5][05])\.parquet")
_HOUR = re.compile(r"hour-([01]\d|2[0-3])\.parquet")
_DAY_NAME = "day.parquet"
_BUCKET = re.compile(r"(.+)\.b(\d{2})of(\d{2})\.parquet")
_PARTITION = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Dataset:
    """A directory of date partitions: a raw table, or a rollup of one at a step."""

    name: str  # "miners", "miners_5m", ...
    table: Table  # the raw table it comes from
    step: str | None  # None for raw samples, "5m" or "1h" for rollups

    @property
    def schema(self) -> pa.Schema:
        return self.table.schema if self.step is None else rollup_schema(self.table)

    def root(self, state_dir: Path) -> Path:
        return Path(state_dir) / ("metrics" if self.step is None else "rollups") / self.name


def dataset(name: str) -> Dataset:
    """The dataset named ``miners``, ``boards_5m``, ``gpus_1h``...; ValueError naming the choices."""
    base, _, step = name.rpartition("_") if name.endswith(tuple(f"_{s}" for s in STEPS)) else (name, "", "")
    if base not in TABLES:
        raise ValueError(f"there is no table {name!r}; the tables are {', '.join(dataset_names())}")
    return Dataset(name, TABLES[base], step or None)


def dataset_names() -> list[str]:
    return [f"{t}{suffix}" for t in TABLES for suffix in ("", *(f"_{s}" for s in STEPS))]


@dataclass(frozen=True, order=True)
class Part:
    """One data file of a partition and the half-open span of time it holds: [start, end)."""

    start: datetime
    end: datetime
    path: Path
    bucket: int = 0  # which of ``buckets`` files of a compacted span, by a hash of the device key
    buckets: int = 1

    def may_hold(self, key: str) -> bool:
        return self.buckets == 1 or bucket_of(key, self.buckets) == self.bucket

    @property
    def name(self) -> str:
        return self.path.name


def partition_dir(root: Path, day: date) -> Path:
    return root / f"date={day.isoformat()}"


def cycle_name(moment: datetime, source: str | None = None) -> str:
    """``source``: the ASIC sentry that polled the cycle; None for the commander's own."""
    suffix = f"-{source}" if source else ""
    return f"cycle-{moment.astimezone(UTC):%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z{suffix}.parquet"


def span_name(start: datetime, size: timedelta) -> str:
    """The name of the compacted file holding [start, start + size): 5 minutes, an hour or a day."""
    if size == FIVE_MINUTES:
        return f"min5-{start:%H%M}.parquet"
    if size == HOUR:
        return hour_name(start.hour)
    if size == DAY:
        return _DAY_NAME
    raise ValueError(f"no file name for a span of {size}")


def bucket_name(name: str, bucket: int, buckets: int) -> str:
    """``name`` of bucket ``bucket`` of ``buckets`` (the name itself when there is one)."""
    return name if buckets == 1 else f"{name.removesuffix('.parquet')}.b{bucket:02d}of{buckets:02d}.parquet"


def bucket_of(key: str, buckets: int) -> int:
    """The bucket of a device key: stable across processes and versions (CRC-32, not hash())."""
    return zlib.crc32(key.encode()) % buckets


def hour_name(hour: int) -> str:
    return f"hour-{hour:02d}.parquet"


def day_name() -> str:
    return _DAY_NAME


def is_temp(name: str) -> bool:
    return name.startswith((".", "_"))


def partition_date(directory_name: str) -> date | None:
    match = _PARTITION.fullmatch(directory_name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def span(name: str, day: date) -> tuple[datetime, datetime] | None:
    """The span of time the file ``name`` in partition ``day`` holds, or None if it is not ours."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if match := _CYCLE.fullmatch(name):
        moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        return moment, moment + timedelta(milliseconds=1)
    if match := _FIVE.fullmatch(name):
        start = midnight + timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
        return start, start + FIVE_MINUTES
    if match := _HOUR.fullmatch(name):
        start = midnight + int(match.group(1)) * HOUR
        return start, start + HOUR
    if name == _DAY_NAME:
        return midnight, midnight + DAY
    return None


def partitions(root: Path) -> dict[date, Path]:
    """The date partitions under a dataset's root, by date (none if the root does not exist)."""
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return {}
    found = {}
    for entry in entries:
        day = partition_date(entry.name)
        if day is not None and entry.is_dir():
            found[day] = entry
    return found


def parts(directory: Path, day: date) -> list[Part]:
    """The data files of one partition, oldest first; temporary and foreign files are left out."""
    try:
        names = [entry.name for entry in directory.iterdir()]
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        if is_temp(name):
            continue
        base, bucket, buckets = name, 0, 1
        if (match := _BUCKET.fullmatch(name)) and int(match.group(2)) < int(match.group(3)):
            base, bucket, buckets = f"{match.group(1)}.parquet", int(match.group(2)), int(match.group(3))
        if (covered := span(base, day)) is not None and not (buckets > 1 and base.startswith("cycle-")):
            found.append(Part(covered[0], covered[1], directory / name, bucket, buckets))
    return sorted(found)


def parts_between(root: Path, since: datetime, until: datetime) -> list[Part]:
    """The data files holding anything of [since, until), in time order."""
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    chosen = []
    for day, directory in sorted(partitions(root).items()):
        if first <= day <= last:
            chosen.extend(p for p in parts(directory, day) if p.start < until and p.end > since)
    return chosen
