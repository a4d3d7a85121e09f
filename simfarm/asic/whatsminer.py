"""MicroBT Whatsminer: btminer's API on 4028 (``Whatsminer``) and API V3 on 4433 (``WhatsminerV3``).

btminer (4028) refuses ``version``, answering with its own bare error record
``{"STATUS":"E",...,"Description":"whatsminer v1.4.0"}``. It answers cgminer's "a+b" multi-command
for the cgminer commands (``summary+devs+pools``, how pyasic's BTMinerRPCAPI.multicommand reads
every btminer, with no fallback when that fails), but not for its own commands (``get_*``,
``status``), which pyasic sends one by one. Those answer in the bare record, Code 131 and an
object under ``Msg`` (asic-rs' test capture v1/status.json; the API daemon's command table: get_version
is ``{"api_ver":"whatsminer v1.x","fw_ver":...}``). Its ``summary`` quotes the firmware version
in single quotes, and the 2020 firmwares of the M20S escape them as ``\\'``, which JSON does not
have (whatsminer_m20s_summary.txt); from 2021 it also carries the realtime ``HS RT`` (MH/s), which
the 2020 one lacks (whatsminer_m20s_summary_with_errors.json, fw 20210322).

API V3 (4433, firmware 2024.11+): length-framed ``{"cmd": ..., "param": ...}``; 4028 is closed.
"""

from __future__ import annotations

from typing import Any

from simfarm.asic import cgminer_reply as cg
from simfarm.device import EmulatedMiner

# model -> (devdetails Model / V3 type, firmware version, escapes its quotes); the 2020 firmware's
# quotes are escaped and its summary has no "HS RT", so ``escaped`` marks both.
_VARIANTS = {
    "Whatsminer M20S": ("M20SV10", "20200917.22.REL", True),
    "Whatsminer M30S": ("M30SV50", "20220714.13.REL", False),
    "Whatsminer M30S+": ("M30S+V40", "20220714.13.REL", False),
    "Whatsminer M30S++": ("M30S++VG30", "20220714.13.REL", False),
    "Whatsminer M50S": ("M50S_VH50", "20250214.16.Rel1", False),
    "Whatsminer M60": ("M60_VK10", "20250214.16.Rel1", False),
    "Whatsminer M60S": ("M60S_VK30", "20250214.16.Rel1", False),
}
DESCRIPTION = "cgminer 4.9.2"
API_VERSION = "whatsminer v1.4.0"  # "Description" of btminer's own replies (asic-rs v1/status.json)


class Whatsminer(EmulatedMiner):
    make = "MicroBT"
    firmware = "stock"
    driver = "whatsminer"
    models = ("Whatsminer M20S", "Whatsminer M30S", "Whatsminer M30S+", "Whatsminer M30S++")
    web_port = None

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row.update(firmware_version=_VARIANTS[self.state.model][1], serial=None, hostname=None,
                   errors=[code for code, _ in self.state.errors],
                   quirks=["firmware_version_backslash_quote"] if _VARIANTS[self.state.model][2] else [])
        return row

    def rpc_error(self, code: int, msg: str, now: float) -> bytes:
        return cg.dumps({"STATUS": "E", "When": int(now), "Code": 14, "Msg": "invalid cmd",
                         "Description": API_VERSION})

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        s = self.state
        if command == "summary":
            return self._summary(now)
        if (command.startswith("get_") or command == "status") and "+" in request["command"]:
            return None  # btminer's own commands are not joinable
        if command == "get_version":
            return self._own(now, {"api_ver": API_VERSION, "fw_ver": _VARIANTS[s.model][1]})
        if command == "status":
            return self._own(now, {"mineroff": "false", "FirmwareVersion": _VARIANTS[s.model][1]})
        if command == "pools":
            return cg.pools(s, DESCRIPTION, now)
        if command == "devs":
            items = [{"ASC": b.index, "Slot": b.index, "Name": "SM", "ID": b.index, "Enabled": "Y",
                      "Status": "Dead" if b.dead else "Alive", "Temperature": round(b.temp_board_c, 2),
                      "Chip Frequency": int(b.frequency_mhz), "MHS av": round(b.hashrate_ideal_hs / 1e6, 2),
                      "MHS 5s": round(b.hashrate_hs / 1e6, 2), "MHS 1m": round(b.hashrate_hs / 1e6, 2),
                      "Hardware Errors": b.hw_errors, "Effective Chips": b.chips,
                      "PCB SN": f"{s.serial[:8]}{b.index}", "Chip Temp Min": round(b.temp_chip_c - 18, 2),
                      "Chip Temp Max": round(b.temp_chip_c, 2), "Chip Temp Avg": round(b.temp_chip_c - 7, 2)}
                     for b in s.boards]
            return cg.reply(9, f"{len(items)} ASC(s)", DESCRIPTION, "DEVS", items, now)
        if command == "devdetails":
            items = [{"DEVDETAILS": b.index, "Name": "SM", "ID": b.index, "Driver": "bitmicro", "Kernel": "",
                      "Model": _VARIANTS[s.model][0]} for b in s.boards]
            return cg.reply(69, "Device Details", DESCRIPTION, "DEVDETAILS", items, now)
        return None

    @staticmethod
    def _own(now: float, msg: dict[str, Any]) -> bytes:
        """A reply of btminer's own commands: one bare status record, Code 131, data under Msg."""
        return cg.dumps({"STATUS": "S", "When": int(now), "Code": 131, "Msg": msg, "Description": API_VERSION})

    def _summary(self, now: float) -> bytes:
        s = self.state
        _, version, escaped = _VARIANTS[s.model]
        item = {**cg.counters(s, now), "MHS av": round(s.hashrate_avg_hs / 1e6, 2),
                "MHS 5s": round(s.hashrate_hs / 1e6, 2), "MHS 1m": round(s.hashrate_hs / 1e6, 2)}
        if not escaped:
            item["HS RT"] = round(s.hashrate_hs / 1e6, 2)
        item |= {"Temperature": round(max((b.temp_board_c for b in s.boards), default=0), 2),
                "Fan Speed In": s.fans_rpm[0], "Fan Speed Out": s.fans_rpm[1], "Power": round(s.power_w),
                "Power_RT": round(s.power_w), "Error Code Count": len(s.errors)}
        item.update({f"Error Code {n}": code for n, (code, _) in enumerate(s.errors)})
        item.update({"Firmware Version": f"'{version}'", "MAC": s.mac,
                     "Factory GHS": round(s.hashrate_nominal_hs / 1e9), "Power Limit": round(s.power_w * 1.05),
                     "Chip Temp Max": round(max((b.temp_chip_c for b in s.boards), default=0), 2)})
        raw = cg.reply(11, "Summary", DESCRIPTION, "SUMMARY", [item], now)
        return raw.replace(f"\"'{version}'\"".encode(), f"\"\\'{version}\\'\"".encode()) if escaped else raw


