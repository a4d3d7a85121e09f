"""SNMP GET and bulk walk over UDP, v2c or v3 (authPriv), on pysnmp 7's asyncio API.

One ``SnmpClient`` holds one pysnmp ``SnmpEngine`` for every target and request: building an
engine costs far more than a request does, and one engine serves any number of concurrent
requests (each has its own request id). Targets are resolved once and kept.

Values come back as plain Python: ``int`` for every integer type, ``bytes`` for OCTET STRING,
``tuple`` for OBJECT IDENTIFIER, ``str`` for IpAddress, and ``None`` where the agent has no such
object or instance. Failures leave as ``collectors.errors`` with one sentence naming the host:
no answer in time -> ``DeviceUnreachable`` (a wrong v2c community gets no answer either),
refused v3 credentials -> ``AuthFailed``, an SNMP error status -> ``ProtocolError``.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.api import v2c

from collectors.errors import AuthFailed, DeviceUnreachable, ProtocolError

Oid = tuple[int, ...]
Value = int | bytes | tuple | str | None

DEFAULT_PORT = 161
RECEIVE_BUFFER = 4 << 20

AUTH_PROTOCOLS = {
    "MD5": usm.USM_AUTH_HMAC96_MD5, "SHA": usm.USM_AUTH_HMAC96_SHA,
    "SHA224": usm.USM_AUTH_HMAC128_SHA224, "SHA256": usm.USM_AUTH_HMAC192_SHA256,
    "SHA384": usm.USM_AUTH_HMAC256_SHA384, "SHA512": usm.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "DES": usm.USM_PRIV_CBC56_DES, "AES": usm.USM_PRIV_CFB128_AES,
    "AES192": usm.USM_PRIV_CFB192_AES, "AES256": usm.USM_PRIV_CFB256_AES,
}

# USM's reports for refused credentials; pysnmp returns them as the error indication.
_AUTH_ERRORS = (errind.UnknownUserName, errind.WrongDigest, errind.DecryptionError,
                errind.UnsupportedSecurityLevel, errind.AuthenticationError,
                errind.AuthenticationFailure, errind.UnknownSecurityName)
_EXCEPTIONS = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)
# SNMP error-status values (RFC 3416) that mean the credentials may not read this.
_ACCESS_STATUSES = {6: "noAccess", 16: "authorizationError"}


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to ask: v2c with a community, or v3 authPriv with a USM user."""

    host: str
    port: int = DEFAULT_PORT
    version: str = "2c"  # "2c" or "3"
    community: str = field(default="public", repr=False)
    user: str | None = None
    auth_protocol: str = "SHA"  # a key of AUTH_PROTOCOLS
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str = "AES"  # a key of PRIV_PROTOCOLS
    priv_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.version not in ("2c", "3"):
            raise ValueError(f"SNMP version {self.version!r} for {self.host}: use 2c or 3")
        if self.version == "3":
            if not (self.user and self.auth_key and self.priv_key):
                raise ValueError(f"SNMPv3 for {self.host} needs a user, an auth key and a priv key (authPriv)")
            if self.auth_protocol.upper() not in AUTH_PROTOCOLS:
                raise ValueError(f"unknown SNMPv3 auth protocol {self.auth_protocol!r} for {self.host}: "
                                 f"use one of {', '.join(AUTH_PROTOCOLS)}")
            if self.priv_protocol.upper() not in PRIV_PROTOCOLS:
                raise ValueError(f"unknown SNMPv3 privacy protocol {self.priv_protocol!r} for {self.host}: "
                                 f"use one of {', '.join(PRIV_PROTOCOLS)}")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class SnmpClient:
    """One pysnmp engine for all targets; create it inside the event loop that uses it."""

    def __init__(self) -> None:
        self.engine = SnmpEngine()
        self._auth: dict[SnmpTarget, CommunityData | UsmUserData] = {}
        self._users: dict[str, tuple[str, str | None, str, str | None]] = {}
        self._transports: dict[tuple[str, int, float, int], UdpTransportTarget] = {}
        self._address_names: dict[tuple[SnmpTarget, float, int], str] = {}
        self._socket_tuned = False
        # pysnmp's generators keep their pending requests by a handle each engine counts from 1:
        # one set per engine, so that two clients in one process never mix their requests.
        self._get = cmdgen.GetCommandGenerator()
        self._bulk = cmdgen.BulkCommandGeneratorSingleRun()

    def close(self) -> None:
        self.engine.close_dispatcher()

    def _credentials(self, target: SnmpTarget) -> CommunityData | UsmUserData:
        auth = self._auth.get(target)
        if auth is not None:
            return auth
        if target.version == "2c":
            auth = CommunityData(target.community, mpModel=1)
        else:
            assert target.user is not None
            keys = (target.auth_protocol.upper(), target.auth_key, target.priv_protocol.upper(), target.priv_key)
            # pysnmp keeps one key set per user name: a second set would replace the first under
            # requests still in flight.
            if self._users.setdefault(target.user, keys) != keys:
                raise ValueError(f"SNMPv3 user {target.user!r} is given two different key sets "
                                 f"({target.host} differs from an earlier target); use one per user name")
            auth = UsmUserData(target.user, target.auth_key, target.priv_key,
                               authProtocol=AUTH_PROTOCOLS[keys[0]], privProtocol=PRIV_PROTOCOLS[keys[2]])
        self._auth[target] = auth
        return auth

    async def _transport(self, target: SnmpTarget, timeout: float, retries: int) -> UdpTransportTarget:
        key = (target.host, target.port, timeout, retries)
        transport = self._transports.get(key)
        if transport is None:
            try:
                transport = await UdpTransportTarget.create(
                    (target.host, target.port), timeout=timeout / (retries + 1), retries=retries)
            except PySnmpError as exc:
                raise DeviceUnreachable(f"{target.host} cannot be resolved to an address") from exc
            self._transports[key] = transport
        return transport

    async def _address_name(self, target: SnmpTarget, timeout: float, retries: int) -> str:
        """pysnmp's name for the target in its SNMP-TARGET-MIB, configured on first use."""
        key = (target, timeout, retries)
        name = self._address_names.get(key)
        if name is None:
            transport = await self._transport(target, timeout, retries)
            name, _ = _LCD.configure(self.engine, self._credentials(target), transport, b"")
            self._address_names[key] = name
        return name

    async def prepare(self, targets: Sequence[SnmpTarget], timeout: float, retries: int) -> None:
        """Configure pysnmp for every target before any request is sent. pysnmp writes each new
        target into its own SNMP-TARGET-MIB, about 5 ms of CPU apiece; done in the middle of a
        round, that time counts against the requests' timeouts (1,000 new rigs: a few seconds)."""
        for number, target in enumerate(targets):
            try:
                await self._address_name(target, timeout, retries)
            except DeviceUnreachable:
                continue  # a name that does not resolve: its poll says so
            if number % 50 == 49:
                await asyncio.sleep(0)  # let the rest of the event loop run

    async def _request(self, target: SnmpTarget, timeout: float, retries: int,
                       send: Callable[[str, Callable[..., None]], object]) -> tuple[Any, Any, Any, Any]:
        """One request through pysnmp's command generators, below its high-level API: that API
        resolves every OID through a MIB view first, which costs more than the request itself."""
        address_name = await self._address_name(target, timeout, retries)
        transport = self._transports[(target.host, target.port, timeout, retries)]
        future: asyncio.Future = asyncio.get_running_loop().create_future()

        def done(engine: Any, handle: Any, indication: Any, status: Any, index: Any, varbinds: Any,
                 context: Any) -> None:
            if not future.done():
                future.set_result((indication, status, index, varbinds))

        try:
            send(address_name, done)
        except PySnmpError as exc:
            raise ProtocolError(f"an SNMP request to {target.address} could not be sent: {exc}") from exc
        result = await future
        if not self._socket_tuned:
            self._tune_socket(transport)
        return result

    def _tune_socket(self, transport: UdpTransportTarget) -> None:
        """A larger receive buffer for the one socket every answer arrives on: hundreds of rigs
        answering a few kB each at once overflow the default (about 200 kB), and each answer the
        kernel drops is a rig timed out. The kernel caps it at net.core.rmem_max."""
        domain, _ = transport.get_transport_info()
        carrier = self.engine.transport_dispatcher.get_transport(domain)
        udp = getattr(carrier, "transport", None)
        sock = udp.get_extra_info("socket") if udp is not None else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            self._socket_tuned = True

    async def get(self, target: SnmpTarget, oids: Sequence[Oid], timeout: float = 2.0,
                  retries: int = 1) -> dict[Oid, Value]:
        """One GET of ``oids``; ``timeout`` covers every try (``retries`` after the first)."""
        binds = [(rfc1902.ObjectName(oid), _NULL) for oid in oids]
        indication, status, index, answer = await self._request(
            target, timeout, retries,
            lambda address, done: self._get.send_varbinds(self.engine, address, None, b"", binds, done))
        _raise_for(target, "GET", indication, status, index)
        return {tuple(name): _value(value) for name, value in answer}

    async def bulk_walk(self, target: SnmpTarget, root: Oid, timeout: float = 2.0, retries: int = 1,
                        max_repetitions: int = 25) -> list[tuple[Oid, Value]]:
        """Every object under ``root``, in OID order, by GETBULK; ``timeout`` is per request."""
        result: list[tuple[Oid, Value]] = []
        cursor = root
        while True:
            binds = [(rfc1902.ObjectName(cursor), _NULL)]
            indication, status, index, answer = await self._request(
                target, timeout, retries,
                lambda address, done, binds=binds: self._bulk.send_varbinds(
                    self.engine, address, None, b"", 0, max_repetitions, binds, done))
            _raise_for(target, "GETBULK", indication, status, index)
            if not answer:
                return result
            for name, value in answer:
                oid = tuple(name)
                if oid[:len(root)] != root or isinstance(value, rfc1905.EndOfMibView):
                    return result
                if oid <= cursor:
                    raise ProtocolError(f"{target.address} answered GETBULK with OIDs that do not increase "
                                        f"(.{'.'.join(map(str, oid))} after .{'.'.join(map(str, cursor))})")
                result.append((oid, _value(value)))
                cursor = oid


