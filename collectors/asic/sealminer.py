"""Bitdeer SealMiner (BDMiner, a cgminer 4.11 fork): one flat ``stats`` record for the machine.

Per board, keys are prefixed by the board's number: "0 Chip Count", "0 MHS(Sample)",
"0 Temp 0".."0 Temp 3", "0 Freq", "0 Online"; fans are "N Speed" for N below "Fan Count".
The same record gives the model ("A2"), MAC, firmware, PSU input power and the power limit.
Which of a board's four sensors sit on the PCB and which on chips is not documented, so the
board temperature is the hottest of the four and the chip temperature is left unknown.
"""

from __future__ import annotations

from typing import Any

from collectors import limits, units
from collectors.asic import cgminer
from collectors.asic.driver import Column, Driver, Field, Replies, Rows, Rpc, at, most, section
from collectors.asic.rpcreply import names_firmware
from collectors.model import BOARD_DEAD, ErrorCode


def rpc_signature(replies: dict) -> bool:
    """BDMiner names itself in STATUS ("bdminer 4.11.1")."""
    return names_firmware(replies, "bdminer")


def _stats(key: str) -> Any:
    return lambda reply: section(reply, "STATS").get(key)


def _fan_count(record: dict) -> int:
    """"Fan Count", never more than the model has."""
    return units.count(record.get("Fan Count"), most(_model(record.get("Model")), "fans", limits.MAX_FANS))


def _boards_of(reply: Any) -> list[dict]:
    """One record per board of the flat keys prefixed with its slot ("0 Chip Count"), for each slot
    that has them: a board that stops answering loses its keys, and "Board Count" its count, so
    the count cannot say which slot is empty."""
    record = section(reply, "STATS")
    slots = most(_model(record.get("Model")), "boards", limits.MAX_BOARDS)
    return [{"slot": n, "rate": record.get(f"{n} MHS(Sample)"), "chips": record.get(f"{n} Chip Count"),
             "temps": [record.get(f"{n} Temp {s}") for s in range(4)], "freq": record.get(f"{n} Freq"),
             "online": record.get(f"{n} Online")}
            for n in range(slots) if f"{n} Chip Count" in record]


def _fan_speeds(reply: Any) -> list[Any]:
    record = section(reply, "STATS")
    return [record.get(f"{n} Speed") for n in range(_fan_count(record))]


def _hottest(values: list[Any]) -> float | None:
    temps = [t for t in map(units.temperature_c, values) if t is not None]
    return max(temps) if temps else None


BOARDS = Rows("stats", _boards_of, index="slot", columns=(
    Column("hashrate_hs", "rate", units.mhs_to_hs),
    Column("chips", "chips", units.integer),
    Column("temp_board_c", "temps", _hottest),
    Column("frequency_mhz", "freq", units.nonzero),
    Column("status", "online", lambda online: BOARD_DEAD if online is False else None),
))

FANS = Rows("stats", _fan_speeds, columns=(Column("rpm", at(), units.integer),))


def errors(replies: Replies) -> list[ErrorCode]:
    """"Error Code": "" when healthy; otherwise the codes, comma-separated."""
    text = units.text(section(replies.get("stats"), "STATS").get("Error Code")) or ""
    return [ErrorCode(code=code.strip()) for code in text.split(",") if code.strip()]


def _model(value: Any) -> str | None:
    name = units.text(value)
    return f"SealMiner {name}" if name else None


DRIVER = Driver(
    name="sealminer",
    rpc_signature=rpc_signature,
    make="Bitdeer",
    firmware="stock",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools")),
    fields=(
        Field("model", "stats", _stats("Model"), _model),
        Field("hashrate_hs", "stats", _stats("MHS(1m)"), units.mhs_to_hs),
        Field("hashrate_avg_hs", "stats", _stats("MHS(Avg)"), units.mhs_to_hs),
        Field("hashrate_nominal_hs", "stats", _stats("MHS(Rated)"), units.mhs_to_hs),
        Field("power_w", "stats", _stats("PSU Input Power")),
        Field("power_limit_w", "stats", _stats("Power Limit")),
        Field("uptime_s", "stats", _stats("Elapsed"), units.counter),
        Field("mac", "stats", _stats("MAC"), units.mac),
        Field("firmware_version", "stats", _stats("Firmware"), units.text),
        Field("accepted", "summary", cgminer.summary("Accepted"), units.counter),
        Field("rejected", "summary", cgminer.summary("Rejected"), units.counter),
        Field("hw_errors", "summary", cgminer.summary("Hardware Errors"), units.counter),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    errors=errors,
    required=("stats",),
)
