"""ESP-Miner (AxeOS) on a BitAxe: ``/api/system/info``, no login, no cgminer RPC."""

from __future__ import annotations

from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner

_ASIC = {"BitAxe Supra": "BM1368", "BitAxe Gamma": "BM1370"}


class EspMiner(EmulatedMiner):
    make = "BitAxe"
    firmware = "ESP-Miner"
    driver = "espminer"
    models = ("BitAxe Supra", "BitAxe Gamma")
    rpc_port = None

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        s = self.state
        if path == "/":
            return html("<!doctype html><html><head><title>AxeOS</title></head><body><app-root></app-root></body></html>")
        if path != "/api/system/info":
            return None
        board = s.boards[0]
        primary, fallback = (s.pools + s.pools)[:2]
        host, _, port = primary.url.rpartition(":")
        fb_host, _, fb_port = fallback.url.rpartition(":")
        return json_reply({
            "ASICModel": _ASIC.get(s.model, "BM1368"), "asicCount": board.chips,
            "hashRate": 0 if board.dead else board.hashrate_hs / 1e9, "power": s.power_w,
            "temp": board.temp_chip_c, "vrTemp": board.temp_board_c, "frequency": board.frequency_mhz,
            "fanrpm": s.fans_rpm[0], "sharesAccepted": primary.accepted, "sharesRejected": primary.rejected,
            "stratumURL": host, "stratumPort": int(port), "stratumUser": primary.user,
            "fallbackStratumURL": fb_host, "fallbackStratumPort": int(fb_port), "fallbackStratumUser": fallback.user,
            "isUsingFallbackStratum": 0, "uptimeSeconds": s.uptime_s(now), "hostname": s.hostname,
            "macAddr": s.mac, "version": "v2.4.5", "bestDiff": "1.2M",
        })
