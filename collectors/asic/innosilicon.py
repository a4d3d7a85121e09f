"""Innosilicon (DragonMint firmware lineage): the web API on port 80, behind a JWT.

Every call is a POST (the DragonMint API documents it so). A poll is ``/api/getAll`` (total and
per-chain hashrate, temperatures, power, MAC) and ``/api/summary`` (cgminer's DEVS and POOLS);
``/api/type`` (the model) is fetched once per device. ``getAll`` gives the hashrate under
``"Hash Rate H"`` in H/s on current firmwares and under ``"Hash Rate"`` in MH/s on older ones.
Fans are reported only as a duty percentage, not RPM, so the snapshot has none.
The JWT comes from a form ``POST /api/auth`` and lasts 6 h (``LOGIN``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic import cgminer
from collectors.asic.driver import Column, Driver, Field, Http, Login, Rows, at, records_in

if TYPE_CHECKING:
    from collectors.transport.http import WebPage


def _expired(status: int, reply: Any) -> bool:
    """DragonMint answers 200 {"success": false, "token": "expired"} once its 6 h JWT ran out."""
    return isinstance(reply, dict) and reply.get("success") is False and reply.get("token") == "expired"


LOGIN = Login("/api/auth", lambda c: {"username": c.username, "password": c.password}, send_as="form",
              token_at=at("jwt"), expired=_expired)


def _hash_rate(record: Any) -> float | None:
    """H/s from a getAll record: "Hash Rate H" is H/s, the older "Hash Rate" MH/s."""
    if not isinstance(record, dict):
        return None
    if record.get("Hash Rate H") is not None:
        return units.hashrate(record["Hash Rate H"], "h")
    return units.mhs_to_hs(record.get("Hash Rate"))


# One board per chain of getAll; its sensors and errors are in summary's DEVS, by the same number.
BOARDS = (
    Rows("all", at("all", "chain"), index="ASC", columns=(
        Column("hashrate_hs", at(), _hash_rate),
        Column("temp_chip_c", "Temp max", units.temperature_c),
    )),
    Rows("summary", records_in("DEVS"), index="ID", columns=(
        Column("temp_board_c", "Temperature", units.temperature_c),
        Column("hw_errors", "Hardware Errors", units.counter),
    )),
)


def web_signature(page: WebPage) -> bool:
    """Innosilicon's web app is the DragonMint one, and keeps its name in the page."""
    return page.status == 200 and "DragonMint" in page.body


DRIVER = Driver(
    name="innosilicon",
    web_signature=web_signature,
    make="Innosilicon",
    firmware="stock",
    algorithm=None,  # SHA256, Ethash, Scrypt... by model
    port=80,
    endpoints=(
        Http("all", "/api/getAll", method="POST", auth=LOGIN),
        Http("summary", "/api/summary", method="POST", auth=LOGIN),
    ),
    identity=(Http("type", "/api/type", method="POST", auth=LOGIN),),
    fields=(
        Field("hashrate_hs", "all", lambda r: _hash_rate(at("all", "total_hash")(r)), lambda v: v),
        Field("power_w", "all", at("all", "power")),
        Field("mac", "all", at("all", "mac"), units.mac),
        Field("model", "type", at("type"), units.text),
    ),
    boards=BOARDS,
    pools=replace(cgminer.POOLS, endpoint="summary"),
    required=("all",),
)
