"""nanominer's HTTP API, ``GET /stats`` on 9090 (its default ``webPort``).

``Algorithms[]`` holds one object per algorithm, keyed by the algorithm's name, with a ``"GPU N"``
entry per device and a ``Total``; ``Hashrate`` is a string in C's ``%e`` notation in H/s
(``"4.591157e+06"``) and refused shares are ``Denied``. ``Devices[]`` maps ``"GPU N"`` to the
hardware, with ``Pci`` the bus id without domain (``"01:00.0"``). The API does not give a version.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c)

STATS = "/stats"


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(STATS)
    first = dig(s, "Algorithms", 0)
    name, algo = next(iter(first.items()), (None, None)) if isinstance(first, dict) else (None, None)
    devices = {key: value for entry in records(dig(s, "Devices")) for key, value in entry.items()
               if isinstance(value, dict)}
    gpus = [_gpu(key, devices.get(key, {}), value) for key, value in (algo or {}).items()
            if isinstance(key, str) and key.startswith("GPU ") and isinstance(value, dict)]
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, algorithm=label(name), pool=units.text(dig(algo, "CurrentPool")),
        hashrate_hs=units.hashrate(dig(algo, "Total", "Hashrate"), "h"),
        accepted=units.counter(dig(algo, "Total", "Accepted")), rejected=units.counter(dig(algo, "Total", "Denied")),
        uptime_s=units.counter(dig(s, "WorkTime")))
    return ProgramReading(program, gpus)


def _gpu(key: str, device: dict[str, Any], shares: dict[str, Any]) -> ProgramGpu:
    return ProgramGpu(
        bus_id=busid.bus_id(device.get("Pci")), index=units.integer(key.removeprefix("GPU ")),
        hashrate_hs=units.hashrate(shares.get("Hashrate"), "h"), accepted=units.counter(shares.get("Accepted")),
        rejected=units.counter(shares.get("Denied")), name=units.text(device.get("Name")),
        temp_c=sensor_c(device.get("Temperature")), power_w=units.number(device.get("Power")))


PROGRAM = Program(name="nanominer", title="nanominer", default_port=9090, endpoints=(STATS,), parse=parse)
