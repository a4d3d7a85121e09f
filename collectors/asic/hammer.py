"""Hammer (blackMiner firmware, "ccminer 2.3.3"): bmminer's RPC layout on scrypt machines.

``stats`` is the stock Antminer legacy layout (``chain_rateN``, ``chain_acnN``, ``fanN``), so
the boards and fans come from the stock driver's rows; hashrates are MH/s, which the
stock rows know from the model's algorithm ("Hammer D10" is scrypt in the model table), and
``summary`` names its unit outright ("MHS 5s").

Temperatures: ``stats`` repeats each ``tempN`` key four times, one per sensor of chain N
(hammer_d10_rpc_stats.txt: ``"temp1":21, "temp1":42, "temp1":21, "temp1":45``). A JSON reader
keeps only the last of repeated keys, and so does every decoder we could use without
rewriting the reply, so the board temperature is that last sensor (in the capture also the
hottest, 40-45 °C against 18-23 °C for the first). The three others are lost; that is the
firmware's defect, not something a parser can undo without guessing.
"""

from __future__ import annotations

from collectors import units
from collectors.asic import antminer, cgminer
from collectors.asic.driver import Driver, Field, Rpc, section
from collectors.asic.rpcreply import as_is, summary_rate, version_record


def rpc_signature(replies: dict) -> bool:
    """VERSION's Type names the machine: "Hammer D10"."""
    model = units.text(version_record(replies).get("Type"))
    return bool(model and model.lower().startswith("hammer"))


DRIVER = Driver(
    name="hammer",
    rpc_signature=rpc_signature,
    make="Hammer",
    firmware="stock",
    algorithm="Scrypt",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools")),
    identity=(Rpc("version"),),
    fields=(
        Field("model", "stats", lambda reply: section(reply, "STATS").get("Type"), units.text),
        Field("hashrate_hs", "summary", summary_rate("5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        *cgminer.SUMMARY_COUNTERS,
        Field("firmware_version", "version", lambda reply: section(reply, "VERSION").get("Miner"),
              units.text),
    ),
    boards=antminer.BOARDS,
    fans=antminer.FANS,
    pools=cgminer.POOLS,
    required=("stats",),
)
