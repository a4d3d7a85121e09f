"""``minerwatch-sentry show``: the rig as a person at its console reads it.

Host, CPU, one row per GPU by bus id, one line per program, then a line for every source that is
not there (no NVIDIA driver, a program whose port answers nothing) and every fault. Only here are
hashrates scaled (kH/s, MH/s ...); the snapshot keeps H/s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from collectors.model import Gpu, RigSnapshot
from sentry_light.sources.programs import PROGRAMS

_PREFIXES = (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3))


def hashrate_text(value: float | None) -> str:
    if value is None:
        return "-"
    for prefix, scale in _PREFIXES:
        if value >= scale:
            return f"{value / scale:.2f} {prefix}H/s"
    return f"{value:.2f} H/s"


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _n(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def title(name: str) -> str:
    program = PROGRAMS.get(name)
    return program.title if program else name


def render(snapshot: RigSnapshot) -> str:
    s, cpu = snapshot, snapshot.cpu
    lines = [
        (f"{s.hostname}  up {duration_text(s.uptime_s)}  load {_n(s.load_1m, digits=2)}  "
         f"memory {_n(s.memory_used_pct, ' %')}  disk {_n(s.disk_used_pct, ' %')}  "
         f"hashrate {hashrate_text(s.hashrate_hs)}"),
        f"CPU  {cpu.model or 'unknown model'}  {_n(cpu.threads)} threads  load {_n(cpu.load_pct, ' %')}  "
        f"{_n(cpu.temp_c, ' °C', 1)}  {_n(cpu.frequency_mhz, ' MHz')}"
        + (f"  mining {hashrate_text(cpu.hashrate_hs)}" if cpu.hashrate_hs is not None else ""),
        "",
    ]
    if s.gpus:
        lines += _table(("GPU", "vendor", "name", "hashrate", "temp", "mem", "fan", "power", "clocks",
                         "shares", "program"), [_gpu_row(g) for g in s.gpus])
    else:
        lines.append("No GPU found.")
    lines.append("")
    up = [p for p in s.programs if p.api_up]
    lines += _table(("program", "version", "algorithm", "hashrate", "shares", "uptime", "pool"), [
        (title(p.name), p.version or "-", p.algorithm or "-", hashrate_text(p.hashrate_hs),
         f"{_n(p.accepted)}/{_n(p.rejected)}", duration_text(p.uptime_s), p.pool or "-") for p in up
    ]) if up else ["No mining program answers."]
    absent = list(s.absent) + [f"{title(p.name)}: {p.error}" for p in s.programs if not p.api_up]
    if absent:
        lines += ["", "Not found:"] + [f"  {line}" for line in absent]
    if s.faults:
        lines += ["", "Faults:"] + [f"  {fault}" for fault in s.faults]
    return "\n".join(lines)


def _gpu_row(g: Gpu) -> tuple[str, ...]:
    power = "-" if g.power_w is None else f"{g.power_w:.0f}" + (
        f"/{g.power_limit_w:.0f}" if g.power_limit_w is not None else "") + " W"
    fan = _n(g.fan_pct, " %") if g.fan_pct is not None else _n(g.fan_rpm, " rpm")
    return (g.bus_id, g.vendor or "-", g.name or "-", hashrate_text(g.hashrate_hs), _n(g.temp_c, " °C"),
            _n(g.mem_temp_c, " °C"), fan, power, f"{_n(g.core_clock_mhz)}/{_n(g.mem_clock_mhz)} MHz",
            f"{_n(g.accepted)}/{_n(g.rejected)}", g.program or "-")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [tuple(header), *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
