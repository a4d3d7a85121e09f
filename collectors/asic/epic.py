"""ePIC UMC / PowerPlay firmware (on Antminers and Whatsminers): a REST API on port 4028.

``GET /summary`` each poll holds everything a poll needs (per-board hashrate in MH/s, power,
fans, session counters, pool); ``GET /capabilities`` (model, chips per board, rated hashrate)
and ``GET /network`` (MAC) are fetched once per device. Reads need no login; only ePIC's write
commands carry the password in their body.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Column, Driver, Field, From, Http, Replies, Rows, at, first, rows
from collectors.model import BOARD_DISABLED, BOARD_OK, ErrorCode

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

# ePIC's port-4028 root is its API, not a page: its capabilities reply identifies it.
WEB_PROBE_PATH = "/capabilities"

_MH = 1e6  # "Hashrate"[0] and "Average MHs" are MH/s
_TH = 1e12  # "Default Hashrate" is TH/s, as the tuner's "Unit" says on SHA-256 models
# "Fans Speed 1": the fan's number ends the key; the look-behind reads a long run of digits once,
# not once per digit
_FAN_NUMBER = re.compile(r"(?<!\d)(\d{1,3})$")


def _hashing(rate: Any) -> str | None:
    return BOARD_OK if units.number(rate) else None


def _numbered(record: Any) -> bool:
    """A board's record names its slot: one that does not is no board's."""
    return units.integer(at("Index")(record)) is not None


def _detected(slot: Any) -> bool:
    return _numbered(slot) and bool(at("Detected")(slot))


_CHIPS = Column("chips_expected", From("capabilities", at("Performance Estimator", "Chip Count")), units.integer)

# HBs has the boards that hash; HBStatus lists every slot, and whether ePIC enabled its board.
BOARDS = (
    Rows("summary", at("HBs"), index="Index", keep=_numbered, columns=(
        Column("hashrate_hs", at("Hashrate", 0), units.mhs_to_hs),
        _CHIPS,
        Column("temp_board_c", "Temperature", units.temperature_c),
        Column("frequency_mhz", "Core Clock Avg", units.nonzero),
        Column("status", at("Hashrate", 0), _hashing),
    )),
    Rows("summary", at("HBStatus"), index="Index", keep=_detected, columns=(
        _CHIPS,
        Column("status", "Enabled", lambda enabled: None if enabled else BOARD_DISABLED),
    )),
)


def _fan_speeds(summary: Any) -> list[dict]:
    """"Fans Rpm": {"Fans Speed 1": 5971, ...}, null for a header with no fan; numbered from 1."""
    rpms = at("Fans Rpm")(summary)
    found = []
    for key, rpm in first(rpms.items()) if isinstance(rpms, dict) else ():
        number = _FAN_NUMBER.search(key)
        if number and units.integer(rpm) is not None:
            found.append({"fan": int(number.group(1)), "rpm": rpm})
    return found


FANS = Rows("summary", _fan_speeds, index="fan", first=1, columns=(Column("rpm", "rpm", units.integer),))


def _stratums(summary: Any) -> list[dict]:
    """The configured pools; the session's share counts belong to the one ePIC is on."""
    current = units.text(at("Stratum", "Current Pool")(summary))
    connected = at("Stratum", "IsPoolConnected")(summary)
    found = []
    for config in rows(at("StratumConfigs")(summary)):
        url = units.text(config.get("pool"))
        active = bool(current and url and url.split("://")[-1] == current)
        found.append({
            "url": url, "user": config.get("login"), "active": active,
            "status": ("alive" if connected else "dead") if active and isinstance(connected, bool) else None,
            "accepted": at("Session", "Accepted")(summary) if active else None,
            "rejected": at("Session", "Rejected")(summary) if active else None,
        })
    return found


POOLS = Rows("summary", _stratums, columns=(
    Column("url", "url", units.text),
    Column("user", "user", units.text),
    Column("status", "status", units.text),
    Column("active", "active", units.flag),
    Column("accepted", "accepted", units.counter),
    Column("rejected", "rejected", units.counter),
))


def _errors(replies: Replies) -> list[ErrorCode]:
    error = at("Status", "Last Error")(replies.get("summary"))
    return [ErrorCode(code=str(error))] if error not in (None, "") else []


def _version(software: Any) -> str | None:
    """"PowerPlay-BMS v1.5.13" -> "1.5.13"."""
    text = units.text(software)
    match = re.search(r"v?(\d[\w.\-]*)$", text) if text else None
    return match.group(1) if match else text


def _mac(network: Any) -> Any:
    """/network: {"eth0": {"mac_address": ...}, ...}; the first interface that has one."""
    for interface in network.values() if isinstance(network, dict) else ():
        if isinstance(interface, dict) and interface.get("mac_address"):
            return interface["mac_address"]
    return None


def _rate(select: Any, unit: float) -> Any:
    def scaled(reply: Any) -> float | None:
        value = units.number(select(reply))
        return value * unit if value is not None and value >= 0 else None

    return scaled


def _total(reply: Any) -> float | None:
    rates = [units.number(at("Hashrate", 0)(hb)) for hb in rows(at("HBs")(reply))]
    rates = [r for r in rates if r is not None]
    return sum(rates) * _MH if rates else None


def web_signature(page: WebPage) -> bool:
    """GET :4028/capabilities answers JSON only ePIC writes ("Max HBs", "Performance Estimator")."""
    return page.status == 200 and '"Max HBs"' in page.body and '"Model"' in page.body


DRIVER = Driver(
    name="epic",
    web_signature=web_signature,
    web_probe=WEB_PROBE_PATH,
    make=None,  # ePIC runs on other makers' hardware: the model tells
    firmware="ePIC",
    port=4028,
    endpoints=(Http("summary", "/summary", port=4028),),
    identity=(Http("capabilities", "/capabilities", port=4028), Http("network", "/network", port=4028)),
    fields=(
        Field("hashrate_hs", "summary", _total, lambda v: v),
        Field("hashrate_avg_hs", "summary", _rate(at("Session", "Average MHs"), _MH), lambda v: v),
        Field("power_w", "summary", at("Power Supply Stats", "Input Power")),
        Field("power_limit_w", "summary", at("PresetInfo", "Target Power")),
        Field("uptime_s", "summary", at("Session", "Uptime"), units.counter),
        Field("accepted", "summary", at("Session", "Accepted"), units.counter),
        Field("rejected", "summary", at("Session", "Rejected"), units.counter),
        Field("hostname", "summary", at("Hostname"), units.text),
        Field("firmware_version", "summary", at("Software"), _version),
        Field("fault_light", "summary", at("Misc", "Locate Miner State"),
              lambda v: v if isinstance(v, bool) else None),
        Field("model", "capabilities", at("Model"), units.text),
        Field("hashrate_nominal_hs", "capabilities", _rate(at("Default Hashrate"), _TH), lambda v: v or None),
        Field("mac", "network", _mac, units.mac),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=POOLS,
    errors=_errors,
    algorithm="SHA256",
    required=("summary",),
)
