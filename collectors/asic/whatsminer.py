"""MicroBT Whatsminer: btminer's cgminer-style API on 4028, and the newer API V3 on TCP 4433.

``DRIVER`` (btminer API, firmwares before late 2024): ``summary`` holds nearly everything
(hashrate in MH/s, ``Power``, ``Power Limit``, ``Factory GHS``, both fans, ``MAC``, the error
codes as ``Error Code Count`` and ``Error Code 0..N-1``); ``devs`` gives one record per board;
``devdetails`` names the model once per device. One poll is the multi-command
``summary+devs+pools``; where a firmware refuses it, the RPC client falls back to one command per
connection and remembers that for the device.

``DRIVER_V3`` (API V3, 4433, firmware 2024.11 and later, where 4028 is closed): length-framed
JSON, ``get.device.info`` (identity, errors) and ``get.miner.status`` with ``summary``,
``pools`` and ``edevs``; its hashrates are in TH/s. The identifier picks it when 4433 answers
``get.device.info`` (``v3_signature``), not from a 4028 reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from collectors import limits, units
from collectors.asic import cgminer
from collectors.asic.driver import (BOARD_WORDS, Btminer, Column, Driver, Field, Replies, Rows, Rpc, at, records,
                                    records_in, rows, section, words)
from collectors.asic.rpcreply import as_is, rate, status_words, summary_rate
from collectors.model import ErrorCode

# "M30S+V40", "M20SV10", "M60S_VK40": the model, then the hardware variant after a "V".
_MODEL = re.compile(r"(M\d+[A-Z]*\+*)_?V[A-Z]*\d+")


def model_name(raw: Any) -> str | None:
    """"Whatsminer M30S+" from the firmware's "M30S+V40" (or the V3 API's "M60S_VK40")."""
    name = units.text(raw)
    if not name:
        return None
    match = _MODEL.fullmatch(name.upper())
    return f"Whatsminer {match.group(1) if match else name}"


def rpc_signature(replies: dict) -> bool:
    """btminer says "whatsminer" in its ``version`` answer; failing that, ``devdetails`` names
    a Whatsminer model ("M30S+V40").

    Older btminer refuses ``version`` with ``{"STATUS":"E",...,"Description":"whatsminer v1.1"}``;
    later ones answer it with ``"Msg":{"api_ver":"whatsminer v2.0.4",...}``.
    """
    if "whatsminer" in status_words(replies.get("version")):
        return True
    for record in records(replies.get("devdetails"), "DEVDETAILS"):
        name = units.text(record.get("Model"))
        if name and _MODEL.fullmatch(name.upper()):
            return True
    return False


def _summary(key: str) -> Any:
    return lambda reply: section(reply, "SUMMARY").get(key)


BOARDS = Rows("devs", records_in("DEVS"), index=lambda r: r.get("ASC", r.get("Slot")), columns=(
    Column("hashrate_hs", lambda record: rate(record, "1m", "5s"), as_is),
    Column("chips", "Effective Chips", units.integer),
    Column("temp_board_c", "Temperature", units.temperature_c),
    Column("temp_chip_c", lambda r: r.get("Chip Temp Max", r.get("Chip Temp Avg")), units.temperature_c),
    Column("frequency_mhz", "Chip Frequency", units.nonzero),
    Column("hw_errors", "Hardware Errors", units.counter),
    Column("status", "Status", words(BOARD_WORDS)),
))


def _fan_speeds(keys: tuple[str, ...], select: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    """Intake and exhaust, the two fans every air-cooled Whatsminer has, as ``keys`` of the
    summary record; liquid-cooled ones report none."""

    def speeds(reply: Any) -> list[Any]:
        record = select(reply)
        return [record[key] for key in keys if key in record] if isinstance(record, dict) else []

    return speeds


FANS = Rows("summary", _fan_speeds(("Fan Speed In", "Fan Speed Out"), lambda reply: section(reply, "SUMMARY")),
            columns=(Column("rpm", at(), units.integer),))


def errors(replies: Replies) -> list[ErrorCode]:
    """``Error Code N`` for N below ``Error Code Count``: each value is one code."""
    record = section(replies.get("summary"), "SUMMARY")
    found = []
    for n in range(units.count(record.get("Error Code Count"), limits.MAX_ERROR_CODES)):
        code = units.text(record.get(f"Error Code {n}"))
        if code:
            found.append(ErrorCode(code=code))
    return found


DRIVER = Driver(
    name="whatsminer",
    rpc_signature=rpc_signature,
    make="MicroBT",
    firmware="stock",
    endpoints=(Rpc("summary"), Rpc("devs"), Rpc("pools")),
    identity=(Rpc("devdetails"),),
    fields=(
        Field("hashrate_hs", "summary", summary_rate("1m", "5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        Field("hashrate_nominal_hs", "summary", _summary("Factory GHS"), units.ghs_to_hs),
        *cgminer.SUMMARY_COUNTERS,
        Field("power_w", "summary", _summary("Power")),
        Field("power_limit_w", "summary", _summary("Power Limit")),
        Field("temp_max_c", "summary", _summary("Chip Temp Max"), units.temperature_c),
        Field("mac", "summary", _summary("MAC"), units.mac),
        # units.text drops the quotes btminer wraps it in ("'20200917.22.REL'")
        Field("firmware_version", "summary", _summary("Firmware Version"), units.text),
        Field("model", "devdetails", lambda reply: section(reply, "DEVDETAILS").get("Model"), model_name),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    errors=errors,
    required=("summary",),
)


# --- API V3 (4433) ---------------------------------------------------------------------------


SUMMARY, POOLS, EDEVS = (Btminer("get.miner.status", p) for p in ("summary", "pools", "edevs"))
DEVICE_INFO = Btminer("get.device.info")


def v3_signature(reply: Any) -> bool:
    """A 4433 answer to ``get.device.info`` that succeeded and names a miner type."""
    return isinstance(reply, dict) and reply.get("code") == 0 and units.text(
        at("msg", "miner", "type")(reply)) is not None


def _summary_v3(key: str) -> Any:
    return at("msg", "summary", key)


def _fault_light(value: Any) -> bool | None:
    """"auto" while the firmware drives the LEDs; anything else is a locate pattern someone set."""
    status = units.text(value)
    return None if status is None else status.lower() != "auto"


BOARDS_V3 = Rows(EDEVS.name, at("msg", "edevs"), index="id", columns=(
    Column("hashrate_hs", "hash-average", units.ths_to_hs),
    Column("chips", "effective-chips", units.integer),
    Column("temp_chip_c", "chip-temp-max", units.temperature_c),
    Column("frequency_mhz", "freq", units.nonzero),
))

FANS_V3 = Rows(SUMMARY.name, _fan_speeds(("fan-speed-in", "fan-speed-out"), at("msg", "summary")),
               columns=(Column("rpm", at(), units.integer),))

POOLS_V3 = Rows(POOLS.name, at("msg", "pools"), index="id", columns=(
    Column("url", "url", units.text),
    Column("user", "account", units.text),
    Column("status", "status", words({})),
    Column("active", "stratum-active", units.flag),
))


def errors_v3(replies: Replies) -> list[ErrorCode]:
    """``error-code``: one object per error, ``{"<code>": "<when>", "reason": "<text>"}``."""
    found = []
    for entry in rows(at("msg", "error-code")(replies.get(DEVICE_INFO.name))):
        codes = [key for key in entry if key != "reason"]
        if codes:
            found.append(ErrorCode(code=codes[0], message=units.text(entry.get("reason"))))
    return found


DRIVER_V3 = Driver(
    name="whatsminer_v3",
    btminer_signature=v3_signature,
    make="MicroBT",
    firmware="stock",
    port=4433,
    endpoints=(DEVICE_INFO, SUMMARY, POOLS, EDEVS),
    fields=(
        Field("hashrate_hs", SUMMARY.name, _summary_v3("hash-realtime"), units.ths_to_hs),
        Field("hashrate_avg_hs", SUMMARY.name, _summary_v3("hash-average"), units.ths_to_hs),
        Field("hashrate_nominal_hs", SUMMARY.name, _summary_v3("factory-hash"), units.ths_to_hs),
        Field("power_w", SUMMARY.name, _summary_v3("power-realtime")),
        Field("power_limit_w", SUMMARY.name, _summary_v3("power-limit")),
        Field("uptime_s", SUMMARY.name, _summary_v3("elapsed"), units.counter),
        Field("temp_max_c", SUMMARY.name, _summary_v3("chip-temp-max"), units.temperature_c),
        Field("model", DEVICE_INFO.name, at("msg", "miner", "type"), model_name),
        Field("serial", DEVICE_INFO.name, at("msg", "miner", "miner-sn"), units.text),
        Field("mac", DEVICE_INFO.name, at("msg", "network", "mac"), units.mac),
        Field("hostname", DEVICE_INFO.name, at("msg", "network", "hostname"), units.text),
        Field("firmware_version", DEVICE_INFO.name, at("msg", "system", "fwversion"), units.text),
        Field("fault_light", DEVICE_INFO.name, at("msg", "system", "ledstatus"), _fault_light),
    ),
    boards=BOARDS_V3,
    fans=FANS_V3,
    pools=POOLS_V3,
    errors=errors_v3,
    required=(SUMMARY.name,),
)
