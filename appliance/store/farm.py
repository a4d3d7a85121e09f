"""The farm's totals per algorithm (hashrates of two algorithms are never added), from any table of
per-miner rows: each cycle's raw rows, as the ``farm`` table stores them, and the miners' rollups.

A miner's algorithm is the one it reported, else its model's (rollups written before the algorithm
was kept have only the model); a miner of an algorithm nobody knows is in no total.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from appliance.store.schema import FARM
from collectors import algorithms
from collectors.asic.models import lookup_model


def algorithm_of(written: str | None, model: str | None) -> str | None:
    spec = lookup_model(model)
    return algorithms.canonical(written) or algorithms.canonical(spec.algorithm if spec else None)


def per_algorithm(rows: pa.Table, hashrate: str, power: str) -> pa.Table:
    """Per ``time`` and algorithm of ``rows`` (columns time, algorithm, model and the two named):
    ``miners`` (rows with a hashrate), ``hashrate_hs`` and ``power_w`` (their sums)."""
    # Grouped by the algorithm as written and the model first: few groups, so naming each is cheap.
    written = rows.group_by(["time", "algorithm", "model"]).aggregate([
        (hashrate, "count"), (hashrate, "sum"), (power, "sum")])
    names = pa.array([algorithm_of(algorithm, model) for algorithm, model
                      in zip(written["algorithm"].to_pylist(), written["model"].to_pylist())], pa.string())
    written = written.append_column("name", names).filter(pc.is_valid(names))
    totals = written.group_by(["time", "name"]).aggregate([
        (f"{hashrate}_count", "sum"), (f"{hashrate}_sum", "sum"), (f"{power}_sum", "sum")])
    return pa.table({"time": totals["time"], "algorithm": totals["name"],
                     "miners": pc.cast(totals[f"{hashrate}_count_sum"], pa.int64()),
                     "hashrate_hs": totals[f"{hashrate}_sum_sum"], "power_w": totals[f"{power}_sum_sum"]})


def farm_rows(miners: pa.Table, source: str) -> pa.Table:
    """One cycle's ``farm`` table from its ``miners`` table: a row per algorithm, for ``source``
    (the commander's own poll, or the ASIC sentry that polled it)."""
    totals = per_algorithm(miners.select(["time", "algorithm", "model", "hashrate_hs", "power_w"]),
                           "hashrate_hs", "power_w")
    count = totals.num_rows
    return pa.table({"site": pa.nulls(count, pa.string()), "source": pa.array([source] * count, pa.string()),
                     **{name: totals[name] for name in totals.column_names}}, schema=FARM)
