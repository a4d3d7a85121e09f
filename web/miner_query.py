"""The miner list's filters as a URL's query string, both ways: the API, the page, its table
fragment and the CSV export read the same parameters, so a link reproduces what it showed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from web.farm_view import SORTABLE, STATUSES, Query

MAX_PER_PAGE = 1000
TEXT = ("site", "rack", "tag", "make", "model", "firmware", "q")
FILTERS = (*TEXT, "status", "alerting")  # what selects miners, without order or page


class BadQuery(ValueError):
    """A parameter out of its range; the message is the sentence for the client."""


def _number(args: Mapping[str, str], name: str, default: int, most: int) -> int:
    text = args.get(name)
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise BadQuery(f"{name} must be a whole number from 1 to {most}, not {text!r}")
    return int(text)


def parse(args: Mapping[str, str], per_page: int = 50) -> Query:
    """The Query of ``?site=&rack=&tag=&make=&model=&firmware=&status=&alerting=&q=&sort=&page=&per_page=``."""
    sort = args.get("sort") or "ip"
    if sort.lstrip("-") not in SORTABLE:
        raise BadQuery(f"sort must be one of {', '.join(SORTABLE)} (with - before it for descending), not {sort!r}")
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadQuery(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    alerting = args.get("alerting") or None
    if alerting not in (None, "yes", "no"):
        raise BadQuery(f"alerting must be yes or no, not {alerting!r}")
    return Query(**{name: args.get(name) or None for name in TEXT}, status=status,
                 alerting=None if alerting is None else alerting == "yes", sort=sort,
                 page=_number(args, "page", 1, 10**6), per_page=_number(args, "per_page", per_page, MAX_PER_PAGE))


def args_of(query: Query, **changes: object) -> dict[str, str]:
    """``query`` (with ``changes``) as query-string parameters, leaving out what is the default."""
    values = {f.name: getattr(query, f.name) for f in fields(query)} | changes
    default = Query()
    out = {}
    for name, value in values.items():
        if value is None or value == getattr(default, name):
            continue
        out[name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return out
