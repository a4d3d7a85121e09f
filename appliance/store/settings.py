"""The ``[storage]`` table of the commander's configuration, checked once into a frozen dataclass.

::

    [storage]
    ## Where metrics/, rollups/ and latest/ live.
    # state_dir = "/var/lib/minerwatch"
    ## Merge per-cycle files into hourly ones (raw) and daily ones (rollups).
    # compaction = true
    ## Days kept: raw samples, 5-minute rollups, 1-hour rollups.
    # raw_days = 14
    # rollup_5m_days = 90
    # rollup_1h_days = 1095
    ## Per-table exceptions, by dataset name (miners, boards, pools, rigs, gpus, programs, miners_5m, gpus_1h, ...).
    # [storage.retention_days]
    # boards = 7
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from appliance.store.layout import dataset, dataset_names

DEFAULT_STATE_DIR = Path("/var/lib/minerwatch")
_DAYS_KEYS = {"raw_days": None, "rollup_5m_days": "5m", "rollup_1h_days": "1h"}


@dataclass(frozen=True)
class StorageSettings:
    state_dir: Path = DEFAULT_STATE_DIR
    compaction: bool = True
    raw_days: int = 14
    rollup_5m_days: int = 90
    rollup_1h_days: int = 1095
    retention_days: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # per dataset

    def keep_days(self, name: str) -> int:
        """Days the dataset ``name`` is kept: its own setting, else its kind's."""
        if name in self.retention_days:
            return self.retention_days[name]
        step = dataset(name).step
        return {None: self.raw_days, "5m": self.rollup_5m_days, "1h": self.rollup_1h_days}[step]

    def all_keep_days(self) -> dict[str, int]:
        return {name: self.keep_days(name) for name in dataset_names()}

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str) -> StorageSettings:
        """Settings from a parsed ``[storage]`` table; ``where`` (e.g. "commander.toml [storage]")
        starts every error. Unknown keys are errors."""
        known = {"state_dir", "compaction", "retention_days", *_DAYS_KEYS}
        for key in table:
            if key not in known:
                raise ValueError(f"{where}: unknown key {key!r}; the keys are {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        if "state_dir" in table:
            state_dir = table["state_dir"]
            if not isinstance(state_dir, str) or not Path(state_dir).is_absolute():
                raise ValueError(f"{where}: state_dir must be an absolute path, not {state_dir!r}")
            values["state_dir"] = Path(state_dir)
        if "compaction" in table:
            if not isinstance(table["compaction"], bool):
                raise ValueError(f"{where}: compaction must be true or false, not {table['compaction']!r}")
            values["compaction"] = table["compaction"]
        for key in _DAYS_KEYS:
            if key in table:
                values[key] = _days(table[key], f"{where}: {key}")
        overrides = table.get("retention_days", {})
        if not isinstance(overrides, Mapping):
            raise ValueError(f"{where}: retention_days must be a table of dataset = days")
        names = dataset_names()
        for name, days in overrides.items():
            if name not in names:
                raise ValueError(f"{where}: retention_days.{name} names no table; the tables are {', '.join(names)}")
            _days(days, f"{where}: retention_days.{name}")
        values["retention_days"] = MappingProxyType(dict(overrides))
        return cls(**values)


def _days(value: Any, what: str) -> int:
    # bool is an int in Python; "true" days is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a whole number of days, at least 1, not {value!r}")
    return value
