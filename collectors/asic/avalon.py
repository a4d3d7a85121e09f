"""Canaan AvalonMiner: cgminer 4.11 with Canaan's driver, read only (no ``ascset``).

One poll: ``summary`` (hashrate, shares, uptime), ``stats`` and ``pools``; ``version`` once per
device (PROD, MODEL, MAC). ``stats`` carries the hardware in one string per controller module,
``"MM ID0": "Ver[1246-83-...] Temp[30] TMax[77] Fan1[5344] ... MGHS[26907.01 26025.06 26724.56]
MTmax[77 77 76] PVT_T0[ 63  70 ...] PS[0 1214 1316 242 3189 1320 3504] ECHU[0 0 0] ..."``:
``Name[value]`` fields, where a value may hold spaces, colons and commas but never brackets.
A module may have several hashboards: lists like MGHS and MTmax have one entry per board, and
per-board fields carry the board's number (PVT_T0, PVT_T1...). Older AUC-based rigs report
several modules ("MM ID0", "MM ID1"...); their boards are numbered on across modules.
"""

from __future__ import annotations

import re
from typing import Any

from collectors import limits, units
from collectors.asic import cgminer
from collectors.asic.driver import Column, Driver, Field, Replies, Rows, Rpc, at, records, section
from collectors.asic.rpcreply import as_is, summary_rate, version_record
from collectors.model import ErrorCode

# \b: a name starts where a word does, so a run of a million word characters with no bracket is
# read once, not once per position (which takes hours).
_FIELD = re.compile(r"\b(\w+)\[([^\[\]]*)\]")
_MODULE = re.compile(r"MM ID(\d{1,3})")


def rpc_signature(replies: dict) -> bool:
    """VERSION's PROD names the product: "AvalonMiner 15-194", "AvalonMiner 1246"..."""
    product = units.text(version_record(replies).get("PROD"))
    return bool(product and product.lower().startswith("avalon"))


def parse_mm(text: str) -> dict[str, str]:
    """``"Ver[1246-83] PVT_T0[ 63  70] FACOPTS0[]"`` -> {"Ver": "1246-83", "PVT_T0": " 63  70", "FACOPTS0": ""}."""
    return dict(_FIELD.findall(text)) if isinstance(text, str) else {}


def numbers(value: str | None) -> list[float | None]:
    """The space-separated numbers of a field ("77 78 77", "1.299%"), None for what is not one;
    ``limits.MAX_RECORDS`` at most (the last holds the rest of a longer list, and reads as None)."""
    return [units.number(part.rstrip("%")) for part in (value or "").split(None, limits.MAX_RECORDS)]


def modules(reply: Any) -> list[dict[str, str]]:
    """The parsed ``MM ID<n>`` strings of every STATS record, in module order; no more modules
    than a miner has boards (each has one at least)."""
    found = []
    for record in records(reply, "STATS"):
        for key, value in record.items():
            match = _MODULE.fullmatch(key)
            if match and isinstance(value, str):
                found.append((int(match.group(1)), value))
    found.sort(key=lambda item: item[0])
    return [parse_mm(value) for _, value in found[:limits.MAX_BOARDS]]


def _board_count(fields: dict[str, str]) -> int:
    """Boards of one module: the length of its per-board lists (MGHS, MTmax, ECHU)."""
    return max((len(fields.get(name, "").split(None, limits.MAX_BOARDS)) for name in ("MGHS", "MTmax", "ECHU")),
               default=0)


def _boards_of(reply: Any) -> list[dict]:
    """One record per entry of MGHS: its GH/s, hottest chip (MTmax), and the chip temperatures
    (PVT_T<n>, one entry per chip that reports)."""
    found = []
    for fields in modules(reply):
        rates, hottest = numbers(fields.get("MGHS")), numbers(fields.get("MTmax"))
        for n in range(min(_board_count(fields), limits.MAX_BOARDS - len(found))):
            found.append({"rate": rates[n] if n < len(rates) else None,
                          "hottest": hottest[n] if n < len(hottest) else None, "chips": fields.get(f"PVT_T{n}")})
    return found


