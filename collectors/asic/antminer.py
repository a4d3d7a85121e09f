"""Bitmain Antminer, stock firmware (bmminer / cgminer), and its two ``stats`` dialects.

RPC ``summary+stats+pools`` in one multi-command each poll; the web CGI
``get_system_info.cgi`` (Digest auth) once per device, for MAC, serial and hostname.

``stats`` comes in two layouts, told apart by the reply itself:
- legacy (bmminer, cgminer 4.x; S9, L3+, S17, S19 before 2022): flat keys numbered per chain,
  ``chain_rateN``, ``chain_acnN``, ``temp2_N``, ``temp_chipN`` "a-b-c-d", ``fanN``;
- new API (2022+ firmware, S19 XP, S21, and Bitmain-like firmwares): ``STATS[0].chain[]``
  with ``rate_real``, ``asic_num``, ``temp_pcb[]``, ``temp_chip[]``, and a ``rate_unit``.
"""

from __future__ import annotations

from typing import Any

from collectors import limits, units
from collectors.asic import cgminer
from collectors.asic.driver import Column, Driver, Field, From, Http, Rows, Rpc, at, first, most, records, rows, section
from collectors.asic.models import first_chain, lookup_model
from collectors.asic.rpcreply import FIRMWARE_MARKERS, names_firmware, version_record

_CHAINS = range(1, 17)  # bmminer numbers chain slots 1..16; an S9 uses 6, 7 and 8


def rpc_signature(replies: dict) -> bool:
    """Stock bmminer/cgminer: VERSION has a BMMiner or CGMiner key and a Type "Antminer ...".

    LuxOS, VNish, Hiveon and others on Antminers answer the same way but add their own name,
    which rules the stock driver out.
    """
    record = version_record(replies)
    if not ({"BMMiner", "CGMiner"} & record.keys()):
        return False
    model = units.text(record.get("Type"))
    return bool(model and model.startswith("Antminer")) and not names_firmware(replies, *FIRMWARE_MARKERS)


def _details(reply: Any) -> dict:
    """The STATS record with the per-chain keys (the first one only names the miner)."""
    found = records(reply, "STATS")
    return found[1] if len(found) > 1 else (found[0] if found else {})


def stats_model(reply: Any) -> str | None:
    """"Antminer S9" from Type, which some firmwares follow with a newline and the board version."""
    name = units.text(section(reply, "STATS").get("Type") or section(reply, "INFO").get("type"))
    return name.split("\n")[0].strip() if name else None


def _unit(reply: Any) -> float:
    """H/s per unit of the stats hashrates: the firmware's ``rate_unit`` where it gives one.

    Without it, bmminer reports "GHS" on every model, but scrypt models (L3+, L7) count MH/s there.
    """
    details = _details(reply)
    stated = units.parse_hash_unit(details.get("rate_unit"))
    if stated is not None:
        return stated
    spec = lookup_model(stats_model(reply))
    return 1e6 if spec is not None and spec.algorithm == "Scrypt" else 1e9


def _rate(*keys: str) -> Any:
    def select(reply: Any) -> float | None:
        details = _details(reply)
        for key in keys:
            value = units.number(details.get(key))
            if value is not None:
                return value * _unit(reply) if value >= 0 else None
        return None

    return select


def _sensor(value: Any) -> float | None:
    """bmminer writes 0 (and garbage like -83) for a sensor that is not there."""
    result = units.temperature_c(value)
    return result if result is not None and result > 0 else None


def _hottest(values: Any) -> float | None:
    """The hottest of a list of sensors, from numbers or bmminer's "78-50-69-70" strings."""
    found = []
    for value in first(values) if isinstance(values, list) else ():
        parts = (value.split("-", limits.MAX_RECORDS) if isinstance(value, str) and "-" in value.strip("-")
                 else [value])
        found.extend(t for t in map(_sensor, parts) if t is not None)
    return max(found) if found else None


def _legacy_chains(reply: Any) -> list[dict]:
    """bmminer's flat keys numbered per chain (``chain_rateN``, ``temp2_N``...), as one record per
    chain it reports a board on, dead ones included.

    bmminer lists all 16 chains and leaves the rate of a chain it did not detect empty (""), so
    a rate of 0.00 is a board that does not hash. Some firmwares write 0.00 (or 0) on the empty
    chains too: where the model is known, the chains past its boards are dropped with the other
    empty connectors (``driver.complete``); where it is not, only a chain that hashes or has chips
    is taken for a board."""
    details = _details(reply)
    if isinstance(details.get("chain"), list):
        return []  # the new API's layout
    known = lookup_model(stats_model(reply)) is not None
    found = []
    for n in _CHAINS:
        rate = units.number(details.get(f"chain_rate{n}"))
        chips = units.integer(details.get(f"chain_acn{n}"))
        detected = rate is not None if known else bool(rate)
        if not detected and not chips and not units.text(details.get(f"chain_acs{n}")):
            continue
        found.append({
            "chain": n, "rate": details.get(f"chain_rate{n}"), "chips": details.get(f"chain_acn{n}"),
            "pcb": [details.get(f"temp_pcb{n}"), details.get(f"temp{n}")],
            "chip": [details.get(f"temp_chip{n}"), details.get(f"temp2_{n}")],
            "freq": [details.get(f"freq_avg{n}"), details.get(f"freq{n}"), details.get("frequency")],
            "hw": details.get(f"chain_hw{n}"),
        })
    return found


