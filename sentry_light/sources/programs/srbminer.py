"""SRBMiner-MULTI's HTTP API, ``GET /`` on 21550 (its default ``--api-port``; ``--api-enable`` turns it on).

It may mine a GPU algorithm and a CPU algorithm at once: ``algorithms[]`` has one entry per algorithm,
whose ``hashrate`` holds H/s per device, ``gpuN`` (N the ``id`` in ``gpu_devices``) under ``gpu`` and
``threadN`` under ``cpu``, each with a ``total`` (an algorithm that does not mine on the CPU lists no
thread there, only a zero total). ``gpu_devices[].bus_id`` is the decimal bus number. Pool and shares
are per algorithm, not per device. Each algorithm is a reading of its own, the first the program's,
the others in its ``more``: their hashrates do not add up. The older SRBMiner (CryptoNight) has one
``devices[]`` list with the hashrate in each device, and ``hashrate_total_now``; it is read too.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c)

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
    # Not mining yet, it lists no algorithm: the program still answers, with its GPUs.
    first, *more = [_algorithm(s, a) for a in records(dig(s, "algorithms"))] or [_algorithm(s, {})]
    # Every GPU is the first reading's, so that the hardware's figures are read whether it hashes or
    # not; another algorithm's reading has the GPUs that hash in it.
    for reading in more:
        reading.gpus = [gpu for gpu in reading.gpus if gpu.hashrate_hs is not None]
    first.more = more
    return first


def _algorithm(s: Any, a: dict[str, Any]) -> ProgramReading:
    rates = dig(a, "hashrate")
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "miner_version")),
        algorithm=units.text(a.get("name")), pool=units.text(dig(a, "pool", "pool")),
        hashrate_hs=units.hashrate(dig(rates, "now"), "h"), accepted=units.counter(dig(a, "shares", "accepted")),
        rejected=units.counter(dig(a, "shares", "rejected")), uptime_s=units.counter(dig(s, "mining_time")))
    gpus = [_hardware(d, units.hashrate(dig(rates, "gpu", f"gpu{units.integer(d.get('id'))}"), "h"))
            for d in records(dig(s, "gpu_devices"))]
    cpu = dig(rates, "cpu")
    on_cpu = isinstance(cpu, dict) and any(key != "total" for key in cpu)
    return ProgramReading(program, gpus, units.hashrate(cpu.get("total"), "h") if on_cpu else None)


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
