"""OneZeroMiner HTTP API, ``GET /``.

``devices[]`` carries the hardware (``bus_id`` as the decimal bus number, temperature, fan %,
power, clocks) and ``algos[]`` the mining: ``hashrates`` and per-device share arrays indexed like
``devices``, plus totals; hashrates are H/s. The API port is set with ``--api-port``; 3001 is the
port this farm uses."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply


class OneZeroMiner(MinerProgram):
    name = "onezerominer"
    title = "OneZeroMiner"
    version = "1.7.4"
    default_port = 3001
    protocol = "http"
    vendors = frozenset({"nvidia", "amd"})
    default_algorithm = "xelishashv3"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/":
            return json_reply(self._root(now))
        return None

    def _root(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        return {
            "name": "OneZeroMiner", "version": self.version,
            "start_time": int(self.started_at), "uptime_seconds": self.uptime_s(now), "last_update": int(now),
            "devices": [{
                "id": g.index, "bus_id": bus_number(g.bus_id), "name": g.name, "vendor": g.vendor.upper(),
                "cclk": g.core_clock_mhz, "mclk": g.mem_clock_mhz, "temp": round(g.temp_c),
                "fan": round(g.fan_pct), "power": round(g.power_w),
            } for g in gpus],
            "num_algos": 1,
            "algos": [{
                "id": 0, "name": self.algorithm, "session": {"active": True, "next_session": 0},
                "pool": self.pool, "pool_status": "connected",
                "hashrates": [round(g.hashrate_hs, 2) for g in gpus],
                "total_hashrate": round(hashrate, 2),
                "total_accepted_shares": accepted, "total_rejected_shares": rejected,
                "devices_accepted_shares": [g.accepted for g in gpus],
                "devices_rejected_shares": [g.rejected for g in gpus],
            }],
        }
