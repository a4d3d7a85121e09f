"""Elphapex stock firmware (DG1+): Bitmain's new-API CGI behind HTTP Digest, realm "Daoge Miner"."""

from __future__ import annotations

from typing import Any

from simfarm.asic.webreply import Reply, json_reply
from simfarm.device import EmulatedMiner, digest_authorized, digest_challenge, digest_nonce

REALM = "Daoge Miner"


class ElphapexMiner(EmulatedMiner):
    make = "Elphapex"
    firmware = "stock"
    driver = "elphapex"
    models = ("Elphapex DG1+",)
    rpc_port = None  # the driver reads the CGI only
    web_user, web_password = "root", "root"

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        nonce = digest_nonce(self.ip, self.state.serial)
        if not digest_authorized(headers, method, REALM, nonce, self.web_user, self.web_password):
            return 401, {"WWW-Authenticate": digest_challenge(REALM, nonce), "Content-Type": "text/html"}, \
                b"<html><head><title>401 Unauthorized</title></head></html>"
        build = {"/cgi-bin/stats.cgi": self._stats, "/cgi-bin/summary.cgi": self._summary,
                 "/cgi-bin/pools.cgi": self._pools, "/cgi-bin/get_system_info.cgi": self._system_info,
                 "/cgi-bin/get_blink_status.cgi": lambda now: {"blink": self.state.fault_light}}.get(path)
        return json_reply(build(now)) if build else None

    def _head(self, msg: str, now: float) -> dict[str, Any]:
        s = self.state
        return {"STATUS": {"STATUS": "S", "when": int(now), "timestamp": int(now), "api_version": "1.0.0",
                           "Msg": msg},
                "INFO": {"miner_version": "DG1+_SW_V1.0.2", "CompileTime": "", "dev_sn": s.serial,
                         "type": s.model.removeprefix("Elphapex "), "hw_version": "DG1+_HW_V1.0"}}

    def _stats(self, now: float) -> dict[str, Any]:
        s = self.state
        return {**self._head("stats", now), "STATS": [{
            "rate_unit": "MH/s", "elapsed": s.uptime_s(now), "rate_5s": s.hashrate_hs / 1e6,
            "rate_avg": s.hashrate_hs / 1e6, "rate_30m": 0, "rate_ideal": s.hashrate_nominal_hs / 1e6,
            "chain_num": len(s.boards), "fan_num": len(s.fans_rpm), "fan": [str(r) for r in s.fans_rpm],
            "chain": [{"index": b.index, "freq_avg": int(b.frequency_mhz * 100), "asic_num": 0 if b.dead else b.chips,
                       "rate_real": 0 if b.dead else b.hashrate_hs / 1e6, "hw": b.hw_errors,
                       "temp_pcb": [int(b.temp_board_c) - 2, int(b.temp_board_c)] * 2,
                       # m°C strings, "" where the board has no sensor: as the firmware writes them
                       "temp_chip": [str(int(b.temp_chip_c * 1000) - 3000), str(int(b.temp_chip_c * 1000)), "", ""]}
                      for b in s.boards]}]}

    def _summary(self, now: float) -> dict[str, Any]:
        s = self.state
        checks = [{"type": kind, "status": "s", "code": 0, "msg": ""} for kind in ("rate", "network", "fans", "temp")]
        if any(b.dead for b in s.boards):
            checks[0] = {"type": "rate", "status": "e", "code": 1, "msg": "a hashboard is down"}
        return {**self._head("summary", now), "SUMMARY": [{
            "rate_unit": "MH/s", "elapsed": s.uptime_s(now), "rate_5s": s.hashrate_hs / 1e6,
            "rate_avg": s.hashrate_hs / 1e6, "rate_30m": 0, "rate_ideal": s.hashrate_nominal_hs / 1e6,
            "status": checks}]}

    def _pools(self, now: float) -> dict[str, Any]:
        return {**self._head("pools", now), "POOLS": [
            {"index": p.index, "url": p.url, "user": p.user, "status": "Alive" if p.alive else "Unreachable",
             "priority": p.index, "accepted": p.accepted, "rejected": p.rejected, "stale": p.stale}
            for p in self.state.pools]}

    def _system_info(self, now: float) -> dict[str, Any]:
        s = self.state
        return {"minertype": s.model.removeprefix("Elphapex "), "macaddr": s.mac, "hostname": s.hostname,
                "system_filesystem_version": "DG1+_SW_V1.0.2", "Algorithm": "Scrypt", "nettype": "DHCP"}
