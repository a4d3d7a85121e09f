"""Figures scaled for people, as template filters: the API keeps base units (H/s, W), the pages
show TH/s and kW. A figure nobody reported shows as a dash, never as 0."""

from __future__ import annotations

from flask import Flask

DASH = "–"
_HASH_PREFIXES = ("", "k", "M", "G", "T", "P", "E", "Z")


def _digits(value: float) -> str:
    """Three significant figures or so: 1.23, 12.3, 123."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def hashrate(hs: float | None) -> str:
    if hs is None:
        return DASH
    scaled, prefix = float(hs), 0
    while abs(scaled) >= 1000 and prefix < len(_HASH_PREFIXES) - 1:
        scaled, prefix = scaled / 1000, prefix + 1
    return f"{_digits(scaled)} {_HASH_PREFIXES[prefix]}H/s"


def power(w: float | None) -> str:
    if w is None:
        return DASH
    if abs(w) >= 1e6:
        return f"{_digits(w / 1e6)} MW"
    return f"{_digits(w / 1e3)} kW" if abs(w) >= 1000 else f"{w:.0f} W"


def number(value: float | None, decimals: int = 0, unit: str = "") -> str:
    if value is None:
        return DASH
    return f"{value:,.{decimals}f}{unit}"


def register(app: Flask) -> None:
    app.add_template_filter(hashrate)
    app.add_template_filter(power)
    app.add_template_filter(number)
