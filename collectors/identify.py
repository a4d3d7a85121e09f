"""Which driver speaks to an unknown address.

The steps run in a fixed order, one after the other, within one budget per address, so the
same device is classified the same way on every run (no race between probes):

1. cgminer RPC ``version`` on the RPC port; each driver's RPC signature, in registry order;
   then ``devdetails`` if none claimed it.
2. When nothing listens on the RPC port: Whatsminer's API V3 ``get.device.info`` on 4433.
3. The web pages: each driver's web signature, in registry order, each path fetched at most
   once (on the RPC port too when that answered HTTP: ePIC serves its REST API on 4028).
4. A cgminer API that no make claimed gets the generic cgminer driver; anything else that
   answered is reported as unknown, with what it said.

Given a port (``IP:PORT``), identification asks that port alone, in the protocol of its family:
4433 is Whatsminer's API V3; a web port (80, the farm's web port, a driver's own HTTP port such as
Auradine's 8080) gets the web signatures; any other port is an RPC port (a cgminer API moved off
4028), asked ``version`` and, if it answered otherwise, the web signatures there.

What did not identify is told apart by what it said, for discovery to decide what to watch:
- a device that answered on a miner port but unreadably (garbage, a cut reply, JSON that is no
  cgminer's), or accepted a connection there and said nothing (hung): a miner in trouble, with
  one sentence that says it could not be identified and why;
- a *stranger*: it answered only with a web page that no driver recognises (a switch's or a
  printer's web interface), nothing on the RPC port: most likely not a miner;
- nothing answered: the first failure, on the RPC port (or the port given) first.

Like a poll, identification never raises for a device's sake: a probe that raises what no
transport meant to (a login scheme httpx does not implement, a decoder's bug) is a failed probe,
one sentence naming the device and what was asked, and the next step is tried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from collectors.asic import BTMINER_SIGNATURES, DRIVERS, RPC_SIGNATURES, WEB_SIGNATURES
from collectors.asic.driver import Http
from collectors.errors import CollectorError, DeviceUnreachable, NoAnswer, ProtocolError
from collectors.poll import WEB, Poller, api_port, surprise
from collectors.targets import Target
from collectors.transport import btminer, rpc

log = logging.getLogger(__name__)

T = TypeVar("T")

RPC_PORT = 4028


@dataclass(frozen=True, slots=True)
class Identity:
    ip: str
    driver: str | None  # None: nothing we know answered
    port: int | None  # where the driver's API answered; unidentified: where the device answered badly
    evidence: str  # what told us, or what the device said when it matched nothing
    error: str | None = None  # one sentence when the address is unknown or silent
    stranger: bool = False  # it answered only as something no driver knows (a web page): not a miner


def _is_cgminer(reply: Any) -> bool:
    return isinstance(reply, dict) and ("STATUS" in reply or "VERSION" in reply)


def _claim(signatures: Any, reply: Any) -> str | None:
    """The first driver whose signature recognises the reply; a reply shaped unlike the one a
    signature expects is simply not a match."""
    for name, signature in signatures:
        try:
            if signature(reply):
                return name
        except Exception:  # whatever the reply made the signature raise: not its firmware
            continue
    return None


def web_ports(web_port: int) -> set[int]:
    """The ports that speak HTTP: the usual one, the farm's, and the drivers' own HTTP ports
    besides their RPC port (Auradine's 8080)."""
    own = {endpoint.port for driver in DRIVERS.values() for endpoint in driver.endpoints + driver.identity
           if isinstance(endpoint, Http) and endpoint.port not in (None, driver.port)}
    return {WEB, web_port} | own


async def identify(poller: Poller, ip: str, port: int | None = None, budget_s: float = 3.0) -> Identity:
    """Identify one address within ``budget_s`` seconds: on every miner port, or on ``port`` alone."""
    probes = _Probes(ip, port or RPC_PORT)
    try:
        async with asyncio.timeout(budget_s):
            found = await _identify(poller, ip, port, budget_s, probes)
    except TimeoutError:
        found = None
    finally:
        poller.failures.update(ip, "identify", probes.surprises)
    return found or probes.verdict(budget_s)


async def identify_target(poller: Poller, target: Target) -> Identity:
    """``identify`` a target (on its port, when it has one) once one of the poller's slots is free."""
    async with poller.slots:
        return await identify(poller, target.ip, target.port, poller.settings.timeout_s)


@dataclass
class _Probes:
    """What identification asked one address, what it answered, and how each failure went."""

    ip: str
    rpc_port: int
    cgminer: bool = False  # the RPC port answered `version` as a cgminer API
    rpc_reply: Any = None  # what `version` answered on the RPC port, when it was no cgminer's
    pages: dict[tuple[int, str], Any] = field(default_factory=dict)  # (port, path) -> WebPage, None if failed
    errors: list[tuple[int, CollectorError]] = field(default_factory=list)  # (port, why), in order
    surprises: list[tuple[str, BaseException]] = field(default_factory=list)  # for the log
    waiting: int | None = None  # the port of the probe the budget cut short

    async def ask(self, call: Awaitable[T], port: int, what: str) -> T:
        """``await call``; an exception no transport meant to raise becomes a ProtocolError
        naming the device and ``what`` was asked."""
        try:
            return await call
        except CollectorError as exc:
            self.errors.append((port, exc))
            raise
        except asyncio.CancelledError:
            self.waiting = port
            raise
        except Exception as exc:
            sentence = surprise("identification", self.ip, what, exc)
            self.surprises.append((sentence, exc))
            self.errors.append((port, ProtocolError(sentence)))
            raise self.errors[-1][1] from exc

    def failed(self, port: int, kinds: type | tuple[type, ...]) -> CollectorError | None:
        return next((error for at, error in self.errors if at == port and isinstance(error, kinds)), None)

    def verdict(self, budget_s: float) -> Identity:
        """Why nothing identified the device, from what it said."""
        ip = self.ip
        if self.rpc_reply is not None:
            said = f"its RPC said {str(self.rpc_reply)[:80]!r}"
            return Identity(ip, None, self.rpc_port, said,
                            f"{ip} answered on port {self.rpc_port} but could not be identified ({said})")
        # A reply that could not be read says more than the silence of the probes after it.
        troubles = sorted(((at, error) for at, error in self.errors if isinstance(error, (ProtocolError, NoAnswer))),
                          key=lambda trouble: not isinstance(trouble[1], ProtocolError))
        pages = [(at, page) for (at, _), page in self.pages.items() if page is not None]
        if pages and not any(at in (self.rpc_port, btminer.DEFAULT_PORT) for at, _ in troubles):
            port, page = pages[0]
            what = _describe(page)
            return Identity(ip, None, port, what, f"{ip} answered but not as a miner we know ({what})", stranger=True)
        if troubles:
            port, error = troubles[0]
            how = "answered" if isinstance(error, ProtocolError) else "listens"
            return Identity(ip, None, port, "", f"{ip} {how} on port {port} but could not be identified: {error}")
        # Identification leaves a port only once it failed there: what it asked last, unanswered when
        # the budget ran out, or its last failure, is the nearest it came to a miner.
        if self.waiting is not None:
            why = f"no answer on {ip}:{self.waiting} within {budget_s:g} s"
        elif self.errors:
            why = str(self.errors[-1][1])
        else:
            why = f"no answer within {budget_s:g} s"
        return Identity(ip, None, None, "", f"{ip} could not be identified: {why}")


async def _identify(poller: Poller, ip: str, port: int | None, budget_s: float, probes: _Probes) -> Identity | None:
    """The driver that claims the device, or None (``probes`` holds what it said)."""
    web_port = poller.settings.web_port
    if port == btminer.DEFAULT_PORT:
        return await _whatsminer_v3(ip, budget_s, probes)
    if port is not None and port in web_ports(web_port):
        return await _web(poller, ip, [(name, path, signature, port) for name, path, signature in WEB_SIGNATURES],
                          probes)
    rpc_port = probes.rpc_port
    found = await _rpc(ip, rpc_port, budget_s, probes)
    if found is not None:
        return found
    closed = probes.failed(rpc_port, DeviceUnreachable)
    if port is None and closed is not None and not isinstance(closed, NoAnswer):
        # Nothing listens on the RPC port: newer Whatsminers close it and speak only on 4433.
        found = await _whatsminer_v3(ip, budget_s, probes)
        if found is not None:
            return found
    # The RPC port is open but did not answer as cgminer: maybe HTTP there (ePIC's REST API on 4028).
    http_on_rpc_port = not probes.cgminer and (
        probes.rpc_reply is not None or probes.failed(rpc_port, (ProtocolError, NoAnswer)) is not None)
    if port is None:
        plan = [(name, path, signature, _web_port(name, rpc_port, web_port))
                for name, path, signature in WEB_SIGNATURES]
        plan = [step for step in plan if step[3] != rpc_port or http_on_rpc_port]
    else:
        plan = [(name, path, signature, port) for name, path, signature in WEB_SIGNATURES] if http_on_rpc_port else []
    found = await _web(poller, ip, plan, probes)
    if found is None and probes.cgminer:
        return Identity(ip, "cgminer", rpc_port, f"a cgminer API on port {rpc_port} that no make claims")
    return found


async def _rpc(ip: str, rpc_port: int, budget_s: float, probes: _Probes) -> Identity | None:
    """Step 1: the cgminer API's ``version``, then ``devdetails``; a reply that is not cgminer's is
    kept in ``probes.rpc_reply``."""
    try:
        # Half the budget: a miner answers `version` in milliseconds, and an HTTP server on the
        # RPC port (ePIC) never answers it at all, leaving the rest for the web probes.
        version = await probes.ask(rpc.command(ip, rpc_port, "version", timeout=budget_s / 2), rpc_port,
                                   f"RPC version on port {rpc_port}")
    except CollectorError:
        return None
    if not _is_cgminer(version):
        probes.rpc_reply = version
        return None
    probes.cgminer = True
    replies: dict[str, Any] = {"version": version, "devdetails": None}
    name = _claim(RPC_SIGNATURES, replies)
    if name is None:
        try:
            replies["devdetails"] = await probes.ask(rpc.command(ip, rpc_port, "devdetails", timeout=budget_s),
                                                     rpc_port, f"RPC devdetails on port {rpc_port}")
        except CollectorError:
            pass
        name = _claim(RPC_SIGNATURES, replies)
    return Identity(ip, name, rpc_port, f"RPC version on port {rpc_port}") if name else None


async def _whatsminer_v3(ip: str, budget_s: float, probes: _Probes) -> Identity | None:
    """Step 2: Whatsminer's API V3."""
    port = btminer.DEFAULT_PORT
    try:
        info = await probes.ask(btminer.command(ip, port, "get.device.info", timeout=budget_s), port,
                                f"get.device.info on port {port}")
    except CollectorError:
        return None
    name = _claim(BTMINER_SIGNATURES, info)
    return Identity(ip, name, port, f"get.device.info on port {port}") if name else None


async def _web(poller: Poller, ip: str, plan: list[tuple[str, str, Any, int]], probes: _Probes) -> Identity | None:
    """Step 3: each (driver, path, signature, port) of ``plan`` in turn, each page fetched once."""
    for name, path, signature, port in plan:
        if (port, path) not in probes.pages:
            try:
                probes.pages[port, path] = await probes.ask(poller.http.probe(ip, port, path), port,
                                                            f"web page {path} on port {port}")
            except CollectorError:
                probes.pages[port, path] = None
        page = probes.pages[port, path]
        if page is not None and _claim(((name, signature),), page):
            return Identity(ip, name, port, f"web page {path} on port {port}")
    return None


def _web_port(name: str, rpc_port: int, web_port: int) -> int:
    """Where a web firmware's API listens: on the RPC port (ePIC), the web port, or its own."""
    driver = DRIVERS[name]
    return rpc_port if driver.port == RPC_PORT else api_port(driver, web_port)


def _describe(page: Any) -> str:
    title = (getattr(page, "title", None) or "")[:60]
    realm = (getattr(page, "realm", None) or "")[:60]
    status = getattr(page, "status", "?")
    return f"HTTP {status}" + (f", realm {realm!r}" if realm else "") + (f", title {title!r}" if title else "")
