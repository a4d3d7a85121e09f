"""XMRig 6.x HTTP API: ``/1/summary`` (also ``/api.json``), ``/2/summary`` and ``/2/backends``.

Hashrates are H/s, each a ``[10 s, 60 s, 15 min]`` triple whose windows are ``null`` until the
miner has run that long. The CUDA backend names each GPU by its bus id without domain (``01:00.0``).
The HTTP API is off unless configured and has no default port; the docs' examples use 44444."""

from __future__ import annotations

import hashlib
from typing import Any

from simfarm.rigs.programs.base import HttpReply, MinerProgram, json_reply, short_bus_id


def _windows(hashrate_hs: float, uptime_s: int) -> list[float | None]:
    value = round(hashrate_hs, 2)
    return [value, value if uptime_s >= 60 else None, value if uptime_s >= 900 else None]


class XMRig(MinerProgram):
    name = "xmrig"
    title = "XMRig"
    version = "6.21.0"
    default_port = 44444
    protocol = "http"
    vendors = frozenset({"nvidia"})  # through its CUDA plugin
    cpu_capable = True
    default_algorithm = "rx/0"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> HttpReply | None:
        if method != "GET":
            return None
        if path in ("/1/summary", "/api.json"):
            return json_reply(self._summary(now, legacy=True))
        if path == "/2/summary":
            return json_reply(self._summary(now, legacy=False))
        if path == "/2/backends":
            return json_reply(self._backends(now))
        return None

    def _summary(self, now: float, legacy: bool) -> dict[str, Any]:
        uptime = self.uptime_s(now)
        hashrate, accepted, rejected = self.totals(now)
        cpu = self.state.read_cpu(now)
        summary: dict[str, Any] = {
            "id": hashlib.sha256(f"{self.state.seed}/{self.name}".encode()).hexdigest()[:16],
            "worker_id": self.state.hostname,
            "uptime": uptime,
            "restricted": True,
            "results": {"diff_current": 120001, "shares_good": accepted, "shares_total": accepted + rejected,
                        "avg_time": 30, "hashes_total": int(hashrate * uptime), "best": [0] * 10},
            "algo": self.algorithm,
            "connection": {"pool": self.pool.split("://")[-1], "uptime": uptime, "ping": 40, "failures": 0,
                           "algo": self.algorithm, "diff": 120001, "accepted": accepted, "rejected": rejected},
            "version": self.version,
            "kind": "miner",
            "ua": f"XMRig/{self.version} (Linux x86_64) libuv/1.44.2 gcc/11.4.0",
            "cpu": {"brand": cpu.model, "aes": True, "avx2": True, "x64": True,
                    "cores": cpu.threads // 2, "threads": cpu.threads, "packages": 1, "nodes": 1},
            "donate_level": 1,
            "paused": False,
            "hashrate": {"total": _windows(hashrate, uptime), "highest": round(hashrate, 2)},
            "hugepages": True,
        }
        if legacy:
            # API v1 adds one triple per CPU mining thread.
            threads = cpu.threads if self.mines_on_cpu else 0
            per_thread = (self.cpu(now).hashrate_hs / threads) if threads else 0.0
            summary["hashrate"]["threads"] = [_windows(per_thread, uptime) for _ in range(threads)]
        return summary

    def _backends(self, now: float) -> list[dict[str, Any]]:
        uptime = self.uptime_s(now)
        cpu = self.cpu(now)
        cpu_hashrate = cpu.hashrate_hs if cpu else 0.0
        threads = self.state.cpu.threads if cpu else 0
        backends: list[dict[str, Any]] = [{
            "type": "cpu", "enabled": cpu is not None, "algo": self.algorithm if cpu else None,
            "profile": "rx", "hw-aes": True, "priority": -1, "asm": "intel",
            "hashrate": _windows(cpu_hashrate, uptime),
            "threads": [{"intensity": 1, "affinity": i, "av": 1,
                         "hashrate": _windows(cpu_hashrate / threads, uptime)} for i in range(threads)],
        }]
        gpus = self.gpus(now)
        if self.bus_ids:
            backends.append({
                "type": "cuda", "enabled": True, "algo": self.algorithm, "profile": self.algorithm,
                "versions": {"cuda-runtime": "12.2", "cuda-driver": "12.2", "plugin": self.version,
                             "nvml": "12.535.129", "driver": "535.129"},
                "hashrate": _windows(sum(g.hashrate_hs for g in gpus), uptime),
                "threads": [{
                    "index": g.index, "name": g.name, "bus_id": short_bus_id(g.bus_id),
                    "clock": g.core_clock_mhz, "memory_clock": g.mem_clock_mhz,
                    "hashrate": _windows(g.hashrate_hs, uptime),
                    "health": {"temperature": round(g.temp_c), "power": round(g.power_w),
                               "clock": g.core_clock_mhz, "mem_clock": g.mem_clock_mhz,
                               "fan_speed": [round(g.fan_pct)]},
                } for g in gpus],
            })
        return backends
