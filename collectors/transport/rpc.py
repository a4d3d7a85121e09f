"""The cgminer-style RPC on TCP 4028: one JSON request, one reply ended by NUL or EOF.

Every miner family that descends from cgminer (bmminer, btminer, BOSminer, LuxOS, Avalon,
ePIC's compatibility port, TeamRedMiner...) speaks it. One connection per request, because
that is all most firmwares serve; one deadline per call, covering connect, write and read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from collectors.errors import DeviceUnreachable, NoAnswer, ProtocolError
from collectors.transport.decode import decode

log = logging.getLogger(__name__)

DEFAULT_PORT = 4028
MAX_BYTES = 1 << 20
_CHUNK = 1 << 16

# Reads one reply: (reader, "host:port", max_bytes) -> the reply's bytes.
Reader = Callable[[asyncio.StreamReader, str, int], Awaitable[bytes]]


def is_error(reply: Any) -> bool:
    """Whether a reply's STATUS says error ("E") or fatal ("F").

    STATUS comes as a list of one record (cgminer), a bare record, or a bare string
    (Whatsminer's ``"STATUS":"E"``).
    """
    status = reply.get("STATUS") if isinstance(reply, dict) else None
    if isinstance(status, list):
        status = status[0] if status else None
    if isinstance(status, dict):
        status = status.get("STATUS")
    return isinstance(status, str) and status.strip().upper() in ("E", "F")


async def command(host: str, port: int, command: str, parameter: str | None = None, *,
                  timeout: float = 3.0, extra: dict | None = None,
                  max_bytes: int = MAX_BYTES) -> Any:
    """Send one command and return its decoded reply; STATUS "E" replies are returned as they are."""
    deadline = asyncio.get_running_loop().time() + timeout
    return await _command(host, port, command, parameter, deadline, timeout, extra, max_bytes)


async def multi(host: str, port: int, commands: Sequence[str], *, timeout: float = 3.0,
                extra: dict | None = None, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Several commands in one request, as ``{command: reply}``; see ``RpcClient.multi``."""
    return await _default_client.multi(host, port, commands, timeout=timeout, extra=extra,
                                       max_bytes=max_bytes)


class RpcClient:
    """Remembers which miners refuse the multi-command, so later polls skip the attempt."""

    def __init__(self) -> None:
        self._single_only: set[tuple[str, int]] = set()

    def multi_refused(self, host: str, port: int) -> bool:
        return (host, port) in self._single_only

    async def multi(self, host: str, port: int, commands: Sequence[str], *,
                    timeout: float = 3.0, extra: dict | None = None,
                    max_bytes: int = MAX_BYTES) -> dict[str, Any]:
        """Send ``commands`` as cgminer's ``"summary+stats+pools"`` and unwrap the answers.

        A multi reply nests each answer in a one-element list under the command's name;
        the result maps each command to its answer alone. Commands the firmware left out
        of the reply, or all of them where it refuses the multi-command, are sent one per
        connection, one after the other (cgminer serves one API connection at a time, so
        parallel ones would only queue), all within the one ``timeout``.
        """
        names = list(dict.fromkeys(commands))
        deadline = asyncio.get_running_loop().time() + timeout
        if len(names) == 1 or (host, port) in self._single_only:
            return await self._one_by_one(host, port, names, deadline, timeout, extra, max_bytes)
        reply = await _command(host, port, "+".join(names), None, deadline, timeout, extra,
                               max_bytes)
        answers = _unwrap(reply, names)
        if not answers:
            log.info("%s:%s refuses the multi-command; polling it one command at a time",
                     host, port)
            self._single_only.add((host, port))
        missing = [name for name in names if name not in answers]
        answers.update(await self._one_by_one(host, port, missing, deadline, timeout, extra,
                                              max_bytes))
        return {name: answers[name] for name in names}

    @staticmethod
    async def _one_by_one(host: str, port: int, names: list[str], deadline: float,
                          timeout: float, extra: dict | None, max_bytes: int) -> dict[str, Any]:
        return {name: await _command(host, port, name, None, deadline, timeout, extra, max_bytes)
                for name in names}


_default_client = RpcClient()


def _unwrap(reply: Any, names: list[str]) -> dict[str, Any]:
    """The answers a multi reply holds, each taken out of its one-element list."""
    if not isinstance(reply, dict):
        return {}
    answers = {}
    for name in names:
        if name in reply:
            answer = reply[name]
            answers[name] = answer[0] if isinstance(answer, list) and len(answer) == 1 else answer
    return answers


async def _command(host: str, port: int, command: str, parameter: str | None, deadline: float,
                   timeout: float, extra: dict | None, max_bytes: int) -> Any:
    request: dict[str, Any] = {"command": command}
    if parameter is not None:
        request["parameter"] = parameter
    request.update(extra or {})
    source = f"{host}:{port}"
    raw = await exchange(host, port, json.dumps(request).encode(), deadline=deadline,
                         timeout=timeout, max_bytes=max_bytes, read=_read_to_nul)
    return decode(raw, source)


async def _read_to_nul(reader: asyncio.StreamReader, source: str, max_bytes: int) -> bytes:
    reply = bytearray()
    while chunk := await reader.read(_CHUNK):
        end = chunk.find(b"\x00")
        reply += chunk if end < 0 else chunk[:end]
        if len(reply) > max_bytes:
            raise ProtocolError(f"{source} sent more than {size_text(max_bytes)}")
        if end >= 0:
            return bytes(reply)
    if not reply:
        raise DeviceUnreachable(f"{source} closed the connection without answering")
    return bytes(reply)


async def exchange(host: str, port: int, request: bytes, *, deadline: float, timeout: float,
                   max_bytes: int, read: Reader) -> bytes:
    """Connect, send ``request``, and return what ``read(reader, source, max_bytes)`` gives.

    Shared by the length-framed 4433 protocol. ``deadline`` (loop time) bounds the whole
    exchange; ``timeout`` only words the error. The socket is closed on every way out,
    cancellation included.
    """
    source = f"{host}:{port}"
    writer = None
    done = False
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            reply = await read(reader, source, max_bytes)
            done = True
    except TimeoutError as exc:  # the deadline, or the kernel's own connect timeout
        error = NoAnswer if writer is not None else DeviceUnreachable
        raise error(f"no answer on {source} within {timeout:g} s") from exc
    except ConnectionRefusedError as exc:
        raise DeviceUnreachable(f"{source} refused the connection") from exc
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise DeviceUnreachable(f"{source} closed the connection without answering") from exc
    except OSError as exc:  # no route, network down, name not found
        reason = exc.strerror or type(exc).__name__
        raise DeviceUnreachable(f"{source} cannot be reached ({reason})") from exc
    finally:
        if writer is not None:
            # On failure abort, not close: a graceful close would wait on a peer that may
            # have stopped reading, and keep the socket open meanwhile.
            if done:
                writer.close()
            else:
                writer.transport.abort()
    return reply


def size_text(limit: int) -> str:
    """``1 << 20`` as "1 MB", for error messages."""
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"