def _frequency(values: list[Any]) -> float | None:
    """The first clock of the chain's own average, its setting, and the miner's, that is not 0."""
    for value in values:
        result = units.number(value)
        if result:
            return result
    return None


def _hottest_milli(values: Any) -> float | None:
    """New-API chip temperatures: °C, or m°C strings ("47125") on some firmwares."""
    found = []
    for value in first(values) if isinstance(values, list) else ():
        result = units.number(value)
        if result is not None and result > 1000:
            result /= 1000
        found.append(_sensor(result))
    temps = [t for t in found if t is not None]
    return max(temps) if temps else None


def _frequency_new(value: Any) -> float | None:
    """Some firmwares give the average clock in units of 10 kHz (62000 for 620 MHz)."""
    freq = units.number(value)
    return freq / 100 if freq and freq > 10_000 else freq


_UNIT = From("stats", _unit)

BOARDS = (
    Rows("stats", lambda reply: rows(_details(reply).get("chain")), index="index", columns=(
        Column("hashrate_hs", "rate_real", units.nonnegative, scale=_UNIT),
        Column("chips", "asic_num", units.integer),
        Column("temp_board_c", "temp_pcb", _hottest),
        Column("temp_chip_c", "temp_chip", _hottest_milli),
        Column("frequency_mhz", "freq_avg", _frequency_new),
        Column("hw_errors", "hw", units.counter),
    )),
    Rows("stats", _legacy_chains, index="chain", first=first_chain, columns=(
        Column("hashrate_hs", "rate", units.nonnegative, scale=_UNIT),
        Column("chips", "chips", units.integer),
        Column("temp_board_c", "pcb", _hottest),
        Column("temp_chip_c", "chip", _hottest),
        Column("frequency_mhz", "freq", _frequency),
        Column("hw_errors", "hw", units.counter),
    )),
)


def _fan_speeds(reply: Any) -> list[Any]:
    """The new API's fan list; else the fans that spin, then stopped ones up to ``fan_num`` (whose
    slot bmminer does not say), as many as the model has at most."""
    details = _details(reply)
    if isinstance(details.get("fan"), list):
        return details["fan"]
    spinning = [rpm for n in range(1, 17) if (rpm := units.integer(details.get(f"fan{n}")))]
    expected = units.count(details.get("fan_num"), most(stats_model(reply), "fans", limits.MAX_FANS))
    return spinning + [0] * (expected - len(spinning))


FANS = Rows("stats", _fan_speeds, columns=(Column("rpm", at(), units.integer),))


def firmware_version(info: Any) -> str | None:
    """"FR-1.12(251009-S21)" -> as given; the CGI names the installed image."""
    return units.text(info.get("system_filesystem_version")) if isinstance(info, dict) else None


def _blink(reply: Any) -> bool | None:
    """get_blink_status: {"blink": true} on most, {"code": "B000"} (on) / "B100" (off) on others."""
    if not isinstance(reply, dict):
        return None
    if isinstance(reply.get("blink"), bool):
        return reply["blink"]
    code = reply.get("code")
    return {"B000": True, "B100": False}.get(code) if isinstance(code, str) else None


STATS_FIELDS = (
    Field("model", "stats", stats_model, lambda v: v),
    Field("hashrate_hs", "stats", _rate("GHS 5s", "rate_5s"), lambda v: v),
    Field("hashrate_avg_hs", "stats", _rate("GHS av", "rate_avg", "rate_30m"), lambda v: v),
    Field("hashrate_nominal_hs", "stats", _rate("total_rateideal", "rate_ideal"), lambda v: v or None),
)

WEB_IDENTITY = (
    Field("model", "system_info", at("minertype"), units.text),
    Field("mac", "system_info", at("macaddr"), units.mac),
    Field("serial", "system_info", at("serinum"), units.text),
    Field("hostname", "system_info", at("hostname"), units.text),
    Field("firmware_version", "system_info", firmware_version, lambda v: v),
)

# The locate LED is state, not identity, and one more Digest request on every poll of every
# Antminer would cost more than it tells: the RPC-polled driver leaves it unknown.
FAULT_LIGHT = Field("fault_light", "blink", _blink, lambda v: v)

DRIVER = Driver(
    name="antminer",
    rpc_signature=rpc_signature,
    make="Bitmain",
    firmware="stock",
    endpoints=(Rpc("summary"), Rpc("stats"), Rpc("pools")),
    identity=(Http("system_info", "/cgi-bin/get_system_info.cgi", auth="digest"),),
    fields=(*STATS_FIELDS, *cgminer.SUMMARY_COUNTERS, *WEB_IDENTITY),
    boards=BOARDS,
    fans=FANS,
    pools=cgminer.POOLS,
    required=("stats",),
)
