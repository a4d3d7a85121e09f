"""Innosilicon (DragonMint firmware lineage): the web API on port 80, behind a JWT.

Every call is a POST (the DragonMint API documents it so). A poll is ``/api/getAll`` (total and
per-chain hashrate, temperatures, power, MAC) and ``/api/summary`` (cgminer's DEVS and POOLS);
``/api/type`` (the model) is fetched once per device. ``getAll`` gives the hashrate under
``"Hash Rate H"`` in H/s on current firmwares and under ``"Hash Rate"`` in MH/s on older ones.
Fans are reported only as a duty percentage, not RPM, so the snapshot has none.
The JWT comes from ``POST /api/auth`` and lasts 6 h (``collectors.transport.http.LOGINS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic import cgminer
from collectors.asic.driver import Driver, Field, Http, Replies, at, records, rows
from collectors.model import Board

if TYPE_CHECKING:
    from collectors.transport.http import WebPage


def _hash_rate(record: Any) -> float | None:
    """H/s from a getAll record: "Hash Rate H" is H/s, the older "Hash Rate" MH/s."""
    if not isinstance(record, dict):
        return None
    if record.get("Hash Rate H") is not None:
        return units.hashrate(record["Hash Rate H"], "h")
    return units.mhs_to_hs(record.get("Hash Rate"))


def _all(replies: Replies) -> dict:
    found = at("all")(replies.get("all"))
    return found if isinstance(found, dict) else {}


def _boards(replies: Replies) -> list[Board]:
    devs = {units.integer(r.get("ID")): r for r in records(replies.get("summary"), "DEVS")}
    boards = []
    for position, chain in enumerate(rows(_all(replies).get("chain"))):
        index = units.integer(chain.get("ASC"))
        index = position if index is None else index
        dev = devs.get(index, {})
        boards.append(Board(
            index=index,
            hashrate_hs=_hash_rate(chain),
            temp_board_c=units.temperature_c(dev.get("Temperature")),
            temp_chip_c=units.temperature_c(chain.get("Temp max")),
            hw_errors=units.counter(dev.get("Hardware Errors")),
        ))
    return boards


DRIVER = Driver(
    name="innosilicon",
    make="Innosilicon",
    firmware="stock",
    algorithm=None,  # SHA256, Ethash, Scrypt... by model
    port=80,
    endpoints=(
        Http("all", "/api/getAll", method="POST", auth="innosilicon"),
        Http("summary", "/api/summary", method="POST", auth="innosilicon"),
    ),
    identity=(Http("type", "/api/type", method="POST", auth="innosilicon"),),
    fields=(
        Field("hashrate_hs", "all", lambda r: _hash_rate(at("all", "total_hash")(r)), lambda v: v),
        Field("power_w", "all", at("all", "power")),
        Field("mac", "all", at("all", "mac"), units.mac),
        Field("model", "type", at("type"), units.text),
    ),
    boards=_boards,
    pools=lambda replies: cgminer.pools({"pools": replies.get("summary")}),
    required=("all",),
)


def web_signature(page: WebPage) -> bool:
    """Innosilicon's web app is the DragonMint one, and keeps its name in the page."""
    return page.status == 200 and "DragonMint" in page.body
