"""IceRiver stock firmware (KS0 to KS7, AL3): the web panel on port 80, behind a session cookie.

One ``POST /user/userpanel?post=4`` holds everything: ``{"data": {...}}`` with ``rtpow``/``avgpow``
as strings carrying their unit letter ("8.52T", "512G"), ``unit`` the letter the totals use,
``boards[]`` (``no`` from 1, ``intmp``/``outtmp`` °C, ``chipnum``, ``rtpow``), ``fans[]`` in RPM,
``pools[]`` (``state`` 1 = alive, ``connect`` = in use), ``runtime`` "dd:hh:mm:ss", ``mac``
("aa-bb-..."), ``host``, ``locate``, and ``softver1``, which ends with the model ("..._ks3_miner").
The session is the cookie ``POST /user/loginpost?post=6&user=&pwd=`` sets (``LOGIN``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic.driver import Column, Driver, Field, Http, Login, Rows, at

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

def _redirected(status: int, reply: Any) -> bool:
    """An expired session is sent back to the login page."""
    return 300 <= status < 400


LOGIN = Login("/user/loginpost", lambda c: {"post": "6", "user": c.username, "pwd": c.password},
              send_as="query", cookie=True, header="Cookie", header_format="{token}", expired=_redirected)

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


# IceRiver numbers boards and pools from 1 ("no"); it lists its three pool slots, used or not.
BOARDS = Rows("userpanel", at("data", "boards"), index="no", first=1, columns=(
    Column("hashrate_hs", "rtpow", lambda value: _rate(value, "G")),
    Column("chips", "chipnum", units.integer),
    Column("temp_board_c", "intmp", units.temperature_c),
    Column("temp_chip_c", "outtmp", units.temperature_c),
    Column("frequency_mhz", "freq"),
))

FANS = Rows("userpanel", at("data", "fans"), columns=(Column("rpm", at(), units.integer),))


def _pool_state(value: Any) -> str | None:
    """``state``: 1 for a pool the miner reaches, anything else for one it does not."""
    state = units.integer(value)
    return None if state is None else ("alive" if state == 1 else "dead")


POOLS = Rows("userpanel", at("data", "pools"), index="no", first=1, keep=lambda pool: units.text(at("addr")(pool)),
             columns=(
                 Column("url", "addr", units.text),
                 Column("user", "user", units.text),
                 Column("status", "state", _pool_state),
                 Column("active", "connect", units.flag),
                 Column("accepted", "accepted", units.counter),
                 Column("rejected", "rejected", units.counter),
             ))


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


def web_signature(page: WebPage) -> bool:
    """IceRiver's panel page is titled 用户界面 ("user interface")."""
    return page.status == 200 and page.title == "用户界面"


DRIVER = Driver(
    name="iceriver",
    web_signature=web_signature,
    make="IceRiver",
    firmware="stock",
    algorithm=None,  # kHeavyHash on KS models, Scrypt on AL: by model
    port=80,
    endpoints=(Http("userpanel", "/user/userpanel?post=4", method="POST", auth=LOGIN),),
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
    boards=BOARDS,
    fans=FANS,
    pools=POOLS,
    required=("userpanel",),
)
