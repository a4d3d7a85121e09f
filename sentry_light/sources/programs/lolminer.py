"""lolMiner's HTTP API, ``GET /summary`` (the port given with ``--apiport``; 8020 by convention), in
both of its layouts, told apart by their keys:

- ≥ 1.40: ``Workers[]`` (the hardware) and ``Algorithms[]``, whose per-worker arrays are indexed like
  ``Workers``; performance is in ``Performance_Unit`` and ``Performance_Factor`` turns it into H/s.
  With two algorithms (dual mining) the first is the program's.
- 1.0 – 1.3x: one ``Session`` (``Performance_Summary`` in ``Performance_Unit``, no factor) and
  ``GPUs[]`` with ``Consumption (W)``, ``Temp (deg C)`` and session shares.

``PCIE_Address`` is ``"bus:device"`` in decimal (``"16:0"`` is bus 0x10).
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, item, label,
                                                 records, sensor_c, version_after)

SUMMARY = "/summary"
# H/s per Performance_Unit, for the legacy layout (no factor) and a factor that is missing.
_UNITS = {"h/s": 1.0, "kh/s": 1e3, "mh/s": 1e6, "gh/s": 1e9, "th/s": 1e12, "sol/s": 1.0, "g/s": 1.0}


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(SUMMARY)
    return _legacy(s) if dig(s, "GPUs") is not None and dig(s, "Workers") is None else _current(s)


def _factor(unit: Any, factor: Any = None) -> float | None:
    given = units.number(factor)
    if given is not None and given > 0:
        return given
    return _UNITS.get(unit.strip().lower()) if isinstance(unit, str) else None


def _in_hs(value: Any, factor: float | None) -> float | None:
    amount = units.number(value)
    return None if amount is None or factor is None or amount < 0 else amount * factor


def _current(s: Any) -> ProgramReading:
    algo = dig(s, "Algorithms", 0)
    factor = _factor(dig(algo, "Performance_Unit"), dig(algo, "Performance_Factor"))
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(dig(s, "Software"), "lolMiner"),
        algorithm=label(dig(algo, "Algorithm")), pool=units.text(dig(algo, "Pool")),
        user=units.text(dig(algo, "User")), hashrate_hs=_in_hs(dig(algo, "Total_Performance"), factor),
        accepted=units.counter(dig(algo, "Total_Accepted")), rejected=units.counter(dig(algo, "Total_Rejected")),
        uptime_s=units.counter(dig(s, "Session", "Uptime")))
    gpus = [ProgramGpu(
        bus_id=busid.from_lolminer(w.get("PCIE_Address")), index=units.integer(w.get("Index")),
        hashrate_hs=_in_hs(item(dig(algo, "Worker_Performance"), i), factor),
        accepted=units.counter(item(dig(algo, "Worker_Accepted"), i)),
        rejected=units.counter(item(dig(algo, "Worker_Rejected"), i)), name=units.text(w.get("Name")),
        temp_c=sensor_c(w.get("Core_Temp")), mem_temp_c=sensor_c(w.get("Mem_Temp")),
        fan_pct=units.number(w.get("Fan_Speed")), power_w=units.number(w.get("Power")),
        core_clock_mhz=units.number(w.get("CCLK")), mem_clock_mhz=units.number(w.get("MCLK")),
    ) for i, w in enumerate(records(dig(s, "Workers")))]
    return ProgramReading(program, gpus)


def _legacy(s: Any) -> ProgramReading:
    session = dig(s, "Session")
    factor = _factor(dig(session, "Performance_Unit"))
    accepted = units.counter(dig(session, "Accepted"))
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(dig(s, "Software"), "lolMiner"),
        algorithm=label(dig(s, "Mining", "Algorithm")), pool=units.text(dig(s, "Stratum", "Current_Pool")),
        user=units.text(dig(s, "Stratum", "Current_User")),
        hashrate_hs=_in_hs(dig(session, "Performance_Summary"), factor), accepted=accepted,
        rejected=_rejected(accepted, dig(session, "Submitted")), uptime_s=units.counter(dig(session, "Uptime")))
    gpus = []
    for g in records(dig(s, "GPUs")):
        gpu_accepted = units.counter(g.get("Session_Accepted"))
        gpus.append(ProgramGpu(
            bus_id=busid.from_lolminer(g.get("PCIE_Address")), index=units.integer(g.get("Index")),
            hashrate_hs=_in_hs(g.get("Performance"), factor), accepted=gpu_accepted,
            rejected=_rejected(gpu_accepted, g.get("Session_Submitted")), name=units.text(g.get("Name")),
            temp_c=sensor_c(g.get("Temp (deg C)")), mem_temp_c=sensor_c(g.get("Mem Temp (deg C)")),
            fan_pct=units.number(g.get("Fan Speed (%)")), power_w=units.number(g.get("Consumption (W)"))))
    return ProgramReading(program, gpus)


def _rejected(accepted: int | None, submitted: Any) -> int | None:
    """The legacy layout counts submitted and accepted shares; the rest were refused."""
    sent = units.counter(submitted)
    return sent - accepted if accepted is not None and sent is not None and sent >= accepted else None


PROGRAM = Program(name="lolminer", title="lolMiner", default_port=8020, endpoints=(SUMMARY,), parse=parse)
