"""Auradine Teraflux: the API server on port 8080 (token in a ``Token`` header) and gcminer's RPC."""

from __future__ import annotations

import json
from typing import Any

from simfarm.asic.webauth import Sessions
from simfarm.asic.webreply import Reply, json_reply
from simfarm.device import EmulatedMiner

_VERSION = "GCMiner-2024-06.12-5e1d3a0"


def _status(code: int, msg: str, now: float, state: str = "S") -> list[dict[str, Any]]:
    return [{"STATUS": state, "When": int(now), "Code": code, "Msg": msg, "Description": _VERSION}]


class AuradineMiner(EmulatedMiner):
    make = "Auradine"
    firmware = "stock"
    driver = "auradine"
    models = ("Auradine AT1500",)
    web_port = 8080
    web_user, web_password = "admin", "admin"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions()

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        s = self.state
        if command == "version":
            return json.dumps({"STATUS": _status(22, "GCMiner versions", now),
                               "VERSION": [{"GCMiner": "2024-06.12", "API": "3.7"}], "id": 1}).encode()
        if command == "devs":
            return json.dumps({"STATUS": _status(9, f"{len(s.boards)} Dev(s)", now), "DEVS": [
                {"DEV": b.index, "ID": b.index, "Name": "ASICBoard", "Enabled": not b.dead,
                 "Status": "Dead" if b.dead else "Alive", "MHS 5s": 0.0 if b.dead else b.hashrate_hs / 1e6,
                 "Temperature": b.temp_board_c, "Hardware Errors": b.hw_errors} for b in s.boards], "id": 1}).encode()
        return None

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        s = self.state
        if path == "/token" and method == "POST":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = {}
            if request.get("user") != self.web_user or request.get("password") != self.web_password:
                return json_reply({"STATUS": _status(401, "Invalid user or password", now, "E"), "id": 1})
            return json_reply({"STATUS": _status(600, "Token", now), "Token": [{"Token": self.sessions.issue()}]})
        if not self.sessions.valid(headers.get("token")):
            return json_reply({"STATUS": _status(401, "Invalid token", now, "E"), "id": 1})
        if path == "/summary":
            return json_reply({"STATUS": _status(11, "Summary", now), "SUMMARY": [{
                "Elapsed": s.uptime_s(now), "MHS 5s": s.hashrate_hs / 1e6, "MHS av": s.hashrate_hs / 1e6,
                "Accepted": s.accepted, "Rejected": s.rejected, "Hardware Errors": s.hw_errors}], "id": 1})
        if path == "/pools":
            return json_reply({"STATUS": _status(7, f"{len(s.pools)} Pool(s)", now), "POOLS": [
                {"POOL": p.index, "URL": p.url, "User": p.user, "Status": "Alive" if p.alive else "Dead",
                 "Priority": p.index, "Stratum Active": p.alive and p.index == 0, "Accepted": p.accepted,
                 "Rejected": p.rejected, "Stale": p.stale} for p in s.pools], "id": 1})
        if path == "/fan":
            return json_reply({"STATUS": _status(510, f"Total fans: {len(s.fans_rpm)}", now), "Fan": [
                {"ID": i + 1, "Speed": rpm, "Target": 7000, "Max": 7700} for i, rpm in enumerate(s.fans_rpm)], "id": 1})
        if path == "/psu":
            return json_reply({"STATUS": _status(570, "PSU status", now), "PSU": [
                {"PowerIn": f"{s.power_w:.2f}W", "Vin": "245.00V", "Vout": "12.50V"}], "id": 1})
        if path == "/ipreport":
            return json_reply({"STATUS": _status(620, "IP Report", now), "IPReport": [
                {"command": "ipreport", "SerialNo": s.serial, "mac": s.mac.lower(),
                 "model": s.model.removeprefix("Auradine "), "version": "2024-06.12", "hostname": s.hostname}],
                "id": 1})
        return None