def _fan_speeds(reply: Any) -> list[Any]:
    found = []
    for fields in modules(reply):
        n = 1
        while f"Fan{n}" in fields and len(found) < limits.MAX_FANS:
            found.append(fields[f"Fan{n}"])
            n += 1
    return found


BOARDS = Rows("stats", _boards_of, columns=(
    Column("hashrate_hs", "rate", units.ghs_to_hs),
    Column("chips", "chips", lambda temps: len(temps.split()) if isinstance(temps, str) else None),
    Column("temp_chip_c", "hottest", units.temperature_c),
))

FANS = Rows("stats", _fan_speeds, columns=(Column("rpm", at(), units.integer),))


def errors(replies: Replies) -> list[ErrorCode]:
    """ECHU: one error bit mask per hashboard, ECMM: the module's; 0 means no error."""
    found = []
    for fields in modules(replies.get("stats")):
        for n, code in enumerate(numbers(fields.get("ECHU"))):
            if code:
                found.append(ErrorCode(code=str(int(code)), message=f"hashboard {n} reports error {int(code)}"))
        for code in numbers(fields.get("ECMM")):
            if code:
                found.append(ErrorCode(code=str(int(code)), message=f"controller reports error {int(code)}"))
    return found


def _wall_power(reply: Any) -> float | None:
    """WALLPOWER where the firmware gives it, else PS's 7th entry (the same input power).

    0 W while hashing is a failed PSU reading (the 10xx sends PS[0 0 0 0 0 0] with
    POW_I2C[FAILED]), so a zero is absent, not data.
    """
    total = 0.0
    for fields in modules(reply):
        watts = units.number(fields.get("WALLPOWER"))
        if watts is None:
            ps = numbers(fields.get("PS"))
            watts = ps[6] if len(ps) > 6 else None
        if not watts:
            return None
        total += watts
    return total or None


def _hottest(reply: Any) -> float | None:
    temps = [units.temperature_c(fields.get("TMax")) for fields in modules(reply)]
    temps = [t for t in temps if t is not None]
    return max(temps) if temps else None


_MODEL = re.compile(r"(?:avalon\w*\s*)?(\d{4}|\d{2}-\d+)", re.IGNORECASE)


def model_name(value: Any) -> str | None:
    """"AvalonMiner 1246" from "1246-83-21072802_..." (stats' Ver) or "AvalonMiner 1246-83"
    (version's PROD); the 15 series is named by series and hashrate: "AvalonMiner 15-194"."""
    match = _MODEL.match(units.text(value) or "")
    return f"AvalonMiner {match.group(1)}" if match else None


def _version_field(reply: Any) -> str | None:
    found = modules(reply)
    return found[0].get("Ver") if found else None


DRIVER = Driver(
    name="avalon",
    rpc_signature=rpc_signature,
    make="Canaan",
    firmware="stock",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools")),
    identity=(Rpc("version"),),
    fields=(
        Field("hashrate_hs", "summary", summary_rate("1m", "30s", "5s"), as_is),
        Field("hashrate_avg_hs", "summary", summary_rate("av"), as_is),
        # stats' Elapsed first, so that summary's (the same clock) wins where both are polled
        Field("uptime_s", "stats", lambda reply: section(reply, "STATS").get("Elapsed"), units.counter),
        *cgminer.SUMMARY_COUNTERS,
        Field("model", "stats", _version_field, model_name),
        Field("power_w", "stats", _wall_power, as_is),
        Field("temp_max_c", "stats", _hottest, as_is),
        Field("model", "version", lambda reply: section(reply, "VERSION").get("PROD"), model_name),
        Field("mac", "version", lambda reply: section(reply, "VERSION").get("MAC"), units.mac),
        Field("firmware_version", "version", lambda reply: section(reply, "VERSION").get("VERSION"),
              units.text),
    ),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    errors=errors,
    required=("stats",),
)
