"""A CSV of where miners stand, read for the farm map's import: one line per miner, found by its
``key`` or its ``ip``, with ``site``, ``rack`` and ``location`` (``appliance.placement`` says how
they read; an empty or absent site keeps the miner's own, an empty rack or location clears it).

Nothing here changes anything: ``read`` checks every line against the inventory and the
configured sites, and the page records each good line as a ``place`` change for the commander
(``web.changes``), which applies it to the inventory on its next intake.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from appliance.config import Site
from appliance.inventory import Place
from appliance.placement import Spot, spot

COLUMNS = ("key", "ip", "site", "rack", "location")


@dataclass(frozen=True)
class Move:
    """One line that can be applied: the device and where it goes."""

    line: int
    key: str
    ip: str | None
    site: str
    rack: str | None
    location: str | None
    before: str  # where it stands now, "site/rack/location"


def read(text: str, places: Mapping[str, Place], sites: Mapping[str, Site]) -> tuple[list[Move], list[str]]:
    """The lines that can be applied, and one sentence for each that cannot (with its line number).
    ``sites``: every site a device may be in, by name (the default site included)."""
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # a spreadsheet's UTF-8 byte order mark
    header = [name.strip().lower() for name in rows.fieldnames or []]
    if "key" not in header and "ip" not in header:
        return [], ["line 1: the header must name a key or an ip column (and site, rack, location)"]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}"]
    rows.fieldnames = header
    by_ip = {place.ip: key for key, place in places.items() if place.ip}
    moves, problems, seen = [], [], {}
    for row in rows:
        line = rows.line_num
        fields = {name: (value or "").strip() for name, value in row.items() if name is not None}
        key = fields.get("key") or by_ip.get(fields.get("ip", ""))
        if not key or key not in places:
            problems.append(f"line {line}: no miner has the {'key' if fields.get('key') else 'address'} "
                            f"{fields.get('key') or fields.get('ip') or '(empty)'}")
            continue
        place = places[key]
        site = fields.get("site") or place.site
        rack, location = fields.get("rack") or None, fields.get("location") or None
        if (wrong := _wrong(place, site, rack, location, sites)) is not None:
            problems.append(f"line {line}: {place.ip or key}: {wrong}")
        elif key in seen:
            problems.append(f"line {line}: {place.ip or key} is placed on line {seen[key]} already")
        else:
            seen[key] = line
            moves.append(Move(line, key, place.ip, site, rack, location,
                              "/".join(part or "-" for part in (place.site, place.rack, place.location))))
    return moves, problems


def _wrong(place: Place, site: str, rack: str | None, location: str | None, sites: Mapping[str, Site]) -> str | None:
    if place.source == "configured":
        return "it is listed in the configuration, which sets its place: change it there"
    if site not in sites:
        return f"unknown site {site!r}: one of {', '.join(sorted(sites))}"
    if rack is not None and sites[site].racks and rack not in sites[site].racks:
        return f"rack {rack!r} is not one of site {site!r}'s racks ({', '.join(sites[site].racks)})"
    if location is not None and spot(location) == Spot():
        return f"location {location!r} is neither R<row>-C<column> (R3-C5) nor a slot number"
    return None
