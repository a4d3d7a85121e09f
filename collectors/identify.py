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
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from collectors.asic import BTMINER_SIGNATURES, DRIVERS, RPC_SIGNATURES, WEB_SIGNATURES
from collectors.errors import CollectorError, DeviceUnreachable, NoAnswer, ProtocolError
from collectors.poll import Poller
from collectors.transport import btminer, rpc

log = logging.getLogger(__name__)


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
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            continue
    return None


async def identify(poller: Poller, ip: str, rpc_port: int = 4028, budget_s: float = 3.0) -> Identity:
    """Identify one address within ``budget_s`` seconds."""
    try:
        async with asyncio.timeout(budget_s):
            return await _identify(poller, ip, rpc_port, budget_s)
    except TimeoutError:
        return Identity(ip, None, None, "", f"no answer on {ip} within {budget_s:g} s")


async def _identify(poller: Poller, ip: str, rpc_port: int, budget_s: float) -> Identity:
    rpc_error: CollectorError | None = None
    try:
        # Half the budget: a miner answers `version` in milliseconds, and an HTTP server on the
        # RPC port (ePIC) never answers it at all, leaving the rest for the web probes.
        version = await rpc.command(ip, rpc_port, "version", timeout=budget_s / 2)
    except CollectorError as exc:
        rpc_error, version = exc, None
    cgminer_replies: dict[str, Any] | None = None
    if _is_cgminer(version):
        cgminer_replies = {"version": version, "devdetails": None}
        name = _claim(RPC_SIGNATURES, cgminer_replies)
        if name is None:
            try:
                cgminer_replies["devdetails"] = await rpc.command(ip, rpc_port, "devdetails", timeout=budget_s)
            except CollectorError:
                pass
            name = _claim(RPC_SIGNATURES, cgminer_replies)
        if name is not None:
            return Identity(ip, name, rpc_port, f"RPC version on port {rpc_port}")
    elif isinstance(rpc_error, DeviceUnreachable) and not isinstance(rpc_error, NoAnswer):
        try:
            info = await btminer.command(ip, btminer.DEFAULT_PORT, "get.device.info", timeout=budget_s)
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
                pages[port, path] = await poller.http.probe(ip, port, path)
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
    title = getattr(page, "title", None)
    realm = getattr(page, "realm", None)
    status = getattr(page, "status", "?")
    return f"HTTP {status}" + (f", realm {realm!r}" if realm else "") + (f", title {title!r}" if title else "")
