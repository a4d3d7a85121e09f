"""BzMiner HTTP API, ``GET /status`` on 4014 (its ``http_port``).

``devices[]`` lists GPUs and the CPU alike, told apart by ``vendor`` (1 NVIDIA, 4 CPU); each has
per-algorithm arrays (``hashrate`` in H/s, ``valid_solutions``, ``rejected_solutions``,
``stale_solutions``) whose slot i refers to ``pool[i]``, the pool ids in ``pools[]``.
``pci_bus_id`` is the decimal bus number."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply

VENDOR_NVIDIA = 1


class BzMiner(MinerProgram):
    name = "bzminer"
    title = "BzMiner"
    version = "v21.5.3"
    default_port = 4014
    protocol = "http"
    vendors = frozenset({"nvidia"})
    default_algorithm = "kaspa"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/status":
            return json_reply(self._status(now))
        return None

    def _status(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        _, accepted, rejected = self.totals(now)
        return {
            "rig_name": self.state.hostname,
            "bzminer_version": self.version,
            "uptime_s": self.uptime_s(now),
            "cuda_driver_version": 12020,
            "pools": [{"id": 0, "algorithm": self.algorithm, "current_url": self.pool, "wallet": self.user,
                       "status": 2, "valid_solutions": accepted, "rejected_solutions": rejected,
                       "stale_solutions": 0}],
            "devices": [{
                "device_id": g.index, "name": g.name, "vendor": VENDOR_NVIDIA, "pci_bus_id": bus_number(g.bus_id),
                "status": [1], "message": ["mining"], "pool": [0],
                "hashrate": [round(g.hashrate_hs, 2)], "valid_solutions": [g.accepted],
                "rejected_solutions": [g.rejected], "stale_solutions": [0], "invalid_solutions": [0],
                "power": round(g.power_w), "core_temp": round(g.temp_c),
                "mem_temp": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                "fan": round(g.fan_pct), "clock_rate": g.core_clock_mhz, "memory_rate": g.mem_clock_mhz,
            } for g in gpus],
        }
