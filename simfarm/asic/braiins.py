"""Braiins OS+ 25.05 (BOSer) on Antminers: the cgminer API with Braiins' devdetails/temps/fans/
tunerstatus on 4028, and the web server on 80 with its GraphQL API and LuCI.

RPC: boards carry their chain slot as ID: 6, 7, 8 on an S9, 1, 2, 3 on later models, the same in
``devs``, ``devdetails`` and ``temps``; devdetails names each "HashchainManager <ID>" (pyasic
issue #39, a BOSer capture). Hashrates are MH/s ("MHS 1m"); ``tunerstatus`` gives the power limit
and the tuner's power estimate.

Web, as asic-rs' Braiins backends (21.09 to 25.05) and its captures (test/json/v25_05) have it:

- ``GET /``: the web UI, whose page says "Braiins OS" (what pyasic and asic-rs identify it by).
- ``POST /graphql``: ``{"query": ...}``, answered with exactly the fields selected. A query needs
  no login (asic-rs reads the model and version that way before it logs in); the ``auth { login }``
  mutation sets the ``session_id`` cookie. An unknown field is a GraphQL error.
- LuCI: ``POST /cgi-bin/luci`` (``luci_username``/``luci_password``) sets ``session_id``;
  ``/cgi-bin/luci/admin/network/iface_status/lan`` then gives ``[{"macaddr": ...}]``.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any
from urllib.parse import parse_qs

from simfarm.asic import cgminer_reply as cg
from simfarm.asic.webauth import Sessions, cookie
from simfarm.asic.webreply import Reply, html, json_reply
from simfarm.device import EmulatedMiner, MinerState

# One firmware build, as a capture pairs them (asic-rs test/json/v25_05: version.json, gql_system.json).
VERSION = "boser-buildroot 0.1.0-45f356ea"
BOS_VERSION = "2025-06-25-0-45f356ea-25.05.1-plus"
DESCRIPTION = f"BOSer {VERSION}"
# GraphQL punctuators, names and strings; arguments and fragment type names are skipped.
_GQL_TOKEN = re.compile(r'\.\.\.|"(?:\\.|[^"\\])*"|[A-Za-z_$][\w$]*|[^\s,]')


class BraiinsOS(EmulatedMiner):
    make = "Bitmain"
    firmware = "Braiins OS"
    driver = "braiins"
    models = ("Antminer S9", "Antminer S19j Pro", "Antminer S19 XP")
    web_user, web_password = "root", ""  # the factory login (asic-rs' default_auth for Braiins OS)

    def __init__(self, ip: str, state: MinerState, rng: random.Random) -> None:
        super().__init__(ip, state, rng)
        self.first_slot = 6 if state.model == "Antminer S9" else 1
        self.power_limit_w = round(state.power_w * 1.05)
        self.board_serials = [f"{state.serial[:15]}{b.index:02d}" for b in state.boards]  # 17 characters, as real
        self.sessions = Sessions()

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
            items = [{"DEVDETAILS": b.index, "Name": f"HashchainManager {slot + b.index}", "ID": slot + b.index,
                      "Driver": "", "Kernel": "", "Model": s.model, "Device Path": "", "Voltage": 13.6,
                      "Frequency": int(b.frequency_mhz), "Chips": b.chips, "Cores": b.chips * 894} for b in s.boards]
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

    # -- web -----------------------------------------------------------------------------------

    def http(self, method: str, path: str, headers: dict[str, str], body: bytes, now: float) -> Reply | None:
        if path == "/" and method in ("GET", "HEAD"):
            return html("<!DOCTYPE html><html><head><title>Braiins OS</title></head>"
                        "<body><div id=\"root\"></div></body></html>")
        if path == "/graphql" and method == "POST":
            return self._graphql(body, now)
        if path == "/cgi-bin/luci" and method == "POST":
            form = parse_qs(body.decode("latin-1"))
            if form.get("luci_username", [""])[0] != self.web_user or \
                    form.get("luci_password", [""])[0] != (self.web_password or ""):
                return html("<html><body>Invalid username and/or password!</body></html>", 403)
            return self._logged_in(html("<html><body></body></html>"))
        if path == "/cgi-bin/luci/admin/network/iface_status/lan":
            if not self.sessions.valid(cookie(headers, "session_id")):
                return html("<html><body>Forbidden</body></html>", 403)
            return json_reply([{"macaddr": self.state.mac.lower()}])
        return None

    def _logged_in(self, reply: Reply) -> Reply:
        status, head, content = reply
        return status, {**head, "Set-Cookie": f"session_id={self.sessions.issue()}; Path=/; HttpOnly"}, content

    def _graphql(self, body: bytes, now: float) -> Reply:
        try:
            request = json.loads(body)
            tokens = _GQL_TOKEN.findall(request["query"])
            selection = _selection(tokens, tokens.index("{") + 1)[0]
            variables = request.get("variables") or {}
        except (ValueError, TypeError, KeyError, IndexError):
            return json_reply({"data": None, "errors": [{"message": "Syntax Error: invalid query"}]}, 400)
        if tokens[0] == "mutation":
            if selection != {"auth": {"login": {"void": None}}}:
                return json_reply({"data": None, "errors": [{"message": "Unsupported mutation"}]})
            if (variables.get("username"), variables.get("password") or "") != (self.web_user, self.web_password or ""):
                return json_reply({"data": {"auth": {"login": {"message": "Invalid credentials"}}}})
            return self._logged_in(json_reply({"data": {"auth": {"login": {"void": None}}}}))
        errors: list[dict[str, str]] = []
        data = _project(self._graph(now), selection, errors)
        return json_reply({"data": None, "errors": errors} if errors else {"data": data})

    def _graph(self, now: float) -> dict[str, Any]:
        """Everything the GraphQL queries may select, in BOS 25.05's names and units (MH/s, W)."""
        s = self.state
        solvers = [{
            "name": str(self.first_slot + b.index), "nominalMhs": b.hashrate_ideal_hs / 1e6,
            "realHashrate": {"mhs5S": 0.0 if b.dead else b.hashrate_hs / 1e6},
            "hwDetails": {"chips": b.chips, "frequencyMhz": b.frequency_mhz, "voltageV": 13.6,
                          "hbSerialNumber": self.board_serials[b.index]},
            # 25.05 names its sensors MAX_BOARD, MAX_CHIP, INLET, OUTLET (gql_boards.json)
            "temperatures": [{"name": "MAX_BOARD", "degreesC": round(b.temp_board_c, 1)},
                             {"name": "MAX_CHIP", "degreesC": round(b.temp_chip_c, 1)},
                             {"name": "INLET", "degreesC": round(b.temp_board_c - 14, 1)},
                             {"name": "OUTLET", "degreesC": round(b.temp_board_c, 1)}]} for b in s.boards]
        pools = [{"url": p.url, "user": p.user, "status": "ALIVE" if p.alive else "DEAD",
                  "active": p.index == 0 and p.alive,
                  "shares": {"acceptedSolutions": p.accepted, "rejectedSolutions": p.rejected}} for p in s.pools]
        return {
            "bos": {"hostname": s.hostname, "faultLight": s.fault_light, "info": {"version": {"full": BOS_VERSION}},
                    "uptime": {"durationS": s.uptime_s(now)}},
            "bosminer": {
                "info": {
                    "modelName": s.model,
                    "workSolver": {"realHashrate": {"mhs5S": s.hashrate_hs / 1e6},
                                   "nominalMhs": s.hashrate_nominal_hs / 1e6, "childSolvers": solvers},
                    "fans": [{"name": str(i), "rpm": rpm, "speed": 40} for i, rpm in enumerate(s.fans_rpm)],
                    "summary": {"power": {"limitW": self.power_limit_w, "approxConsumptionW": round(s.power_w)}},
                    "poolGroups": [{"name": "default", "pools": pools}]},
                "config": {"groups": [{"id": "0", "strategy": {"quota": 1}}]}},
            "events": {"appeals": []},
        }


def _selection(tokens: list[str], i: int) -> tuple[dict[str, Any], int]:
    """The selection set that opens before ``tokens[i]``: field name -> its own selection (None for
    a leaf), and the index after its closing brace. ``... on Type { }`` merges into the parent."""
    fields: dict[str, Any] = {}
    while tokens[i] != "}":
        if tokens[i] == "...":
            inner, i = _selection(tokens, i + 4)  # "...", "on", the type, "{"
            fields.update(inner)
            continue
        name, i = tokens[i], i + 1
        if tokens[i] == "(":
            i = tokens.index(")", i) + 1
        if tokens[i] == "{":
            fields[name], i = _selection(tokens, i + 1)
        else:
            fields[name] = None
    return fields, i + 1


def _project(value: Any, selection: dict[str, Any] | None, errors: list[dict[str, str]]) -> Any:
    """``value`` cut down to ``selection``, as a GraphQL server answers; unknown fields are errors."""
    if selection is None or value is None:
        return value
    if isinstance(value, list):
        return [_project(item, selection, errors) for item in value]
    out = {}
    for name, inner in selection.items():
        if name not in value:
            errors.append({"message": f'Cannot query field "{name}"'})
            continue
        out[name] = _project(value[name], inner, errors)
    return out
