"""The ``[storage]`` table of the commander's configuration, read through ``configfile.Table`` into a
frozen dataclass; and the state directory's default, the one for the whole commander.

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
from configfile import Table, did_you_mean, from_mapping, kinds

# Where the commander keeps its state: inventory, metrics, alerts, health. Here rather than in
# appliance.config, which imports this module, so that every module can import it.
DEFAULT_STATE_DIR = Path("/var/lib/minerwatch")


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
    def read(cls, table: Table, state_dir: Path = DEFAULT_STATE_DIR) -> StorageSettings:
        """[storage]; its own state_dir, else ``state_dir`` ([commander]'s)."""
        names = dataset_names()
        overrides = table.table("retention_days")
        retention_days: dict[str, int] = {}
        for name in overrides.data:
            if name not in names:
                overrides.problem(name, f"'{name}' in {overrides.name} names no table{did_you_mean(name, names)}; "
                                        f"the tables are {', '.join(names)}")
            elif (days := overrides.get(name, kinds.count, None)) is not None:
                retention_days[name] = days
        settings = cls(
            state_dir=table.get("state_dir", kinds.path, state_dir),
            compaction=table.get("compaction", kinds.boolean, cls.compaction),
            raw_days=table.get("raw_days", kinds.count, cls.raw_days),
            rollup_5m_days=table.get("rollup_5m_days", kinds.count, cls.rollup_5m_days),
            rollup_1h_days=table.get("rollup_1h_days", kinds.count, cls.rollup_1h_days),
            retention_days=MappingProxyType(retention_days),
        )
        table.done()
        return settings

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str) -> StorageSettings:
        """From ``table``, a [storage] table given as a mapping (``where`` names it); raises
        ConfigError listing every mistake."""
        return from_mapping(cls.read, table, where, ("storage",))
