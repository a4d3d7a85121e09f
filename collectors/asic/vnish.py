"""VNish (AnthillOS) on Antminers: its web API on port 80, behind a token login.

VNish also serves the cgminer RPC, but one ``GET /api/v1/summary`` gives more than the RPC's
``summary+stats+pools`` together (power, per-chain temperatures, pool states), so a poll is that one
request; ``GET /api/v1/info`` (model, version, MAC, hostname, and ``hr_measure``, the unit of every
hashrate: "GH/s" on SHA-256 models, "MH/s" on scrypt ones) is fetched once per device.
The token comes from ``POST /api/v1/unlock {"pw": ...}`` (``collectors.transport.http.LOGINS``).

The miner's hashrate is the sum of its chains' (``Driver`` fills it from the boards): a field row
reads one reply, and the unit of ``miner.hr_realtime`` is in the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Driver, Field, Http, Replies, at, rows
from collectors.model import Board, ErrorCode, Fan, Pool

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

_POOL_STATUS = {"active": "alive", "working": "alive", "offline": "dead", "disabled": "disabled",
                "rejecting": "rejecting"}


def _unit(replies: Replies) -> float:
    """H/s per unit of VNish's hashrates, from ``hr_measure``; GH/s where it cannot say."""
    return units.parse_hash_unit(at("hr_measure")(replies.get("info"))) or 1e9


def _scaled(value: Any, unit: float) -> float | None:
    number = units.number(value)
    return number * unit if number is not None and number >= 0 else None


def _miner(replies: Replies) -> dict:
    miner = at("miner")(replies.get("summary"))
    return miner if isinstance(miner, dict) else {}


def _boards(replies: Replies) -> list[Board]:
    unit = _unit(replies)
    boards = []
    for position, chain in enumerate(rows(_miner(replies).get("chains"))):
        number = units.integer(chain.get("id"))  # VNish numbers chains from 1
        state = units.text(at("status", "state")(chain))
        boards.append(Board(
            index=number - 1 if number else position,
            hashrate_hs=_scaled(chain.get("hashrate_rt", chain.get("hr_realtime")), unit),
            temp_board_c=units.temperature_c(at("pcb_temp", "max")(chain)),
            temp_chip_c=units.temperature_c(at("chip_temp", "max")(chain)),
            frequency_mhz=units.number(chain.get("frequency", chain.get("freq"))),
            hw_errors=units.counter(chain.get("hw_errors")),
            status={"mining": "ok", "failure": "dead"}.get(state, state) if state else None,
        ))
    return boards


def _fans(replies: Replies) -> list[Fan]:
    return [Fan(index=i, rpm=units.integer(fan.get("rpm")))
            for i, fan in enumerate(rows(at("cooling", "fans")(_miner(replies))))]


def _pools(replies: Replies) -> list[Pool]:
    found = []
    for index, pool in enumerate(rows(_miner(replies).get("pools"))):
        status = units.text(pool.get("status"))
        found.append(Pool(
            index=index, url=units.text(pool.get("url")), user=units.text(pool.get("user")),
            status=_POOL_STATUS.get(status, status) if status else None,
            active=status == "active" if status else None,
            accepted=units.counter(pool.get("accepted")), rejected=units.counter(pool.get("rejected")),
            stale=units.counter(pool.get("stale")),
        ))
    return found


def _errors(replies: Replies) -> list[ErrorCode]:
    """A chain VNish reports failed, with its own description."""
    found = []
    for chain in rows(_miner(replies).get("chains")):
        if at("status", "state")(chain) == "failure":
            found.append(ErrorCode(code=f"chain {chain.get('id')}",
                                   message=units.text(at("status", "description")(chain))))
    return found


DRIVER = Driver(
    name="vnish",
    make="Bitmain",
    firmware="VNish",
    port=80,
    endpoints=(Http("summary", "/api/v1/summary", auth="vnish"),),
    identity=(Http("info", "/api/v1/info", auth="vnish"),),
    fields=(
        Field("power_w", "summary", at("miner", "power_consumption")),
        Field("model", "info", at("miner"), units.text),
        Field("firmware_version", "info", at("fw_version"), units.text),
        Field("serial", "info", at("serial"), units.text),
        Field("mac", "info", at("system", "network_status", "mac"), units.mac),
        Field("hostname", "info", at("system", "network_status", "hostname"), units.text),
    ),
    boards=_boards,
    fans=_fans,
    pools=_pools,
    errors=_errors,
    required=("summary",),
)


def web_signature(page: WebPage) -> bool:
    """VNish's web app is AnthillOS, and says so in its page."""
    return page.status == 200 and "AnthillOS" in page.body
