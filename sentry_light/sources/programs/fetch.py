"""Fetch a mining program's endpoints from its local API and parse them, or say in one sentence why not.

HTTP programs through one ``httpx.AsyncClient`` per collection (no redirects, no proxy from the
environment, a size cap); TeamRedMiner through ``collectors.transport.rpc``. A program that does not
answer is a ``MinerProgram`` with ``api_up=False`` and ``error`` set, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from collectors.errors import CollectorError, DeviceUnreachable, ProtocolError
from collectors.model import MinerProgram
from collectors.transport import rpc
from collectors.transport.decode import decode
from sentry_light.sources.programs.base import Program, ProgramReading

MAX_BYTES = 1 << 20  # the largest reply in the captures is 6 KB; a megabyte is not a miner's status


def http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # a miner's API never redirects; something else holds the port
        trust_env=False,  # an HTTP_PROXY meant for the internet must not carry loopback requests
        headers={"User-Agent": "minerwatch-sentry"})


async def read_program(program: Program, host: str, port: int, *, client: httpx.AsyncClient,
                       timeout: float) -> ProgramReading:
    """One program's reading; ``timeout`` bounds every endpoint together."""
    where = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            replies = {endpoint: await (_rpc(host, port, endpoint, timeout) if program.protocol == "rpc"
                                        else _get(client, host, port, endpoint))
                       for endpoint in program.endpoints}
    except TimeoutError:
        error = f"no answer on {where} within {timeout:g} s"
    except CollectorError as exc:
        error = str(exc)
    else:
        reading = program.parse(replies, time.time())
        for part in (reading, *reading.more):
            part.program.port = port
        return reading
    return ProgramReading(MinerProgram(name=program.name, api_up=False, port=port, error=error))


async def _get(client: httpx.AsyncClient, host: str, port: int, path: str) -> Any:
    where = f"{host}:{port}"
    try:
        async with client.stream("GET", f"http://{host}:{port}{path}") as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise ProtocolError(f"{where} sent more than {rpc.size_text(MAX_BYTES)} for {path}")
            status = response.status_code
    except httpx.ConnectError as exc:
        cause = _root_cause(exc)
        if isinstance(cause, ConnectionRefusedError):
            raise DeviceUnreachable(f"nothing answers on {where}") from exc
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        raise DeviceUnreachable(f"cannot connect to {where} ({reason})") from exc
    except httpx.TimeoutException as exc:
        raise DeviceUnreachable(f"no answer on {where} in time") from exc
    except httpx.HTTPError as exc:
        raise ProtocolError(f"{where} did not answer in HTTP ({type(exc).__name__})") from exc
    if status != 200:
        raise ProtocolError(f"{where} answered HTTP {status} to {path}: another program may hold its port")
    return decode(bytes(body), where)


async def _rpc(host: str, port: int, command: str, timeout: float) -> Any:
    try:
        reply = await rpc.command(host, port, command, timeout=timeout)
    except DeviceUnreachable as exc:
        if isinstance(exc.__cause__, ConnectionRefusedError):
            raise DeviceUnreachable(f"nothing answers on {host}:{port}") from exc
        raise
    if rpc.is_error(reply):
        raise ProtocolError(f"{host}:{port} refused the {command} command")
    return reply


def _root_cause(exc: BaseException) -> BaseException:
    """The first error of the chain httpx and anyio wrap around it (the socket's own OSError)."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc
