"""Per-device series: every miner, rig and GPU in the store's latest rows.

Each series is a row of a table (metric, column, help), applied by one loop. The busy series carry
only the device's key and site (and the algorithm on a hashrate, a fan's or GPU's slot where there
are several); what describes a device (make, model, firmware, rack, address) is on its one
``_info`` series, to be joined in a query (``* on (key) group_left(model) minerwatch_miner_info``).
A value the device did not report (null in the store) has no sample: never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from appliance.inventory import Labels
from collectors import algorithms
from web.metrics.text import COUNTER, GAUGE, family, label_pairs


@dataclass(frozen=True)
class Series:
    name: str  # as exposed: a counter's ends in "_total"
    column: str  # in the store's table
    help: str
    counter: bool = False
    by_algorithm: bool = False  # a hashrate: labelled with the algorithm it is in


def _shares(prefix: str, whose: str) -> tuple[Series, ...]:
    return tuple(Series(f"{prefix}_shares_{verdict}_total", verdict, f"Shares {whose}, {verdict} by the pool",
                        counter=True) for verdict in ("accepted", "rejected"))


MINER_SERIES = (
    Series("minerwatch_miner_up", "reachable", "1 when the miner answered its last poll, 0 when it did not"),
    Series("minerwatch_miner_hashrate_hashes_per_second", "hashrate_hs",
           "Hashrate (the firmware's short average), in the miner's algorithm", by_algorithm=True),
    Series("minerwatch_miner_hashrate_nominal_hashes_per_second", "hashrate_nominal_hs",
           "The model's rated hashrate, in the miner's algorithm", by_algorithm=True),
    Series("minerwatch_miner_temperature_max_celsius", "temp_max_c", "Hottest board or chip"),
    Series("minerwatch_miner_power_watts", "power_w", "Power drawn"),
    Series("minerwatch_miner_uptime_seconds", "uptime_s", "Time since the mining program started"),
    *_shares("minerwatch_miner", "the miner found since its mining program started"),
    Series("minerwatch_miner_hardware_errors_total", "hw_errors", "Hardware errors since the mining program started",
           counter=True),
)

RIG_SERIES = (
    Series("minerwatch_rig_up", "reachable", "1 when the rig's sentry answered its last read, 0 when it did not"),
    Series("minerwatch_rig_uptime_seconds", "uptime_s", "Time since the rig booted"),
    Series("minerwatch_rig_cpu_temperature_celsius", "cpu_temp_c", "The rig's CPU temperature"),
    Series("minerwatch_rig_cpu_hashrate_hashes_per_second", "cpu_hashrate_hs",
           "The CPU mining program's hashrate, in its algorithm", by_algorithm=True),
    Series("minerwatch_rig_gpus", "gpus", "GPUs present"),
)

GPU_SERIES = (
    Series("minerwatch_gpu_hashrate_hashes_per_second", "hashrate_hs", "GPU hashrate, in its algorithm",
           by_algorithm=True),
    Series("minerwatch_gpu_temperature_celsius", "temp_c", "GPU core temperature"),
    Series("minerwatch_gpu_memory_temperature_celsius", "mem_temp_c", "GPU memory junction temperature"),
    Series("minerwatch_gpu_fan_rpm", "fan_rpm", "GPU fan speed"),
    Series("minerwatch_gpu_power_watts", "power_w", "GPU power drawn"),
    *_shares("minerwatch_gpu", "this GPU found since its mining program started"),
)


def miner_families(rows: pa.Table, devices: Mapping[str, Labels]) -> Iterator[str]:
    keys = rows["device"].to_pylist()
    sites = _sites(keys, rows["site"].to_pylist(), devices)
    identity = label_pairs({"key": keys, "site": sites})
    yield from _families(rows, MINER_SERIES, identity, rows["algorithm"].to_pylist())
    yield _fans(identity, rows["fan_rpm"].to_pylist())
    known = [devices.get(key) for key in keys]
    columns = {name: rows[name].to_pylist() for name in ("make", "model", "firmware", "firmware_version", "ip")}
    yield _info("minerwatch_miner_info", "What the miner is and where it stands; always 1", identity, {
        "make": [_either(v, d and d.make) for v, d in zip(columns["make"], known)],
        "model": [_either(v, d and d.model) for v, d in zip(columns["model"], known)],
        "firmware": [" ".join(filter(None, pair)) for pair in zip(columns["firmware"], columns["firmware_version"])],
        "rack": [d and d.rack for d in known],
        "ip": columns["ip"],
    })


def rig_families(rigs: pa.Table | None, gpus: pa.Table | None, devices: Mapping[str, Labels]) -> Iterator[str]:
    if rigs is not None and rigs.num_rows:
        keys = rigs["rig"].to_pylist()
        identity = label_pairs({"rig": keys, "site": _sites(keys, rigs["site"].to_pylist(), devices)})
        yield from _families(rigs, RIG_SERIES, identity, rigs["cpu_algorithm"].to_pylist())
        yield _info("minerwatch_rig_info", "What the rig is and where it stands; always 1", identity, {
            "hostname": rigs["hostname"].to_pylist(), "cpu_model": rigs["cpu_model"].to_pylist(),
            "rack": [d.rack if (d := devices.get(key)) else None for key in keys]})
    if gpus is not None and gpus.num_rows:
        keys = gpus["rig"].to_pylist()
        identity = label_pairs({"rig": keys, "site": _sites(keys, gpus["site"].to_pylist(), devices),
                                "bus_id": gpus["bus_id"].to_pylist()})
        yield from _families(gpus, GPU_SERIES, identity, gpus["algorithm"].to_pylist())
        yield _info("minerwatch_gpu_info", "What the GPU is; always 1", identity,
                    {"name": gpus["name"].to_pylist(), "vendor": gpus["vendor"].to_pylist()})


def _sites(keys: list[str], stored: list[str | None], devices: Mapping[str, Labels]) -> list[str]:
    """The inventory's site (where a person may have moved the device since), else the stored one."""
    return [d.site if (d := devices.get(key)) else (site or "") for key, site in zip(keys, stored)]


def _either(value: str | None, fallback: str | None) -> str | None:
    return value or fallback  # a miner that does not answer says no make; the inventory remembers


def _families(rows: pa.Table, series: Sequence[Series], identity: list[str],
              written_algorithms: list[str | None]) -> Iterator[str]:
    with_algorithm = [f"{pairs},{algorithm}" for pairs, algorithm in zip(identity, label_pairs(
        {"algorithm": [algorithms.canonical(written) or "" for written in written_algorithms]}))]
    for item in series:
        yield family(item.name, COUNTER if item.counter else GAUGE, item.help,
                     zip(with_algorithm if item.by_algorithm else identity, rows[item.column].to_pylist()))


def _fans(identity: list[str], fans: list[list[int | None] | None]) -> str:
    return family("minerwatch_miner_fan_rpm", GAUGE, "Fan speed, by the fan's place in the miner",
                  ((f'{pairs},fan="{index}"', rpm) for pairs, rpms in zip(identity, fans)
                   for index, rpm in enumerate(rpms or ())))


def _info(name: str, documentation: str, identity: list[str], described: Mapping[str, list[str | None]]) -> str:
    return family(name, GAUGE, documentation,
                  ((f"{pairs},{more}", 1) for pairs, more in zip(identity, label_pairs(described))))
