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
from collectors.errors import CollectorError, DeviceUnreachable, NoAnswer, ProtocolError
from collectors.poll import Poller, surprise
from collectors.transport import btminer, rpc

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Identity:
    ip: str
    driver: str | None  # None: nothing we know answered
    port: int | None  # where the driver's API answered
    evidence: str  # what told us, or what the device said when it matched nothing
    error: str | None = None  # one sentence when the address is unknown or silent


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


async def identify(poller: Poller, ip: str, rpc_port: int = 4028, budget_s: float = 3.0) -> Identity:
    """Identify one address within ``budget_s`` seconds."""
    probes = _Probes(ip)
    try:
        async with asyncio.timeout(budget_s):
            return await _identify(poller, ip, rpc_port, budget_s, probes)
    except TimeoutError:
        # A reply that could not be read says more than the silence of the probes after it.
        told = next((error for error in probes.errors if isinstance(error, ProtocolError)), None)
        return Identity(ip, None, None, "", str(told or f"no answer on {ip} within {budget_s:g} s"))
    finally:
        poller.failures.update(ip, "identify", probes.surprises)


@dataclass
class _Probes:
    """What identification asked one address, and how each failure went."""

    ip: str
    errors: list[CollectorError] = field(default_factory=list)
    surprises: list[tuple[str, BaseException]] = field(default_factory=list)  # for the log

    async def ask(self, call: Awaitable[T], what: str) -> T:
        """``await call``; an exception no transport meant to raise becomes a ProtocolError
        naming the device and ``what`` was asked."""
        try:
            return await call
        except CollectorError as exc:
            self.errors.append(exc)
            raise
        except Exception as exc:
            sentence = surprise("identification", self.ip, what, exc)
            self.surprises.append((sentence, exc))
            self.errors.append(ProtocolError(sentence))
            raise self.errors[-1] from exc


async def _identify(poller: Poller, ip: str, rpc_port: int, budget_s: float, probes: _Probes) -> Identity:
    rpc_error: CollectorError | None = None
    try:
        # Half the budget: a miner answers `version` in milliseconds, and an HTTP server on the
        # RPC port (ePIC) never answers it at all, leaving the rest for the web probes.
        version = await probes.ask(rpc.command(ip, rpc_port, "version", timeout=budget_s / 2),
                                   f"RPC version on port {rpc_port}")
    except CollectorError as exc:
        rpc_error, version = exc, None
    cgminer_replies: dict[str, Any] | None = None
    if _is_cgminer(version):
        cgminer_replies = {"version": version, "devdetails": None}
        name = _claim(RPC_SIGNATURES, cgminer_replies)
        if name is None:
            try:
                cgminer_replies["devdetails"] = await probes.ask(
                    rpc.command(ip, rpc_port, "devdetails", timeout=budget_s), f"RPC devdetails on port {rpc_port}")
            except CollectorError:
                pass
            name = _claim(RPC_SIGNATURES, cgminer_replies)
        if name is not None:
            return Identity(ip, name, rpc_port, f"RPC version on port {rpc_port}")
    elif isinstance(rpc_error, DeviceUnreachable) and not isinstance(rpc_error, NoAnswer):
        try:
            info = await probes.ask(btminer.command(ip, btminer.DEFAULT_PORT, "get.device.info", timeout=budget_s),
                                    f"get.device.info on port {btminer.DEFAULT_PORT}")
        except CollectorError:
            info = None
        name = _claim(BTMINER_SIGNATURES, info)
        if name is not None:
            return Identity(ip, name, btminer.DEFAULT_PORT, f"get.device.info on port {btminer.DEFAULT_PORT}")

    # The RPC port is open but did not answer as cgminer: maybe HTTP there (ePIC's REST API on 4028).
    http_on_rpc_port = (version is not None and cgminer_replies is None
                        or isinstance(rpc_error, (ProtocolError, NoAnswer)))
    pages: dict[tuple[int, str], Any] = {}
    web_error: CollectorError | None = None
    for name, path, signature in WEB_SIGNATURES:
        port = _web_port(DRIVERS[name].port, rpc_port, poller.settings.web_port)
        if port == rpc_port and not http_on_rpc_port:
            continue
        if (port, path) not in pages:
            try:
                pages[port, path] = await probes.ask(poller.http.probe(ip, port, path),
                                                     f"web page {path} on port {port}")
            except CollectorError as exc:
                pages[port, path] = None
                web_error = web_error or exc
        page = pages[port, path]
        if page is not None and _claim(((name, signature),), page):
            return Identity(ip, name, port, f"web page {path} on port {port}")

    if cgminer_replies is not None:
        return Identity(ip, "cgminer", rpc_port, f"a cgminer API on port {rpc_port} that no make claims")
    answered = [page for page in pages.values() if page is not None]
    if answered or version is not None or isinstance(rpc_error, ProtocolError):
        what = _describe(answered[0]) if answered else f"RPC said {str(version or rpc_error)[:80]!r}"
        return Identity(ip, None, None, what, f"{ip} answered but not as a miner we know ({what})")
    # Something that answered wrongly says more about the device than a port that was closed.
    errors = [e for e in (web_error, rpc_error) if e is not None]
    worst = next((e for e in errors if isinstance(e, ProtocolError)), errors[0] if errors else None)
    return Identity(ip, None, None, "", str(worst or DeviceUnreachable(f"no answer on {ip}")))


def _web_port(driver_port: int, rpc_port: int, web_port: int) -> int:
    """Where a web firmware's API listens: on the RPC port (ePIC), the web port, or its own."""
    if driver_port == 4028:
        return rpc_port
    return web_port if driver_port == 80 else driver_port


def _describe(page: Any) -> str:
    title = (getattr(page, "title", None) or "")[:60]
    realm = (getattr(page, "realm", None) or "")[:60]
    status = getattr(page, "status", "?")
    return f"HTTP {status}" + (f", realm {realm!r}" if realm else "") + (f", title {title!r}" if title else "")
