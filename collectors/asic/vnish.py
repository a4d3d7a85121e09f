"""VNish (AnthillOS) on Antminers: its web API on port 80, behind a token login.

VNish also serves the cgminer RPC, but one ``GET /api/v1/summary`` gives more than the RPC's
``summary+stats+pools`` together (power, per-chain temperatures, pool states), so a poll is that one
request; ``GET /api/v1/info`` (model, version, MAC, hostname, and ``hr_measure``, the unit of every
hashrate: "GH/s" on SHA-256 models, "MH/s" on scrypt ones) is fetched once per device.
The token comes from ``POST /api/v1/unlock {"pw": ...}`` (``LOGIN``), sent back as a bearer token.

The miner's hashrate is the sum of its chains' (``Driver`` fills it from the boards): a field row
reads one reply, and the unit of ``miner.hr_realtime`` is in the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import (BOARD_WORDS, Column, Driver, Field, From, Http, Login, Replies, Rows, at, rows,
                                    words)
from collectors.model import BOARD_DEAD, BOARD_OK, ErrorCode

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

LOGIN = Login("/api/v1/unlock", lambda c: {"pw": c.password}, token_at=at("token"))

_POOL_STATUS = {"active": "alive", "working": "alive", "offline": "dead", "disabled": "disabled",
                "rejecting": "rejecting"}


def _unit(info: Any) -> float:
    """H/s per unit of VNish's hashrates, from ``hr_measure``; GH/s where it cannot say."""
    return units.parse_hash_unit(at("hr_measure")(info)) or 1e9


def _active(status: Any) -> bool | None:
    """The pool the miner hashes for is the one whose status is "active"."""
    word = units.text(status)
    return None if word is None else word == "active"


# VNish numbers chains from 1.
BOARDS = Rows("summary", at("miner", "chains"), index="id", first=1, columns=(
    Column("hashrate_hs", lambda chain: chain.get("hashrate_rt", chain.get("hr_realtime")), units.nonnegative,
           scale=From("info", _unit)),
    Column("temp_board_c", at("pcb_temp", "max"), units.temperature_c),
    Column("temp_chip_c", at("chip_temp", "max"), units.temperature_c),
    Column("frequency_mhz", lambda chain: chain.get("frequency", chain.get("freq"))),
    Column("hw_errors", "hw_errors", units.counter),
    Column("status", at("status", "state"), words({**BOARD_WORDS, "mining": BOARD_OK, "failure": BOARD_DEAD})),
))

FANS = Rows("summary", at("miner", "cooling", "fans"), columns=(Column("rpm", "rpm", units.integer),))

POOLS = Rows("summary", at("miner", "pools"), columns=(
    Column("url", "url", units.text),
    Column("user", "user", units.text),
    Column("status", "status", words(_POOL_STATUS)),
    Column("active", "status", _active),
    Column("accepted", "accepted", units.counter),
    Column("rejected", "rejected", units.counter),
    Column("stale", "stale", units.counter),
))


def _errors(replies: Replies) -> list[ErrorCode]:
    """A chain VNish reports failed, with its own description."""
    found = []
    for chain in rows(at("miner", "chains")(replies.get("summary"))):
        if at("status", "state")(chain) == "failure":
            found.append(ErrorCode(code=f"chain {chain.get('id')}",
                                   message=units.text(at("status", "description")(chain))))
    return found


def web_signature(page: WebPage) -> bool:
    """VNish's web app is AnthillOS, and says so in its page."""
    return page.status == 200 and "AnthillOS" in page.body


DRIVER = Driver(
    name="vnish",
    web_signature=web_signature,
    make="Bitmain",
    firmware="VNish",
    port=80,
    endpoints=(Http("summary", "/api/v1/summary", auth=LOGIN),),
    identity=(Http("info", "/api/v1/info", auth=LOGIN),),
    fields=(
        Field("power_w", "summary", at("miner", "power_consumption")),
        Field("model", "info", at("miner"), units.text),
        Field("firmware_version", "info", at("fw_version"), units.text),
        Field("serial", "info", at("serial"), units.text),
        Field("mac", "info", at("system", "network_status", "mac"), units.mac),
        Field("hostname", "info", at("system", "network_status", "hostname"), units.text),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=POOLS,
    errors=_errors,
    required=("summary",),
)
