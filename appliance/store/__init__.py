"""The commander's storage: Hive-partitioned Parquet under the state directory (see README.md)."""

from appliance.store.durable import recover
from appliance.store.jobs import maintain, store_cycle
from appliance.store.query import farm_totals, latest, miner_history, read_range
from appliance.store.settings import StorageSettings

__all__ = ["StorageSettings", "farm_totals", "latest", "maintain", "miner_history", "read_range",
           "recover", "store_cycle"]
