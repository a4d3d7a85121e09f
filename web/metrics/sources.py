"""What one scrape reads of the commander's state directory: each file on its own, through the
appliance's read side, so that a damaged or unreadable file costs its own metrics and nothing else.

A file that is not there yet (before the first cycle, a farm without rigs) is simply not read; one
that is there but cannot be used is named, with why, in ``problems``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from appliance import health
from appliance.alerts.engine import STATE_FILE as ALERTS_FILE
from appliance.alerts.engine import Alert, read_alerts
from appliance.damaged import Damaged, StateFileError
from appliance.inventory import INVENTORY_FILE, Labels, read_labels
from appliance.snmp import farm_file
from appliance.store.latest import latest_path, read_latest

T = TypeVar("T")

@dataclass
class Scrape:
    """The state directory as one scrape found it; None where a file was absent or unusable."""

    miners: pa.Table | None = None  # the store's latest rows, one per device
    rigs: pa.Table | None = None
    gpus: pa.Table | None = None
    devices: dict[str, Labels] = field(default_factory=dict)  # the inventory, by key
    farm: farm_file.FarmDocument | None = None
    firing: list[Alert] | None = None
    health: health.Health | None = None
    read: list[str] = field(default_factory=list)  # files read, relative to the state directory
    problems: dict[str, str] = field(default_factory=dict)  # file -> one sentence: what is wrong


LATEST = ("miners", "rigs", "gpus")


def files(state_dir: Path) -> dict[str, str]:
    """Each file a scrape reads, relative to the state directory, by the ``Scrape`` field it fills."""
    return {**{table: str(latest_path(state_dir, table).relative_to(state_dir)) for table in LATEST},
            "devices": INVENTORY_FILE, "farm": str(farm_file.FARM_FILE), "firing": ALERTS_FILE,
            "health": health.HEALTH_FILE}


def scrape(state_dir: Path) -> Scrape:
    found = Scrape()
    take = _Taker(Path(state_dir), found)
    readers: dict[str, Callable[[Path], Any]] = {
        **{table: _latest(table) for table in LATEST},
        "devices": lambda path: read_labels(path.parent),
        "farm": lambda path: farm_file.read(state_dir),
        "firing": _firing,
        "health": lambda path: health.load(path.parent)[0],
    }
    for name, relative in files(state_dir).items():
        value = take(relative, readers[name])
        if value is not None:
            setattr(found, name, value)
    return found


def fingerprint(state_dir: Path) -> tuple[tuple[int, int, int] | None, ...]:
    """What changes whenever a file that ``scrape`` reads changes: each one's inode, size and time.
    The commander replaces its files by rename; SQLite writes to the -wal file first."""
    names = [*files(state_dir).values(), f"{INVENTORY_FILE}-wal"]
    return tuple(_identity(Path(state_dir) / name) for name in names)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class _Taker:
    def __init__(self, state_dir: Path, into: Scrape) -> None:
        self.state_dir, self.into = state_dir, into

    def __call__(self, relative: str, reader: Callable[[Path], T]) -> T | None:
        path = self.state_dir / relative
        if not path.exists():
            return None
        try:
            value = reader(path)
        except FileNotFoundError:  # gone since it was looked for: absent, as for the next scrape
            return None
        except OSError as exc:
            problem = f"{path} cannot be read ({exc.strerror or exc})"
        except (Damaged, pa.ArrowException) as exc:
            problem = f"{path} is damaged ({exc})"
        except (StateFileError, health.HealthFileError) as exc:  # their sentences name the file
            problem = str(exc)
        else:
            self.into.read.append(relative)
            return value
        self.into.problems[relative] = problem
        return None


def _latest(table: str) -> Callable[[Path], pa.Table]:
    def read(path: Path) -> pa.Table:
        wrong: list[str] = []
        rows = read_latest(path.parent.parent, table, on_damaged=lambda _, reason: wrong.append(reason))
        if wrong:
            raise Damaged(wrong[0])
        return rows
    return read


def _firing(path: Path) -> list[Alert]:
    return [a for a in read_alerts(path.parent) if a.state == "firing"]
