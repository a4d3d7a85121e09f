"""The rig snapshot from its JSON form (``RigSnapshot.to_dict()``), which nobody trusts: the commander
reads it from a sentry over SNMP, the sentry's own tools from its file. Every field goes through
``collectors.units`` with a plausible range, and a value outside it is dropped (None), not the
snapshot; keys a newer sentry added are ignored. Pure, so the sentry imports it without SNMP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from collectors import units
from collectors.model import Cpu, Gpu, MinerProgram, RigSnapshot, algorithm_totals

log = logging.getLogger(__name__)


def _range(convert: Callable[[Any], float | int | None], low: float, high: float) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        result = convert(value)
        return result if result is None or low <= result <= high else None
    return check


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_percent = _range(units.number, 0, 100)
_hashrate = _range(units.number, 0, 1e21)  # H/s: a zettahash is no rig
_watts = _range(units.number, 0, 5000)
_mhz = _range(units.number, 0, 50_000)
_seconds = _range(units.integer, 0, 10 * 365 * 86400)
_unix_time = _range(units.number, 1e9, 1e10)  # 2001 .. 2286

RIG_FIELDS: dict[str, Callable[[Any], Any]] = {
    "hostname": units.text, "error": units.text, "collected_at": _unix_time, "uptime_s": _seconds,
    "load_1m": _range(units.number, 0, 100_000), "memory_used_pct": _percent, "disk_used_pct": _percent,
}
CPU_FIELDS: dict[str, Callable[[Any], Any]] = {
    "model": units.text, "threads": _range(units.integer, 1, 100_000), "load_pct": _percent,
    "temp_c": units.temperature_c, "frequency_mhz": _mhz, "hashrate_hs": _hashrate, "algorithm": units.text,
}
GPU_FIELDS: dict[str, Callable[[Any], Any]] = {
    "bus_id": units.text, "index": _range(units.integer, 0, 65535), "vendor": units.text, "name": units.text,
    "hashrate_hs": _hashrate, "temp_c": units.temperature_c, "mem_temp_c": units.temperature_c,
    "fan_pct": _percent, "fan_rpm": _range(units.integer, 0, 30_000), "power_w": _watts,
    "power_limit_w": _watts, "core_clock_mhz": _mhz, "mem_clock_mhz": _mhz, "load_pct": _percent,
    "accepted": units.counter, "rejected": units.counter, "program": units.text, "algorithm": units.text,
}
PROGRAM_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": units.text, "api_up": _flag, "version": units.text, "algorithm": units.text, "pool": units.text,
    "user": units.text, "hashrate_hs": _hashrate, "accepted": units.counter, "rejected": units.counter,
    "uptime_s": _seconds, "port": _range(units.integer, 1, 65535), "error": units.text,
}


def _pick(record: Mapping[str, Any], table: Mapping[str, Callable[[Any], Any]]) -> tuple[dict[str, Any], int]:
    """The table's fields of ``record``, converted; and how many present values were dropped."""
    values, dropped = {}, 0
    for key, convert in table.items():
        raw = record.get(key)
        value = convert(raw)
        if value is None and raw is not None:
            dropped += 1
        values[key] = value
    return values, dropped


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _sentences(value: Any) -> list[str]:
    return [text for text in map(units.text, value) if text] if isinstance(value, list) else []


def parse_snapshot(data: Mapping[str, Any], fallback_hostname: str) -> RigSnapshot:
    """A RigSnapshot from the sentry's JSON; only its own absurd values are lost."""
    rig, dropped = _pick(data, RIG_FIELDS)
    cpu_data = data.get("cpu") if isinstance(data.get("cpu"), Mapping) else {}
    cpu, count = _pick(cpu_data, CPU_FIELDS)
    dropped += count
    gpus: list[Gpu] = []
    for record in _records(data.get("gpus")):
        gpu, count = _pick(record, GPU_FIELDS)
        dropped += count
        if gpu["bus_id"]:  # the GPU's key: without it the record names nothing
            gpus.append(Gpu(**gpu))
    programs: list[MinerProgram] = []
    for record in _records(data.get("programs")):
        program, count = _pick(record, PROGRAM_FIELDS)
        dropped += count
        if program["name"]:
            program["api_up"] = bool(program["api_up"])
            programs.append(MinerProgram(**program))
    if dropped:
        log.debug("%s: %d absurd or malformed values dropped from the sentry's snapshot",
                  rig["hostname"] or fallback_hostname, dropped)
    rig["hostname"] = rig["hostname"] or fallback_hostname
    # The rig's totals are its programs', added up here by one rule whatever the sentry sent: an older
    # sentry sends one sum over every algorithm instead.
    return RigSnapshot(**rig, hashrate_by_algorithm_hs=algorithm_totals(programs), cpu=Cpu(**cpu), gpus=gpus,
                       programs=programs, faults=_sentences(data.get("faults")), absent=_sentences(data.get("absent")))

