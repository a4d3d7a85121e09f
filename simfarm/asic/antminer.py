"""Bitmain stock firmware: the bmminer/cgminer RPC on 4028 and the lighttpd web UI behind Digest auth.

Layouts follow real captures (../shared/fixtures/asic/antminer_*, and the Bitmain-derived
hammer_d10_* / elphapex_dg1plus_* for the new API), written here as our own templates:

- Old firmwares (S9 bmminer 2019, L3+ cgminer 2017) answer ``stats`` with the two STATS objects
  glued without a comma (``}{``); the S9's ``Type`` holds a raw newline ("Antminer S9" LF "V1.3.58"),
  which strict JSON refuses; the L3+ reports MH/s under its "GHS" keys and names a sensor "temp31".
- S19/S21 firmwares (2022+) answer the legacy dialect (``chain_rateN``, ``temp_chipN`` "a-b-c-d"...)
  and, asked with ``{"new_api": true}``, the new dialect: a STATUS object, INFO, and per-board
  ``STATS[0].chain[]``. Their web UI serves the same documents as summary/stats/pools.cgi.

Every number is read from ``MinerState``, so a poll matches the inventory's expected values.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from simfarm.device import EmulatedMiner, MinerState, digest_authorized, digest_challenge, digest_nonce

REALM = "antMiner Configuration"
_encode = json.JSONEncoder(separators=(",", ":")).encode


def _dumps(value: Any) -> bytes:
    return _encode(value).encode()


@dataclass(frozen=True)
class Firmware:
    style: str  # "s9" (bmminer, 16 chain slots), "l3" (cgminer 4.9) or "s19" (2022+, new API too)
    program: str  # the version key: "BMMiner" / "CGMiner"
    program_version: str
    description: str  # STATUS "Description"
    stats_msg: str  # STATUS "Msg" of stats: "BMMiner stats" / "CGMiner stats"
    miner_version: str
    compile_time: str
    type_suffix: str  # the second line of "Type" after a raw newline ("" for none)
    stats_id: str
    chains: tuple[int, ...]  # the legacy key numbers of boards 0, 1, 2 ... (the S9 counts from 6)
    slots: int  # legacy keys run 1..slots
    fan_slots: tuple[int, ...]  # the legacy fanN keys of fans 0, 1 ...
    fan_keys: int  # fan1..fanN are all present
    rate_scale: float  # H/s per unit in the "GHS" keys (the L3+ puts MH/s there)
    chip_group: int  # chips per group in chain_acs ("oooooooo" vs "ooo")
    filesystem: str  # system_filesystem_version
    kernel: str


S9 = Firmware("s9", "BMMiner", "2.0.0", "bmminer 1.0.0", "BMMiner stats", "30.0.1.3",
              "Wed Jul 31 16:18:27 CST 2019", "V1.3.58", "BC50", (6, 7, 8), 16, (5, 6), 8, 1e9, 8,
              "Wed Jul 31 16:18:27 CST 2019", "Linux 3.14.0-xilinx-ge8a2f11-dirty #82 SMP PREEMPT")
L3 = Firmware("l3", "CGMiner", "4.9.0", "cgminer 4.9.0", "CGMiner stats", "1.0.1.3",
              "Fri Aug 25 17:28:57 CST 2017", "", "L30", (1, 2, 3, 4), 4, (1, 2), 2, 1e6, 8,
              "Fri Aug 25 17:28:57 CST 2017", "Linux 3.8.13 #22 SMP Tue Dec 2 15:26:11 CST 2014")
S19 = Firmware("s19", "BMMiner", "1.0.0", "cgminer 1.0.0", "CGMiner stats", "49.0.1.3",
               "Tue Dec  6 16:12:30 CST 2022", "", "BTM_SOC0", (1, 2, 3, 4), 4, (1, 2, 3, 4), 4, 1e9, 3,
               "Tue Dec  6 16:12:30 CST 2022", "Linux 4.9.113 #1 SMP PREEMPT Tue Dec 6 16:12:30 CST 2022")

# model -> (firmware, board frequency in MHz)
MODELS: dict[str, tuple[Firmware, float]] = {
    "Antminer S9": (S9, 650.0),
    "Antminer S9j": (S9, 650.0),
    "Antminer L3+": (L3, 384.0),
    "Antminer S19": (S19, 525.0),
    "Antminer S19 Pro": (S19, 525.0),
    "Antminer S19j Pro": (S19, 520.0),
    "Antminer S19 XP": (S19, 485.0),
    "Antminer S21": (S19, 490.0),
}


def _asks_new_api(request: dict[str, Any]) -> bool:
    parameter = request.get("parameter")
    return (request.get("new_api") is True
            or (isinstance(parameter, dict) and parameter.get("new_api") is True)
            or (isinstance(parameter, str) and "new_api" in parameter))


def _sensors(top: float) -> list[int]:
    """Four sensors (two inlet, two outlet) whose hottest reads ``top``."""
    return [round(top) - 12, round(top) - 10, round(top) - 1, round(top)]


class Antminer(EmulatedMiner):
    make = "Bitmain"
    firmware = "stock"
    driver = "antminer"
    models = tuple(MODELS)
    web_user = "root"
    web_password = "root"

    def __init__(self, ip: str, state: MinerState, rng: random.Random) -> None:
        super().__init__(ip, state, rng)
        self.fw, frequency = MODELS[state.model]
        for board in state.boards:
            board.frequency_mhz = frequency
        self.board_serials = [f"{state.serial[:10]}B{board.index}{rng.randrange(10**5):05d}" for board in state.boards]
        self.best_share = rng.randrange(10**8, 10**11)
        self.nonce = digest_nonce(ip, state.serial)

    def expected(self) -> dict[str, Any]:
        row = super().expected()
        row["firmware_version"] = self.fw.miner_version
        row["new_api"] = self.fw.style == "s19"
        row["quirks"] = {
            "s9": ["stats_missing_comma", "type_raw_newline", "rpc_nul_terminated"],
            "l3": ["stats_missing_comma", "ghs_keys_hold_mhs", "rpc_nul_terminated"],
            "s19": ["rpc_nul_terminated"],
        }[self.fw.style]
        return row

    # -- RPC -----------------------------------------------------------------------------------

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None:
        new = self.fw.style == "s19" and _asks_new_api(request)
        if command == "version":
            return self._version(now)
        if command == "summary":
            return _dumps(self._new_summary(now)) if new else self._summary(now)
        if command == "stats":
            return _dumps(self._new_stats(now)) if new else self._stats(now)
        if command == "pools":
            return _dumps(self._new_pools(now)) if new else self._pools(now)
        return None

    def rpc_error(self, code: int, msg: str, now: float) -> bytes:
        return _dumps({"STATUS": [{"STATUS": "E", "When": int(now), "Code": code, "Msg": msg,
                                   "Description": self.fw.description}], "id": 1})

    def _reply(self, code: int, msg: str, key: str, items: list[bytes], now: float) -> bytes:
        status = _dumps({"STATUS": "S", "When": int(now), "Code": code, "Msg": msg, "Description": self.fw.description})
        return b'{"STATUS":[%s],"%s":[%s],"id":1}' % (status, key.encode(), b",".join(items))

    def _type(self) -> str:
        return self.state.model + ("\n" + self.fw.type_suffix if self.fw.type_suffix else "")

    def _rate(self, hashrate_hs: float) -> float:
        return round(hashrate_hs / self.fw.rate_scale, 2)

    def _version(self, now: float) -> bytes:
        fw = self.fw
        item = {fw.program: fw.program_version, "API": "3.1", "Miner": fw.miner_version,
                "CompileTime": fw.compile_time, "Type": self._type()}
        return self._reply(22, f"{fw.program} versions", "VERSION", [self._raw_newline(_dumps(item))], now)

    def _raw_newline(self, text: bytes) -> bytes:
        # bmminer copies the two-line /usr/bin/compile_time into "Type" without escaping the newline.
        return text.replace(b"\\n", b"\n") if self.fw.type_suffix else text

    def _summary(self, now: float) -> bytes:
        s, fw = self.state, self.fw
        up = s.uptime_s(now)
        rate_5s = self._rate(s.hashrate_hs)
        diff = 65536.0
        item: dict[str, Any] = {
            "Elapsed": up,
            "GHS 5s": f"{rate_5s:.2f}" if fw.style != "s19" else rate_5s,  # a string on old firmwares
            "GHS av": self._rate(s.hashrate_avg_hs),
        }
        if fw.style == "s19":
            item["GHS 30m"] = self._rate(s.hashrate_avg_hs)
        item.update({
            "Found Blocks": 0, "Getwork": s.accepted + s.rejected, "Accepted": s.accepted,
            "Rejected": s.rejected, "Hardware Errors": s.hw_errors,
            "Utility": round(s.accepted * 60 / max(1, up), 2), "Discarded": (s.accepted + s.rejected) * 12,
            "Stale": s.stale, "Get Failures": 0, "Local Work": (s.accepted + s.rejected) * 13,
            "Remote Failures": 0, "Network Blocks": up // 600,
            "Total MH": round(s.hashrate_avg_hs * up / 1e6, 4),
            "Work Utility": round(s.accepted * diff * 60 / max(1, up), 2),
            "Difficulty Accepted": s.accepted * diff, "Difficulty Rejected": s.rejected * diff,
            "Difficulty Stale": s.stale * diff, "Best Share": self.best_share,
            "Device Hardware%": self._hw_percent(), "Device Rejected%": self._reject_percent(),
            "Pool Rejected%": self._reject_percent(), "Pool Stale%": 0.0, "Last getwork": int(now),
        })
        return self._reply(11, "Summary", "SUMMARY", [_dumps(item)], now)

    def _hw_percent(self) -> float:
        s = self.state
        return round(100 * s.hw_errors / max(1, s.hw_errors + s.accepted * 64), 4)

    def _reject_percent(self) -> float:
        s = self.state
        return round(100 * s.rejected / max(1, s.accepted + s.rejected), 4)

    def _pools(self, now: float) -> bytes:
        s = self.state
        items = []
        for pool in s.pools:
            active = pool.index == 0 and pool.alive
            host = pool.url.split("//")[-1].split(":")[0]
            items.append(_dumps({
                "POOL": pool.index, "URL": pool.url, "Status": "Alive" if pool.alive else "Dead",
                "Priority": pool.index, "Quota": 1, "Long Poll": "N", "Getworks": pool.accepted + pool.rejected,
                "Accepted": pool.accepted, "Rejected": pool.rejected, "Discarded": pool.accepted * 12,
                "Stale": pool.stale, "Get Failures": 0 if pool.alive else 1, "Remote Failures": 0,
                "User": pool.user, "Last Share Time": "0:00:07" if active else "0",
                "Diff": "65.5K", "Diff1 Shares": 0, "Proxy Type": "", "Proxy": "",
                "Difficulty Accepted": pool.accepted * 65536.0, "Difficulty Rejected": pool.rejected * 65536.0,
                "Difficulty Stale": pool.stale * 65536.0, "Last Share Difficulty": 65536.0 if active else 0.0,
                "Has Stratum": True, "Stratum Active": active, "Stratum URL": host if active else "",
                "Has GBT": False, "Best Share": self.best_share if active else 0,
                "Pool Rejected%": round(100 * pool.rejected / max(1, pool.accepted + pool.rejected), 4),
                "Pool Stale%%": 0.0,  # sic: cgminer's own typo
            }))
        return self._reply(7, f"{len(items)} Pool(s)", "POOLS", items, now)

    def _acs(self, chips: int, expected: int) -> str:
        """The chip map: an "o" per answering chip, "x" per lost one, in groups, led by a space."""
        marks = "o" * chips + "x" * (expected - chips) if chips else ""
        group = self.fw.chip_group
        return "".join(" " + marks[i:i + group] for i in range(0, len(marks), group))

    def _stats(self, now: float) -> bytes:
        s, fw = self.state, self.fw
        head = {fw.program: fw.program_version, "Miner": fw.miner_version, "CompileTime": fw.compile_time,
                "Type": self._type()}
        rate_5s = self._rate(s.hashrate_hs)
        body: dict[str, Any] = {
            "STATS": 0, "ID": fw.stats_id, "Elapsed": s.uptime_s(now), "Calls": 0, "Wait": 0.0, "Max": 0.0,
            "Min": 99999999.0, "GHS 5s": f"{rate_5s:.2f}" if fw.style != "s19" else rate_5s,
            "GHS av": self._rate(s.hashrate_avg_hs),
        }
        if fw.style == "s19":
            body.update({"rate_30m": self._rate(s.hashrate_avg_hs), "Mode": 2})
        frequency = s.boards[0].frequency_mhz if s.boards else 0
        body.update({"miner_count": len(s.boards),
                     "frequency": str(int(frequency)) if fw.style == "l3" else int(frequency),
                     "fan_num": len(s.fans_rpm)})
        fans = dict(zip(fw.fan_slots, s.fans_rpm))
        body.update({f"fan{n}": fans.get(n, 0) for n in range(1, fw.fan_keys + 1)})
        boards = {fw.chains[b.index]: b for b in s.boards}
        slots = range(1, fw.slots + 1)

        def per(prefix: str, value, empty: Any = 0) -> dict[str, Any]:
            return {f"{prefix}{n}": value(boards[n]) if n in boards else empty for n in slots}

        body["temp_num"] = len(s.boards)
        if fw.style == "s9":
            body.update(per("temp", lambda b: round(b.temp_board_c)))
            body.update(per("temp2_", lambda b: round(b.temp_chip_c)))
            body.update(per("temp3_", lambda b: 0))
            body.update(per("freq_avg", lambda b: b.frequency_mhz, 0.0))
            body.update({"total_rateideal": self._rate(s.hashrate_nominal_hs),
                         "total_freqavg": frequency, "total_acn": sum(b.chips for b in s.boards),
                         "total_rate": rate_5s})
            body.update(per("chain_rateideal", lambda b: self._rate(b.hashrate_ideal_hs), 0.0))
            body["temp_max"] = max((round(b.temp_board_c) for b in s.boards), default=0)
        elif fw.style == "l3":
            body.update(per("temp", lambda b: round(b.temp_board_c)))
            body.update(per("temp2_", lambda b: round(b.temp_chip_c)))
            body.update(per("temp3", lambda b: 0))  # sic: "temp31".."temp34", no underscore
            body.update(per("temp4_", lambda b: 0))
            body["temp_max"] = max((round(b.temp_board_c) for b in s.boards), default=0)
        else:
            body.update({f"temp{b.index + 1}": round(b.temp_board_c) for b in s.boards})
            body.update({f"temp2_{b.index + 1}": round(b.temp_chip_c) for b in s.boards})
            body.update(per("temp_pcb", lambda b: "-".join(map(str, _sensors(b.temp_board_c))), "0-0-0-0"))
            body.update(per("temp_chip", lambda b: "-".join(map(str, _sensors(b.temp_chip_c))), "0-0-0-0"))
            body.update(per("temp_pic", lambda b: "-".join(map(str, _sensors(b.temp_board_c - 10))), "0-0-0-0"))
            body.update({"total_rateideal": self._rate(s.hashrate_nominal_hs), "rate_unit": "GH",
                         "total_freqavg": frequency, "total_acn": sum(b.chips for b in s.boards),
                         "total rate": self._rate(s.hashrate_avg_hs)})
            body["temp_max"] = 0  # sic: this firmware reports 0 here; the temperatures are in temp_chipN
        body.update({"Device Hardware%": self._hw_percent(), "no_matching_work": s.hw_errors})
        body.update(per("chain_acn", lambda b: b.chips))
        body.update(per("chain_acs", lambda b: self._acs(b.chips, b.chips_expected), ""))
        body.update(per("chain_hw", lambda b: b.hw_errors))
        body.update(per("chain_rate", lambda b: f"{self._rate(b.hashrate_hs):.2f}", ""))
        if fw.style == "s9":
            body.update({f"chain_offside_{n}": "0" for n in boards})
            body.update({f"chain_opencore_{n}": "0" for n in boards})
        if fw.style == "s19":
            body.update(per("freq", lambda b: int(b.frequency_mhz)))
            body.update({"miner_id": s.serial.lower()[:16]})
        if fw.style != "l3":
            body["miner_version"] = fw.miner_version
        # Old firmwares print the two STATS objects with no comma between them.
        glue = b"," if fw.style == "s19" else b""
        items = [self._raw_newline(_dumps(head)) + glue + _dumps(body)]
        return self._reply(70, fw.stats_msg, "STATS", items, now)

    # -- new API (RPC with {"new_api": true}, and the web UI's CGI) ----------------------------

    def _new_status(self, msg: str, now: float) -> dict[str, Any]:
        return {"STATUS": "S", "when": int(now), "Msg": msg, "api_version": "1.0.0"}

    def _info(self) -> dict[str, Any]:
        return {"miner_version": self.fw.miner_version, "CompileTime": self.fw.compile_time, "type": self.state.model}

    def _health(self) -> list[dict[str, Any]]:
        s = self.state
        checks = [
            ("rate", s.hashrate_hs < 0.8 * s.hashrate_nominal_hs, "hashrate too low"),
            ("network", not any(p.alive for p in s.pools), "pool connection lost"),
            ("fans", any(rpm == 0 for rpm in s.fans_rpm), "fan lost"),
            ("temp", any(b.temp_chip_c > 95 for b in s.boards), "temperature too high"),
        ]
        return [{"type": kind, "status": "e" if bad else "s", "code": 1 if bad else 0, "msg": msg if bad else ""}
                for kind, bad, msg in checks]

    def _new_summary(self, now: float) -> dict[str, Any]:
        s = self.state
        return {"STATUS": self._new_status("summary", now), "INFO": self._info(), "SUMMARY": [{
            "elapsed": s.uptime_s(now), "rate_5s": self._rate(s.hashrate_hs),
            "rate_30m": self._rate(s.hashrate_avg_hs), "rate_avg": self._rate(s.hashrate_avg_hs),
            "rate_ideal": self._rate(s.hashrate_nominal_hs), "rate_unit": "GH/s", "hw_all": s.hw_errors,
            "bestshare": self.best_share, "status": self._health(),
        }]}

    def _new_stats(self, now: float) -> dict[str, Any]:
        s = self.state
        chains = [{
            "index": b.index, "freq_avg": int(b.frequency_mhz), "rate_ideal": self._rate(b.hashrate_ideal_hs),
            "rate_real": self._rate(b.hashrate_hs), "asic_num": b.chips,
            "asic": self._acs(b.chips, b.chips_expected).strip(),
            "temp_pic": _sensors(b.temp_board_c - 10), "temp_pcb": _sensors(b.temp_board_c),
            "temp_chip": _sensors(b.temp_chip_c), "hw": b.hw_errors, "eeprom_loaded": True,
            "sn": self.board_serials[b.index], "hwp": round(100 * b.hw_errors / max(1, b.hw_errors + s.accepted * 21), 4),
        } for b in s.boards]
        return {"STATUS": self._new_status("stats", now), "INFO": self._info(), "STATS": [{
            "elapsed": s.uptime_s(now), "rate_5s": self._rate(s.hashrate_hs),
            "rate_30m": self._rate(s.hashrate_avg_hs), "rate_avg": self._rate(s.hashrate_avg_hs),
            "rate_ideal": self._rate(s.hashrate_nominal_hs), "rate_unit": "GH/s",
            "chain_num": len(chains), "fan_num": len(s.fans_rpm), "fan": list(s.fans_rpm),
            "hwp_total": self._hw_percent(), "miner-mode": 0, "freq-level": 100, "chain": chains,
        }]}

    def _new_pools(self, now: float) -> dict[str, Any]:
        s = self.state
        pools = [{
            "index": p.index, "url": p.url, "user": p.user, "status": "Alive" if p.alive else "Dead",
            "priority": p.index, "getworks": p.accepted + p.rejected, "accepted": p.accepted,
            "rejected": p.rejected, "stale": p.stale, "discarded": p.accepted * 12, "diff": "65.5K", "diff1": 0,
            "diffa": p.accepted * 65536.0, "diffr": p.rejected * 65536.0, "diffs": p.stale * 65536.0,
            "lsdiff": 65536.0 if p.index == 0 and p.alive else 0.0,
            "lstime": "00:00:07" if p.index == 0 and p.alive else "0",
        } for p in s.pools]
        return {"STATUS": self._new_status("pools", now), "INFO": self._info(), "POOLS": pools}

    # -- web UI --------------------------------------------------------------------------------

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes,
             now: float) -> tuple[int, dict[str, str], bytes] | None:
        plain = {"Server": "lighttpd/1.4.48"}
        if not digest_authorized(headers, method, REALM, self.nonce, self.web_user, self.web_password):
            return 401, {**plain, "Content-Type": "text/html",
                         "WWW-Authenticate": digest_challenge(REALM, self.nonce)}, b"401 - Unauthorized"
        route = path.split("?", 1)[0]
        if route in ("/", "/index.html"):
            return 200, {**plain, "Content-Type": "text/html"}, b"<html><head><title>Antminer</title></head></html>"
        page = self._cgi(route, now)
        if page is None:
            return None
        return 200, {**plain, "Content-Type": "application/json"}, _dumps(page)

    def _cgi(self, route: str, now: float) -> dict[str, Any] | None:
        s, new = self.state, self.fw.style == "s19"
        if route == "/cgi-bin/get_system_info.cgi":
            info = {"minertype": s.model, "nettype": "DHCP", "netdevice": "eth0", "macaddr": s.mac,
                    "hostname": s.hostname, "ipaddress": self.ip, "netmask": "255.0.0.0", "gateway": "",
                    "dnsservers": "", "system_mode": "GNU/Linux", "system_kernel_version": self.fw.kernel,
                    "system_filesystem_version": self.fw.filesystem}
            if new:
                info.update({"firmware_type": "Release", "serinum": s.serial})
            return info
        if route == "/cgi-bin/get_blink_status.cgi":
            return {"blink": s.fault_light} if new else {"isBlinking": s.fault_light}
        if not new:  # the old web UI has none of the JSON pages below
            return None
        pages = {"/cgi-bin/summary.cgi": self._new_summary, "/cgi-bin/stats.cgi": self._new_stats,
                 "/cgi-bin/pools.cgi": self._new_pools}
        return pages[route](now) if route in pages else None
