"""A miner's or a rig's history for the charts, read through ``appliance.store.query.miner_history``:
raw samples for a day or less, the 5-minute rollups up to a month, the hourly ones beyond, so a
chart never holds much more than 9,000 points whatever its range. Every series is aligned on one
``time`` list (Unix s), as uPlot draws them; a gap is null. A day of one miner of a 10,000-miner
farm: 130-160 ms on 2 busy cores (``bench.web_miners``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from appliance.store.query import miner_history

EPOCH = pd.Timestamp(0, tz="UTC")
RAW_UP_TO = timedelta(hours=26)  # a day and a bit: "24 h" ending now still reads raw samples
FIVE_MINUTES_UP_TO = timedelta(days=31)
LONGEST = timedelta(days=400)
# The page's range buttons: (label, seconds).
RANGES = (("1 h", 3600), ("24 h", 86_400), ("7 d", 7 * 86_400), ("30 d", 30 * 86_400), ("1 y", 365 * 86_400))
ADDRESS_HISTORY = timedelta(days=365)
NOT_ROLLED_UP = timedelta(hours=2)  # the current hour and the last closed one may have no rollup yet


def resolution(since: datetime, until: datetime) -> str:
    span = until - since
    return "raw" if span <= RAW_UP_TO else "5m" if span <= FIVE_MINUTES_UP_TO else "1h"


def _table(name: str, step: str) -> str:
    return name if step == "raw" else f"{name}_{step}"


def _gauge(name: str, step: str, of: str = "avg") -> str:
    """A gauge's column: itself in raw rows, its average (or max) over a rollup's bucket."""
    return name if step == "raw" else f"{name}_{of}"


def _values(column: pd.Series) -> list[float | None]:
    # tolist() first: a Python float compares with itself far faster than numpy tests its scalars
    return [None if v != v else v for v in column.astype("float64").tolist()]  # NaN is the one unequal to itself


def _unix(times: pd.Series | pd.Index) -> list[float]:
    return ((pd.Index(times) - EPOCH) / pd.Timedelta(seconds=1)).tolist()


def _increase(counter: pd.Series) -> pd.Series:
    """How much a counter grew since the previous point; after a restart (it fell) its new value."""
    step = counter.diff()
    return step.where(step.isna() | (step >= 0), counter)  # the first point has no previous: null


def _aligned(rows: pd.DataFrame, member: str, times: pd.Index, columns: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per part (board, GPU) with each of ``columns`` (output name: stored column) on ``times``."""
    parts = []
    for part, own in rows.groupby(member, sort=True):
        own = own.drop_duplicates("time").set_index("time").reindex(times)
        parts.append({member_name(member): _json_key(part),
                      **{name: _values(own[column]) for name, column in columns.items()}})
    return parts


def member_name(member: str) -> str:
    return "index" if member == "board" else member


def _json_key(part: Any) -> Any:
    return int(part) if isinstance(part, np.integer) else part


def miner(state_dir: Path, key: str, since: datetime, until: datetime) -> dict[str, Any]:
    """``GET /api/v1/miners/<key>/history``: hashrate, power, hottest temperature, rejects and fans
    (raw samples only: rollups keep no fans), and each board's hashrate and temperatures."""
    step = resolution(since, until)
    columns = ["time", _gauge("hashrate_hs", step), _gauge("power_w", step), _gauge("temp_max_c", step, "max"),
               "rejected"] + (["fan_rpm"] if step == "raw" else [])
    board_columns = ["time", "board", _gauge("hashrate_hs", step), _gauge("temp_chip_c", step, "max"),
                     _gauge("temp_board_c", step, "max")]
    # The two tables at once: Parquet decodes without the GIL, so a day's read takes the longer of
    # the two rather than their sum (bench.web_miners).
    with ThreadPoolExecutor(2) as pool:
        boards_read = pool.submit(miner_history, state_dir, key, since, until, table=_table("boards", step),
                                  columns=board_columns)
        rows = miner_history(state_dir, key, since, until, table=_table("miners", step), columns=columns)
        boards = boards_read.result()
    times = pd.Index(rows["time"])
    fans: list[dict[str, Any]] = []
    if step == "raw" and len(rows):
        each = [[] if f is None else f.tolist() for f in rows["fan_rpm"]]
        fans = [{"index": i, "rpm": [None if i >= len(f) or f[i] is None or f[i] != f[i] else int(f[i]) for f in each]}
                for i in range(max(map(len, each)))]
    return {
        "key": key, "from": since.timestamp(), "to": until.timestamp(), "resolution": step,
        "time": _unix(times),
        "hashrate_hs": _values(rows[columns[1]]), "power_w": _values(rows[columns[2]]),
        "temp_max_c": _values(rows[columns[3]]), "rejected_increase": _values(_increase(rows["rejected"])),
        "fans": fans,
        "boards": _aligned(boards, "board", times, dict(zip(("hashrate_hs", "temp_chip_c", "temp_board_c"),
                                                            board_columns[2:], strict=True))),
    }


def rig(state_dir: Path, key: str, since: datetime, until: datetime) -> dict[str, Any]:
    """``GET /api/v1/rigs/<key>/history``: each GPU's hashrate, temperatures, power and fan, by bus id."""
    step = resolution(since, until)
    names = {"hashrate_hs": _gauge("hashrate_hs", step), "temp_c": _gauge("temp_c", step, "max"),
             "mem_temp_c": _gauge("mem_temp_c", step, "max"), "power_w": _gauge("power_w", step),
             "fan_pct": _gauge("fan_pct", step)}
    gpus = miner_history(state_dir, key, since, until, table=_table("gpus", step),
                         columns=["time", "bus_id", *names.values()])
    times = pd.Index(gpus["time"].drop_duplicates().sort_values())
    return {"key": key, "from": since.timestamp(), "to": until.timestamp(), "resolution": step,
            "time": _unix(times), "gpus": _aligned(gpus, "bus_id", times, names)}


def addresses(state_dir: Path, key: str, now: float) -> list[dict[str, Any]]:
    """Each address the miner had in the last year, newest first, with the first and last time it
    had it: the hourly rollups (whose ``ip`` is the bucket's last), and the raw samples of the
    hours not rolled up yet."""
    until = datetime.fromtimestamp(now, UTC)
    rows = pd.concat([
        miner_history(state_dir, key, until - ADDRESS_HISTORY, until, table="miners_1h", columns=["time", "ip"]),
        miner_history(state_dir, key, until - NOT_ROLLED_UP, until, columns=["time", "ip"])])
    spans = rows.dropna(subset=["ip"]).groupby("ip")["time"].agg(["min", "max"]).sort_values("max", ascending=False)
    return [{"ip": ip, "first": first.timestamp(), "last": last.timestamp()}
            for ip, first, last in spans.itertuples()]


def window(start: str | None, end: str | None, now: float) -> tuple[datetime, datetime]:
    """``from`` and ``to`` as Unix s (default: the 24 h up to now); ValueError with the sentence."""
    try:
        until = float(end) if end else now
        since = float(start) if start else until - 86_400
    except ValueError:
        raise ValueError(f"from and to must be Unix seconds, not {start!r} and {end!r}") from None
    if not (np.isfinite(since) and np.isfinite(until)) or since >= until:
        raise ValueError("from must come before to")
    if until - since > LONGEST.total_seconds():
        raise ValueError(f"a history spans at most {LONGEST.days} days")
    return datetime.fromtimestamp(since, UTC), datetime.fromtimestamp(until, UTC)
