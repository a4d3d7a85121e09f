"""ESP-Miner (AxeOS): the firmware of the open-source BitAxe and its kin, one ASIC on an ESP32.

``GET /api/system/info`` holds everything, with no login: ``hashRate`` in GH/s, ``power`` in W,
``temp`` (the ASIC) and ``vrTemp`` (its voltage regulator) in °C, ``fanrpm``, share counters,
the primary and fallback stratum, ``uptimeSeconds``, ``hostname``, ``macAddr`` and ``ASICModel``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Column, Driver, Field, Http, Rows, at

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

# The board is named after its ASIC: Max BM1397, Ultra BM1366, Supra BM1368, Gamma BM1370.
_BOARD_BY_ASIC = {"BM1397": "BitAxe Max", "BM1366": "BitAxe Ultra", "BM1368": "BitAxe Supra",
                  "BM1370": "BitAxe Gamma"}


def _model(info: Any) -> str | None:
    """Newer releases name the board ("deviceModel"); older ones only the ASIC."""
    named = units.text(info.get("deviceModel"))
    if named:
        return named if named.lower().startswith("bitaxe") else f"BitAxe {named}"
    return _BOARD_BY_ASIC.get(units.text(info.get("ASICModel")) or "")


def _whole(info: Any) -> list[dict]:
    """The one board, or fan, is the whole reply."""
    return [info] if isinstance(info, dict) and info else []


def _stratums(info: Any) -> list[dict]:
    """Primary and fallback stratum, as records; the share counters belong to the one in use."""
    if not isinstance(info, dict):
        return []
    fallback = bool(units.integer(info.get("isUsingFallbackStratum")))
    found = []
    for index, prefix in enumerate(("stratum", "fallbackStratum")):
        host, port = units.text(info.get(f"{prefix}URL")), units.integer(info.get(f"{prefix}Port"))
        active = fallback == (index == 1)
        found.append({"url": f"{host}:{port}" if host and port else host, "user": info.get(f"{prefix}User"),
                      "active": active, "accepted": info.get("sharesAccepted") if active else None,
                      "rejected": info.get("sharesRejected") if active else None})
    return found


BOARDS = Rows("system_info", _whole, columns=(
    Column("hashrate_hs", "hashRate", units.ghs_to_hs),
    Column("chips", "asicCount", units.integer),
    Column("temp_chip_c", "temp", units.temperature_c),
    Column("temp_board_c", "vrTemp", units.temperature_c),  # the regulator: the PCB's hot spot
    Column("frequency_mhz", "frequency"),
))

FANS = Rows("system_info", _whole, keep=lambda info: units.integer(info.get("fanrpm")) is not None,
            columns=(Column("rpm", "fanrpm", units.integer),))

POOLS = Rows("system_info", _stratums, keep=lambda stratum: stratum["url"] is not None, columns=(
    Column("url", "url", units.text),
    Column("user", "user", units.text),
    Column("active", "active", units.flag),
    Column("accepted", "accepted", units.counter),
    Column("rejected", "rejected", units.counter),
))


def web_signature(page: WebPage) -> bool:
    """AxeOS, ESP-Miner's web app, names itself in the page's title."""
    return page.status == 200 and "AxeOS" in page.body


DRIVER = Driver(
    name="espminer",
    web_signature=web_signature,
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
    boards=BOARDS,
    fans=FANS,
    pools=POOLS,
    required=("system_info",),
)
