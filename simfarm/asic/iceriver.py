"""IceRiver stock firmware: the ``/user/userpanel`` panel behind a session cookie from ``/user/loginpost``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from simfarm.asic.webauth import Sessions, cookie
from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner

_LOGIN_PAGE = "<html><head><TITLE>用户界面</TITLE></head><body>login</body></html>"


def _runtime(seconds: int) -> str:
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(minutes, 60)
    days, h = divmod(hours, 24)
    return f"{days:02d}:{h:02d}:{m:02d}:{s:02d}"


class IceRiverMiner(EmulatedMiner):
    make = "IceRiver"
    firmware = "stock"
    driver = "iceriver"
    models = ("IceRiver KS3", "IceRiver KS0")
    rpc_port = None
    web_user, web_password = "admin", "12345678"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = Sessions()

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path in ("/", "/user/login"):
            return html(_LOGIN_PAGE)
        if url.path == "/user/loginpost":
            if query.get("user") != self.web_user or query.get("pwd") != self.web_password:
                return html(_LOGIN_PAGE)  # the firmware shows its login page again
            return 302, {"Set-Cookie": f"session={self.sessions.issue()}; Path=/", "Location": "/user/userpanel"}, b""
        if url.path != "/user/userpanel":
            return None
        if not self.sessions.valid(cookie(headers, "session")):
            return 302, {"Location": "/user/login"}, b""
        s = self.state
        model = s.model.removeprefix("IceRiver ").lower()
        return json_reply({"error": 0, "data": {
            "softver1": f"ICM168_3_2_10_{model}_miner", "host": s.hostname, "mac": s.mac.lower().replace(":", "-"),
            "unit": "T", "rtpow": f"{s.hashrate_hs / 1e12:.3f}T", "avgpow": f"{s.hashrate_hs / 1e12:.3f}T",
            "runtime": _runtime(s.uptime_s(now)), "locate": s.fault_light, "powstate": True,
            "fans": list(s.fans_rpm),
            "boards": [{"no": b.index + 1, "chipnum": b.chips, "intmp": b.temp_board_c, "outtmp": b.temp_chip_c,
                        "freq": b.frequency_mhz, "rtpow": f"{0 if b.dead else b.hashrate_hs / 1e9:.2f}G"}
                       for b in s.boards],
            "pools": [{"no": p.index + 1, "addr": p.url, "user": p.user, "pass": "x", "state": 1 if p.alive else 0,
                       "connect": p.alive and p.index == 0, "accepted": p.accepted, "rejected": p.rejected}
                      for p in s.pools],
        }})
