"""The cgminer-style RPC client against real sockets on 127.0.0.1."""

import asyncio
import contextlib
import gc
import json
import socket
import time
import warnings

import pytest

from collectors.errors import DeviceUnreachable, ProtocolError
from collectors.transport import rpc

HOST = "127.0.0.1"
SUMMARY = {"STATUS": [{"STATUS": "S", "Code": 11}], "SUMMARY": [{"Elapsed": 42, "GHS 5s": 13.5}],
           "id": 1}


@contextlib.asynccontextmanager
async def serve(handler):
    """A TCP server on a free loopback port running ``handler(request, reader, writer)``."""
    tasks = set()

    async def connection(reader, writer):
        tasks.add(asyncio.current_task())
        try:
            request = json.loads(await reader.read(4096))
            await handler(request, reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, HOST, 0, backlog=512)
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


def replies(table):
    """A handler answering each command from ``table`` (NUL-terminated), recording requests."""
    seen = []

    async def handler(request, reader, writer):
        seen.append(request)
        answer = table[request["command"]]
        if answer is None:
            await asyncio.Event().wait()  # hang
        writer.write(json.dumps(answer).encode() + b"\x00")
        await writer.drain()

    handler.seen = seen
    return handler


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


async def test_reply_in_pieces_and_the_exact_request():
    seen = []

    async def handler(request, reader, writer):
        seen.append(request)
        raw = json.dumps(SUMMARY).encode() + b"\x00"
        for piece in (raw[:5], raw[5:30], raw[30:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)

    async with serve(handler) as port:
        assert await rpc.command(HOST, port, "summary") == SUMMARY
        await rpc.command(HOST, port, "pools", "0", extra={"new_api": True})
    assert seen == [{"command": "summary"},
                    {"command": "pools", "parameter": "0", "new_api": True}]


async def test_reply_without_nul_ended_by_close():
    async def handler(request, reader, writer):
        writer.write(json.dumps(SUMMARY).encode())

    async with serve(handler) as port:
        assert await rpc.command(HOST, port, "summary") == SUMMARY


async def test_close_without_answer():
    async def handler(request, reader, writer):
        pass

    async with serve(handler) as port:
        with pytest.raises(DeviceUnreachable,
                           match=f"^{HOST}:{port} closed the connection without answering$"):
            await rpc.command(HOST, port, "summary")


async def test_refused():
    port = closed_port()
    with pytest.raises(DeviceUnreachable, match=f"^{HOST}:{port} refused the connection$"):
        await rpc.command(HOST, port, "summary")


async def test_accepts_then_hangs_times_out_on_time():
    async with serve(replies({"summary": None})) as port:
        started = time.monotonic()
        with pytest.raises(DeviceUnreachable, match=f"^no answer on {HOST}:{port} within 0.3 s$"):
            await rpc.command(HOST, port, "summary", timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 0.5


async def test_never_accepted_times_out_on_time():
    # A listening socket nobody accepts on: the kernel completes the handshake, then silence.
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DeviceUnreachable, match="no answer on .* within 0.3 s"):
            await rpc.command(HOST, port, "summary", timeout=0.3)
        assert time.monotonic() - started < 0.5


async def test_huge_reply_is_cut_off_quickly():
    async def handler(request, reader, writer):
        block = b"[" + b"1," * (1 << 19)
        for _ in range(50):  # 50 MB
            writer.write(block)
            await writer.drain()

    async with serve(handler) as port:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match=f"^{HOST}:{port} sent more than 1 MB$"):
            await rpc.command(HOST, port, "stats", timeout=5)
        assert time.monotonic() - started < 1


async def test_garbage_reply():
    async def handler(request, reader, writer):
        writer.write(b"\xff\xfe SSH-2.0-dropbear\r\n\x00")

    async with serve(handler) as port:
        with pytest.raises(ProtocolError, match=f"^{HOST}:{port} answered but not as a miner$"):
            await rpc.command(HOST, port, "summary")


