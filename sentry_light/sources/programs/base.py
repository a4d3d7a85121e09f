"""What every mining program's reader shares: its description (``Program``), what a parse returns
(``ProgramReading``), and the small selectors the parsers use on replies they cannot trust.

A reader module holds one ``Program``: its name, default port, protocol, the endpoints to fetch
and a pure ``parse(replies, now)`` from ``{endpoint: decoded reply}`` to a ``ProgramReading``. Parsers
never raise on a bad reply: a field that is absent, of the wrong type or absurd is None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from collectors import units
from collectors.units import dig  # the programs' readers walk replies with it too
from collectors.model import MinerProgram

N = TypeVar("N", int, float)
Replies = Mapping[str, Any]  # endpoint (HTTP path or RPC command) -> its decoded reply


@dataclass(slots=True)
class ProgramGpu:
    """One GPU as a mining program reports it, in SI units; ``bus_id`` normalized (``busid``)."""

    bus_id: str | None  # None where the program names GPUs by index alone (TeamRedMiner, old T-Rex)
    index: int | None = None  # the program's own GPU number
    hashrate_hs: float | None = None  # H/s (Sol/s for Equihash)
    accepted: int | None = None
    rejected: int | None = None
    name: str | None = None
    temp_c: float | None = None
    mem_temp_c: float | None = None
    fan_pct: float | None = None
    fan_rpm: int | None = None
    power_w: float | None = None
    core_clock_mhz: float | None = None
    mem_clock_mhz: float | None = None


@dataclass(slots=True)
class ProgramReading:
    program: MinerProgram
    gpus: list[ProgramGpu] = field(default_factory=list)  # their hashrates in the program's algorithm
    cpu_hashrate_hs: float | None = None  # H/s the program gets from the CPU; None: it does not mine there
    # The other algorithms the program mines at the same time, a reading each (SRBMiner's CPU algorithm
    # beside its GPU one): hashrates of two algorithms never share a record.
    more: list[ProgramReading] = field(default_factory=list)


@dataclass(frozen=True)
class Program:
    name: str  # the snapshot's MinerProgram.name and the config's key: "trex"
    title: str  # how the program names itself: "T-Rex"
    default_port: int
    endpoints: tuple[str, ...]  # HTTP paths, or RPC commands for protocol "rpc"
    parse: Callable[[Replies, float], ProgramReading]
    protocol: str = "http"  # "http" | "rpc" (the cgminer-style RPC)
    # The vendor whose GPUs, sorted by bus id, the program numbers 0, 1, ... when it gives no bus id.
    index_vendor: str | None = None


# --- selectors -------------------------------------------------------------------------------


def records(value: Any) -> list[dict[str, Any]]:
    """The dicts of a list (a device table), skipping anything else."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def item(values: Any, index: int) -> Any:
    """``values[index]`` of a per-device array, or None."""
    return dig(values, index)


def sensor_c(value: Any) -> float | None:
    """°C from a program's GPU sensor field; programs print 0 for a sensor the card lacks."""
    result = units.temperature_c(value)
    return None if result == 0 else result


def first_number(values: Any) -> float | None:
    """The first window of a ``[10 s, 60 s, 15 min]`` triple that has run (XMRig prints null before)."""
    for value in values if isinstance(values, list) else [values]:
        result = units.number(value)
        if result is not None:
            return result
    return None


def label(value: Any) -> str | None:
    """Free text as the program wrote it (``Equihash 150,5 "Beam-PoW"``): stripped, placeholders None.
    ``units.text`` also strips quotes, which firmwares wrap numbers in but an algorithm's name may hold."""
    if not isinstance(value, str):
        return units.text(value)
    result = value.strip()
    return result if units.text(result) is not None else None


def version_after(text: Any, prefix: str) -> str | None:
    """``"lolMiner 1.48"`` -> ``"1.48"``; the text as it is when it does not start with ``prefix``."""
    value = units.text(text)
    if value is None:
        return None
    if not value.lower().startswith(prefix.lower()):
        return value
    return value[len(prefix):].strip() or None


def total(values: Iterable[N | None]) -> N | None:
    """The sum of the values known (counts stay ints); None when none is."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None
