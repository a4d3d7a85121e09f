"""Reading the parts of cgminer-style replies that several drivers and their signatures need.

The identifier sends ``version`` first and ``devdetails`` only when no driver claimed the
device; each driver's ``rpc_signature`` reads those two replies with the helpers here.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.asic.driver import section

# Words by which firmwares built on cgminer name themselves in ``version`` (a VERSION key,
# or STATUS's Description): a device showing one of them is not running stock bmminer.
FIRMWARE_MARKERS = ("bosminer", "boser", "luxminer", "vnish", "hiveon", "bdminer", "gcminer",
                    "whatsminer", "btminer", "epic")

_RATE_PREFIXES = (("THS", "th"), ("GHS", "gh"), ("MHS", "mh"), ("KHS", "kh"))


def version_record(replies: dict) -> dict:
    """The first VERSION record of the ``version`` reply, or {}."""
    return section(replies.get("version"), "VERSION")


def status_words(reply: Any) -> str:
    """STATUS's Msg and Description, lower-cased; STATUS may be a list, a record or a string.

    Whatsminer answers ``version`` with a bare record (``"STATUS":"E"`` beside ``"Msg"`` and
    ``"Description"`` at the top level), so the top level is read as well.
    """
    if not isinstance(reply, dict):
        return ""
    status = reply.get("STATUS")
    found = [section(reply, "STATUS"), reply if not isinstance(status, (list, dict)) else {}]
    words = []
    for record in found:
        for key in ("Msg", "Description"):
            value = record.get(key)
            if isinstance(value, dict):
                words.extend(str(v) for v in value.values())
            elif value is not None:
                words.append(str(value))
    return " ".join(words).lower()


def names_firmware(replies: dict, *markers: str) -> bool:
    """Whether ``version`` names one of ``markers`` in a VERSION key or value, or in STATUS."""
    record = version_record(replies)
    text = " ".join(f"{key} {value}" for key, value in record.items()).lower()
    text += " " + status_words(replies.get("version"))
    return any(marker in text for marker in markers)


def rate(record: dict, *windows: str) -> float | None:
    """H/s from the first of ``windows`` ("1m", "5s", "av") the record has under any unit.

    cgminer forks name the unit in the key: "GHS 5s" on bmminer, "MHS 1m" on btminer and
    BOSminer, "MHS 5s" on scrypt forks. A window whose value is absent or not a number
    (Avalon's ``nan`` before its first share) gives way to the next.
    """
    for window in windows:
        for prefix, unit in _RATE_PREFIXES:
            value = units.hashrate(record.get(f"{prefix} {window}"), unit)
            if value is not None:
                return value
    return None


def summary_rate(*windows: str) -> Any:
    """A selector for the ``summary`` reply's hashrate, in H/s, from the first window it has."""
    return lambda reply: rate(section(reply, "SUMMARY"), *windows)


def as_is(value: Any) -> Any:
    """The convert of a row whose selector already returns the snapshot's unit."""
    return value
