"""BzMiner's HTTP API, ``GET /status`` (its ``http_port``; 4014 here).

``devices[]`` lists GPUs and the CPU alike, told apart by ``vendor`` (4 is the CPU); each has arrays
(``hashrate`` in H/s, ``valid_solutions``, ``rejected_solutions``) whose slot i is for the device's
``pool[i]``: slot 0 is its main algorithm, slot 1 the second one when it dual-mines (left out here).
``pci_bus_id`` is the decimal bus number.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c, total, version_after)

STATUS = "/status"
VENDOR_CPU = 4


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(STATUS)
    devices = records(dig(s, "devices"))
    gpus = [_gpu(d) for d in devices if d.get("vendor") != VENDOR_CPU]
    cpus = [d for d in devices if d.get("vendor") == VENDOR_CPU]
    cpu = total([units.hashrate(dig(d, "hashrate", 0), "h") for d in cpus]) if cpus else None
    pool = dig(s, "pools", 0)
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(dig(s, "bzminer_version"), "v"),
        algorithm=label(dig(pool, "algorithm")), pool=units.text(dig(pool, "current_url")),
        user=units.text(dig(pool, "wallet")), hashrate_hs=total([g.hashrate_hs for g in gpus] + [cpu]),
        accepted=units.counter(dig(pool, "valid_solutions")), rejected=units.counter(dig(pool, "rejected_solutions")),
        uptime_s=units.counter(dig(s, "uptime_s")))
    return ProgramReading(program, gpus, cpu)


def _gpu(d: dict[str, Any]) -> ProgramGpu:
    return ProgramGpu(
        bus_id=busid.from_bus_number(d.get("pci_bus_id")), index=units.integer(d.get("device_id")),
        hashrate_hs=units.hashrate(dig(d, "hashrate", 0), "h"), accepted=units.counter(dig(d, "valid_solutions", 0)),
        rejected=units.counter(dig(d, "rejected_solutions", 0)), name=units.text(d.get("name")),
        temp_c=sensor_c(d.get("core_temp")), mem_temp_c=sensor_c(d.get("mem_temp")),
        fan_pct=units.number(d.get("fan")), power_w=units.number(d.get("power")),
        core_clock_mhz=units.number(d.get("clock_rate")), mem_clock_mhz=units.number(d.get("memory_rate")))


PROGRAM = Program(name="bzminer", title="BzMiner", default_port=4014, endpoints=(STATUS,), parse=parse)
