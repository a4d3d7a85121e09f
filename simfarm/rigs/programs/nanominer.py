"""nanominer HTTP API, ``GET /stats`` on 9090 (its default ``webPort``).

``Algorithms[]`` holds one object per algorithm, keyed by its name, with one ``"GPU N"`` entry per
device and a ``Total``; ``Hashrate`` is a string in C ``%e`` notation (``"4.591157e+06"``) in H/s
and rejected shares are ``Denied``. ``Devices[]`` maps ``"GPU N"`` to name, platform, temperature
and ``Pci`` (the bus id without domain, ``"01:00.0"``)."""

from __future__ import annotations

from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, json_reply, short_bus_id


def scientific(hashrate_hs: float) -> str:
    return f"{hashrate_hs:e}"


class Nanominer(MinerProgram):
    name = "nanominer"
    title = "nanominer"
    version = "3.9.3"
    default_port = 9090
    protocol = "http"
    vendors = frozenset({"amd", "nvidia"})
    default_algorithm = "Etchash"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method == "GET" and path == "/stats":
            return json_reply(self._stats(now))
        return None

    def _stats(self, now: float) -> dict[str, Any]:
        gpus = self.gpus(now)
        hashrate, accepted, rejected = self.totals(now)
        algorithm: dict[str, Any] = {"CurrentPool": self.pool.split("://")[-1], "ReconnectionCount": 0}
        for g in gpus:
            algorithm[f"GPU {g.index}"] = {"Accepted": g.accepted, "Denied": g.rejected,
                                           "Hashrate": scientific(g.hashrate_hs)}
        algorithm["Total"] = {"Accepted": accepted, "Denied": rejected, "Hashrate": scientific(hashrate)}
        return {
            "Algorithms": [{self.algorithm: algorithm}],
            "Devices": [{f"GPU {g.index}": {
                "Name": g.name, "Platform": "CUDA" if g.vendor == "nvidia" else "OpenCL",
                "Pci": short_bus_id(g.bus_id), "Temperature": round(g.temp_c), "Power": round(g.power_w, 1),
            }} for g in gpus],
            "WorkTime": self.uptime_s(now),
        }
