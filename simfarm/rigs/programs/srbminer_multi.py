"""SRBMiner-MULTI HTTP API, ``GET /`` on 21550 (its default ``--api-port``; ``--api-enable`` turns it on).

It mines a GPU algorithm and a CPU algorithm at once: ``algorithms[]`` has one entry per
algorithm, whose ``hashrate`` holds H/s totals and per-device values under ``cpu`` (``threadN``)
and ``gpu`` (``gpuN``, N the ``id`` in ``gpu_devices``). ``gpu_devices[].bus_id`` is the decimal
bus number."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply


class SRBMinerMulti(MinerProgram):
    name = "srbminer_multi"
    title = "SRBMiner-MULTI"
    version = "2.5.1"
    default_port = 21550
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    cpu_capable = True
    default_algorithm = "kawpow"

    def __init__(self, *args: Any, cpu_algorithm: str = "randomx", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cpu_algorithm = cpu_algorithm

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/":
            return json_reply(self._root(now))
        return None

    def expected(self) -> dict[str, Any]:
        return {**super().expected(), "cpu_algorithm": self.cpu_algorithm if self.mines_on_cpu else None}

    def _root(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        cpu = self.cpu(now)
        uptime = self.uptime_s(now)
        algorithms: list[dict[str, Any]] = []
        if self.bus_ids:
            per_gpu = {f"gpu{g.index}": g.hashrate_hs for g in gpus}
            algorithms.append(self._algorithm(
                self.algorithm, {"total": 0.0}, {**per_gpu, "total": sum(per_gpu.values())},
                sum(g.accepted for g in gpus), sum(g.rejected for g in gpus), uptime))
        if cpu is not None:
            per_thread = {f"thread{i}": cpu.hashrate_hs / cpu.threads for i in range(cpu.threads)}
            algorithms.append(self._algorithm(
                self.cpu_algorithm, {**per_thread, "total": cpu.hashrate_hs}, {"total": 0.0},
                cpu.accepted, cpu.rejected, uptime))
        for i, entry in enumerate(algorithms):
            entry["id"] = i
        return {
            "rig_name": self.state.hostname,
            "miner_version": self.version,
            "mining_time": uptime,
            "total_cpu_workers": cpu.threads if cpu else 0,
            "total_gpu_workers": len(gpus),
            "total_workers": (cpu.threads if cpu else 0) + len(gpus),
            "cpu_devices": [{"id": 0, "device": "cpu0", "model": self.state.cpu.model,
                             "temperature": cpu.temp_c}] if cpu else [],
            "gpu_devices": [{
                "id": g.index, "device": f"gpu{g.index}", "model": g.name, "bus_id": bus_number(g.bus_id),
                "vendor": g.vendor.upper(), "temperature": round(g.temp_c), "fan_speed_rpm": g.fan_rpm,
                "core_clock": g.core_clock_mhz, "memory_clock": g.mem_clock_mhz, "power": round(g.power_w),
            } for g in gpus],
            "algorithms": algorithms,
        }

    def _algorithm(self, name: str, cpu: dict[str, float], gpu: dict[str, float],
                   accepted: int, rejected: int, uptime: int) -> dict[str, Any]:
        total = cpu["total"] + gpu["total"]
        return {
            "name": name,
            "pool": {"pool": self.pool.split("://")[-1], "uptime": uptime, "difficulty": 120001.0,
                     "latency": 40, "last_job_received": 5},
            "shares": {"total": accepted + rejected, "accepted": accepted, "rejected": rejected,
                       "avg_find_time": 30},
            "hashrate": {"now": total, "1min": total, "5min": total, "30min": total, "max": total,
                         "cpu": cpu, "gpu": gpu},
        }
