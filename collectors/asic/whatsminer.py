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
from typing import Any

from collectors import limits, units
from collectors.asic import cgminer
from collectors.asic.driver import Btminer, Driver, Field, Replies, Rpc, at, records, rows, section
from collectors.asic.rpcreply import as_is, rate, status_words, summary_rate
from collectors.model import Board, ErrorCode, Fan, Pool

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


def boards(replies: Replies) -> list[Board]:
    found = []
    for position, record in enumerate(records(replies.get("devs"), "DEVS")):
        index = units.integer(record.get("ASC", record.get("Slot")))
        found.append(Board(
            index=position if index is None else index,
            hashrate_hs=rate(record, "1m", "5s"),
            chips=units.integer(record.get("Effective Chips")),
            temp_board_c=units.temperature_c(record.get("Temperature")),
            temp_chip_c=units.temperature_c(record.get("Chip Temp Max", record.get("Chip Temp Avg"))),
            frequency_mhz=units.number(record.get("Chip Frequency")) or None,
            hw_errors=units.counter(record.get("Hardware Errors")),
        ))
    return found


def fans(replies: Replies) -> list[Fan]:
    """Intake and exhaust, the two fans every air-cooled Whatsminer has; liquid-cooled ones report none."""
    record = section(replies.get("summary"), "SUMMARY")
    found = []
    for index, key in enumerate(("Fan Speed In", "Fan Speed Out")):
        if key in record:
            found.append(Fan(index=index, rpm=units.integer(record.get(key))))
    return found


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
    boards=boards,
    fans=fans,
    pools=cgminer.pools,
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


def boards_v3(replies: Replies) -> list[Board]:
    found = []
    for position, device in enumerate(rows(at("msg", "edevs")(replies.get(EDEVS.name)))):
        index = units.integer(device.get("id"))
        found.append(Board(
            index=position if index is None else index,
            hashrate_hs=units.ths_to_hs(device.get("hash-average")),
            chips=units.integer(device.get("effective-chips")),
            temp_chip_c=units.temperature_c(device.get("chip-temp-max")),
            frequency_mhz=units.number(device.get("freq")) or None,
        ))
    return found


def fans_v3(replies: Replies) -> list[Fan]:
    summary = at("msg", "summary")(replies.get(SUMMARY.name)) or {}
    return [Fan(index=i, rpm=units.integer(summary.get(key)))
            for i, key in enumerate(("fan-speed-in", "fan-speed-out")) if key in summary]


def pools_v3(replies: Replies) -> list[Pool]:
    found = []
    for position, pool in enumerate(rows(at("msg", "pools")(replies.get(POOLS.name)))):
        status = units.text(pool.get("status"))
        active = pool.get("stratum-active")
        index = units.integer(pool.get("id"))
        found.append(Pool(
            index=position if index is None else index,
            url=units.text(pool.get("url")),
            user=units.text(pool.get("account")),
            status=status.lower() if status else None,
            active=active if isinstance(active, bool) else None,
        ))
    return found


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
    boards=boards_v3,
    fans=fans_v3,
    pools=pools_v3,
    errors=errors_v3,
    required=(SUMMARY.name,),
)