class WhatsminerV3(EmulatedMiner):
    make = "MicroBT"
    firmware = "stock"
    driver = "whatsminer_v3"
    models = ("Whatsminer M50S", "Whatsminer M60", "Whatsminer M60S")
    rpc_port = None
    web_port = None
    btminer_port = 4433

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row.update(port=self.btminer_port, firmware_version=_VARIANTS[self.state.model][1],
                   errors=[code for code, _ in self.state.errors])
        return row

    def btminer(self, request: dict[str, Any], now: float) -> bytes | None:
        command, param = request.get("cmd"), request.get("param")
        if command == "get.device.info":
            return self._answer(command, self._device_info(), now)
        if command == "get.miner.status" and param in ("summary", "pools", "edevs"):
            return self._answer(command, {param: getattr(self, f"_{param}")(now)}, now)
        return cg.dumps({"code": -2, "when": int(now), "msg": "invalid command", "desc": str(command)})

    @staticmethod
    def _answer(command: str, msg: dict[str, Any], now: float) -> bytes:
        return cg.dumps({"code": 0, "when": int(now), "msg": msg, "desc": command})

    def _device_info(self) -> dict[str, Any]:
        s = self.state
        kind, version, _ = _VARIANTS[s.model]
        return {
            "error-code": [{code: "2026-01-01 00:00:00", "reason": message} for code, message in s.errors],
            "miner": {"board-num": str(len(s.boards)), "type": kind, "working": "true", "miner-sn": s.serial,
                      **{f"pcbsn{b.index}": f"{s.serial[:8]}{b.index}" for b in s.boards}},
            "network": {"ip": self.ip, "proto": "dhcp", "mac": s.mac, "hostname": s.hostname},
            "power": {"type": "P221B", "fanspeed": 6000},
            "system": {"api": "3.0.1", "platform": "H616", "fwversion": version,
                       "ledstatus": "manual" if s.fault_light else "auto"},
        }

    def _summary(self, now: float) -> dict[str, Any]:
        s = self.state
        return {"elapsed": s.uptime_s(now), "factory-hash": round(s.hashrate_nominal_hs / 1e12, 3),
                "hash-realtime": round(s.hashrate_hs / 1e12, 3), "hash-average": round(s.hashrate_avg_hs / 1e12, 3),
                "power-realtime": round(s.power_w), "power-limit": round(s.power_w * 1.05),
                "chip-temp-max": round(max((b.temp_chip_c for b in s.boards), default=0), 2),
                "fan-speed-in": s.fans_rpm[0], "fan-speed-out": s.fans_rpm[1]}

    def _pools(self, now: float) -> list[dict[str, Any]]:
        return [{"id": p.index, "url": p.url, "status": "alive" if p.alive else "dead", "account": p.user,
                 "stratum-active": p.index == 0 and p.alive} for p in self.state.pools]

    def _edevs(self, now: float) -> list[dict[str, Any]]:
        return [{"id": b.index, "slot": b.index, "hash-average": round(b.hashrate_hs / 1e12, 3),
                 "factory-hash": round(b.hashrate_ideal_hs / 1e12, 3), "freq": int(b.frequency_mhz),
                 "effective-chips": b.chips, "chip-temp-max": round(b.temp_chip_c, 2)} for b in self.state.boards]
