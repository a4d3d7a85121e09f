"""Every bound a miner's reply meets: how much work it may make parsing do, and what a value may be.

A reply is never trusted (a firmware bug, a flipped bit, or a device that attacks its monitor), and
one device must never blind the farm: parsing never loops over a number the device chose, never
builds more objects than a miner has parts, and no value leaves a driver that a store, a sum or a
JSON reader cannot hold. Those bounds are here, in one place, each with the reason for its figure.

``enforce`` is the snapshot's boundary: every driver's snapshot goes through it, so whatever a
driver computed from whatever a device sent, the snapshot holds values of the right type, finite,
within their range, and lists no longer than a miner's parts; what was dropped is named in
``dropped_fields``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from collectors.model import Board, ErrorCode, Fan, MinerSnapshot, Pool

# --- counts: how many of a thing parsing builds, whatever number the device sends -------------

MAX_BOARDS = 16  # bmminer numbers chain slots 1..16; the most any model has is 6 (Innosilicon A10 Pro)
MAX_FANS = 16  # the most any model has is 4; a rack controller may report a few more
MAX_POOLS = 32  # stock firmwares take 3, cgminer forks a handful more
MAX_ERROR_CODES = 64  # a Whatsminer lists a few at once; beyond 64 a list says nothing more to anyone
# Items read from any one list of a reply (a section's records, a chain list, a module's
# fields): above every cap of the snapshot, so no real list is cut, and a reply of a million
# empty records costs 64 objects, not a million.
MAX_RECORDS = 64

# --- values: what a field of the snapshot may hold; anything else is dropped to None ----------

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # the store's integer columns
MAX_HASHRATE_HS = 1e21  # a zettahash: the whole Bitcoin network runs below it
MAX_POWER_W = 1e6  # a megawatt: the hungriest miner (hydro-cooled) draws about 10 kW
MAX_FREQUENCY_MHZ = 1e4  # ASIC clocks run at 100 to 1,000 MHz
MAX_RPM = 100_000  # the fastest fans spin at about 30,000 rpm (the store keeps rpm in 32 bits)
MAX_CHIPS = 1024  # per board: the most any model has is 255 (M30S++)
MAX_INDEX = 255  # firmwares number slots, fans and pools from 0 or 1; beyond 255 is not a slot
TEMP_MIN_C, TEMP_MAX_C = -50.0, 200.0  # beyond: an absent sensor's placeholder (-273, 255), not a reading
MAX_TEXT = 256  # characters: a model, serial, URL or message is a line, and regexes read it in time

_NUMBERS: dict[str, tuple[type, float, float]] = {
    **dict.fromkeys(("hashrate_hs", "hashrate_avg_hs", "hashrate_nominal_hs"), (float, 0.0, MAX_HASHRATE_HS)),
    **dict.fromkeys(("power_w", "power_limit_w"), (float, 0.0, MAX_POWER_W)),
    **dict.fromkeys(("temp_max_c", "temp_board_c", "temp_chip_c"), (float, TEMP_MIN_C, TEMP_MAX_C)),
    "efficiency_jth": (float, 0.0, sys.float_info.max),
    "frequency_mhz": (float, 0.0, MAX_FREQUENCY_MHZ),
    **dict.fromkeys(("uptime_s", "accepted", "rejected", "stale", "hw_errors"), (int, 0, INT64_MAX)),
    **dict.fromkeys(("chips", "chips_expected"), (int, 0, MAX_CHIPS)),
    "rpm": (int, 0, MAX_RPM),
}
_TEXTS = frozenset(("make", "model", "firmware", "firmware_version", "algorithm", "mac", "serial", "hostname",
                    "url", "user", "status", "message"))
_FLAGS = frozenset(("fault_light", "active"))

_DROP = object()  # what a check returns for a value the field cannot hold


def _number(kind: type, low: float, high: float) -> Callable[[Any], Any]:
    # Every bound is finite, so NaN and the infinities fail the comparisons.
    def check(value: Any) -> Any:
        if type(value) is kind:  # the usual case first: it runs for every value of every poll
            return value if low <= value <= high else _DROP
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _DROP
        if isinstance(value, float):  # a whole float in an integer field
            return int(value) if value.is_integer() and low <= value <= high else _DROP
        # An integer in a float field, compared first: float() of a 400-digit integer raises.
        return float(value) if low <= value <= high else _DROP

    return check


def _text(value: Any) -> Any:
    return value[:MAX_TEXT] if type(value) is str else _DROP


def _flag(value: Any) -> Any:
    return value if type(value) is bool else _DROP


_CHECKS: dict[str, Callable[[Any], Any]] = {
    **{name: _number(*bound) for name, bound in _NUMBERS.items()},
    **dict.fromkeys(_TEXTS, _text), **dict.fromkeys(_FLAGS, _flag),
}


def check(name: str, value: Any) -> Any:
    """``value`` as field ``name`` may hold it, or None."""
    result = None if value is None else _CHECKS[name](value)
    return None if result is _DROP else result


def _checks(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    return tuple((f.name, _CHECKS[f.name]) for f in fields(cls) if f.name in _CHECKS)


_RECORDS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {
    cls: _checks(cls) for cls in (MinerSnapshot, Board, Fan, Pool, ErrorCode)}
_LISTS = (("boards", Board, MAX_BOARDS), ("fans", Fan, MAX_FANS), ("pools", Pool, MAX_POOLS),
          ("errors", ErrorCode, MAX_ERROR_CODES))


def _clean(record: Any, prefix: str, dropped: list[str]) -> None:
    for name, check_ in _RECORDS[type(record)]:
        value = getattr(record, name)
        if value is None:  # "the device did not say" is always within bounds
            continue
        result = check_(value)
        if result is _DROP:
            setattr(record, name, None)
            dropped.append(prefix + name)
        elif result is not value:
            setattr(record, name, result)


def _kept(item: Any, cls: type) -> bool:
    """Whether a board, fan, pool or error code can be listed at all: its key is sound."""
    if type(item) is not cls:
        return False
    if cls is ErrorCode:
        return isinstance(item.code, str) and bool(item.code)
    index = item.index
    return isinstance(index, int) and not isinstance(index, bool) and 0 <= index <= MAX_INDEX


def enforce(snap: MinerSnapshot) -> None:
    """Bring every value of ``snap`` within its bounds, in place; name what was dropped."""
    dropped = snap.dropped_fields
    _clean(snap, "", dropped)
    for name, cls, most in _LISTS:
        items = getattr(snap, name)
        if not isinstance(items, list):
            setattr(snap, name, [])
            dropped.append(name)
            continue
        kept = [item for item in items[:most] if _kept(item, cls)]
        if len(kept) < len(items):
            dropped.append(name)
        if cls is ErrorCode:
            for item in kept:
                item.code = item.code[:MAX_TEXT]
        for item in kept:
            _clean(item, f"{name}.", dropped)
        setattr(snap, name, kept)
