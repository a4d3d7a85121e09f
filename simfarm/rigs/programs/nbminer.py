"""NBMiner HTTP API, ``GET /api/v1/status``.

Each device's ``hashrate`` is a display string (``"25.10 M"``) and ``hashrate_raw`` the H/s
number; ``pci_bus_id`` is the decimal bus number. Shares are per device and in ``stratum``. The
API is off unless ``--api host:port`` is given; 22333 is the port NBMiner's tools use."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply


def display(hashrate_hs: float) -> str:
    """NBMiner's scaled display form: ``"25.10 M"``."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if hashrate_hs >= scale:
            return f"{hashrate_hs / scale:.2f} {prefix}"
    return f"{hashrate_hs:.2f} "


class NBMiner(MinerProgram):
    name = "nbminer"
    title = "NBMiner"
    version = "v42.3"
    default_port = 22333
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    default_algorithm = "ergo"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/api/v1/status":
            return json_reply(self._status(now))
        return None

    def _status(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        return {
            "miner": {
                "devices": [{
                    "accepted_shares": g.accepted, "core_clock": g.core_clock_mhz, "core_utilization": 100,
                    "fan": round(g.fan_pct), "hashrate": display(g.hashrate_hs),
                    "hashrate_raw": round(g.hashrate_hs, 2), "id": g.index, "info": g.name,
                    "invalid_shares": 0, "lhr": 0,
                    "memTemperature": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                    "mem_clock": g.mem_clock_mhz, "mem_utilization": 80, "pci_bus_id": bus_number(g.bus_id),
                    "power": round(g.power_w), "rejected_shares": g.rejected, "temperature": round(g.temp_c),
                } for g in gpus],
                "total_hashrate": display(hashrate),
                "total_hashrate_raw": round(hashrate, 2),
                "total_power_consume": round(sum(g.power_w for g in gpus)),
            },
            "reboot_times": 0,
            "start_time": int(self.started_at),
            "stratum": {
                "accepted_shares": accepted, "algorithm": self.algorithm, "difficulty": "1.00 G",
                "dual_mine": False, "invalid_shares": 0, "latency": 40, "rejected_shares": rejected,
                "url": self.pool.split("://")[-1], "use_ssl": False, "user": self.user,
            },
            "version": self.version,
        }
