"""What every cgminer-derived firmware shares: the pools list, summary counters, and the generic driver.

Firmwares that speak the cgminer API (bmminer, btminer, cgminer forks, BOSminer, LUXminer...) answer
``pools`` and ``summary`` in the same layout, so their drivers reuse these rows. A miner that speaks
the API but matches no make-specific driver is polled with ``DRIVER`` here: what the API gives.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.asic.driver import BOARD_WORDS, Column, Driver, Field, Rows, Rpc, at, records_in, section, words
from collectors.asic.rpcreply import as_is, rate, summary_rate

# The ``pools`` reply's POOLS records, in the miner's priority order ("POOL").
POOLS = Rows("pools", records_in("POOLS"), index="POOL", columns=(
    Column("url", "URL", units.text),
    Column("user", "User", units.text),
    Column("status", "Status", words({})),
    Column("active", "Stratum Active", units.flag),
    Column("accepted", "Accepted", units.counter),
    Column("rejected", "Rejected", units.counter),
    Column("stale", "Stale", units.counter),
))


def summary(key: str) -> Any:
    """A selector for one key of the ``summary`` reply's first SUMMARY record."""
    return lambda reply: section(reply, "SUMMARY").get(key)


def version(key: str) -> Any:
    return lambda reply: section(reply, "VERSION").get(key)


# Summary counters, the same in every cgminer fork.
SUMMARY_COUNTERS = (
    Field("uptime_s", "summary", summary("Elapsed"), units.counter),
    Field("accepted", "summary", summary("Accepted"), units.counter),
    Field("rejected", "summary", summary("Rejected"), units.counter),
    Field("hw_errors", "summary", summary("Hardware Errors"), units.counter),
)


# One board per DEVS record, numbered as the firmware's kind of device numbers it.
DEVS = Rows("devs", records_in("DEVS"), index=lambda r: r.get("ASC", r.get("GPU", r.get("PGA"))), columns=(
    Column("hashrate_hs", lambda record: rate(record, "5s"), as_is),
    Column("temp_board_c", "Temperature", units.temperature_c),
    Column("hw_errors", "Hardware Errors", units.counter),
    Column("status", "Status", words(BOARD_WORDS)),
))


DRIVER = Driver(
    name="cgminer",
    make=None,
    firmware="cgminer",
    algorithm=None,
    endpoints=(Rpc("summary"), Rpc("pools"), Rpc("devs"), Rpc("version")),
    fields=(
        Field("hashrate_hs", "summary", summary_rate("5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        *SUMMARY_COUNTERS,
        Field("model", "version", version("Type"), units.text),
        Field("firmware_version", "version", at("VERSION", 0, "CGMiner"), units.text),
    ),
    boards=DEVS,
    pools=POOLS,
    required=("summary",),
)
