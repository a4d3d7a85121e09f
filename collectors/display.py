"""What a person reads of a poll or a scan: the tables that ``minerwatch poll`` and ``scan`` print, and
that ``minerwatch demo`` prints each cycle."""

from __future__ import annotations

from collectors import algorithms
from collectors.asic import DRIVERS
from collectors.identify import Identity
from collectors.model import MinerSnapshot


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])


def poll_table(snapshots: list[MinerSnapshot]) -> str:
    """A row per miner, a line per warning (a login refused), and how many answered."""
    rows = []
    for s in snapshots:
        if not s.reachable:
            rows.append([s.ip, "-", "-", "-", "-", "-", "-", "-", "-", s.error or "unreachable"])
            continue
        chips = [b.chips for b in s.boards if b.chips is not None]
        pool = next((p.url for p in s.pools if p.active), s.pools[0].url if s.pools else None)
        rows.append([
            s.ip, s.make or "?", s.model or "?", s.firmware or "?", algorithms.canonical(s.algorithm) or "?",
            algorithms.text(s.hashrate_hs, s.algorithm),
            f"{s.temp_max_c:.0f}°C" if s.temp_max_c is not None else "-",
            "/".join(str(f.rpm) for f in s.fans) or "-",
            f"{len(s.boards)} ({sum(chips)} chips)" if chips else str(len(s.boards)),
            pool or "-",
        ])
    up = sum(1 for s in snapshots if s.reachable)
    table = _table(["IP", "MAKE", "MODEL", "FIRMWARE", "ALGORITHM", "HASHRATE", "TEMP", "FANS RPM", "BOARDS",
                    "POOL / ERROR"], rows)
    warnings = "".join(f"warning: {warning}\n" for s in snapshots for warning in s.warnings)
    return f"{table}\n{warnings}{up} of {len(snapshots)} miners answered"


def scan_table(found: list[Identity], scanned: int) -> str:
    rows = [[i.ip, str(i.port or "-"), (DRIVERS[i.driver].make or "-") if i.driver else "-",
             DRIVERS[i.driver].firmware if i.driver else "unknown", i.driver or "-",
             i.evidence if i.driver else (i.error or "")] for i in found]
    known = sum(1 for i in found if i.driver)
    table = _table(["IP", "PORT", "MAKE", "FIRMWARE", "DRIVER", "EVIDENCE"], rows)
    return f"{table}\n{known} miners found ({len(found) - known} unknown devices) in {scanned} addresses"


def silent_line(ips: list[str], checked: int, why: str, listed: bool) -> str:
    """One line for the addresses where nothing listens (``why``): named when they are few, else
    counted, with how to list them."""
    line = f"{len(ips):,} of {checked:,} addresses silent ({why})"
    if listed:
        return line
    return f"{line}: {', '.join(ips)}" if len(ips) <= 5 else f"{line}; --all lists them"
