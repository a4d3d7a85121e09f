"""Rigel (NVIDIA) HTTP API, ``GET /`` (also ``/stat``).

Hashrates are H/s in objects keyed by algorithm (``{"kawpow": 31.2e6}``), at the top level and per
device; ``solution_stat`` likewise counts accepted/rejected/invalid per algorithm. Each device has
its ``pci_address`` and a ``monitoring_info`` block (temperatures, fan %, power, clocks). The API is
off unless ``--api-bind`` is given; 5000 is the port this farm uses."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, json_reply


class Rigel(MinerProgram):
    name = "rigel"
    title = "Rigel"
    version = "1.19.4"
    default_port = 5000
    protocol = "http"
    vendors = frozenset({"nvidia"})
    default_algorithm = "kawpow"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path in ("/", "/stat"):
            return json_reply(self._stat(now))
        return None

    def _stat(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        algo = self.algorithm
        return {
            "name": "rigel", "version": self.version, "os_name": "linux", "cuda_driver": "12.2",
            "uptime": self.uptime_s(now), "algorithm": algo, "watchdog": "enabled",
            "pools": {algo: [{"id": 0, "connection_details": {
                "protocol": self.pool.split("://")[0], "username": self.user, "password": None,
                "worker": self.state.hostname, "hostname": self.pool.split("://")[-1].split(":")[0],
                "port": int(self.pool.rsplit(":", 1)[-1]), "ssl": False, "dns_mode": "default"},
                "state": {"issued_job": "1"}, "solution_stat": {"accepted": accepted, "rejected": rejected,
                                                               "invalid": 0}}]},
            "devices": [{
                "id": g.index, "selected": True, "name": g.name, "total_mem": 8589934592,
                "pci_address": g.bus_id, "state": "mining",
                "solution_stat": {algo: {"accepted": g.accepted, "rejected": g.rejected, "invalid": 0}},
                "monitoring_info": {
                    "core_temperature": round(g.temp_c),
                    "memory_temperature": round(g.mem_temp_c) if g.mem_temp_c is not None else None,
                    "fan_speed": round(g.fan_pct), "power_usage": round(g.power_w),
                    "core_clock": g.core_clock_mhz, "core_clock_offset": 0,
                    "memory_clock": g.mem_clock_mhz, "memory_clock_offset": 0,
                },
                "hashrate": {algo: round(g.hashrate_hs, 2)},
                "pool_hashrate": {algo: round(g.hashrate_hs, 2)},
                "crash_count": 0,
            } for g in gpus],
            "solution_stat": {algo: {"accepted": accepted, "rejected": rejected, "invalid": 0}},
            "hashrate": {algo: round(hashrate, 2)},
            "pool_hashrate": {algo: round(hashrate, 2)},
            "power_usage": round(sum(g.power_w for g in gpus)),
        }
