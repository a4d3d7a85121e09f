"""Innosilicon stock firmware (DragonMint lineage): POST ``/api/*`` behind a JWT from ``/api/auth``."""

from __future__ import annotations

from urllib.parse import parse_qs

from simfarm.asic.webauth import Sessions, bearer
from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner


class InnosiliconMiner(EmulatedMiner):
    make = "Innosilicon"
    firmware = "stock"
    driver = "innosilicon"
    models = ("Innosilicon T3H+",)
    rpc_port = None  # the driver reads the web API only
    web_user, web_password = "admin", "admin"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions()

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        if path == "/":
            return html("<html><head><title>DragonMint</title></head></html>")
        if path == "/api/auth":
            form = {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()}
            if form.get("username") != self.web_user or form.get("password") != self.web_password:
                return json_reply({"success": False, "message": "Invalid username or password"})
            return json_reply({"success": True, "jwt": self.sessions.issue()})
        if not path.startswith("/api/"):
            return None
        if not self.sessions.valid(bearer(headers)):
            return json_reply({"success": False, "token": "expired"})
        s = self.state
        if path == "/api/type":
            return json_reply({"success": True, "type": s.model.removeprefix("Innosilicon "), "hwType": "T3H+"})
        if path == "/api/getAll":
            return json_reply({"success": True, "all": {
                "mac": s.mac.lower(), "power": s.power_w, "fansSpeed": 70,
                "total_hash": {"Hash Rate H": s.hashrate_hs},
                "chain": [{"ASC": b.index, "Hash Rate H": 0 if b.dead else b.hashrate_hs,
                           "Temp min": b.temp_chip_c - 8, "Temp max": b.temp_chip_c} for b in s.boards]}})
        if path == "/api/summary":
            return json_reply({"success": True, "HARDWARE": {"Fan duty": 70},
                               "DEVS": [{"ASC": b.index, "ID": b.index, "Temperature": b.temp_board_c,
                                         "Hardware Errors": b.hw_errors,
                                         "MHS av": b.hashrate_hs / 1e6} for b in s.boards],
                               "POOLS": [{"POOL": p.index, "URL": p.url, "User": p.user,
                                          "Status": "Alive" if p.alive else "Dead", "Accepted": p.accepted,
                                          "Rejected": p.rejected, "Stale": p.stale} for p in s.pools]})
        return None
