"""XMRig's HTTP API: ``/2/summary`` and ``/2/backends`` (XMRig ≥ 5).

Hashrates are H/s, each a ``[10 s, 60 s, 15 min]`` triple whose windows are null until they have run;
the first window that has run is taken. The CPU backend is the CPU's hashrate; the CUDA and OpenCL
backends list one thread per GPU with its ``bus_id`` (``01:00.0``, no domain) and ``health``.
``/1/summary`` (older XMRig, and XMRig 2.x's only document) has the summary's layout plus per-thread
triples, so ``parse`` reads it in place of ``/2/summary``. The API has no default port; 44444 is the
docs' example. Shares are ``connection.accepted/rejected``, or ``results.shares_good/shares_total``
on versions without them.
"""

from __future__ import annotations

from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light import busid
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, first_number,
                                                 label, records, sensor_c, total)

SUMMARY, BACKENDS = "/2/summary", "/2/backends"


def parse(replies: Replies, now: float) -> ProgramReading:
    summary = replies.get(SUMMARY)
    accepted = units.counter(dig(summary, "connection", "accepted"))
    rejected = units.counter(dig(summary, "connection", "rejected"))
    if accepted is None:
        accepted = units.counter(dig(summary, "results", "shares_good"))
        shares = units.counter(dig(summary, "results", "shares_total"))
        if accepted is not None and shares is not None and shares >= accepted:
            rejected = shares - accepted
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=units.text(dig(summary, "version")),
        algorithm=label(dig(summary, "algo")), pool=units.text(dig(summary, "connection", "pool")),
        hashrate_hs=first_number(dig(summary, "hashrate", "total")), accepted=accepted, rejected=rejected,
        uptime_s=units.counter(dig(summary, "uptime")))
    backends = records(replies.get(BACKENDS))
    gpus = [_gpu(thread) for backend in backends if backend.get("type") in ("cuda", "opencl")
            and backend.get("enabled") is not False for thread in records(backend.get("threads"))]
    cpu = next((b for b in backends if b.get("type") == "cpu"), None)
    if cpu is not None:
        cpu_hashrate = first_number(cpu.get("hashrate")) if cpu.get("enabled") is not False else None
    else:
        # Without /2/backends (XMRig 2.x) a CPU-only build says so in "kind".
        cpu_hashrate = program.hashrate_hs if dig(summary, "kind") == "cpu" else None
    if program.hashrate_hs is None and (gpus or cpu_hashrate is not None):
        program.hashrate_hs = total([g.hashrate_hs for g in gpus] + [cpu_hashrate])
    return ProgramReading(program, gpus, cpu_hashrate)


def _gpu(thread: dict[str, Any]) -> ProgramGpu:
    fans = dig(thread, "health", "fan_speed")
    return ProgramGpu(
        bus_id=busid.bus_id(thread.get("bus_id")), index=units.integer(thread.get("index")),
        hashrate_hs=first_number(thread.get("hashrate")), name=units.text(thread.get("name")),
        temp_c=sensor_c(dig(thread, "health", "temperature")),
        fan_pct=units.number(fans[0] if isinstance(fans, list) and fans else fans),
        power_w=units.number(dig(thread, "health", "power")),
        core_clock_mhz=units.number(dig(thread, "health", "clock")),
        mem_clock_mhz=units.number(dig(thread, "health", "mem_clock")))


PROGRAM = Program(name="xmrig", title="XMRig", default_port=44444, endpoints=(SUMMARY, BACKENDS), parse=parse)
