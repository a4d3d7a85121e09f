"""Rigel (NVIDIA), ``GET /`` (the port given with ``--api-bind``; 5000 here).

Hashrates are H/s in objects keyed by algorithm (``{"kawpow": 31.2e6}``), at the top level and per
device; ``solution_stat`` counts accepted/rejected per algorithm the same way. In dual mining
(``"algorithm": "etchash+alephium"``) the first algorithm is the program's. Each device has its full
``pci_address`` and a ``monitoring_info`` block; a device not ``selected`` does not mine and is skipped.
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
    algorithm = label(dig(s, "algorithm"))
    algo = algorithm.split("+")[0] if algorithm else None
    pool = dig(s, "pools", algo, 0, "connection_details") if algo else None
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(s, "version")), algorithm=algorithm,
        pool=_url(pool), user=units.text(dig(pool, "username")),
        hashrate_hs=_per_algo(dig(s, "hashrate"), algo),
        accepted=units.counter(dig(s, "solution_stat", algo, "accepted")) if algo else None,
        rejected=units.counter(dig(s, "solution_stat", algo, "rejected")) if algo else None,
        uptime_s=units.counter(dig(s, "uptime")))
    gpus = [_gpu(d, algo) for d in records(dig(s, "devices")) if d.get("selected") is not False]
    return ProgramReading(program, gpus)


def _per_algo(values: Any, algo: str | None) -> float | None:
    return units.hashrate(dig(values, algo), "h") if algo else None


def _url(details: Any) -> str | None:
    """``stratum+tcp://host:port`` from the pool's ``connection_details``."""
    host, port = units.text(dig(details, "hostname")), units.integer(dig(details, "port"))
    if host is None:
        return None
    scheme = units.text(dig(details, "protocol"))
    return f"{scheme + '://' if scheme else ''}{host}{f':{port}' if port is not None else ''}"


def _gpu(d: dict[str, Any], algo: str | None) -> ProgramGpu:
    info = d.get("monitoring_info")
    return ProgramGpu(
        bus_id=busid.bus_id(d.get("pci_address")), index=units.integer(d.get("id")),
        hashrate_hs=_per_algo(d.get("hashrate"), algo),
        accepted=units.counter(dig(d, "solution_stat", algo, "accepted")) if algo else None,
        rejected=units.counter(dig(d, "solution_stat", algo, "rejected")) if algo else None,
        name=units.text(d.get("name")), temp_c=sensor_c(dig(info, "core_temperature")),
        mem_temp_c=sensor_c(dig(info, "memory_temperature")), fan_pct=units.number(dig(info, "fan_speed")),
        power_w=units.number(dig(info, "power_usage")), core_clock_mhz=units.number(dig(info, "core_clock")),
        mem_clock_mhz=units.number(dig(info, "memory_clock")))


PROGRAM = Program(name="rigel", title="Rigel", default_port=5000, endpoints=(ROOT,), parse=parse)
