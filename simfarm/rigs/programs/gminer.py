"""GMiner 2.x / 3.x HTTP API, ``GET /stat``.

Speeds are in ``speed_unit``, which depends on the algorithm (``Sol/s`` for Equihash and
Cuckoo-family, ``H/s`` otherwise), rounded to ``speed_rate_precision`` decimals. Each device has its
``bus_id`` (``0000:01:00.0``), fan (%), core and memory temperatures, clocks and shares. The API is
off unless ``--api PORT`` is given; 10050 is the port this farm uses."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, json_reply

# algorithm -> (speed_unit, power_unit, speed_rate_precision)
UNITS: dict[str, tuple[str, str, int]] = {
    "equihash125_4": ("Sol/s", "Sol/W", 1),
    "equihash144_5": ("Sol/s", "Sol/W", 1),
    "kawpow": ("H/s", "H/W", 0),
    "etchash": ("H/s", "H/W", 0),
    "autolykos2": ("H/s", "H/W", 0),
}


class GMiner(MinerProgram):
    name = "gminer"
    title = "GMiner"
    version = "3.44"
    default_port = 10050
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    default_algorithm = "equihash125_4"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/stat":
            return json_reply(self._stat(now))
        return None

    def _stat(self, now: float) -> dict[str, Any]:
        unit, power_unit, precision = UNITS[self.algorithm]
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        return {
            "miner": f"GMiner {self.version}",
            "uptime": self.uptime_s(now),
            "server": self.pool,
            "user": self.user,
            "algorithm": self.algorithm,
            "electricity": 0.0,
            "total_accepted_shares": accepted,
            "total_rejected_shares": rejected,
            "total_stale_shares": 0,
            "total_invalid_shares": 0,
            "pool_speed": round(hashrate, precision),
            "devices": [{
                "gpu_id": g.index, "bus_id": g.bus_id, "name": g.name,
                "speed": round(g.hashrate_hs, precision),
                "accepted_shares": g.accepted, "rejected_shares": g.rejected,
                "stale_shares": 0, "invalid_shares": 0,
                "fan": round(g.fan_pct), "temperature": round(g.temp_c), "temperature_limit": 90,
                "memory_temperature": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                "memory_temperature_limit": 110,
                "core_clock": g.core_clock_mhz, "memory_clock": g.mem_clock_mhz,
                "power_usage": round(g.power_w),
            } for g in gpus],
            "speed_rate_precision": precision,
            "speed_unit": unit,
            "power_unit": power_unit,
        }
