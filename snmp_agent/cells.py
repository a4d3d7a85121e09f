"""Values as MINERWATCH-MIB cells: the encoders both responders (the rig's, the commander's) share.

A cell is ``(oid, type, value)`` where ``type`` is the word pass_persist answers with (``integer``,
``gauge``, ``counter``, ``string``). Each encoder takes a value from an untrusted JSON document and
returns ``(type, value)``, or ``None`` for "no cell". The rules, per the MIB:

- a value that was not reported (``None``) or is unusable (a string where a number belongs, a
  boolean, NaN, infinity, a negative gauge or counter) has no cell at all: an NMS sees
  noSuchInstance, never a made-up 0;
- Gauge32 and Unsigned32 (pass_persist calls both ``gauge``) are rounded and capped at 2^32 - 1;
  Integer32 is rounded and clamped to its range;
- hashrates are Gauge32 in the smallest unit (H/s, kH/s, ... PH/s) in which they fit, with the unit
  (MwHashrateUnit: 1 = H/s ... 6 = PH/s) in the column beside them (``HASHRATE``); and again in
  hundredths of a unit fixed by the record's algorithm, whatever the value, with that unit beside
  them (``fixed_hashrate``, MwHashrateHundredths), for an NMS threshold;
- measures in tenths (``MwTenths``) or hundredths (``MwHundredths``) are scaled Integer32;
- counters are Counter32, wrapped modulo 2^32 (pass_persist carries no Counter64);
- TruthValue is true(1) / false(2), from a JSON boolean only;
- text has no control characters (pass_persist is line-based) and at most 255 octets of UTF-8
  (DisplayString).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collectors.mib import BASE, Oid, oid

Row = tuple[Oid, str, int | str]
Encoder = Callable[[Any], tuple[str, int | str] | None]

GAUGE_MAX = 2**32 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
DISPLAY_OCTETS = 255


@dataclass(frozen=True, slots=True)
class Hashrate:
    """The encoder of a hashrate column and of its MwHashrateUnit column (``column + "Unit"``):
    ``scale(record, key)`` gives (Gauge32 value, unit), or None for no cell in either."""

    scale: Callable[[Mapping[str, Any], str], tuple[int, int] | None]


# (MIB column, record key, encoder); a Hashrate fills the column and its Unit column.
Field = tuple[str, str, Encoder | Hashrate]


def number(value: Any) -> float | None:
    """A finite JSON number as a float; None for anything else (a boolean, a string, NaN, null, an
    integer too large for a float)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def gauge(value: Any) -> tuple[str, int] | None:
    found = number(value)
    if found is None or found < 0:
        return None
    return "gauge", min(round(found), GAUGE_MAX)


def integer(value: Any) -> tuple[str, int] | None:
    found = number(value)
    return None if found is None else ("integer", max(INT32_MIN, min(round(found), INT32_MAX)))


def tenths(value: Any) -> tuple[str, int] | None:
    found = number(value)
    return None if found is None else integer(found * 10)


def hundredths(value: Any) -> tuple[str, int] | None:
    found = number(value)
    return None if found is None else integer(found * 100)


def counter(value: Any) -> tuple[str, int] | None:
    found = number(value)
    if found is None or found < 0:
        return None
    return "counter", int(found) % 2**32


def truth(value: Any) -> tuple[str, int] | None:
    """TruthValue: true(1), false(2)."""
    return ("integer", 1 if value else 2) if isinstance(value, bool) else None


def enumeration(numbers: Mapping[str, int]) -> Encoder:
    """An encoder for an INTEGER { name(n), ... }: the number of a known name, no cell for the rest."""
    def encode(value: Any) -> tuple[str, int] | None:
        found = numbers.get(value) if isinstance(value, str) else None
        return None if found is None else ("integer", found)
    return encode


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def display(value: Any) -> tuple[str, str] | None:
    """A DisplayString cell: one line (pass_persist is line-based), 255 octets at most."""
    if isinstance(value, str) and value.isascii() and value.isprintable() and len(value) <= DISPLAY_OCTETS:
        text = value.strip(" ")  # the common case, and a farm has many: no regex, no re-encoding
        return ("string", text) if text else None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = _CONTROL.sub(" ", str(value)).strip()
    if not text:
        return None
    return "string", text.encode("utf-8")[:DISPLAY_OCTETS].decode("utf-8", "ignore")


def hashrate(hs: Any) -> tuple[int, int] | None:
    """(value, MwHashrateUnit) for a hashrate in H/s: the smallest unit in which it fits a Gauge32."""
    found = number(hs)
    if found is None or found < 0:
        return None
    for unit in range(1, 7):
        scaled = round(found / 1000 ** (unit - 1))
        if scaled <= GAUGE_MAX:
            return scaled, unit
    return GAUGE_MAX, 6


HASHRATE = Hashrate(lambda record, key: hashrate(record.get(key)))


def hundredths_of(hs: Any, unit: int) -> tuple[int, int] | None:
    """(value, unit) for a hashrate in H/s as hundredths of MwHashrateUnit ``unit``, whatever the value:
    the unit never changes, so neither does the meaning of a threshold; a Gauge32 latches at its
    maximum, as SMIv2 says a gauge does."""
    found = number(hs)
    if found is None or found < 0:
        return None
    return min(round(found * 100 / 1000 ** (unit - 1)), GAUGE_MAX), unit


def fixed_hashrate(unit_of: Callable[[Any], int]) -> Hashrate:
    """A hashrate in hundredths of the unit ``unit_of`` gives for the record's ``algorithm`` (an
    MwHashrateUnit number): the layouts pass ``collectors.algorithms``' table, which this package may
    not import."""
    return Hashrate(lambda record, key: hundredths_of(record.get(key), unit_of(record.get("algorithm"))))


def cells(fields: Iterable[Field], record: Mapping[str, Any], suffix: Oid, base: Oid = BASE) -> Iterable[Row]:
    """One record's cells, in the order of ``fields``; ``suffix`` is the row's index (``(0,)``: scalars)."""
    for column, key, encode in fields:
        if isinstance(encode, Hashrate):
            scaled = encode.scale(record, key)
            if scaled is not None:
                yield oid(column, base) + suffix, "gauge", scaled[0]
                yield oid(column + "Unit", base) + suffix, "integer", scaled[1]
            continue
        cell = encode(record.get(key))
        if cell is not None:
            yield oid(column, base) + suffix, cell[0], cell[1]


def records(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (a table's rows); anything else in it, or a value not a list, gives none."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def columns(fields: Iterable[Field], indexed: Sequence[tuple[int, Mapping[str, Any]]], base: Oid = BASE) -> list[Row]:
    """A table's cells, column by column: in OID order when ``fields`` are in column order and
    ``indexed``, the rows as (index, record), is sorted by index, so a large table needs no sort."""
    out: list[Row] = []
    for column, key, encode in fields:
        prefix = oid(column, base)
        if isinstance(encode, Hashrate):
            unit_prefix = oid(column + "Unit", base)
            units: list[Row] = []
            for index, record in indexed:
                scaled = encode.scale(record, key)
                if scaled is not None:
                    out.append((prefix + (index,), "gauge", scaled[0]))
                    units.append((unit_prefix + (index,), "integer", scaled[1]))
            out += units
            continue
        for index, record in indexed:
            cell = encode(record.get(key))
            if cell is not None:
                out.append((prefix + (index,), cell[0], cell[1]))
    return out
