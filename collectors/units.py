"""Named conversions from what firmwares send to the snapshot's SI units.

Every helper takes whatever the device sent (number, numeric string, "", "N/A", "nan",
None, a list, a 400-digit integer, ...) and returns a clean value or ``None``. A number no float
or 64-bit integer holds (``10**400``, ``1e305`` GH/s in H/s) is ``None`` as "inf" is: the device
said nothing we can hold. Values that a type holds but that cannot be true (a hashrate of a
zettahash) are judged at the snapshot's boundary, ``collectors.limits.enforce``, which names
them. A real zero stays zero.
"""

from __future__ import annotations

import math
import re
from typing import Any

from collectors.limits import INT64_MAX, INT64_MIN, MAX_TEXT, TEMP_MAX_C, TEMP_MIN_C

_MISSING = {"", "n/a", "na", "nan", "-nan", "inf", "-inf", "+inf", "none", "null", "-"}

# H/s per unit, keyed by the unit as firmwares spell it (lower-cased, without "/s").
HASH_UNITS = {
    "h": 1.0, "kh": 1e3, "mh": 1e6, "gh": 1e9, "th": 1e12, "ph": 1e15,
    "hs": 1.0, "khs": 1e3, "mhs": 1e6, "ghs": 1e9, "ths": 1e12, "phs": 1e15,
}


def dig(value: Any, *path: str | int) -> Any:
    """``value[path[0]][path[1]]...`` of a decoded reply, or None where a step is missing or of the
    wrong type (a key into a list, an index past the end): replies are never trusted to have a shape."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def number(value: object) -> float | None:
    """A finite float, or None for anything that is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            result = float(value)
        except OverflowError:  # an integer beyond any float
            return None
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in _MISSING:
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: object) -> int | None:
    """A whole number (counters, chips, rpm) that a 64-bit integer holds, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        result = value  # exact: through a float, a large counter would lose its last digits
    else:
        as_float = number(value)
        if as_float is None:
            return None
        result = int(as_float)
    return result if INT64_MIN <= result <= INT64_MAX else None


def count(value: object, most: int) -> int:
    """How many of something the device says it has (boards, fans, error codes), as a loop may
    use it: 0 to ``most``, whatever it sent (1e11, a negative, "nan")."""
    result = number(value)
    return 0 if result is None or result <= 0 else int(min(result, most))


def counter(value: object) -> int | None:
    """A counter that only grows: a negative value is a firmware defect, not data."""
    result = integer(value)
    return None if result is None or result < 0 else result


def temperature_c(value: object) -> float | None:
    """°C; the placeholders firmwares use for an absent sensor (-273, 0 on some, 255) are None."""
    result = number(value)
    if result is None or not TEMP_MIN_C < result < TEMP_MAX_C:
        return None
    return result


def text(value: object) -> str | None:
    """A stripped string, or None for empty and placeholder values."""
    if value is None or isinstance(value, (dict, list)):
        return None
    result = str(value).strip().strip("'\"").strip()[:MAX_TEXT]
    return result if result and result.lower() not in _MISSING else None


def flag(value: object) -> bool | None:
    """A yes/no the device gives as a JSON boolean or as the text "true"/"false", else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def hashrate(value: object, unit: str) -> float | None:
    """H/s from a value in ``unit`` ("GH/s", "MHS", "th", ...)."""
    result = number(value)
    if result is None or result < 0:
        return None
    result *= HASH_UNITS[unit.lower().replace("/", "").replace(" ", "")]
    return result if math.isfinite(result) else None


def nonnegative(value: object) -> float | None:
    """A number that cannot be below 0 (a rate, in a unit the reply gives elsewhere), or None."""
    result = number(value)
    return None if result is None or result < 0 else result


def nonzero(value: object) -> float | None:
    """A number where the firmware writes 0 for "none" (a clock it did not measure), or None."""
    return number(value) or None


def khs_to_hs(value: object) -> float | None:
    return hashrate(value, "kh")


def mhs_to_hs(value: object) -> float | None:
    return hashrate(value, "mh")


def ghs_to_hs(value: object) -> float | None:
    return hashrate(value, "gh")


def ths_to_hs(value: object) -> float | None:
    return hashrate(value, "th")


def parse_hash_unit(unit: object) -> float | None:
    """H/s per unit for a unit string a firmware reports ("GH/s", "MH/s"), or None if unknown."""
    if not isinstance(unit, str):
        return None
    return HASH_UNITS.get(unit.strip().lower().replace("/", "").replace(" ", ""))


_MAC_HEX = re.compile(r"[0-9A-Fa-f]{2}")


def mac(value: object) -> str | None:
    """"AA:BB:CC:DD:EE:FF" from any common spelling, or None (a blank EEPROM's all zeros or all ones
    is no address: as an identity it would make every such miner one device)."""
    raw = text(value)
    if raw is None:
        return None
    digits = re.sub(r"[^0-9A-Fa-f]", "", raw)
    if len(digits) != 12 or digits.upper() in ("000000000000", "FFFFFFFFFFFF"):
        return None
    return ":".join(_MAC_HEX.findall(digits.upper()))


def efficiency_jth(power_w: float | None, hashrate_hs: float | None) -> float | None:
    """J/TH from power and hashrate, when both are known and the miner hashes."""
    if power_w is None or not hashrate_hs:
        return None
    result = power_w * 1e12 / hashrate_hs  # not / (h / 1e12): a tiny hashrate would divide by 0
    return round(result, 2) if math.isfinite(result) else None
