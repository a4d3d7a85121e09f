"""Figures scaled for people, as template filters: stored values and the API keep base units (H/s,
W, s, Unix s); the pages show TH/s, kW, "3 h 20 min". A figure nobody reported (or one no float
holds) shows as a dash, never as 0."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from flask import Flask

DASH = "–"
_HASH_PREFIXES = ("", "k", "M", "G", "T", "P", "E", "Z")


def _known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def _digits(value: float) -> str:
    """Three significant figures or so: 1.23, 12.3, 123."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def hashrate(hs: float | None) -> str:
    if not _known(hs):
        return DASH
    scaled, prefix = float(hs), 0
    while abs(scaled) >= 1000 and prefix < len(_HASH_PREFIXES) - 1:
        scaled, prefix = scaled / 1000, prefix + 1
    return f"{_digits(scaled)} {_HASH_PREFIXES[prefix]}H/s"


def power(w: float | None) -> str:
    if not _known(w):
        return DASH
    if abs(w) >= 1e6:
        return f"{_digits(w / 1e6)} MW"
    return f"{_digits(w / 1e3)} kW" if abs(w) >= 1000 else f"{w:.0f} W"


def number(value: float | None, decimals: int = 0, unit: str = "") -> str:
    return f"{value:,.{decimals}f}{unit}" if _known(value) else DASH


def duration(seconds: float | None) -> str:
    if not _known(seconds):
        return DASH
    minutes = int(seconds) // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    return f"{days} d {hours} h" if days else f"{hours} h {mins} min" if hours else f"{mins} min"


def when(unix_s: float | None) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if _known(unix_s) else DASH


def percent_of(value: float | None, whole: float | None) -> str:
    return f"{value / whole:.0%}" if _known(value) and whole else DASH


def register(app: Flask) -> None:
    for filter_ in (hashrate, power, number, duration, when, percent_of):
        app.add_template_filter(filter_)
