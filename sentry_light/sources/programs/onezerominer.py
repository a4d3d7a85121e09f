"""OneZeroMiner's HTTP API, ``GET /`` (the port given with ``--api-port``; 3001 here).

``devices[]`` carries the hardware (``bus_id`` the decimal bus number) and ``algos[]`` the mining:
``hashrates`` (H/s) and per-device share arrays indexed like ``devices``, plus totals. With two
algorithms the first is the program's.
"""

from __future__ import annotations

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, item, label,
                                                 records, sensor_c)

ROOT = "/"


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(ROOT)
    algo = dig(s, "algos", 0)
    gpus = [ProgramGpu(
        bus_id=busid.from_bus_number(d.get("bus_id")), index=units.integer(d.get("id")),
        hashrate_hs=units.hashrate(item(dig(algo, "hashrates"), i), "h"),
        accepted=units.counter(item(dig(algo, "devices_accepted_shares"), i)),
        rejected=units.counter(item(dig(algo, "devices_rejected_shares"), i)), name=units.text(d.get("name")),
        temp_c=sensor_c(d.get("temp")), fan_pct=units.number(d.get("fan")), power_w=units.number(d.get("power")),
        core_clock_mhz=units.number(d.get("cclk")), mem_clock_mhz=units.number(d.get("mclk")),
    ) for i, d in enumerate(records(dig(s, "devices")))]
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "version")),
        algorithm=label(dig(algo, "name")), pool=units.text(dig(algo, "pool")),
        hashrate_hs=units.hashrate(dig(algo, "total_hashrate"), "h"),
        accepted=units.counter(dig(algo, "total_accepted_shares")),
        rejected=units.counter(dig(algo, "total_rejected_shares")), uptime_s=units.counter(dig(s, "uptime_seconds")))
    return ProgramReading(program, gpus)


PROGRAM = Program(name="onezerominer", title="OneZeroMiner", default_port=3001, endpoints=(ROOT,), parse=parse)
