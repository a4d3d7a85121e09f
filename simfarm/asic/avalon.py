"""Canaan AvalonMiner (cgminer 4.11.1 with Canaan's driver): ``stats`` packs the hardware into
``"MM ID0": "Ver[1246-83-...] Temp[..] TMax[..] Fan1[..] ... MGHS[a b c] MTmax[..] PVT_T0[..] PS[..]"``.

The hashrate the peers read is ``devs``' single ASC record ("MHS 1m", avalon_a1566_rpc_devs.txt);
``estats`` answers what ``stats`` does (the A1566 capture's two replies are byte-identical).

After a start, cgminer prints its average hashrate as a bare ``nan`` (not JSON), as the Avalon
10xx capture shows 155 s after start; the emulation does so for the first ``NAN_WINDOW_S``.
"""

from __future__ import annotations

from typing import Any

from simfarm.asic import cgminer_reply as cg
from simfarm.device import EmulatedMiner

DESCRIPTION = "cgminer 4.11.1"
FIRMWARE = "22011801_7b1c2d3_a4f5e6b"
NAN_WINDOW_S = 600
_CODES = {"AvalonMiner 1066": "1066-50", "AvalonMiner 1246": "1246-90"}


class Avalon(EmulatedMiner):
    make = "Canaan"
    firmware = "stock"
    driver = "avalon"
    models = tuple(_CODES)
    web_port = None

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row.update(firmware_version=FIRMWARE, serial=None, hostname=None, quirks=["bare_nan_after_start"])
        return row

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        s = self.state
        if command == "version":
            item = {"CGMiner": "4.11.1", "API": "3.7", "PROD": f"AvalonMiner {_CODES[s.model]}",
                    "MODEL": _CODES[s.model], "VERSION": FIRMWARE, "MAC": s.mac.replace(":", "").lower()}
            return cg.reply(22, "CGMiner versions", DESCRIPTION, "VERSION", [item], now)
        if command == "summary":
            up = s.uptime_s(now)
            rate = round(s.hashrate_hs / 1e6, 2)
            item = {**cg.counters(s, now), "MHS av": "NAN" if up < NAN_WINDOW_S else round(s.hashrate_avg_hs / 1e6, 2),
                    "MHS 30s": rate, "MHS 1m": rate, "MHS 5m": rate, "MHS 15m": rate}
            raw = cg.reply(11, "Summary", DESCRIPTION, "SUMMARY", [item], now)
            return raw.replace(b'"MHS av":"NAN"', b'"MHS av":nan')
        if command in ("stats", "estats"):
            item = {"STATS": 0, "ID": "AVA100", "Elapsed": s.uptime_s(now), "Calls": 0, "Wait": 0.0, "Max": 0.0,
                    "Min": 99999999.0, "MM ID0": self._mm(now), "MM Count": 1}
            return cg.reply(70, "CGMiner stats", DESCRIPTION, "STATS", [item], now)
        if command == "devs":
            return cg.reply(9, "1 ASC(s)", DESCRIPTION, "DEVS", [self._asc(now)], now)
        if command == "pools":
            return cg.pools(s, DESCRIPTION, now)
        return None

    def _asc(self, now: float) -> dict[str, Any]:
        """The one ASC record Canaan's driver lists for the whole machine (no sensor: -273)."""
        s = self.state
        rate = round(s.hashrate_hs / 1e6, 2)
        return {"ASC": 0, "Name": "AVA10", "ID": 0, "Enabled": "Y", "Status": "Alive", "Temperature": -273.0,
                "MHS av": round(s.hashrate_avg_hs / 1e6, 2), "MHS 30s": rate, "MHS 1m": rate, "MHS 5m": rate,
                "MHS 15m": rate, "Accepted": s.accepted, "Rejected": s.rejected, "Hardware Errors": s.hw_errors,
                "Last Share Pool": 0, "Last Share Time": int(now) if s.accepted else 0,
                "Device Elapsed": s.uptime_s(now)}

    def _mm(self, now: float) -> str:
        s = self.state
        hottest = max((round(b.temp_chip_c) for b in s.boards), default=0)
        fields: list[tuple[str, str]] = [
            ("Ver", f"{_CODES[s.model]}-{FIRMWARE}"), ("SYSTEMSTATU", f"Work: In Work, Hash Board: {len(s.boards)} "),
            ("Elapsed", str(s.uptime_s(now))), ("Temp", "25"), ("TMax", str(hottest)),
            *((f"Fan{i + 1}", str(rpm)) for i, rpm in enumerate(s.fans_rpm)), ("FanR", "60%"),
            ("PS", f"0 1213 1310 251 {round(s.power_w * 0.93)} 1315 {round(s.power_w)}"),
            ("GHSspd", f"{s.hashrate_hs / 1e9:.2f}"), ("GHSmm", f"{s.hashrate_hs / 1e9:.2f}"),
            ("GHSavg", f"{s.hashrate_avg_hs / 1e9:.2f}"), ("Led", "1" if s.fault_light else "0"),
            ("MGHS", " ".join(f"{b.hashrate_hs / 1e9:.2f}" for b in s.boards)),
            ("MTmax", " ".join(str(round(b.temp_chip_c)) for b in s.boards)),
            ("MTavg", " ".join(str(round(b.temp_chip_c) - 8) for b in s.boards)),
            ("ECHU", " ".join("0" for _ in s.boards)), ("ECMM", "0"),
            *((f"PVT_T{b.index}", " " + " ".join(f"{round(b.temp_chip_c) - k % 9:3d}" for k in range(b.chips)))
              for b in s.boards),
            ("WORKMODE", "1")]
        return " ".join(f"{name}[{value}]" for name, value in fields)
