"""The farm's control API: inject and clear faults while it runs, read the inventory.

HTTP/JSON on 127.0.0.1 (the same h11 server the emulated web UIs use):

- ``GET /inventory``                 -> the miners' inventory rows
- ``GET /rigs``                      -> the rigs' inventory rows
- ``POST /faults {"ip", "fault", "params"}`` -> the miner's (or rig's) row with its faults
- ``POST /faults {"rate", "seed"?}`` -> {ip: fault} drawn for that fraction of fault-free miners
- ``DELETE /faults/<ip>``            -> the miner's (or rig's) row, every fault cleared
  (``DELETE /faults/<ip>/<fault>`` clears one)

A bad request answers 400 with {"error": "<one sentence>"}.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from simfarm.farm import Farm, FarmError
from simfarm.servers import HttpProtocol, listen


class ControlApi:
    def __init__(self, farm: Farm, host: str = "127.0.0.1", port: int = 0) -> None:
        self.farm, self.host, self.port = farm, host, port
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.server = await listen(self.host, self.port, lambda: HttpProtocol(self.farm.connections, self.handle))
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
                     now: float) -> tuple[int, dict[str, str], bytes]:
        try:
            status, answer = await self._route(method, path.split("?", 1)[0], body)
        except ValueError as err:
            status, answer = 400, {"error": str(err)}
        except FarmError as err:
            status, answer = 500, {"error": str(err)}
        return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        farm = self.farm
        if method == "GET" and path == "/inventory":
            return 200, farm.inventory()
        if method == "GET" and path == "/rigs":
            return 200, farm.rig_inventory()
        if method == "POST" and path == "/faults":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                raise ValueError("the body is not JSON") from None
            if not isinstance(request, dict):
                raise ValueError("the body must be a JSON object")
            if "rate" in request:
                return 200, await farm.inject_rate(float(request["rate"]), request.get("seed"))
            ip, fault = request.get("ip"), request.get("fault")
            if not isinstance(ip, str) or not isinstance(fault, str):
                raise ValueError('POST /faults needs "ip" and "fault" (or "rate")')
            await farm.inject(ip, fault, **(request.get("params") or {}))
            return 200, farm.row(ip)
        if method == "DELETE" and path.startswith("/faults/"):
            ip, _, fault = path[len("/faults/"):].partition("/")
            await farm.clear(ip, fault or None)
            return 200, farm.row(ip)
        return 404, {"error": f"no route {method} {path}"}