_LCD = CommandGeneratorLcdConfigurator()
_NULL = v2c.Null("")


def _raise_for(target: SnmpTarget, request: str, indication: Any, status: Any, index: Any) -> None:
    if indication:
        if isinstance(indication, errind.RequestTimedOut):
            hint = " (a wrong community gets no answer either)" if target.version == "2c" else ""
            raise DeviceUnreachable(f"no SNMP answer from {target.address}{hint}")
        if isinstance(indication, _AUTH_ERRORS):
            raise AuthFailed(f"{target.address} refused the SNMPv3 credentials of user {target.user!r} "
                             f"({indication})")
        raise ProtocolError(f"SNMP {request} to {target.address} failed: {indication}")
    if status:
        code = int(status)
        if code in _ACCESS_STATUSES:
            raise AuthFailed(f"{target.address} does not let these credentials read the objects asked "
                             f"({_ACCESS_STATUSES[code]})")
        raise ProtocolError(f"{target.address} answered SNMP {request} with {status.prettyPrint()} "
                            f"at variable {int(index)}")


def _value(value: Any) -> Value:
    if isinstance(value, _EXCEPTIONS):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(octet) for octet in value.asNumbers())
    if isinstance(value, rfc1902.OctetString):
        return bytes(value)
    if isinstance(value, rfc1902.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, rfc1902.Integer32 | rfc1902.Integer | rfc1902.Unsigned32 | rfc1902.Gauge32
                  | rfc1902.Counter32 | rfc1902.Counter64 | rfc1902.TimeTicks):
        return int(value)
    return None  # Null, Opaque, Bits: nothing the rig subtree serves


# -- one client per event loop, for callers that do not keep their own --------------------------

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SnmpClient] = weakref.WeakKeyDictionary()


def default_client() -> SnmpClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = SnmpClient()
    return client


async def get(target: SnmpTarget, oids: Sequence[Oid], timeout: float = 2.0, retries: int = 1) -> dict[Oid, Value]:
    return await default_client().get(target, oids, timeout, retries)


async def bulk_walk(target: SnmpTarget, root: Oid, timeout: float = 2.0, retries: int = 1,
                    max_repetitions: int = 25) -> list[tuple[Oid, Value]]:
    return await default_client().bulk_walk(target, root, timeout, retries, max_repetitions)
