"""lolMiner ≥ 1.40 HTTP API, ``GET /`` (also ``/summary``): ``Workers[]`` and ``Algorithms[]``.

Performance is in ``Performance_Unit`` (``mh/s`` for Ethash-family algorithms), and
``Performance_Factor`` multiplies it back to H/s. Per-worker values are arrays indexed like
``Workers``. ``PCIE_Address`` is ``bus:device`` in decimal (``"16:0"`` for bus 0x10). The API is
off unless ``--apiport`` is given; 8020 is the port this farm uses."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, bus_number, json_reply

# (Performance_Unit, Performance_Factor) per algorithm, as lolMiner prints them.
UNITS: dict[str, tuple[str, float]] = {
    "Ethash": ("mh/s", 1e6),
    "Etchash": ("mh/s", 1e6),
    "Autolykos V2": ("mh/s", 1e6),
    "KASPA": ("gh/s", 1e9),
    "BeamHash III": ("sol/s", 1.0),
}


def pcie_address(bus_id: str) -> str:
    return f"{bus_number(bus_id)}:{int(bus_id.split(':')[2].split('.')[0], 16)}"


def in_unit(hashrate_hs: float, factor: float) -> float:
    return round(hashrate_hs / factor, 2)


class LolMiner(MinerProgram):
    name = "lolminer"
    title = "lolMiner"
    version = "1.88"
    default_port = 8020
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    default_algorithm = "Etchash"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path in ("/", "/summary"):
            return json_reply(self._root(now))
        return None

    def _root(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        unit, factor = UNITS[self.algorithm]
        hashrate, accepted, rejected = self.totals(now)
        return {
            "Software": f"lolMiner {self.version}",
            "Session": {"Startup": int(self.started_at), "Uptime": self.uptime_s(now), "Last_Update": int(now)},
            "Num_Workers": len(gpus),
            "Workers": [{
                "Index": i, "Name": g.name, "Power": round(g.power_w, 3),
                "CCLK": g.core_clock_mhz, "MCLK": g.mem_clock_mhz,
                "Core_Temp": round(g.temp_c), "Juc_Temp": 0,
                "Mem_Temp": round(g.mem_temp_c) if g.mem_temp_c is not None else 0,
                "Fan_Speed": round(g.fan_pct), "PCIE_Address": pcie_address(g.bus_id),
            } for i, g in enumerate(gpus)],
            "Num_Algorithms": 1,
            "Algorithms": [{
                "Algorithm": self.algorithm, "Algorithm_Appendix": "",
                "Pool": self.pool.split("://")[-1], "User": self.user, "Worker": self.state.hostname,
                "Performance_Unit": unit, "Performance_Factor": factor,
                "Total_Performance": in_unit(hashrate, factor),
                "Total_Accepted": accepted, "Total_Rejected": rejected, "Total_Stales": 0, "Total_Errors": 0,
                "Worker_Performance": [in_unit(g.hashrate_hs, factor) for g in gpus],
                "Worker_Accepted": [g.accepted for g in gpus],
                "Worker_Rejected": [g.rejected for g in gpus],
                "Worker_Stales": [0 for _ in gpus],
                "Worker_Errors": [0 for _ in gpus],
            }],
        }
