"""A small farm in-process on a loopback /24 of its own, and the wire helpers the tests share."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time
from typing import Any

import pytest

from simfarm.farm import Farm

# 127.<100+pid%100>.<n>.0/24: a different /24 per farm, and per concurrent test run.
_subnets = itertools.count(1)


def free_base() -> str:
    return f"127.{100 + os.getpid() % 100}.{next(_subnets) % 250}.1"


class Clock:
    """The farm's clock in a test: it stands still until the test moves it, so a test sees time pass
    without sleeping (a loaded machine cannot make it flaky)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
async def farm(clock):
    """16 Bitmain miners of mixed models, the web UI on 8080 (root or not), on ``clock``, torn down after."""
    async with Farm(miners=16, mix={"antminer": 1}, base=free_base(), seed=7, web_port=8080,
                    clock=clock) as running:
        yield running


@pytest.fixture
def pick():
    """The first miner of ``farm`` whose inventory row matches ``where`` (e.g. new_api=True)."""
    def choose(farm: Farm, **where: Any) -> dict[str, Any]:
        return next(row for row in farm.inventory() if all(row[k] == v for k, v in where.items()))
    return choose


async def exchange(ip: str, port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send ``payload``, read until the device closes."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), timeout)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def repair_bmminer(text: str) -> str:
    """The one repair old Bitmain firmwares need, proven by antminer_s9_stats.txt and
    antminer_l3plus_stats.txt: the two STATS objects printed with no comma, and the S9's
    "Type" carrying an unescaped newline."""
    text = text.replace("}{", "},{")
    return re.sub(r'("Type":"[^"]*)\n', r"\1\\n", text)


def decode_rpc(raw: bytes) -> Any:
    """A cgminer reply: NUL-terminated; parsed strictly after the bmminer repair."""
    assert raw.endswith(b"\0"), raw[-40:]
    text = raw[:-1].decode()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(repair_bmminer(text))


@pytest.fixture
def rpc():
    async def call(ip: str, command: str, **request: Any) -> Any:
        return decode_rpc(await exchange(ip, 4028, json.dumps({"command": command, **request}).encode()))
    return call