async def test_cancelled_call_closes_its_socket():
    peer_gone = asyncio.Event()

    async def handler(request, reader, writer):
        await reader.read()  # returns at EOF or raises on reset: either way the client closed
        peer_gone.set()

    async with serve(handler) as port:
        gc.collect()  # earlier tests' garbage must not be blamed on this call
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call = asyncio.create_task(rpc.command(HOST, port, "summary", timeout=5))
            await asyncio.sleep(0.1)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            await asyncio.wait_for(peer_gone.wait(), 1)
            gc.collect()
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_multi_unwraps_each_answer():
    pools = {"STATUS": [{"STATUS": "S"}], "POOLS": [{"POOL": 0, "URL": "stratum+tcp://p:3333"}]}
    handler = replies({"summary+pools": {"summary": [SUMMARY], "pools": [pools], "id": 1}})
    async with serve(handler) as port:
        assert await rpc.RpcClient().multi(HOST, port, ["summary", "pools"]) == {
            "summary": SUMMARY, "pools": pools}
    assert handler.seen == [{"command": "summary+pools"}]


async def test_multi_refused_falls_back_and_is_remembered():
    refusal = {"STATUS": [{"STATUS": "E", "Code": 14, "Msg": "Invalid command"}], "id": 1}
    stats_error = {"STATUS": [{"STATUS": "E", "Msg": "No stats"}], "id": 1}
    handler = replies({"summary+stats": refusal, "summary": SUMMARY, "stats": stats_error})
    client = rpc.RpcClient()
    async with serve(handler) as port:
        first = await client.multi(HOST, port, ["summary", "stats"], extra={"new_api": True})
        second = await client.multi(HOST, port, ["summary", "stats"], extra={"new_api": True})
    assert first == second == {"summary": SUMMARY, "stats": stats_error}
    assert rpc.is_error(first["stats"])  # a command's own error is the driver's to judge
    assert [r["command"] for r in handler.seen] == [
        "summary+stats", "summary", "stats", "summary", "stats"]
    assert all(r["new_api"] is True for r in handler.seen)
    assert client.multi_refused(HOST, port)


async def test_multi_fetches_what_the_reply_left_out():
    handler = replies({"summary+estats": {"summary": [SUMMARY], "id": 1}, "estats": {"E": 1}})
    client = rpc.RpcClient()
    async with serve(handler) as port:
        assert await client.multi(HOST, port, ["summary", "estats"]) == {
            "summary": SUMMARY, "estats": {"E": 1}}
        assert not client.multi_refused(HOST, port)


async def test_multi_fallback_keeps_the_one_deadline():
    refusal = {"STATUS": "E", "Msg": "invalid cmd"}  # Whatsminer's bare STATUS string
    async with serve(replies({"summary+pools": refusal, "summary": None, "pools": None})) as port:
        started = time.monotonic()
        with pytest.raises(DeviceUnreachable, match="within 0.4 s"):
            await rpc.RpcClient().multi(HOST, port, ["summary", "pools"], timeout=0.4)
        assert time.monotonic() - started < 0.6


async def test_a_hung_miner_does_not_delay_the_others():
    handler = replies({"summary": SUMMARY, "hang": None})
    async with serve(handler) as port:
        started = time.monotonic()

        async def timed(name):
            try:
                await rpc.command(HOST, port, name, timeout=1.5)
            except DeviceUnreachable:
                return name, None
            return name, time.monotonic() - started

        results = await asyncio.gather(*(timed("hang" if i == 100 else "summary")
                                         for i in range(200)))
    answered = [elapsed for name, elapsed in results if name == "summary"]
    assert len(answered) == 199 and max(answered) < 0.75
    assert ("hang", None) in results


@pytest.mark.parametrize("reply, expected", [
    ({"STATUS": [{"STATUS": "E", "Msg": "Invalid command"}]}, True),
    ({"STATUS": [{"STATUS": "F"}]}, True),
    ({"STATUS": {"STATUS": "E"}}, True),
    ({"STATUS": "E", "Msg": "invalid cmd"}, True),
    ({"STATUS": [{"STATUS": "S"}]}, False),
    ({"STATUS": "S"}, False),
    ({"STATUS": []}, False),
    ({}, False),
    (None, False),
    ([], False),
])
def test_is_error(reply, expected):
    assert rpc.is_error(reply) is expected
