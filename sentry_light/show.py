"""``minerwatch-sentry show``: the rig as a person at its console reads it.

Host, CPU, one row per GPU by bus id, one line per program (and algorithm, for a program that mines
several at once), then a line for every source that is not there (no NVIDIA driver, a program whose
port answers nothing) and every fault. Only here are hashrates scaled, each in its algorithm's unit
(MH/s for KawPow, kH/s for RandomX: ``collectors.algorithms``); the snapshot keeps H/s. The rig's
hashrate is one figure per algorithm: two algorithms' do not add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from collectors.algorithms import canonical, text
from collectors.model import Gpu, RigSnapshot
from sentry_light.sources.programs import PROGRAMS


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"


def _n(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _algorithm(name: str | None) -> str:
    return canonical(name) or "-"


def _per_algorithm(totals: dict[str, float]) -> str:
    """``KawPow 244.48 MH/s, RandomX 18.92 kH/s``: a total per algorithm, never one across them."""
    return ", ".join(f"{name} {text(hs, name)}" for name, hs in totals.items()) or "-"


def title(name: str) -> str:
    program = PROGRAMS.get(name)
    return program.title if program else name


def render(snapshot: RigSnapshot) -> str:
    s, cpu = snapshot, snapshot.cpu
    lines = [
        (f"{s.hostname}  up {duration_text(s.uptime_s)}  load {_n(s.load_1m, digits=2)}  "
         f"memory {_n(s.memory_used_pct, ' %')}  disk {_n(s.disk_used_pct, ' %')}  "
         f"hashrate {_per_algorithm(s.hashrate_by_algorithm_hs)}"),
        f"CPU  {cpu.model or 'unknown model'}  {_n(cpu.threads)} threads  load {_n(cpu.load_pct, ' %')}  "
        f"{_n(cpu.temp_c, ' °C', 1)}  {_n(cpu.frequency_mhz, ' MHz')}"
        + (f"  mining {_algorithm(cpu.algorithm)} {text(cpu.hashrate_hs, cpu.algorithm)}"
           if cpu.hashrate_hs is not None else ""),
        "",
    ]
    if s.gpus:
        lines += _table(("GPU", "vendor", "name", "algorithm", "hashrate", "temp", "mem", "fan", "power", "clocks",
                         "shares", "program"), [_gpu_row(g) for g in s.gpus])
    else:
        lines.append("No GPU found.")
    lines.append("")
    up = [p for p in s.programs if p.api_up]
    lines += _table(("program", "version", "algorithm", "hashrate", "shares", "uptime", "pool"), [
        (title(p.name), p.version or "-", _algorithm(p.algorithm), text(p.hashrate_hs, p.algorithm),
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
    return (g.bus_id, g.vendor or "-", g.name or "-", _algorithm(g.algorithm), text(g.hashrate_hs, g.algorithm),
            _n(g.temp_c, " °C"), _n(g.mem_temp_c, " °C"), fan, power,
            f"{_n(g.core_clock_mhz)}/{_n(g.mem_clock_mhz)} MHz", f"{_n(g.accepted)}/{_n(g.rejected)}", g.program or "-")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [tuple(header), *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
