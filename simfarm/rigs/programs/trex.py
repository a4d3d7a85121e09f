"""T-Rex (NVIDIA) ≥ 0.19 HTTP API, ``GET /summary`` on 4067 (its default ``--api-bind-http``).

Hashrates are integer H/s. Each GPU carries its PCI address split into ``pci_domain``, ``pci_bus``
and ``pci_id`` (device) as decimal integers, plus fan (%), power (W), core/memory temperatures,
clocks and its own share counters."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply


class TRex(MinerProgram):
    name = "trex"
    title = "T-Rex"
    version = "0.26.8"
    default_port = 4067
    protocol = "http"
    vendors = frozenset({"nvidia"})
    default_algorithm = "kawpow"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/summary":
            return json_reply(self._summary(now))
        return None

    def _summary(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        return {
            "accepted_count": accepted,
            "active_pool": {"difficulty": "1.07 G", "ping": 42, "retries": 0, "url": self.pool,
                            "user": self.user, "worker": self.state.hostname},
            "algorithm": self.algorithm,
            "api": "4.2",
            "description": "T-Rex NVIDIA GPU miner",
            "driver": "535.129.03",
            "gpu_total": len(gpus),
            "gpus": [{
                "cclock": g.core_clock_mhz,
                "device_id": g.index,
                "fan_speed": round(g.fan_pct),
                "gpu_id": g.index,
                "gpu_user_id": g.index,
                "hashrate": round(g.hashrate_hs),
                "hashrate_minute": round(g.hashrate_hs),
                "mclock": g.mem_clock_mhz,
                "memory_temperature": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                "name": g.name.removeprefix("NVIDIA "),
                "pci_bus": bus_number(g.bus_id),
                "pci_domain": 0,
                "pci_id": 0,
                "power": round(g.power_w),
                "shares": {"accepted_count": g.accepted, "invalid_count": 0, "rejected_count": g.rejected,
                           "solved_count": 0},
                "temperature": round(g.temp_c),
                "vendor": "NVIDIA",
            } for g in gpus],
            "hashrate": round(hashrate),
            "hashrate_minute": round(hashrate),
            "invalid_count": 0,
            "name": "t-rex",
            "os": "linux",
            "rejected_count": rejected,
            "solved_count": 0,
            "success": 1,
            "ts": int(now),
            "uptime": self.uptime_s(now),
            "version": self.version,
        }
