"""TeamRedMiner's sgminer-compatible RPC (JSON over TCP, default ``--api_listen`` 127.0.0.1:4028).

``summary``, ``devs`` and ``pools``, each with sgminer's ``STATUS`` header. Hashrates come in
``KHS``/``MHS`` over the whole session (``av``) and a 30 s window (``30s``). ``devs`` has no PCI
address: GPUs are listed by ``GPU`` index, which TRM assigns in PCI bus order."""

from __future__ import annotations

import json
from typing import Any

from simfarm.rigs.programs.base import MinerProgram

# sgminer's status codes for the replies this program gives.
CODES = {"summary": 11, "devs": 9, "pools": 7}


class TeamRedMiner(MinerProgram):
    name = "teamredminer"
    title = "TeamRedMiner"
    version = "0.10.21"
    default_port = 4028
    protocol = "rpc"
    vendors = frozenset({"amd"})
    default_algorithm = "kawpow"

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        if command == "summary":
            section = "SUMMARY", [self._summary(now)], "Summary"
        elif command == "devs":
            gpus = self.gpus(now)
            section = "DEVS", [self._dev(g, now) for g in gpus], f"{len(gpus)} GPU(s)"
        elif command == "pools":
            section = "POOLS", [self._pool(now)], "1 Pool(s)"
        else:
            return None
        key, rows, message = section
        status = {"STATUS": "S", "When": int(now), "Code": CODES[command], "Msg": message,
                  "Description": f"{self.title} {self.version}"}
        return json.dumps({"STATUS": [status], key: rows, "id": 1}).encode()

    def rpc_error(self, code: int, msg: str, now: float) -> bytes:
        """sgminer's refusal (code 14 "Invalid command" for an unknown one), signed by TRM."""
        status = {"STATUS": "E", "When": int(now), "Code": code, "Msg": msg,
                  "Description": f"{self.title} {self.version}"}
        return json.dumps({"STATUS": [status], "id": 1}).encode()

    def _summary(self, now: float) -> dict[str, Any]:
        hashrate, accepted, rejected = self.totals(now)
        return {
            "Elapsed": self.uptime_s(now), **_rates(hashrate),
            "Found Blocks": 0, "Getworks": accepted, "Accepted": accepted, "Rejected": rejected,
            "Hardware Errors": 0, "Stale": 0, "Discarded": 0, "Get Failures": 0, "Local Work": accepted,
            "Remote Failures": 0, "Network Blocks": 0, "Total MH": round(hashrate * self.uptime_s(now) / 1e6, 4),
        }

    def _dev(self, g: Any, now: float) -> dict[str, Any]:
        return {
            "GPU": g.index, "Enabled": "Y", "Status": "Alive", "Temperature": g.temp_c,
            "Fan Speed": g.fan_rpm, "Fan Percent": round(g.fan_pct), "GPU Clock": g.core_clock_mhz,
            "Memory Clock": g.mem_clock_mhz, "GPU Voltage": 0.8, "GPU Activity": 100, "Powertune": 0,
            **_rates(g.hashrate_hs), "Accepted": g.accepted, "Rejected": g.rejected, "Hardware Errors": 0,
            "Device Elapsed": self.uptime_s(now),
        }

    def _pool(self, now: float) -> dict[str, Any]:
        _, accepted, rejected = self.totals(now)
        return {
            "POOL": 0, "URL": self.pool, "Algorithm": self.algorithm, "Status": "Alive", "Priority": 0, "Quota": 1,
            "Long Poll": "N",
            "Getworks": accepted, "Accepted": accepted, "Rejected": rejected, "Stale": 0,
            "User": self.user, "Has Stratum": True, "Stratum Active": True,
            "Stratum URL": self.pool.split("://")[-1].split(":")[0],
        }


def _rates(hashrate_hs: float) -> dict[str, float]:
    mhs, khs = round(hashrate_hs / 1e6, 6), round(hashrate_hs / 1e3, 3)
    return {"MHS av": mhs, "MHS 30s": mhs, "KHS av": khs, "KHS 30s": khs}
