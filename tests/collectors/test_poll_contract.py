"""The device is the unit of failure: whatever one device's replies make a transport or a driver raise,
``Poller.poll`` and ``identify`` return that device's result with one sentence, every other device's
result stands, and the traceback is logged once per change of that device's failure. (``identify``
and ``scan`` under the same attacks: tests/collectors/test_hostile_farm.py.)"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from collectors.asic import DRIVERS
from collectors.poll import Poller, PollSettings
from simfarm.farm import Farm
from simfarm.servers import Connections, HttpProtocol, listen
from tests.simfarm.conftest import free_base

WEB_PORT = 8080


@pytest.fixture
async def stranger() -> AsyncIterator[tuple[str, Callable[[str], None]]]:
    """A web device on loopback that asks every request for a Digest login with ``challenge``
    (which the test may change), and a setter for it."""
    ip = free_base()
    challenge = {"now": 'Digest realm="blackMiner Configuration", nonce="n1", qop="auth-int"'}

    def handler(method, path, headers, body, now):
        return 401, {"WWW-Authenticate": challenge["now"]}, b"<html><title>401</title></html>"

    connections = Connections()
    server = await listen(ip, WEB_PORT, lambda: HttpProtocol(connections, handler))
    yield ip, lambda value: challenge.update(now=value)
    connections.abort()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def farm() -> AsyncIterator[Farm]:
    async with Farm(miners=6, mix={"antminer": 1, "whatsminer": 1}, base=free_base(), seed=2,
                    web_port=WEB_PORT) as running:
        yield running


def surprises(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "collectors.poll" and r.levelno == logging.ERROR]


async def test_a_login_scheme_no_transport_knows_fails_that_device_alone(farm, stranger, caplog):
    # httpx raises NotImplementedError for a Digest challenge that only offers qop="auth-int", and
    # KeyError for an algorithm it has no hash for: neither is an error any transport meant to raise.
    ip, challenge = stranger
    caplog.set_level(logging.INFO, logger="collectors.poll")
    rows = farm.inventory()
    async with Poller(PollSettings(timeout_s=3.0, web_port=WEB_PORT)) as poller:
        async def round_() -> list:
            return await asyncio.gather(poller.poll(ip, DRIVERS["blackminer"]),
                                        *(poller.poll(row["ip"], DRIVERS[row["driver"]]) for row in rows))

        first, second = await round_(), await round_()
        challenge('Digest realm="blackMiner Configuration", nonce="n1", qop="auth", algorithm="MD6"')
        third = await round_()

    for results in (first, second, third):
        assert all(snapshot.reachable for snapshot, _ in results[1:])
    assert [snapshot.error for (snapshot, _) in (first[0], second[0], third[0])] == [
        f"driver blackminer could not read {ip}'s summary: NotImplementedError "
        f"(Digest auth-int support is not yet implemented)"] * 2 + [
        f"driver blackminer could not read {ip}'s summary: KeyError ('MD6')"]
    assert not first[0][0].reachable and json.dumps(first[0][0].to_dict(), allow_nan=False)
    # a traceback when the device's failure began, none while it stayed, one when it changed
    logged = surprises(caplog)
    assert [(r.exc_info[0].__name__, ip in r.getMessage()) for r in logged if "summary" in r.getMessage()] == [
        ("NotImplementedError", True), ("KeyError", True)]


async def test_a_reply_that_overflows_a_float_is_that_devices_snapshot(farm):
    # {"GHS 5s": 10**400}: float() of it raised OverflowError out of the driver, through the poll,
    # and `minerwatch poll` died printing nothing for any miner.
    rows = farm.inventory()
    bad = [row["ip"] for row in rows if row["driver"] == "antminer"][:1]
    for ip in bad:
        await farm.inject(ip, "hostile", attack="huge_int")
    async with Poller(PollSettings(timeout_s=3.0, web_port=WEB_PORT)) as poller:
        results = await asyncio.gather(*(poller.poll(row["ip"], DRIVERS[row["driver"]]) for row in rows))
    for row, (snapshot, _) in zip(rows, results, strict=True):
        assert snapshot.reachable, snapshot.error
        json.dumps(snapshot.to_dict(), allow_nan=False)
        if row["ip"] in bad:
            assert snapshot.hashrate_hs is None and all(board.hashrate_hs is None for board in snapshot.boards)
        else:
            assert snapshot.hashrate_hs and len(snapshot.boards) == row["boards"]
