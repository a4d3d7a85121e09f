"""LuxOS (LUXminer) on Antminers: bmminer's legacy ``stats`` layout, LUXminer's ``power`` and ``config``.

LUXminer's own configuration commands, in the layout pyasic's LuxOS backend reads (it sends
``tempctrl+fans+pools+groups+config+profiles`` on every poll and fails without them): ``groups``
(pool groups; each POOLS record names its ``GROUP``), ``profiles`` (the tuning profiles, ``config``
names the active one under ``Profile``), ``tempctrl`` and ``fans`` (with a FANCTRL section). No
capture of these is at hand: they carry the keys pyasic reads and nothing more, under
LUXminer-style STATUS frames whose codes are ours.
"""

from __future__ import annotations

from typing import Any

from simfarm.asic import cgminer_reply as cg
from simfarm.device import EmulatedMiner

PROFILE = "default"
VERSION = "2025.6.3.141512-8e1f2aa0"
DESCRIPTION = f"LUXminer {VERSION}"


class LuxOS(EmulatedMiner):
    make = "Bitmain"
    firmware = "LuxOS"
    driver = "luxos"
    models = ("Antminer S19k Pro", "Antminer S19 XP", "Antminer S21")
    web_port = None

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row.update(firmware_version=VERSION, serial=None)
        return row

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        s = self.state
        if command == "version":
            item = {"API": "3.7", "CompileTime": "Tue Jun  3 14:15:12 UTC 2025", "LUXminer": VERSION,
                    "Miner": VERSION.split("-")[0], "Type": s.model}
            return cg.reply(22, "LUXminer versions", DESCRIPTION, "VERSION", [item], now)
        if command == "summary":
            item = {**cg.counters(s, now), "GHS 5s": round(s.hashrate_hs / 1e9, 2),
                    "GHS av": round(s.hashrate_avg_hs / 1e9, 2)}
            return cg.reply(11, "Summary", DESCRIPTION, "SUMMARY", [item], now)
        if command == "stats":
            return cg.reply(70, "LUXminer stats", DESCRIPTION, "STATS", [self._head(), self._details(now)], now)
        if command == "pools":  # every pool in the one group
            return cg.pools(s, DESCRIPTION, now, extra={"GROUP": 0})
        if command == "groups":
            item = {"GROUP": 0, "Name": "Default", "Quota": 1}
            return cg.reply(120, "1 Group(s)", DESCRIPTION, "GROUPS", [item], now)
        if command == "profiles":
            item = {"Profile Name": PROFILE, "Frequency": s.boards[0].frequency_mhz, "Voltage": 13.6,
                    "Hashrate": round(s.hashrate_nominal_hs / 1e12, 2), "Watts": round(s.power_w), "IsTuned": False}
            return cg.reply(134, "Profiles", DESCRIPTION, "PROFILES", [item], now)
        if command == "tempctrl":
            item = {"Mode": "Auto", "Target": 75, "Hot": 90, "Dangerous": 100}
            return cg.reply(139, "TempCtrl", DESCRIPTION, "TEMPCTRL", [item], now)
        if command == "fans":
            fans = [{"ID": i, "RPM": rpm, "Speed": 40} for i, rpm in enumerate(s.fans_rpm)]
            return cg.dumps({"STATUS": [{"STATUS": "S", "When": int(now), "Code": 202,
                                         "Msg": f"{len(fans)} Fan(s)", "Description": DESCRIPTION}],
                             "FANCTRL": [{"MinFans": len(fans)}], "FANS": fans, "id": 1})
        if command == "power":
            return cg.reply(300, "Power", DESCRIPTION, "POWER", [{"PSU": True, "Watts": round(s.power_w)}], now)
        if command == "config":
            item = {"ASC Count": len(s.boards), "Pool Count": len(s.pools), "Strategy": "Failover",
                    "MACAddr": s.mac.lower(), "Hostname": s.hostname, "IPAddr": self.ip, "DHCP": True,
                    "Profile": PROFILE}
            return cg.reply(33, "Config", DESCRIPTION, "CONFIG", [item], now)
        return None

    def _head(self) -> dict[str, Any]:
        return {"CompileTime": "Tue Jun  3 14:15:12 UTC 2025", "Miner": VERSION.split("-")[0], "Type": self.state.model}

    def _details(self, now: float) -> dict[str, Any]:
        s = self.state
        body: dict[str, Any] = {
            "STATS": 0, "ID": "BTM_SOC0", "Elapsed": s.uptime_s(now), "GHS 5s": round(s.hashrate_hs / 1e9, 2),
            "GHS av": round(s.hashrate_avg_hs / 1e9, 2), "rate_unit": "GH",
            "total_rateideal": round(s.hashrate_nominal_hs / 1e9, 2), "miner_count": len(s.boards),
            "fan_num": len(s.fans_rpm), "temp_num": len(s.boards)}
        body.update({f"fan{i + 1}": rpm for i, rpm in enumerate(s.fans_rpm)})
        for n in range(1, 5):  # LUXminer lists four chain slots; an S19-class machine fills three
            b = s.boards[n - 1] if n <= len(s.boards) else None
            pcb, chip = (round(b.temp_board_c), round(b.temp_chip_c)) if b else (0, 0)
            body.update({
                f"chain_rate{n}": f"{b.hashrate_hs / 1e9:.2f}" if b and not b.dead else "0",
                f"chain_acn{n}": b.chips if b else 0,
                f"chain_acs{n}": " oooo" * (b.chips // 4) if b and b.chips else "",
                f"chain_hw{n}": b.hw_errors if b else 0,
                f"freq{n}": b.frequency_mhz if b else 0.0,
                f"temp_pcb{n}": f"{pcb}-{pcb - 14}-{pcb - 13}-{pcb - 1}" if b else "0-0-0-0",
                f"temp_chip{n}": f"{chip}-{chip - 14}-{chip - 13}-{chip - 1}" if b else "0-0-0-0",
            })
            if b:
                body[f"temp{n}"], body[f"temp2_{n}"] = float(pcb), float(chip)
        return body
