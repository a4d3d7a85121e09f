"""T-Rex (NVIDIA), ``GET /summary`` on 4067 (its default ``--api-bind-http``).

Hashrates are integer H/s. Since 0.19 each GPU carries ``pci_domain``, ``pci_bus`` and ``pci_id``
(the device) as decimal integers, and its own ``shares``; older versions give only ``gpu_id``, so
their GPUs are not matched to a bus id. ``memory_temperature`` is 0 on cards without the sensor.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c)

SUMMARY = "/summary"


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(SUMMARY)
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "version")),
        algorithm=label(dig(s, "algorithm")), pool=units.text(dig(s, "active_pool", "url")),
        user=units.text(dig(s, "active_pool", "user")), hashrate_hs=units.hashrate(dig(s, "hashrate"), "h"),
        accepted=units.counter(dig(s, "accepted_count")), rejected=units.counter(dig(s, "rejected_count")),
        uptime_s=units.counter(dig(s, "uptime")))
    return ProgramReading(program, [_gpu(g) for g in records(dig(s, "gpus"))])


def _gpu(g: dict[str, Any]) -> ProgramGpu:
    bus, domain, device = (units.integer(g.get(k)) for k in ("pci_bus", "pci_domain", "pci_id"))
    return ProgramGpu(
        bus_id=busid.from_parts(domain or 0, bus, device or 0) if bus is not None else None,
        index=units.integer(g.get("gpu_id")), hashrate_hs=units.hashrate(g.get("hashrate"), "h"),
        accepted=units.counter(dig(g, "shares", "accepted_count")),
        rejected=units.counter(dig(g, "shares", "rejected_count")), name=units.text(g.get("name")),
        temp_c=sensor_c(g.get("temperature")), mem_temp_c=sensor_c(g.get("memory_temperature")),
        fan_pct=units.number(g.get("fan_speed")), power_w=units.number(g.get("power")),
        core_clock_mhz=units.number(g.get("cclock")), mem_clock_mhz=units.number(g.get("mclock")))


PROGRAM = Program(name="trex", title="T-Rex", default_port=4067, endpoints=(SUMMARY,), parse=parse)
