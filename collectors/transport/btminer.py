"""Whatsminer's newer API (MicroBT "WhatsMiner API V3", TCP 4433).

Each message, both ways, is a 4-byte little-endian length followed by that many bytes of
JSON. A request is ``{"cmd": "get.device.info"}`` or ``{"cmd": "get.miner.status",
"param": "summary"}``; a reply is ``{"code": 0, "when": ..., "msg": {...}, "desc": ...}``
where a negative ``code`` is an error (-1 failure, -2 invalid command, -3 invalid JSON
item, -4 no permission). Read commands need no login; ``set.*`` commands need a token,
which this module does not build.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from collectors.errors import DeviceUnreachable, ProtocolError
from collectors.transport.decode import decode
from collectors.transport.rpc import MAX_BYTES, exchange, size_text

DEFAULT_PORT = 4433
_HEADER = 4


def is_error(reply: Any) -> bool:
    """Whether a reply is anything but ``code`` 0."""
    return not (isinstance(reply, dict) and reply.get("code") == 0)


async def command(host: str, port: int, cmd: str, param: Any = None, *, timeout: float = 3.0,
                  max_bytes: int = MAX_BYTES) -> Any:
    """Send one command and return the decoded reply (error codes included, as they are).

    ``param`` is left out of the request when None: the API reads a null param as an
    invalid item.
    """
    request: dict[str, Any] = {"cmd": cmd}
    if param is not None:
        request["param"] = param
    body = json.dumps(request).encode()
    deadline = asyncio.get_running_loop().time() + timeout
    raw = await exchange(host, port, len(body).to_bytes(_HEADER, "little") + body,
                         deadline=deadline, timeout=timeout, max_bytes=max_bytes, read=_read_frame)
    return decode(raw, f"{host}:{port}")


async def _read_frame(reader: asyncio.StreamReader, source: str, max_bytes: int) -> bytes:
    try:
        header = await reader.readexactly(_HEADER)
    except asyncio.IncompleteReadError as exc:
        raise DeviceUnreachable(f"{source} closed the connection without answering") from exc
    if header.startswith(b"{"):
        raise ProtocolError(f"{source} answered without the API V3 length header")
    length = int.from_bytes(header, "little")
    if length > max_bytes:
        raise ProtocolError(f"{source} announced a reply of more than {size_text(max_bytes)}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(f"{source} sent a truncated reply") from exc
