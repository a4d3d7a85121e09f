"""Braiins OS+ (BOSer) on Antminers: the cgminer API with Braiins' devdetails/temps/fans/tunerstatus.

Boards carry their chain slot as ID: 6, 7, 8 on an S9, 1, 2, 3 on later models, the same in
``devs``, ``devdetails`` and ``temps``. Hashrates are MH/s ("MHS 1m"); ``tunerstatus`` gives
the power limit and the tuner's power estimate.
"""

from __future__ import annotations

import random
from typing import Any

from simfarm.asic import cgminer_reply as cg
from simfarm.device import EmulatedMiner, MinerState

VERSION = "boser-buildroot 0.1.0-7c41e2a9"
DESCRIPTION = f"BOSer {VERSION}"


class BraiinsOS(EmulatedMiner):
    make = "Bitmain"
    firmware = "Braiins OS"
    driver = "braiins"
    models = ("Antminer S9", "Antminer S19j Pro", "Antminer S19 XP")
    web_port = None

    def __init__(self, ip: str, state: MinerState, rng: random.Random) -> None:
        super().__init__(ip, state, rng)
        self.first_slot = 6 if state.model == "Antminer S9" else 1
        self.power_limit_w = round(state.power_w * 1.05)

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row.update(firmware_version=VERSION, power_limit_w=self.power_limit_w, mac=None, serial=None, hostname=None)
        return row

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        s, slot = self.state, self.first_slot
        if command == "version":
            return cg.reply(22, "BOSer versions", DESCRIPTION, "VERSION", [{"API": "3.7", "BOSer": VERSION}], now)
        if command == "summary":
            rate = s.hashrate_hs / 1e6
            item = {**cg.counters(s, now), "MHS av": s.hashrate_avg_hs / 1e6, "MHS 5s": rate, "MHS 1m": rate,
                    "MHS 5m": rate, "MHS 15m": rate}
            return cg.reply(11, "Summary", DESCRIPTION, "SUMMARY", [item], now)
        if command == "pools":
            return cg.pools(s, DESCRIPTION, now)
        if command == "devs":
            items = [{"ASC": b.index, "Name": "", "ID": slot + b.index, "Enabled": "Y",
                      "Status": "Dead" if b.dead else "Alive", "MHS 1m": b.hashrate_hs / 1e6,
                      "MHS 5s": b.hashrate_hs / 1e6, "Nominal MHS": b.hashrate_ideal_hs / 1e6,
                      "Hardware Errors": b.hw_errors} for b in s.boards]
            return cg.reply(9, f"{len(items)} ASC(s)", DESCRIPTION, "DEVS", items, now)
        if command == "devdetails":
            items = [{"DEVDETAILS": b.index, "Name": "", "ID": slot + b.index, "Driver": "", "Kernel": "",
                      "Model": s.model, "Device Path": "", "Voltage": 13.6, "Frequency": int(b.frequency_mhz),
                      "Chips": b.chips, "Cores": b.chips * 894} for b in s.boards]
            return cg.reply(69, "Device Details", DESCRIPTION, "DEVDETAILS", items, now)
        if command == "temps":
            items = [{"TEMP": b.index, "ID": slot + b.index, "Board": round(b.temp_board_c, 2),
                      "Chip": round(b.temp_chip_c, 2)} for b in s.boards]
            return cg.reply(201, f"{len(items)} Temp(s)", DESCRIPTION, "TEMPS", items, now)
        if command == "fans":
            items = [{"FAN": i, "ID": i, "RPM": rpm, "Speed": 40} for i, rpm in enumerate(s.fans_rpm)]
            return cg.reply(202, f"{len(items)} Fan(s)", DESCRIPTION, "FANS", items, now)
        if command == "tunerstatus":
            item = {"PowerLimit": self.power_limit_w, "DynamicPowerScaling": "Disabled",
                    "ApproximateChainPowerConsumption": round(s.power_w * 0.94),
                    "ApproximateMinerPowerConsumption": round(s.power_w),
                    "TunerChainStatus": [{"HashchainIndex": slot + b.index, "Status": "Stable"} for b in s.boards]}
            return cg.reply(203, "Tuner Status", DESCRIPTION, "TUNERSTATUS", [item], now)
        return None
