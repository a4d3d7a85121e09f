"""Goldshell stock firmware (KD, CK, LT, Mini-DOGE, Box...): the web API on port 80, JWT login.

The web app proxies cgminer's API as ``GET /mcb/cgminer?cgicmd=<command>`` and answers with
cgminer's own reply, so a poll is ``devs`` (per-board ``MHS 20s``, sensors ``tstemp-0..2``, fans)
plus ``pools`` and ``summary`` in cgminer's layout; ``GET /mcb/status`` (model, firmware) is
fetched once per device. Hashrates are MH/s on every model (``MHS`` keys).
The token comes from ``GET /user/login?username=&password=&cipher=false`` (``LOGIN``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic import cgminer
from collectors.asic.driver import Column, Driver, Field, Http, Login, Rows, at, first, records, records_in

if TYPE_CHECKING:
    from collectors.transport.http import WebPage

LOGIN = Login("/user/login", lambda c: {"username": c.username, "password": c.password, "cipher": "false"},
              send_as="query", method="GET", token_at=at("JWT Token"))

_RATE_KEYS = ("MHS 20s", "MHS 5s", "MHS 1m", "MHS av")
_FAN = re.compile(r"fan(\d{1,3})")


def _rate(record: dict) -> float | None:
    for key in _RATE_KEYS:
        if record.get(key) is not None:
            return units.mhs_to_hs(record.get(key))
    return None


def _hottest(values: list[Any]) -> float | None:
    temps = [t for t in map(units.temperature_c, values) if t]  # 0: a sensor not fitted
    return max(temps) if temps else None


BOARDS = Rows("devs", records_in("DEVS"), index="ID", columns=(
    Column("hashrate_hs", at(), _rate),
    Column("chips", "chips-nr", units.integer),
    Column("temp_board_c", lambda record: [record.get("tstemp-2")], _hottest),
    Column("temp_chip_c", lambda record: [record.get("tstemp-0"), record.get("tstemp-1")], _hottest),
    Column("hw_errors", "Hardware Errors", units.counter),
))


def _fan_speeds(reply: Any) -> list[Any]:
    """Every board's row repeats the machine's fans (fan0, fan1...): the first row that has them,
    numbered from 0 whether the model numbers them from 0 or from 1."""
    for record in records(reply, "DEVS"):
        fans = first((int(m.group(1)), v) for k, v in record.items() if (m := _FAN.fullmatch(k)))
        if fans:
            lowest = min(n for n, _ in fans)
            return [{"fan": n - lowest, "rpm": rpm} for n, rpm in sorted(fans)]
    return []


FANS = Rows("devs", _fan_speeds, index="fan", columns=(Column("rpm", "rpm", units.integer),))


def _model(status: Any) -> str | None:
    """"KD6" or "Goldshell-KD6" -> "Goldshell KD6"."""
    name = units.text(at("model")(status))
    if name is None:
        return None
    name = name.replace("-", " ")
    return name if name.lower().startswith("goldshell") else f"Goldshell {name}"


def _total(reply: Any) -> float | None:
    record = records(reply, "SUMMARY")
    return _rate(record[0]) if record else None


def web_signature(page: WebPage) -> bool:
    """Goldshell's web app is built on its "cloud-box" front end, named in the page."""
    return page.status == 200 and "cloud-box" in page.body


DRIVER = Driver(
    name="goldshell",
    web_signature=web_signature,
    make="Goldshell",
    firmware="stock",
    algorithm=None,  # every model mines another coin; the model's facts say which
    port=80,
    endpoints=(
        Http("devs", "/mcb/cgminer?cgicmd=devs", auth=LOGIN),
        Http("pools", "/mcb/cgminer?cgicmd=pools", auth=LOGIN),
        Http("summary", "/mcb/cgminer?cgicmd=summary", auth=LOGIN),
    ),
    identity=(Http("status", "/mcb/status", auth=LOGIN),),
    fields=(
        Field("hashrate_hs", "summary", _total, lambda v: v),
        Field("hashrate_avg_hs", "summary", cgminer.summary("MHS av"), units.mhs_to_hs),
        *cgminer.SUMMARY_COUNTERS,
        Field("model", "status", _model, lambda v: v),
        Field("firmware_version", "status", at("firmware"), units.text),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    required=("devs",),
)
