"""What every cgminer-derived firmware shares: the pools list, summary counters, and the generic driver.

Firmwares that speak the cgminer API (bmminer, btminer, cgminer forks, BOSminer, LUXminer...) answer
``pools`` and ``summary`` in the same layout, so their drivers reuse these rows. A miner that speaks
the API but matches no make-specific driver is polled with ``DRIVER`` here: what the API gives.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.asic.driver import Driver, Field, Replies, Rpc, at, records, section
from collectors.model import Board, Pool

_POOL_STATUS = {"alive": "alive", "dead": "dead", "disabled": "disabled", "rejecting": "rejecting"}


def pools(replies: Replies) -> list[Pool]:
    """The ``pools`` reply's POOLS records, in the miner's priority order."""
    found = []
    for position, record in enumerate(records(replies.get("pools"), "POOLS")):
        status = units.text(record.get("Status"))
        found.append(Pool(
            index=units.integer(record.get("POOL")) if units.integer(record.get("POOL")) is not None else position,
            url=units.text(record.get("URL")),
            user=units.text(record.get("User")),
            status=_POOL_STATUS.get(status.lower(), status) if status else None,
            active=_active(record),
            accepted=units.counter(record.get("Accepted")),
            rejected=units.counter(record.get("Rejected")),
            stale=units.counter(record.get("Stale")),
        ))
    return found


def _active(record: dict[str, Any]) -> bool | None:
    value = record.get("Stratum Active")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


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


def _hashrate_from_summary(which: str) -> Any:
    """The summary's hashrate in whatever unit its key names ("GHS 5s", "MHS av", "KHS 5s")."""

    def select(reply: Any) -> float | None:
        record = section(reply, "SUMMARY")
        for prefix, unit in (("THS", "th"), ("GHS", "gh"), ("MHS", "mh"), ("KHS", "kh")):
            value = record.get(f"{prefix} {which}")
            if value is not None:
                return units.hashrate(value, unit)
        return None

    return select


def _devs(replies: Replies) -> list[Board]:
    boards = []
    for position, record in enumerate(records(replies.get("devs"), "DEVS")):
        rate = None
        for prefix, unit in (("GHS", "gh"), ("MHS", "mh"), ("KHS", "kh")):
            if record.get(f"{prefix} 5s") is not None:
                rate = units.hashrate(record.get(f"{prefix} 5s"), unit)
                break
        index = units.integer(record.get("ASC", record.get("GPU", record.get("PGA"))))
        boards.append(Board(
            index=position if index is None else index,
            hashrate_hs=rate,
            temp_board_c=units.temperature_c(record.get("Temperature")),
            hw_errors=units.counter(record.get("Hardware Errors")),
            status=(units.text(record.get("Status")) or "").lower() or None,
        ))
    return boards


DRIVER = Driver(
    name="cgminer",
    make=None,
    firmware="cgminer",
    algorithm=None,
    endpoints=(Rpc("summary"), Rpc("pools"), Rpc("devs"), Rpc("version")),
    fields=(
        Field("hashrate_hs", "summary", _hashrate_from_summary("5s"), lambda v: v),
        Field("hashrate_avg_hs", "summary", _hashrate_from_summary("av"), lambda v: v),
        *SUMMARY_COUNTERS,
        Field("model", "version", version("Type"), units.text),
        Field("firmware_version", "version", at("VERSION", 0, "CGMiner"), units.text),
    ),
    boards=_devs,
    pools=pools,
    required=("summary",),
)
