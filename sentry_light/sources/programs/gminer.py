"""GMiner's HTTP API, ``GET /stat`` (the port given with ``--api``; 10050 here).

Speeds are in ``speed_unit`` (``speedUnit`` before 2.x): ``Sol/s`` for Equihash and Cuckoo-family
algorithms, ``H/s`` otherwise; Sol/s are kept as they are, in the hashrate fields. The program's total is
the sum of its devices' speeds: ``pool_speed`` is the pool's estimate from shares, not the miner's.
Each device has its full ``bus_id`` (``0000:01:00.0``).
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c, total, version_after)

STAT = "/stat"
_SOLUTIONS = {"sol/s": 1.0, "g/s": 1.0}  # solutions and graphs per second: counted one for one


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(STAT)
    unit = dig(s, "speed_unit") or dig(s, "speedUnit")
    factor = (_SOLUTIONS.get(unit.strip().lower()) or units.parse_hash_unit(unit)) if isinstance(unit, str) else None
    gpus = [_gpu(d, factor) for d in records(dig(s, "devices"))]
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(dig(s, "miner"), "GMiner"),
        algorithm=label(dig(s, "algorithm")), pool=units.text(dig(s, "server")), user=units.text(dig(s, "user")),
        hashrate_hs=total([g.hashrate_hs for g in gpus]), accepted=units.counter(dig(s, "total_accepted_shares")),
        rejected=units.counter(dig(s, "total_rejected_shares")), uptime_s=units.counter(dig(s, "uptime")))
    return ProgramReading(program, gpus)


def _gpu(d: dict[str, Any], factor: float | None) -> ProgramGpu:
    speed = units.number(d.get("speed"))
    return ProgramGpu(
        bus_id=busid.bus_id(d.get("bus_id")), index=units.integer(d.get("gpu_id")),
        hashrate_hs=speed * factor if speed is not None and speed >= 0 and factor is not None else None,
        accepted=units.counter(d.get("accepted_shares")), rejected=units.counter(d.get("rejected_shares")),
        name=units.text(d.get("name")), temp_c=sensor_c(d.get("temperature")),
        mem_temp_c=sensor_c(d.get("memory_temperature")), fan_pct=units.number(d.get("fan")),
        power_w=units.number(d.get("power_usage")), core_clock_mhz=units.number(d.get("core_clock")),
        mem_clock_mhz=units.number(d.get("memory_clock")))


PROGRAM = Program(name="gminer", title="GMiner", default_port=10050, endpoints=(STAT,), parse=parse)
