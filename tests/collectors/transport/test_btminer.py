"""Whatsminer's length-framed API V3 client against a real socket on 127.0.0.1."""

import asyncio
import contextlib
import json
import socket
import time

import pytest

from collectors.errors import DeviceUnreachable, ProtocolError
from collectors.transport import btminer

HOST = "127.0.0.1"
DEVICE_INFO = {"code": 0, "when": 1767225600, "desc": "get.device.info",
               "msg": {"miner": {"type": "M50S_VH20", "working": "true"},
                       "network": {"mac": "C8:10:00:00:0A:0B", "hostname": "WhatsMiner"}}}


def frame(value) -> bytes:
    body = json.dumps(value).encode()
    return len(body).to_bytes(4, "little") + body


@contextlib.asynccontextmanager
async def serve(handler):
    """A server that reads one framed request and runs ``handler(request, writer)``."""
    tasks = set()

    async def connection(reader, writer):
        tasks.add(asyncio.current_task())
        try:
            length = int.from_bytes(await reader.readexactly(4), "little")
            await handler(json.loads(await reader.readexactly(length)), writer)
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await asyncio.sleep(0.01)  # connections already accepted start their handlers
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        await asyncio.sleep(0.01)  # let the closed connections' transports finish closing


async def test_framed_request_and_reply_in_pieces():
    seen = []

    async def handler(request, writer):
        seen.append(request)
        raw = frame(DEVICE_INFO)
        for piece in (raw[:2], raw[2:9], raw[9:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)

    async with serve(handler) as port:
        assert await btminer.command(HOST, port, "get.device.info") == DEVICE_INFO
        await btminer.command(HOST, port, "get.miner.status", "summary")
    assert seen == [{"cmd": "get.device.info"}, {"cmd": "get.miner.status", "param": "summary"}]


async def test_error_code_is_returned_for_the_driver():
    async def handler(request, writer):
        writer.write(frame({"code": -2, "msg": "invalid command", "when": 1}))

    async with serve(handler) as port:
        reply = await btminer.command(HOST, port, "get.nothing")
    assert reply["code"] == -2 and btminer.is_error(reply)
    assert not btminer.is_error(DEVICE_INFO)


async def test_oversized_length_is_refused_before_reading():
    async def handler(request, writer):
        writer.write((50 << 20).to_bytes(4, "little"))  # then nothing: reading would hang
        await writer.drain()
        await asyncio.Event().wait()

    async with serve(handler) as port:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match=f"^{HOST}:{port} announced a reply of more than 1 MB$"):
            await btminer.command(HOST, port, "get.device.info", timeout=2)
        assert time.monotonic() - started < 0.5


async def test_reply_cut_short_is_truncated():
    async def handler(request, writer):
        writer.write(frame(DEVICE_INFO)[:40])

    async with serve(handler) as port:
        with pytest.raises(ProtocolError, match=f"^{HOST}:{port} sent a truncated reply$"):
            await btminer.command(HOST, port, "get.device.info")


async def test_unframed_json_is_named_as_such():
    async def handler(request, writer):
        writer.write(b'{"STATUS":"E","Msg":"invalid cmd"}')

    async with serve(handler) as port:
        with pytest.raises(ProtocolError, match="without the API V3 length header"):
            await btminer.command(HOST, port, "get.device.info")


async def test_close_without_answer_and_refusal():
    async def handler(request, writer):
        pass

    async with serve(handler) as port:
        with pytest.raises(DeviceUnreachable, match="closed the connection without answering"):
            await btminer.command(HOST, port, "get.device.info")
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeviceUnreachable, match="refused the connection"):
        await btminer.command(HOST, port, "get.device.info")


async def test_hang_times_out_on_time():
    async def handler(request, writer):
        await asyncio.Event().wait()

    async with serve(handler) as port:
        started = time.monotonic()
        with pytest.raises(DeviceUnreachable, match=f"^no answer on {HOST}:{port} within 0.3 s$"):
            await btminer.command(HOST, port, "get.device.info", timeout=0.3)
        assert time.monotonic() - started < 0.5
