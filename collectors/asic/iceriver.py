"""IceRiver stock firmware (KS0 to KS7, AL3): the web panel on port 80, behind a session cookie.

One ``POST /user/userpanel?post=4`` holds everything: ``{"data": {...}}`` with ``rtpow``/``avgpow``
as strings carrying their unit letter ("8.52T", "512G"), ``unit`` the letter the totals use,
``boards[]`` (``no`` from 1, ``intmp``/``outtmp`` °C, ``chipnum``, ``rtpow``), ``fans[]`` in RPM,
``pools[]`` (``state`` 1 = alive, ``connect`` = in use), ``runtime`` "dd:hh:mm:ss", ``mac``
("aa-bb-..."), ``host``, ``locate``, and ``softver1``, which ends with the model ("..._ks3_miner").
The session comes from ``POST /user/loginpost`` (``collectors.transport.http.LOGINS``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Driver, Field, Http, Replies, at, first, rows
from collectors.model import Board, Fan, Pool

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

_RATE = re.compile(r"^\s*(?P<value>[\d.]+)\s*(?P<unit>[KMGTP]?)H?(?:/s)?\s*$", re.IGNORECASE)


def _rate(value: Any, default_unit: Any = None) -> float | None:
    """H/s from "8.52T", "512G" or a bare number in ``default_unit`` ("T", "G")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value}{default_unit or ''}"
    match = _RATE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    letter = match.group("unit") or units.text(default_unit) or ""
    scale = units.parse_hash_unit(f"{letter}H") if letter else 1.0
    value = units.number(match.group("value"))  # None for "1.2.3"
    return value * scale if value is not None and scale else None


def _data(replies: Replies) -> dict:
    data = at("data")(replies.get("userpanel"))
    return data if isinstance(data, dict) else {}


def _boards(replies: Replies) -> list[Board]:
    boards = []
    for position, board in enumerate(rows(_data(replies).get("boards"))):
        number = units.integer(board.get("no"))
        boards.append(Board(
            index=number - 1 if number else position,
            hashrate_hs=_rate(board.get("rtpow"), "G"),
            chips=units.integer(board.get("chipnum")),
            temp_board_c=units.temperature_c(board.get("intmp")),
            temp_chip_c=units.temperature_c(board.get("outtmp")),
            frequency_mhz=units.number(board.get("freq")),
        ))
    return boards


def _fans(replies: Replies) -> list[Fan]:
    fans = _data(replies).get("fans")
    return [Fan(index=i, rpm=units.integer(rpm)) for i, rpm in enumerate(first(fans))] if isinstance(fans, list) else []


def _pools(replies: Replies) -> list[Pool]:
    found = []
    for position, pool in enumerate(rows(_data(replies).get("pools"))):
        if not units.text(pool.get("addr")):
            continue  # an unused slot of the three
        number = units.integer(pool.get("no"))
        state = units.integer(pool.get("state"))
        found.append(Pool(
            index=number - 1 if number else position, url=units.text(pool.get("addr")),
            user=units.text(pool.get("user")),
            status=None if state is None else ("alive" if state == 1 else "dead"),
            active=pool.get("connect") if isinstance(pool.get("connect"), bool) else None,
            accepted=units.counter(pool.get("accepted")), rejected=units.counter(pool.get("rejected")),
        ))
    return found


def _runtime(value: Any) -> int | None:
    """"02:03:04:05" (days:hours:minutes:seconds) -> seconds."""
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 4 or not all(p.strip().isdigit() for p in parts):
        return None
    days, hours, minutes, seconds = (int(p) for p in parts)
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _model(data: Any) -> str | None:
    """The model in ``softver1``: "..._ks3_miner" -> "IceRiver KS3", "..._ks5L_miner_..._bg" -> "IceRiver KS5L"."""
    version = units.text(data.get("softver1")) if isinstance(data, dict) else None
    names = [re.sub(r"miner$", "", part, flags=re.IGNORECASE) for part in (version or "").split("_")]
    models = [name for name in names if re.fullmatch(r"(ks|al)\d+[a-z]*", name, re.IGNORECASE)]
    return f"IceRiver {models[-1].upper()}" if models else None


DRIVER = Driver(
    name="iceriver",
    make="IceRiver",
    firmware="stock",
    algorithm=None,  # kHeavyHash on KS models, Scrypt on AL: by model
    port=80,
    endpoints=(Http("userpanel", "/user/userpanel?post=4", method="POST", auth="iceriver"),),
    fields=(
        Field("hashrate_hs", "userpanel", lambda r: _rate(at("data", "rtpow")(r), at("data", "unit")(r)),
              lambda v: v),
        Field("hashrate_avg_hs", "userpanel", lambda r: _rate(at("data", "avgpow")(r), at("data", "unit")(r)),
              lambda v: v),
        Field("uptime_s", "userpanel", at("data", "runtime"), _runtime),
        Field("mac", "userpanel", at("data", "mac"), units.mac),
        Field("hostname", "userpanel", at("data", "host"), units.text),
        Field("fault_light", "userpanel", at("data", "locate"), lambda v: v if isinstance(v, bool) else None),
        Field("model", "userpanel", at("data"), _model),
        Field("firmware_version", "userpanel", at("data", "softver1"), units.text),
    ),
    boards=_boards,
    fans=_fans,
    pools=_pools,
    required=("userpanel",),
)


def web_signature(page: WebPage) -> bool:
    """IceRiver's panel page is titled 用户界面 ("user interface")."""
    return page.status == 200 and page.title == "用户界面"
