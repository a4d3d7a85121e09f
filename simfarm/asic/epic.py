"""ePIC UMC firmware on an Antminer S19 XP: its REST API on port 4028, no login for reads."""

from __future__ import annotations

from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner


class EpicMiner(EmulatedMiner):
    make = "Bitmain"
    firmware = "ePIC"
    driver = "epic"
    models = ("Antminer S19 XP",)
    rpc_port = None  # 4028 is the HTTP API
    web_port = 4028

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        s = self.state
        if path == "/":
            return html("<html><head><title>Miner Web Dashboard</title></head></html>")
        if path == "/capabilities":
            return json_reply({"Model": s.model, "Max HBs": len(s.boards), "Chip Type": "BM1366",
                               "Default Hashrate": s.hashrate_nominal_hs / 1e12,
                               "Performance Estimator": {"Chip Count": s.boards[0].chips_expected}})
        if path == "/network":
            return json_reply({"eth0": {"mac_address": s.mac.lower(), "dhcp": True}})
        if path != "/summary":
            return None
        live = [b for b in s.boards if not b.dead]
        pool = next((p for p in s.pools if p.alive), s.pools[0])
        return json_reply({
            "Hostname": s.hostname, "Software": "PowerPlay-BMS v1.5.13",
            "HBs": [{"Index": b.index, "Hashrate": [b.hashrate_hs / 1e6, 100.0, 0.8],
                     "Temperature": b.temp_board_c, "Core Clock Avg": b.frequency_mhz} for b in live],
            "HBStatus": [{"Index": b.index, "Detected": True, "Enabled": not b.dead} for b in s.boards],
            "Fans Rpm": {f"Fans Speed {i + 1}": rpm for i, rpm in enumerate(s.fans_rpm)},
            "Power Supply Stats": {"Input Power": s.power_w},
            "Session": {"Uptime": s.uptime_s(now), "Accepted": pool.accepted, "Rejected": pool.rejected,
                        "Average MHs": s.hashrate_hs / 1e6},
            "Stratum": {"Current Pool": pool.url.split("://")[-1], "Current User": pool.user,
                        "IsPoolConnected": pool.alive},
            "StratumConfigs": [{"pool": p.url, "login": p.user, "password": "x"} for p in s.pools],
            "Misc": {"Locate Miner State": s.fault_light},
            "Status": {"Operating State": "Mining", "Last Error": s.errors[0][0] if s.errors else None},
        })
