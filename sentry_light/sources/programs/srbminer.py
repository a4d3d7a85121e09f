"""SRBMiner-MULTI's HTTP API, ``GET /`` on 21550 (its default ``--api-port``; ``--api-enable`` turns it on).

It may mine a GPU algorithm and a CPU algorithm at once: ``algorithms[]`` has one entry per algorithm,
whose ``hashrate`` holds H/s per device, ``gpuN`` (N the ``id`` in ``gpu_devices``) under ``gpu`` and
``threadN`` under ``cpu``, each with a ``total``. ``gpu_devices[].bus_id`` is the decimal bus number.
Shares are per algorithm, not per device. The older SRBMiner (CryptoNight) has one ``devices[]`` list
with the hashrate in each device, and ``hashrate_total_now``; it is read too.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c, total)

ROOT = "/"


def parse(replies: Replies, now: float) -> ProgramReading:
    s = replies.get(ROOT)
    return _legacy(s) if dig(s, "algorithms") is None and dig(s, "devices") is not None else _multi(s)


def _hardware(d: dict[str, Any], hashrate_hs: float | None) -> ProgramGpu:
    return ProgramGpu(
        bus_id=busid.from_bus_number(d.get("bus_id")), index=units.integer(d.get("id", d.get("device_id"))),
        hashrate_hs=hashrate_hs, name=units.text(d.get("model")), temp_c=sensor_c(d.get("temperature")),
        fan_rpm=units.integer(d.get("fan_speed_rpm")), power_w=units.number(d.get("power")),
        core_clock_mhz=units.number(d.get("core_clock")), mem_clock_mhz=units.number(d.get("memory_clock")))


def _multi(s: Any) -> ProgramReading:
    algorithms = records(dig(s, "algorithms"))
    gpus = []
    for d in records(dig(s, "gpu_devices")):
        key = f"gpu{units.integer(d.get('id'))}"
        gpus.append(_hardware(d, total([units.hashrate(dig(a, "hashrate", "gpu", key), "h") for a in algorithms])))
    cpu = total([units.hashrate(dig(a, "hashrate", "cpu", "total"), "h") for a in algorithms])
    names = [name for name in (units.text(a.get("name")) for a in algorithms) if name]
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "miner_version")),
        algorithm=", ".join(names) or None, pool=units.text(dig(algorithms, 0, "pool", "pool")),
        hashrate_hs=total([units.hashrate(dig(a, "hashrate", "now"), "h") for a in algorithms]),
        accepted=total([units.counter(dig(a, "shares", "accepted")) for a in algorithms]),
        rejected=total([units.counter(dig(a, "shares", "rejected")) for a in algorithms]),
        uptime_s=units.counter(dig(s, "mining_time")))
    # A CPU that mines nothing is listed with a zero total; only a listed CPU device mines.
    return ProgramReading(program, gpus, cpu if records(dig(s, "cpu_devices")) else None)


def _legacy(s: Any) -> ProgramReading:
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "miner_version")),
        algorithm=label(dig(s, "cryptonight_type")), pool=units.text(dig(s, "pool", "pool")),
        hashrate_hs=units.hashrate(dig(s, "hashrate_total_now"), "h"),
        accepted=units.counter(dig(s, "shares", "accepted")), rejected=units.counter(dig(s, "shares", "rejected")),
        uptime_s=units.counter(dig(s, "mining_time")))
    return ProgramReading(program, [_hardware(d, units.hashrate(d.get("hashrate"), "h"))
                                    for d in records(dig(s, "devices"))])


PROGRAM = Program(name="srbminer", title="SRBMiner-MULTI", default_port=21550, endpoints=(ROOT,), parse=parse)
