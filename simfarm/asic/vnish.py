"""VNish (AnthillOS) on an Antminer: ``/api/v1/*`` behind ``POST /api/v1/unlock``."""

from __future__ import annotations

import json

from simfarm.asic.webauth import Sessions, bearer
from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner


class VnishMiner(EmulatedMiner):
    make = "Bitmain"
    firmware = "VNish"
    driver = "vnish"
    models = ("Antminer S19j Pro", "Antminer S19 XP")
    rpc_port = None  # VNish also serves the RPC; the driver polls its web API only
    web_user, web_password = "admin", "admin"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions()

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        if path == "/":
            return html("<html><head><title>AnthillOS</title></head></html>")
        if path == "/api/v1/unlock" and method == "POST":
            try:
                password = json.loads(body or b"{}").get("pw")
            except ValueError:
                password = None
            if password != self.web_password:
                return json_reply({"err": "Wrong password"}, 401)
            return json_reply({"token": self.sessions.issue()})
        if not path.startswith("/api/v1/"):
            return None
        if not self.sessions.valid(bearer(headers)):
            return json_reply({"err": "Unauthorized"}, 401)
        s = self.state
        if path == "/api/v1/info":
            return json_reply({"miner": s.model, "fw_name": "Vnish", "fw_version": "1.2.6", "hr_measure": "GH/s",
                               "serial": s.serial, "platform": "xil",
                               "system": {"network_status": {"mac": s.mac, "hostname": s.hostname},
                                          "uptime": "2 days, 3:04"}})
        if path != "/api/v1/summary":
            return None
        return json_reply({"miner": {
            "miner_type": f"{s.model} (Vnish 1.2.6)", "miner_status": {"miner_state": "mining"},
            "hr_realtime": s.hashrate_hs / 1e9, "power_consumption": s.power_w,
            "chains": [{"id": b.index + 1, "hashrate_rt": 0 if b.dead else b.hashrate_hs / 1e9,
                        "frequency": b.frequency_mhz, "pcb_temp": {"min": b.temp_board_c - 5, "max": b.temp_board_c},
                        "chip_temp": {"min": b.temp_chip_c - 6, "max": b.temp_chip_c},
                        "status": {"state": "failure" if b.dead else "mining",
                                   "description": "no chips found" if b.dead else ""}} for b in s.boards],
            "cooling": {"fan_num": len(s.fans_rpm), "fans": [{"id": i, "rpm": r} for i, r in enumerate(s.fans_rpm)]},
            "pools": [{"id": p.index, "url": p.url, "user": p.user,
                       "status": ("active" if p.index == 0 else "working") if p.alive else "offline",
                       "accepted": p.accepted, "rejected": p.rejected, "stale": p.stale} for p in s.pools],
        }})
