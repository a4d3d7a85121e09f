"""lolMiner 1.0 – 1.3x HTTP API, ``GET /summary``: one ``Session`` and a ``GPUs[]`` list.

Performance is in ``Session.Performance_Unit`` (``mh/s``) with no factor; each GPU has
``Consumption (W)``, ``Fan Speed (%)``, ``Temp (deg C)``, ``Mem Temp (deg C)`` and its session
shares (``Session_Accepted``, ``Session_Submitted``). ``PCIE_Address`` is ``bus:device`` in decimal."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, json_reply
from simfarm.rigs.programs.lolminer import UNITS, in_unit, pcie_address


class LolMinerLegacy(MinerProgram):
    name = "lolminer_legacy"
    title = "lolMiner"
    version = "1.16a"
    default_port = 8020
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    default_algorithm = "Ethash"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/summary":
            return json_reply(self._summary(now))
        return None

    def _summary(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        unit, factor = UNITS[self.algorithm]
        hashrate, accepted, rejected = self.totals(now)
        return {
            "Software": f"lolMiner {self.version}",
            "Mining": {"Algorithm": self.algorithm},
            "Stratum": {"Current_Pool": self.pool.split("://")[-1], "Current_User": self.user,
                        "Average_Latency": 35.0},
            "Session": {
                "Startup": int(self.started_at), "Uptime": self.uptime_s(now), "Last_Update": int(now),
                "Active_GPUs": len(gpus), "Performance_Summary": in_unit(hashrate, factor),
                "Performance_Unit": unit, "Accepted": accepted, "Submitted": accepted + rejected,
                "TotalPower": round(sum(g.power_w for g in gpus), 3),
            },
            "GPUs": [{
                "Index": i, "Name": g.name, "Performance": in_unit(g.hashrate_hs, factor),
                "Consumption (W)": round(g.power_w, 3), "Fan Speed (%)": round(g.fan_pct),
                "Temp (deg C)": round(g.temp_c),
                "Mem Temp (deg C)": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                "Session_Accepted": g.accepted, "Session_Submitted": g.accepted + g.rejected,
                "Session_HWErr": 0, "Session_BestShare": 0, "PCIE_Address": pcie_address(g.bus_id),
            } for i, g in enumerate(gpus)],
        }
