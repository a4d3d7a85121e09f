"""Auradine Teraflux (AT, AI, AH series): the API server on port 8080, and gcminer's RPC on 4028.

The API server answers the cgminer commands over HTTP in cgminer's own layout, behind a token
(``POST /token``, sent back in a ``Token`` header: ``LOGIN``): a poll is
``/summary``, ``/pools``, ``/fan`` and ``/psu`` there, and gcminer's ``devs`` on the RPC port for the
per-board figures (MH/s); ``/ipreport`` (model, serial, MAC, hostname, version) once per device.
The RPC side (``devs``, and the RPC signature that names this driver) is shared with the generic
RPC code: the driver's name is ``auradine`` on both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic import cgminer
from collectors.asic.driver import BOARD_WORDS, Column, Driver, Field, Http, Login, Rows, Rpc, at, records_in, words
from collectors.asic.rpcreply import names_firmware

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

API_PORT = 8080


def _expired(status: int, reply: Any) -> bool:
    """The API server answers in cgminer form: a bad token is a STATUS "E" record about it."""
    record = at("STATUS", 0)(reply)
    return (isinstance(record, dict) and record.get("STATUS") == "E"
            and "token" in str(record.get("Msg", "")).lower())


# POST /token {"command": "token", ...} -> {"Token": [{"Token": ...}]}, sent back in a header named Token.
LOGIN = Login("/token", lambda c: {"command": "token", "user": c.username, "password": c.password},
              token_at=at("Token", 0, "Token"), header="Token", header_format="{token}", expired=_expired)


def _api(name: str, path: str) -> Http:
    return Http(name, path, port=API_PORT, auth=LOGIN)


BOARDS = Rows("devs", records_in("DEVS"), index="ID", columns=(
    Column("hashrate_hs", "MHS 5s", units.mhs_to_hs),
    Column("temp_board_c", "Temperature", units.temperature_c),
    Column("hw_errors", "Hardware Errors", units.counter),
    Column("status", "Status", words(BOARD_WORDS)),
))

FANS = Rows("fan", records_in("Fan"), columns=(Column("rpm", "Speed", units.integer),))


def _watts(value: Any) -> float | None:
    """The PSU's "2954.00W" strings."""
    return units.number(value.rstrip("Ww ")) if isinstance(value, str) else units.number(value)


def rpc_signature(replies: dict) -> bool:
    """gcminer names itself in ``version`` ("GCMiner-2023-05.24-..."); FluxOS builds say "FluxOS"."""
    return names_firmware(replies, "gcminer", "fluxos")


def web_signature(page: WebPage) -> bool:
    """Auradine's web app on port 80 is titled exactly "Miner UI"."""
    return page.status == 200 and page.title == "Miner UI"


DRIVER = Driver(
    name="auradine",
    rpc_signature=rpc_signature,
    web_signature=web_signature,
    make="Auradine",
    firmware="stock",
    port=4028,
    endpoints=(
        Rpc("devs"),
        _api("summary", "/summary"),
        _api("pools", "/pools"),
        _api("fan", "/fan"),
        _api("psu", "/psu"),
    ),
    identity=(_api("ipreport", "/ipreport"),),
    fields=(
        Field("hashrate_hs", "summary", cgminer.summary("MHS 5s"), units.mhs_to_hs),
        Field("hashrate_avg_hs", "summary", cgminer.summary("MHS av"), units.mhs_to_hs),
        *cgminer.SUMMARY_COUNTERS,
        Field("power_w", "psu", at("PSU", 0, "PowerIn"), _watts),
        Field("model", "ipreport", at("IPReport", 0, "model"), units.text),
        Field("serial", "ipreport", at("IPReport", 0, "SerialNo"), units.text),
        Field("mac", "ipreport", at("IPReport", 0, "mac"), units.mac),
        Field("hostname", "ipreport", at("IPReport", 0, "hostname"), units.text),
        Field("firmware_version", "ipreport", at("IPReport", 0, "version"), units.text),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    required=("summary",),
)
