"""Goldshell stock firmware: the ``/mcb/*`` web API behind ``GET /user/login`` (JWT)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from simfarm.asic.webauth import Sessions, bearer
from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner


class GoldshellMiner(EmulatedMiner):
    make = "Goldshell"
    firmware = "stock"
    driver = "goldshell"
    models = ("Goldshell KD6", "Goldshell Mini DOGE")
    rpc_port = None  # the driver reads cgminer through the web proxy
    web_user, web_password = "admin", "123456789"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions()

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/":
            return html('<html><head><title>Goldshell</title></head><body><div id="cloud-box"></div></body></html>')
        if url.path == "/user/login":
            if query.get("username") != self.web_user or query.get("password") != self.web_password:
                return json_reply({"error": "Invalid username or password"}, 401)
            return json_reply({"JWT Token": self.sessions.issue()})
        if not url.path.startswith("/mcb/"):
            return None
        if not self.sessions.valid(bearer(headers)):
            return json_reply({"error": "Unauthorized"}, 401)
        s = self.state
        if url.path == "/mcb/status":
            return json_reply({"model": s.model.removeprefix("Goldshell ").replace(" ", "-"), "firmware": "2.2.1",
                               "hardware": "GS-CB-V2"})
        if url.path != "/mcb/cgminer":
            return None
        status = [{"STATUS": "S", "When": int(now), "Code": 9, "Msg": "ok", "Description": "cgminer 4.9.2"}]
        fans = {f"fan{i}": rpm for i, rpm in enumerate(s.fans_rpm)}
        command = query.get("cgicmd")
        if command == "devs":
            return json_reply({"STATUS": status, "DEVS": [
                {"ASC": b.index, "ID": b.index, "Enabled": "Y", "Status": "Alive",
                 "MHS 20s": 0 if b.dead else b.hashrate_hs / 1e6, "MHS av": b.hashrate_hs / 1e6,
                 "tstemp-0": b.temp_chip_c - 3, "tstemp-1": b.temp_chip_c, "tstemp-2": b.temp_board_c,
                 "chips-nr": b.chips, "Hardware Errors": b.hw_errors, **fans} for b in s.boards]})
        if command == "pools":
            return json_reply({"STATUS": status, "POOLS": [
                {"POOL": p.index, "URL": p.url, "User": p.user, "Status": "Alive" if p.alive else "Dead",
                 "Stratum Active": p.alive and p.index == 0, "Accepted": p.accepted, "Rejected": p.rejected,
                 "Stale": p.stale} for p in s.pools]})
        if command == "summary":
            return json_reply({"STATUS": status, "SUMMARY": [{
                "Elapsed": s.uptime_s(now), "MHS 20s": s.hashrate_hs / 1e6, "MHS av": s.hashrate_hs / 1e6,
                "Accepted": s.accepted, "Rejected": s.rejected, "Hardware Errors": s.hw_errors,
                "When": int(now)}]})
        return None
