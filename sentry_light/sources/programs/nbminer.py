"""NBMiner's HTTP API, ``GET /api/v1/status`` (the port given with ``--api``; 22333 by convention).

``hashrate_raw`` is H/s (``hashrate`` is a display string such as ``"25.10 M"``, and was the H/s number
before ``hashrate_raw`` existed); ``pci_bus_id`` is
the decimal bus number (absent before v2x, whose GPUs are then not matched to a bus id). Shares are per
device and in ``stratum``. The API gives the start time, not an uptime. In dual mode the second
algorithm (``hashrate2_raw``) is left out.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c, version_after)

STATUS = "/api/v1/status"


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(STATUS)
    started = units.number(dig(s, "start_time"))
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(dig(s, "version"), "v"),
        algorithm=label(dig(s, "stratum", "algorithm")), pool=units.text(dig(s, "stratum", "url")),
        user=units.text(dig(s, "stratum", "user")),
        hashrate_hs=units.hashrate(dig(s, "miner", "total_hashrate_raw"), "h"),
        accepted=units.counter(dig(s, "stratum", "accepted_shares")),
        rejected=units.counter(dig(s, "stratum", "rejected_shares")),
        uptime_s=int(now - started) if started is not None and 0 < started <= now else None)
    return ProgramReading(program, [_gpu(d) for d in records(dig(s, "miner", "devices"))])


def _gpu(d: dict[str, Any]) -> ProgramGpu:
    return ProgramGpu(
        bus_id=busid.from_bus_number(d.get("pci_bus_id")), index=units.integer(d.get("id")),
        hashrate_hs=units.hashrate(d.get("hashrate_raw", _old_hashrate(d)), "h"), accepted=units.counter(d.get("accepted_shares")),
        rejected=units.counter(d.get("rejected_shares")), name=units.text(d.get("info")),
        temp_c=sensor_c(d.get("temperature")), mem_temp_c=sensor_c(d.get("memTemperature")),
        fan_pct=units.number(d.get("fan")), power_w=units.number(d.get("power")),
        core_clock_mhz=units.number(d.get("core_clock")), mem_clock_mhz=units.number(d.get("mem_clock")))


def _old_hashrate(d: dict[str, Any]) -> Any:
    """Before ``hashrate_raw`` (v10 and older), ``hashrate`` was the H/s number, not a display string."""
    value = d.get("hashrate")
    return value if isinstance(value, (int, float)) else None


PROGRAM = Program(name="nbminer", title="NBMiner", default_port=22333, endpoints=(STATUS,), parse=parse)
