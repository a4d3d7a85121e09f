"""TeamRedMiner (AMD), the sgminer-style RPC on 4028 (its default ``--api_listen``): ``summary``,
``devs`` and ``pools``, one command per connection (it refuses cgminer's ``a+b`` multi-command).

Hashrates come as ``KHS``/``MHS`` over windows named in the key (``KHS 30s``, ``KHS 120s`` on older
versions) and over the session (``KHS av``); the shortest window is taken. ``devs`` has no PCI
address: TeamRedMiner numbers the AMD GPUs it mines with 0, 1, ... in PCI bus order, so the collector
matches ``GPU`` n to the n-th AMD GPU by bus id (``index_vendor``).
"""

from __future__ import annotations

import re
from typing import Any

from collectors import units
from collectors.model import MinerProgram
from sentry_light.sources.programs.base import (Program, ProgramGpu, ProgramReading, Replies, dig, label, records,
                                                 sensor_c, total, version_after)

_RATE = re.compile(r"^(?P<unit>[KMG])HS (?:(?P<window>\d+)s|av)$")


def parse(replies: Replies, now: float) -> ProgramReading:
    summary = dig(replies.get("summary"), "SUMMARY", 0)
    pools = records(dig(replies.get("pools"), "POOLS"))
    pool = next((p for p in pools if p.get("Stratum Active") is True), pools[0] if pools else None)
    gpus = [ProgramGpu(
        bus_id=None, index=units.integer(d.get("GPU")), hashrate_hs=_rate(d),
        accepted=units.counter(d.get("Accepted")), rejected=units.counter(d.get("Rejected")),
        temp_c=sensor_c(d.get("Temperature")), fan_pct=units.number(d.get("Fan Percent")),
        fan_rpm=units.integer(d.get("Fan Speed")), core_clock_mhz=units.number(d.get("GPU Clock")),
        mem_clock_mhz=units.number(d.get("Memory Clock")),
    ) for d in records(dig(replies.get("devs"), "DEVS"))]
    # The version is in every reply's STATUS: "TeamRedMiner 0.10.21".
    status = next((dig(r, "STATUS", 0, "Description") for r in replies.values() if dig(r, "STATUS", 0)), None)
    program = MinerProgram(
        name=PROGRAM.name, api_up=True, version=version_after(status, "TeamRedMiner"),
        algorithm=label(dig(pool, "Algorithm")), pool=units.text(dig(pool, "URL")),
        user=units.text(dig(pool, "User")),
        hashrate_hs=_rate(summary) if summary is not None else total([g.hashrate_hs for g in gpus]),
        accepted=units.counter(dig(summary, "Accepted")), rejected=units.counter(dig(summary, "Rejected")),
        uptime_s=units.counter(dig(summary, "Elapsed")))
    return ProgramReading(program, gpus)


def _rate(record: Any) -> float | None:
    """H/s from the shortest-window ``KHS``/``MHS`` key, the session average (``av``) last; of two
    keys for one window, ``KHS`` (it carries more digits)."""
    if not isinstance(record, dict):
        return None
    found = []
    for key, value in record.items():
        match = _RATE.match(key)
        if match:
            window = int(match["window"]) if match["window"] else float("inf")
            found.append((window, "KMG".index(match["unit"]), units.hashrate(value, match["unit"] + "h")))
    rates = [entry for entry in found if entry[2] is not None]
    return min(rates)[2] if rates else None


PROGRAM = Program(name="teamredminer", title="TeamRedMiner", default_port=4028,
                  endpoints=("summary", "devs", "pools"), parse=parse, protocol="rpc", index_vendor="amd")
