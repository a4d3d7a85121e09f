"""ESP-Miner (AxeOS): the firmware of the open-source BitAxe and its kin, one ASIC on an ESP32.

``GET /api/system/info`` holds everything, with no login: ``hashRate`` in GH/s, ``power`` in W,
``temp`` (the ASIC) and ``vrTemp`` (its voltage regulator) in °C, ``fanrpm``, share counters,
the primary and fallback stratum, ``uptimeSeconds``, ``hostname``, ``macAddr`` and ``ASICModel``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Driver, Field, Http, Replies, at
from collectors.model import Board, Fan, Pool

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

# The board is named after its ASIC: Max BM1397, Ultra BM1366, Supra BM1368, Gamma BM1370.
_BOARD_BY_ASIC = {"BM1397": "BitAxe Max", "BM1366": "BitAxe Ultra", "BM1368": "BitAxe Supra",
                  "BM1370": "BitAxe Gamma"}


def _info(replies: Replies) -> dict:
    info = replies.get("system_info")
    return info if isinstance(info, dict) else {}


def _model(info: Any) -> str | None:
    """Newer releases name the board ("deviceModel"); older ones only the ASIC."""
    named = units.text(info.get("deviceModel"))
    if named:
        return named if named.lower().startswith("bitaxe") else f"BitAxe {named}"
    return _BOARD_BY_ASIC.get(units.text(info.get("ASICModel")) or "")


def _boards(replies: Replies) -> list[Board]:
    info = _info(replies)
    return [Board(
        index=0,
        hashrate_hs=units.ghs_to_hs(info.get("hashRate")),
        chips=units.integer(info.get("asicCount")),
        temp_chip_c=units.temperature_c(info.get("temp")),
        temp_board_c=units.temperature_c(info.get("vrTemp")),  # the regulator: the PCB's hot spot
        frequency_mhz=units.number(info.get("frequency")),
    )] if info else []


def _fans(replies: Replies) -> list[Fan]:
    rpm = units.integer(_info(replies).get("fanrpm"))
    return [Fan(index=0, rpm=rpm)] if rpm is not None else []


def _pools(replies: Replies) -> list[Pool]:
    """Primary and fallback stratum; the share counters belong to the one in use."""
    info = _info(replies)
    fallback = bool(units.integer(info.get("isUsingFallbackStratum")))
    found = []
    for index, prefix in enumerate(("stratum", "fallbackStratum")):
        host = units.text(info.get(f"{prefix}URL"))
        if host is None:
            continue
        port = units.integer(info.get(f"{prefix}Port"))
        active = fallback == (index == 1)
        found.append(Pool(
            index=index, url=f"{host}:{port}" if port else host, user=units.text(info.get(f"{prefix}User")),
            active=active,
            accepted=units.counter(info.get("sharesAccepted")) if active else None,
            rejected=units.counter(info.get("sharesRejected")) if active else None,
        ))
    return found


DRIVER = Driver(
    name="espminer",
    make="BitAxe",
    firmware="ESP-Miner",
    port=80,
    endpoints=(Http("system_info", "/api/system/info"),),
    fields=(
        Field("model", "system_info", _model, lambda v: v),
        Field("hashrate_hs", "system_info", at("hashRate"), units.ghs_to_hs),
        Field("power_w", "system_info", at("power")),
        Field("uptime_s", "system_info", at("uptimeSeconds"), units.counter),
        Field("hostname", "system_info", at("hostname"), units.text),
        Field("mac", "system_info", at("macAddr"), units.mac),
        Field("firmware_version", "system_info", at("version"), units.text),
    ),
    boards=_boards,
    fans=_fans,
    pools=_pools,
    required=("system_info",),
)


def web_signature(page: WebPage) -> bool:
    """AxeOS, ESP-Miner's web app, names itself in the page's title."""
    return page.status == 200 and "AxeOS" in page.body
