"""The wire side of the farm: one asyncio listener per (address, port), framed as the firmware frames.

- cgminer RPC (TCP 4028): read one JSON request (it may arrive in pieces), answer, add the NUL
  cgminer ends every reply with, close. ``a+b`` multi-commands for makes with ``rpc_multi``. The
  same server serves an ASIC and a rig's sgminer-style program (TeamRedMiner): see ``RpcHandler``.
- HTTP/1.1 on h11 (sans-IO), keep-alive; the same code serves the farm's control API.
- Whatsminer's 4433 API: 4-byte little-endian length + JSON, both ways.

Protocols, not streams: a poll is one accept, one small read, one write, so per-connection
objects are kept to the minimum to serve thousands of polls a second on one core. Transport faults
(``simfarm/faults.py``) are applied here, read from the device's live fault dict, so a fault injected
while the farm runs applies to the next connection.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import resource
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, Protocol

import h11

from simfarm.device import EmulatedMiner
from simfarm.faults import attack

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024  # a longer request is not a poll; the connection is dropped
HttpAnswer = tuple[int, dict[str, str], bytes] | None
# (method, path, headers, body, now) -> answer, or an awaitable of one
HttpHandler = Callable[[str, str, dict[str, str], bytes, float], HttpAnswer | Awaitable[HttpAnswer]]

_NO_FAULTS: dict[str, dict[str, Any]] = {}



def garbage(size: int) -> bytes:
    """``size`` random-looking bytes; a 64 KB random block repeated, so a 50 MB reply costs the
    farm a memory copy rather than 50 MB from the kernel's random source."""
    block = os.urandom(min(size, 65536))
    return (block * (size // len(block) + 1))[:size] if block else b""

class Connections:
    """Every open connection of a farm, so ``stop`` can cut them (a hung client would otherwise
    keep a socket, and an ``offline`` device must lose its connections too)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.open: set[asyncio.Transport] = set()
        self.clock = clock  # what every reply's live values are computed at: the farm's clock

    def abort(self, ip: str | None = None, port: int | None = None) -> None:
        """Cut every connection, or those to ``ip`` (and ``port``: one rig program's API)."""
        for transport in list(self.open):
            address, local_port = transport.get_extra_info("sockname")[:2]
            if (ip is None or address == ip) and (port is None or local_port == port):
                transport.abort()


class _Connection(asyncio.Protocol):
    """What every framing shares: bookkeeping and the transport faults."""

    def __init__(self, connections: Connections, faults: dict[str, dict[str, Any]]) -> None:
        self.connections = connections
        self.faults = faults
        self.transport: asyncio.Transport | None = None
        self.mute = False  # "hangs": read and never answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (asyncio's or uvloop's)
        self.connections.open.add(transport)
        if "refuses" in self.faults:
            # SO_LINGER 0 makes close() send RST instead of FIN: the client sees "connection reset".
            transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        self.mute = "hangs" in self.faults

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.open.discard(self.transport)

    def eof_received(self) -> bool:
        return True  # a half-closed client still gets its reply; we close after writing

    def attacked(self, body: bytes) -> bytes:
        """A reply's body as the device sends it: attacked first, if it is ``hostile``."""
        hostile = self.faults.get("hostile")
        return body if hostile is None else attack(hostile["attack"], body)

    def send(self, payload: bytes, close: bool, then: Callable[[], None] | None = None) -> None:
        """Write ``payload`` as the device's faults allow, then close or call ``then``."""
        faults = self.faults
        if "garbage" in faults:
            payload, close = garbage(faults["garbage"]["size"]), True
        elif "truncated" in faults:
            payload, close = payload[: len(payload) // 2], True
        if "slow" in faults:
            asyncio.get_running_loop().call_later(faults["slow"]["delay_s"], self._write, payload, close, then)
        else:
            self._write(payload, close, then)

    def _write(self, payload: bytes, close: bool, then: Callable[[], None] | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(payload)
        if close:
            transport.close()
        elif then is not None:
            then()


class RpcHandler(Protocol):
    """What the RPC server answers for: an emulated ASIC (``EmulatedMiner``) or a rig's program that
    speaks sgminer's RPC (TeamRedMiner). Two more attributes are optional and looked up per reply:
    ``refresh(now)``, called before a reply is built (a program renders from the clock and has none),
    and ``rpc_multi``, whether ``a+b`` multi-commands are answered (absent: ``a+b`` is one unknown
    command)."""

    def rpc(self, command: str, parameter: str | None, request: dict[str, Any], now: float) -> bytes | None: ...

    def rpc_error(self, code: int, msg: str, now: float) -> bytes: ...


class RpcProtocol(_Connection):
    """cgminer's API: one JSON request per connection, reply + NUL, close."""

    def __init__(self, connections: Connections, handler: RpcHandler,
                 faults: dict[str, dict[str, Any]] = _NO_FAULTS) -> None:
        super().__init__(connections, faults)
        self.handler = handler
        self.buffer = b""
        self.answered = False

    def data_received(self, data: bytes) -> None:
        if self.mute or self.answered:
            return
        self.buffer += data
        # A request is complete when it ends with "}" (clients add nothing or a newline/NUL);
        # whether it is valid JSON is decided then, as cgminer does.
        if self.buffer.rstrip(b"\0 \t\r\n").endswith(b"}"):
            self._answer()
        elif len(self.buffer) > MAX_REQUEST:
            self.transport.abort()

    def eof_received(self) -> bool:
        if not self.mute and not self.answered and self.buffer:
            self._answer()
        return True

    def _answer(self) -> None:
        self.answered = True
        try:
            reply = rpc_reply(self.handler, self.buffer.strip(b"\0 \t\r\n"), self.connections.clock())
        except Exception:  # a make's bug must not take the farm down; the client sees a close
            ip, port = self.transport.get_extra_info("sockname")[:2]
            log.exception("%s:%s: the RPC reply could not be built", ip, port)
            self.transport.abort()
            return
        self.send(self.attacked(reply) + b"\0", close=True)


def rpc_reply(handler: RpcHandler, text: bytes, now: float) -> bytes:
    """The reply to one cgminer RPC request, as cgminer frames errors and multi-commands."""
    try:
        request = json.loads(text)
    except ValueError:
        return handler.rpc_error(23, "Invalid JSON", now)
    if not isinstance(request, dict) or not isinstance(request.get("command"), str):
        return handler.rpc_error(24, "Missing JSON 'command'", now)
    refresh = getattr(handler, "refresh", None)
    if refresh is not None:
        refresh(now)
    command = request["command"]
    raw = request.get("parameter")
    parameter = raw if raw is None or isinstance(raw, str) else json.dumps(raw)

    def one(name: str) -> bytes:
        return handler.rpc(name, parameter, request, now) or handler.rpc_error(14, "Invalid command", now)

    # "+" first: a plain command, the usual poll, never looks the optional attribute up.
    if "+" in command and getattr(handler, "rpc_multi", False):
        # cgminer nests each command's whole reply in a one-element list under the command's name.
        parts = [b'"%s":[%s]' % (name.encode(), one(name)) for name in command.split("+")]
        return b"{" + b",".join(parts) + b',"id":1}'
    return one(command)


class HttpProtocol(_Connection):
    """HTTP/1.1 with keep-alive; ``handler`` returns (status, headers, body) or None for 404."""

    def __init__(self, connections: Connections, handler: HttpHandler,
                 faults: dict[str, dict[str, Any]] = _NO_FAULTS) -> None:
        super().__init__(connections, faults)
        self.handler = handler
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST)
        self.request: h11.Request | None = None
        self.body: list[bytes] = []
        self.waiting = False  # a reply is on its way (maybe delayed): hold further requests

    def data_received(self, data: bytes) -> None:
        if self.mute:
            return
        self.h11.receive_data(data)
        self._process()

    def eof_received(self) -> bool:
        if not self.mute:
            self.h11.receive_data(b"")
            self._process()
        return True

    def _process(self) -> None:
        while not self.waiting and self.transport is not None and not self.transport.is_closing():
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError:
                self._write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            True, None)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request, self.body = event, []
            elif isinstance(event, h11.Data):
                self.body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._respond()
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    def _respond(self) -> None:
        request = self.request
        method = request.method.decode()
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in request.headers}
        self.waiting = True
        try:
            answer = self.handler(method, request.target.decode("latin-1"), headers, b"".join(self.body),
                                  self.connections.clock())
        except Exception:  # a handler's bug answers 500 and the server goes on
            log.exception("HTTP %s %s failed", method, request.target)
            answer = 500, {}, b""
        if inspect.isawaitable(answer):  # the control API's handlers are coroutines
            task = asyncio.ensure_future(answer)
            task.add_done_callback(lambda done: self._finish(method, done.result()))
        else:
            self._finish(method, answer)

    def _finish(self, method: str, answer: tuple[int, dict[str, str], bytes] | None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        status, reply_headers, body = answer or (404, {"Content-Type": "text/plain"}, b"404 Not Found")
        body = self.attacked(body)
        head = [(name, value) for name, value in reply_headers.items()]
        head.append(("Content-Length", str(len(body))))
        data = self.h11.send(h11.Response(status_code=status, headers=head, reason=HTTPStatus(status).phrase))
        if body and method != "HEAD":
            data += self.h11.send(h11.Data(data=body))
        data += self.h11.send(h11.EndOfMessage())
        self.send(data, close=self.h11.our_state is h11.MUST_CLOSE, then=self._next_cycle)

    def _next_cycle(self) -> None:
        self.h11.start_next_cycle()
        self.waiting = False
        self._process()


class BtminerProtocol(_Connection):
    """Whatsminer's 4433 API: little-endian u32 length + JSON request, the same framing back."""

    def __init__(self, connections: Connections, miner: EmulatedMiner) -> None:
        super().__init__(connections, miner.faults)
        self.miner = miner
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        if self.mute:
            return
        self.buffer += data
        while len(self.buffer) >= 4:
            size = int.from_bytes(self.buffer[:4], "little")
            if size > MAX_REQUEST:
                self.transport.abort()
                return
            if len(self.buffer) < 4 + size:
                return
            frame, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
            self._answer(frame)

    def _answer(self, frame: bytes) -> None:
        now = self.connections.clock()
        try:
            request = json.loads(frame)
            self.miner.refresh(now)
            reply = self.miner.btminer(request, now)
        except ValueError:
            reply = None
        except Exception:
            log.exception("%s: the 4433 reply could not be built", self.miner.ip)
            reply = None
        if reply is None:  # what the firmware does with a request it cannot handle: hang up
            self.transport.close()
            return
        reply = self.attacked(reply)
        self.send(len(reply).to_bytes(4, "little") + reply, close=False)


async def listen(ip: str, port: int, factory: Callable[[], asyncio.Protocol]) -> asyncio.Server:
    """One listening socket on ``ip:port`` serving ``factory``'s protocol."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return await asyncio.get_running_loop().create_server(factory, sock=sock)


def raise_fd_limit(needed: int) -> int:
    """Raise RLIMIT_NOFILE to the hard limit (as root, to ``needed`` if higher); the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed and os.geteuid() == 0:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return needed
        except (ValueError, OSError):  # above fs.nr_open: keep what there is
            pass
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft if soft != resource.RLIM_INFINITY else needed
