"""Bitmain-like web firmwares: Elphapex (DG1+, DG Home) and blackMiner (Hammer, VolcMiner).

They serve Bitmain's CGI on port 80 behind HTTP Digest, in the layout of Bitmain's 2022+ "new API":
``/cgi-bin/stats.cgi`` (``STATUS`` object, ``INFO``, ``STATS[0].chain[]`` with ``rate_real``,
``asic_num``, ``temp_pcb[]``, ``temp_chip[]`` as m°C strings, "" for an absent sensor, and a
``rate_unit``: "MH/s" on these scrypt miners), ``summary.cgi`` (``SUMMARY[0]`` with ``rate_5s``,
``elapsed`` and a ``status[]`` health list), ``pools.cgi`` (``POOLS[]`` with lower-case keys), and,
once per device, ``get_system_info.cgi`` and ``get_blink_status.cgi`` as stock Antminers do.
Boards, fans and the identity rows are ``collectors.asic.antminer``'s, unchanged.

Hammer and VolcMiner run the same blackMiner firmware and answer ``/`` with the same Digest realm;
nothing without a login tells them apart, so one driver serves both and the model tells the make.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from collectors import units
from collectors.asic import antminer
from collectors.asic.driver import Column, Driver, Field, Http, Replies, Rows, records_in, rows, section, words
from collectors.model import ErrorCode

if TYPE_CHECKING:
    from collectors.transport.http import WebPage


def _summary_rate(*keys: str, zero_counts: bool = False) -> Any:
    """The first of ``keys`` in the summary with a value, in H/s by the reply's own ``rate_unit``.

    A 0 in the averages means "not computed yet" (``rate_30m`` in a miner's first half hour);
    only the current rate's 0 is a real zero (``zero_counts``).
    """

    def select(reply: Any) -> float | None:
        record = section(reply, "SUMMARY")
        unit = units.parse_hash_unit(record.get("rate_unit"))
        for key in keys:
            value = units.number(record.get(key))
            if unit is not None and value is not None and (value > 0 or zero_counts and value == 0):
                return value * unit
        return None

    return select


def _dev_sn(reply: Any) -> Any:
    return section(reply, "INFO").get("dev_sn")


POOLS = Rows("pools", records_in("POOLS"), index="index", columns=(
    Column("url", "url", units.text),
    Column("user", "user", units.text),
    Column("status", "status", words({"unreachable": "dead"})),
    Column("accepted", "accepted", units.counter),
    Column("rejected", "rejected", units.counter),
    Column("stale", "stale", units.counter),
))


def errors(replies: Replies) -> list[ErrorCode]:
    """The summary's health list: every check whose status is not "s" (success)."""
    found = []
    for check in rows(section(replies.get("summary"), "SUMMARY").get("status")):
        state = units.text(check.get("status"))
        if state is None or state.lower() == "s":
            continue
        kind = units.text(check.get("type")) or "status"
        code = units.text(check.get("code"))
        found.append(ErrorCode(code=f"{kind}:{code}" if code else kind,
                               message=units.text(check.get("msg")) or f"{kind} check: {state}"))
    return found


def elphapex_signature(page: WebPage) -> bool:
    """Elphapex's lighttpd asks for Digest in realm "Daoge Miner" (Daoge: the brand's origin)."""
    return page.status == 401 and (page.realm or "").startswith("Daoge")


def blackminer_signature(page: WebPage) -> bool:
    """Hammer and VolcMiner ask for Digest in realm "blackMiner Configuration"."""
    return page.status == 401 and (page.realm or "").startswith("blackMiner")


def _table(name: str, make: str | None, web_signature: Callable[[WebPage], bool]) -> Driver:
    return Driver(
        name=name,
        make=make,
        web_signature=web_signature,
        firmware="stock",
        algorithm=None,  # scrypt on every model so far; the model's facts say it
        port=80,
        endpoints=(
            Http("stats", "/cgi-bin/stats.cgi", auth="digest"),
            Http("summary", "/cgi-bin/summary.cgi", auth="digest"),
            Http("pools", "/cgi-bin/pools.cgi", auth="digest"),
            Http("blink", "/cgi-bin/get_blink_status.cgi", auth="digest"),
        ),
        identity=(Http("system_info", "/cgi-bin/get_system_info.cgi", auth="digest"),),
        fields=(
            Field("model", "stats", antminer.stats_model, lambda v: v),
            Field("hashrate_hs", "summary", _summary_rate("rate_5s", zero_counts=True), lambda v: v),
            Field("hashrate_avg_hs", "summary", _summary_rate("rate_avg", "rate_30m", "rate_15m"), lambda v: v),
            Field("hashrate_nominal_hs", "summary", _summary_rate("rate_ideal"), lambda v: v),
            Field("uptime_s", "summary", lambda r: section(r, "SUMMARY").get("elapsed"), units.counter),
            Field("serial", "stats", _dev_sn, units.text),
            *antminer.WEB_IDENTITY,  # model, MAC, serial, hostname, version from the CGI
            antminer.FAULT_LIGHT,
        ),
        boards=antminer.BOARDS,
        fans=antminer.FANS,
        pools=POOLS,
        errors=errors,
        required=("summary",),
    )


ELPHAPEX = _table("elphapex", "Elphapex", elphapex_signature)
BLACKMINER = _table("blackminer", None, blackminer_signature)
