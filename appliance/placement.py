"""Where a device stands on the farm map: site -> room (or container) -> rack -> row and column.

A device's place is written in the inventory's ``rack`` and ``location`` (from [[miners]], or set
through the web); these say how the map reads them:

- ``rack``: ``"ROOM/RACK"`` where the site has rooms or containers (``"C2/R07"``), else ``"RACK"``.
- ``location``: ``"R<row>-C<column>"`` (``"R3-C5"``: the third shelf from the top, fifth from the
  left; also ``"r3c5"``), or a bare slot number (``"17"``: the rack's 17th place, drawn in order).
  Any other text is kept and shown, and the device is drawn after the rack's placed ones.

A device the configuration and the web leave without a rack may be placed by its site's rule
([[sites]] ``place_by``), a pattern matched against its address or its host name:
``"ip:10.1.{rack}.{slot}"`` puts 10.1.3.17 in rack 3, slot 17; ``"host:{room}-r{rack}-s{row}-{column}"``
puts c2-r07-s3-4 in room c2, rack 07, row 3, column 4. {row}, {column} and {slot} take digits;
{room} and {rack} letters, digits and "_".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

FIELDS = {"room": r"[A-Za-z0-9_]+", "rack": r"[A-Za-z0-9_]+", "row": r"\d+", "column": r"\d+", "slot": r"\d+"}
SOURCES = ("ip", "host")
_FIELD = re.compile(r"\{([^{}]*)\}")
_GRID = re.compile(r"\s*r(\d+)\s*-?\s*c(\d+)\s*", re.IGNORECASE)
_SLOT = re.compile(r"\s*(\d+)\s*")


@dataclass(frozen=True)
class Spot:
    """A device's place within its rack; all None: somewhere in it, nobody said where."""

    row: int | None = None
    column: int | None = None
    slot: int | None = None


@functools.lru_cache(maxsize=4096)  # a farm has few distinct locations, and a map reads 10,000
def spot(location: str | None) -> Spot:
    if location is None:
        return Spot()
    if grid := _GRID.fullmatch(location):
        return Spot(row=int(grid[1]), column=int(grid[2]))
    if slot := _SLOT.fullmatch(location):
        return Spot(slot=int(slot[1]))
    return Spot()


def room_and_rack(rack: str) -> tuple[str | None, str]:
    """``"C2/R07"`` -> ("C2", "R07"); ``"R07"`` -> (None, "R07")."""
    room, _, name = rack.rpartition("/")
    return room or None, name


@dataclass(frozen=True)
class PlaceRule:
    """A site's ``place_by``: which of a device's names it reads, and the pattern, compiled."""

    text: str
    source: str  # "ip" or "host"
    pattern: re.Pattern[str]

    def place(self, ip: str | None, hostname: str | None) -> tuple[str, str] | None:
        """(rack as the inventory writes it, location) for a device, or None when the rule does not match it."""
        found = self.pattern.fullmatch((ip if self.source == "ip" else hostname) or "")
        if found is None:
            return None
        values = found.groupdict()
        rack = values["rack"] if values.get("room") is None else f"{values['room']}/{values['rack']}"
        if values.get("row") is not None:
            return rack, f"R{int(values['row'])}-C{int(values['column'])}"
        return rack, str(int(values["slot"])) if values.get("slot") is not None else None


def place_rule(text: str) -> PlaceRule:
    """The rule ``text`` says; ValueError with what is wrong in one sentence."""
    source, colon, pattern = text.partition(":")
    if not colon or source not in SOURCES:
        raise ValueError('"ip:" or "host:" and a pattern ("ip:10.1.{rack}.{slot}")')
    names = _FIELD.findall(pattern)
    unknown = [name for name in names if name not in FIELDS]
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"a pattern whose fields are each one of {{{'}, {'.join(FIELDS)}}} at most once")
    if "rack" not in names or ("row" in names) != ("column" in names) or ("slot" in names and "row" in names):
        raise ValueError("a pattern with {rack}, and {slot} or both {row} and {column} (or neither)")
    regex = "".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>{FIELDS[part]})"
                    for n, part in enumerate(_FIELD.split(pattern)))
    return PlaceRule(text, source, re.compile(regex, re.ASCII))
